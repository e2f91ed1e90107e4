//! ecowatch: watches the ecosystems a codebase depends on.
//!
//! The crate is the library; `main.rs` only parses arguments and maps results to exit codes.
//! Modules own one concern each:
//! - [`ecosystem`]: ecosystems spelled as OSV spells them, and package-name normalization.
//! - [`dependency`]: the inventory's vocabulary (a dependency and where it is written).
//! - [`diag`]: ecowatch's own non-fatal problems (a file it could not read, a lockfile it could not parse).
//! - [`repo`]: reading files of a scanned repository safely (size caps, symlinks, encodings).
//! - [`walk`]: the gitignore-aware parallel traversal of a repository.
//! - [`extract`]: manifests and lockfiles to dependencies, one small extractor per format.
//! - [`inventory`]: the `inventory` job, joining the walk and the extractors.
//! - [`version`]: version parsing, ordering and ranges per ecosystem, and OSV range evaluation.
//! - [`osv`]: OSV records (JSON, YAML, RustSec Markdown, `all.zip`) and their notices.
//! - [`matcher`]: the ways a rule recognises a problem (regex, ast-grep, dependency, config, jwt).
//! - [`rules`]: the curated rules in `feeds/`: loading, `feeds lint`, `feeds test`.
//! - [`scan`]: the `scan` job: gates, prefilter, matchers, findings.
//! - [`report`]: renderers that turn results into text and JSON.
//! - [`store`]: the knowledge store (SQLite or PostgreSQL), the only place with SQL.
//! - [`http`]: the one polite, bounded HTTP client every source uses.
//! - [`notify`]: subscriptions, alert email and the outbox relay.
//! - [`source`]: crawlers that bring outside knowledge (OSV, ...) into the store.
//! - [`serve`]: the scheduled service: ticks under leases, health and metrics.
//! - [`api`]: the tenant HTTP API and one-click unsubscribe that `serve` offers.
//! - [`changelog`]: changelogs and release notes into version-gated notices.
//! - [`cli`]: the command line.

pub mod api;
pub mod changelog;
pub mod cli;
pub mod config;
pub mod dependency;
pub mod diag;
pub mod ecosystem;
pub mod extract;
pub mod finding;
pub mod http;
pub mod inventory;
pub mod matcher;
pub mod notify;
pub mod osv;
pub mod repo;
pub mod report;
pub mod rules;
pub mod scan;
pub mod serve;
pub mod source;
pub mod store;
pub mod suppress;
pub mod version;
pub mod walk;

pub use dependency::{Dependency, Skip, SkipReason, SourceLocation};
pub use diag::{Diagnostic, Severity};
pub use ecosystem::Ecosystem;
