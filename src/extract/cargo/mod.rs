//! Extractors for the crates.io ecosystem: `Cargo.toml` and `Cargo.lock`.

mod cargo_lock;
mod cargo_toml;
mod document;

pub use cargo_lock::CargoLock;
pub use cargo_toml::CargoToml;

use super::Extractor;

/// This ecosystem's extractors, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[&CargoToml, &CargoLock];
