//! A repository's stack: the packages its manifests and lockfiles name, read from its checkout
//! (the store keeps findings, not inventories). The digest matches new announcements against it.

use crate::ecosystem::Ecosystem;
use crate::inventory::{self, InventoryError, InventoryOptions};
use std::path::Path;

/// The distinct (ecosystem, normalized name) pairs the repository at `dir` depends on.
pub fn packages(dir: &Path) -> Result<Vec<(Ecosystem, String)>, InventoryError> {
    let inventory = inventory::run(dir, &InventoryOptions::default())?;
    let mut out: Vec<(Ecosystem, String)> = inventory
        .dependencies
        .into_iter()
        .filter(|d| d.skipped.is_none())
        .map(|d| (d.ecosystem, d.name))
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}
