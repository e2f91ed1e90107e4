//! The inventory's vocabulary: one declared or locked dependency, and where it is written.

use crate::ecosystem::Ecosystem;
use serde::{Deserialize, Serialize};

/// Where a dependency is written: a path relative to the scanned root (forward slashes) and a
/// 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceLocation {
    pub path: String,
    pub line: u32,
}

/// Why ecowatch could not resolve a dependency to a registry version. The entry is kept and
/// labelled, never dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// Comes from a git repository (`git+https://…`, `{ git = … }`, `github:user/repo`).
    Git,
    /// Comes from a local path (`file:../x`, `{ path = … }`, `-e ./pkg`, `link:`).
    Path,
    /// Comes from a direct URL or archive.
    Url,
    /// An editable install (`-e`), resolved from the working tree.
    Editable,
    /// A workspace-internal package (`workspace:*`).
    Workspace,
    /// Written in a form ecowatch does not understand (the detail says what).
    Unsupported,
}

/// A skipped dependency's reason and the text that caused it (e.g. the URL).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Skip {
    pub reason: SkipReason,
    pub detail: String,
}

/// One dependency or runtime pin as one file declares or locks it.
///
/// Each file speaks for itself: a lockfile entry carries `version`, a manifest entry carries
/// `requirement` and `direct: true`. Nothing joins the two here.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dependency {
    pub ecosystem: Ecosystem,
    /// Normalized the ecosystem's way (PEP 503 for PyPI).
    pub name: String,
    /// The exact version a lockfile (or an exact pin) fixes.
    pub version: Option<String>,
    /// The declared range as written in the manifest, in the ecosystem's own syntax.
    pub requirement: Option<String>,
    pub direct: bool,
    pub dev: bool,
    pub optional: bool,
    pub source: SourceLocation,
    pub skipped: Option<Skip>,
}

impl Dependency {
    /// A dependency named in `path` at `line`; the name is normalized for `ecosystem`.
    /// Everything else starts empty or false; set the fields that the file states.
    pub fn new(ecosystem: Ecosystem, name: &str, path: &str, line: u32) -> Dependency {
        Dependency {
            ecosystem,
            name: ecosystem.normalize_name(name),
            version: None,
            requirement: None,
            direct: false,
            dev: false,
            optional: false,
            source: SourceLocation {
                path: path.to_string(),
                line,
            },
            skipped: None,
        }
    }

    /// Sets the locked version.
    pub fn locked(mut self, version: impl Into<String>) -> Dependency {
        self.version = Some(version.into());
        self
    }

    /// Sets the declared requirement and marks the entry direct (manifests declare direct deps).
    pub fn requires(mut self, requirement: impl Into<String>) -> Dependency {
        self.requirement = Some(requirement.into());
        self.direct = true;
        self
    }

    /// Marks the entry as unresolvable, with the reason and the text that caused it.
    pub fn skip(mut self, reason: SkipReason, detail: impl Into<String>) -> Dependency {
        self.skipped = Some(Skip {
            reason,
            detail: detail.into(),
        });
        self
    }

    pub fn direct(mut self, direct: bool) -> Dependency {
        self.direct = direct;
        self
    }

    pub fn dev(mut self, dev: bool) -> Dependency {
        self.dev = dev;
        self
    }

    pub fn optional(mut self, optional: bool) -> Dependency {
        self.optional = optional;
        self
    }
}
