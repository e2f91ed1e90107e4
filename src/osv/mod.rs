//! OSV records: the shape every advisory database speaks (OSV.dev, GitHub's advisory database,
//! PyPA, RustSec), parsed from JSON, YAML or RustSec's own Markdown, and turned into store
//! [`Notice`](crate::store::Notice)s without loss (the record itself rides along as `raw`).
//!
//! - [`record`]: the OSV record model, the JSON and YAML parsers and the record → notice mapping.
//! - [`rustsec`]: RustSec's native `RUSTSEC-*.md` advisories, converted to OSV records.
//! - [`cvss`]: CVSS v3 base scores, so a vector string becomes a severity.
//! - [`load`]: reading a file, a directory tree or an `all.zip` dump record by record.

pub mod cvss;
pub mod load;
pub mod record;
pub mod rustsec;

pub use load::{LoadError, RecordSource, for_each_record};
pub use record::{
    OsvAffected, OsvPackage, OsvRecord, OsvReference, OsvSeverity, parse_osv_json, parse_osv_yaml,
};
pub use rustsec::parse_rustsec_markdown;

/// Largest single record ecowatch reads; real records are a few KiB, the biggest (kernel CVEs
/// with hundreds of commits) under 1 MiB.
pub const MAX_RECORD_BYTES: u64 = 8 * 1024 * 1024;

/// Why one record could not be read. The import reports it with the file and goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OsvError {
    /// The bytes are not JSON/YAML/TOML at all.
    #[error("{format} syntax error: {message}")]
    Syntax {
        format: &'static str,
        message: String,
    },
    /// Well-formed text, but not a valid record; `id` when the record got far enough to name it.
    #[error("{}{message}", id.as_deref().map(|i| format!("record `{i}`: ")).unwrap_or_default())]
    Invalid { id: Option<String>, message: String },
    #[error("larger than {} MiB", MAX_RECORD_BYTES / (1024 * 1024))]
    TooLarge,
    /// The file or zip entry could not be read.
    #[error("cannot read: {0}")]
    Unreadable(String),
}

impl OsvError {
    /// The record id, when the record got far enough to name it.
    pub fn record_id(&self) -> Option<&str> {
        match self {
            OsvError::Invalid { id, .. } => id.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn invalid(id: Option<&str>, message: impl Into<String>) -> OsvError {
        OsvError::Invalid {
            id: id.map(str::to_string),
            message: message.into(),
        }
    }
}
