//! Renderers: pure functions from a result model to bytes. One file per result kind.

pub mod inventory;
pub mod markdown;
pub mod sarif;
pub mod scan_json;
pub mod terminal;

/// Output formats for `inventory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Grouped by file, with totals per ecosystem.
    Text,
    /// The versioned JSON contract (`"schema": 1`).
    Json,
}
