//! Extractors for Go modules and the Go toolchain: `go.mod` and `go.work`.

mod go_mod;
mod go_work;
mod syntax;

pub use go_mod::GoMod;
pub use go_work::GoWork;

use super::Extractor;

/// This ecosystem's extractors, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[&GoMod, &GoWork];
