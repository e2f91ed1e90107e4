//! Extractors for GitHub Actions: workflows and composite actions.

mod yaml_tree;

use super::Extractor;

/// This ecosystem's extractors, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[];
