//! Extractors for runtime pins: version files (`.nvmrc`, `.python-version`, `.tool-versions`,
//! `rust-toolchain`) and the base images of Dockerfiles.

mod dockerfile;
pub mod image;

use super::Extractor;

/// This ecosystem's extractors, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[&dockerfile::Dockerfile];
