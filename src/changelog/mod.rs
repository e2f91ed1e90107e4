//! Changelogs and release notes as version-gated knowledge.
//!
//! A changelog says what changed in which version; ecowatch wants "this identifier is
//! deprecated from 2.3 on" or "this was removed in 3.0, so code below 3.0 that uses it cannot
//! upgrade". The pipeline is one file per step:
//! - [`sections`]: Markdown (ATX, setext, Keep a Changelog, GitHub release notes) and
//!   reStructuredText into version sections holding entries.
//! - [`classify`]: each entry as deprecated / removed / breaking / security, by its verb as well
//!   as its heading, with a confidence.
//! - [`identifiers`]: code spans, dotted names, calls, `ENV_NAMES`, `--flags`, config keys, the
//!   replacement ("use `Y` instead"), and the stoplist that keeps generic names out.
//! - [`to_notice`]: entries into store [`Notice`](crate::store::Notice)s with identifier
//!   patterns.
//!
//! Every input is hostile: parsing is linear in the text, never panics, and caps what it keeps.

pub mod classify;
pub mod identifiers;
pub mod sections;
pub mod to_notice;

pub use classify::Category;
pub use sections::{Entry, Format, Section, parse, parse_release};
pub use to_notice::{ORIGIN, notices_from};
