//! Findings: what a scan reports, with a stable fingerprint so that moving code does not make
//! a new finding, and the same id appears in JSON, SARIF and the store.

use crate::ecosystem::Ecosystem;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// What kind of knowledge a finding comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Advisory,
    Deprecation,
    Removal,
    Announcement,
    Yanked,
    Unmaintained,
    Eol,
    Idiom,
}

/// How much a finding matters, lowest first (so `>=` compares against `--fail-on`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure the matcher is that the finding is real, lowest first.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// The package a finding is about, when it is about one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PackageRef {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: Option<String>,
}

/// One place a finding was seen. Paths are relative to the target with forward slashes; line
/// and column are 1-based (column counts characters).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    pub line: u32,
    pub column: u32,
    /// The matched line, trimmed and cut to a readable length; secrets are masked by the matcher.
    pub snippet: String,
}

/// One finding, exactly as the JSON contract (`"schema": 1`) spells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable fingerprint: see [`fingerprint`].
    pub id: String,
    pub rule: String,
    pub kind: Kind,
    pub severity: Severity,
    pub confidence: Confidence,
    pub title: String,
    pub message: String,
    pub package: Option<PackageRef>,
    pub locations: Vec<Location>,
    pub references: Vec<String>,
    pub aliases: Vec<String>,
    /// How to fix it, in Markdown (the rule's `note`, or the notice's replacement).
    pub fix: Option<String>,
}

impl Finding {
    /// The order findings are reported in: severity (highest first), then rule, path, line.
    pub fn sort_key(&self) -> impl Ord + '_ {
        let first = self.locations.first();
        (
            std::cmp::Reverse(self.severity),
            self.rule.as_str(),
            first.map(|l| l.path.as_str()),
            first.map(|l| (l.line, l.column)),
            self.id.as_str(),
        )
    }
}

/// Fingerprint of a finding: a hash of (rule, path, normalized matched text). The line number
/// is left out on purpose, so moving code keeps the id; whitespace is collapsed so reformatting
/// does too. `occurrence` separates identical matches in one file (0 for the first).
pub fn fingerprint(rule: &str, path: &str, matched: &str, occurrence: u32) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule.as_bytes());
    hasher.update([0]);
    hasher.update(path.as_bytes());
    hasher.update([0]);
    let mut first = true;
    for word in matched.split_whitespace() {
        if !first {
            hasher.update(b" ");
        }
        hasher.update(word.as_bytes());
        first = false;
    }
    hasher.update([0]);
    hasher.update(occurrence.to_le_bytes());
    let digest = hasher.finalize();
    digest[..10].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_whitespace_but_not_text_path_or_rule() {
        let a = fingerprint("r/x", "src/a.py", "datetime.utcnow()", 0);
        assert_eq!(a.len(), 20);
        assert_eq!(
            a,
            fingerprint("r/x", "src/a.py", "  datetime.utcnow()\t", 0)
        );
        assert_ne!(a, fingerprint("r/y", "src/a.py", "datetime.utcnow()", 0));
        assert_ne!(a, fingerprint("r/x", "src/b.py", "datetime.utcnow()", 0));
        assert_ne!(
            a,
            fingerprint("r/x", "src/a.py", "datetime.utcfromtimestamp()", 0)
        );
        assert_ne!(a, fingerprint("r/x", "src/a.py", "datetime.utcnow()", 1));
    }

    #[test]
    fn severity_orders_low_to_high() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Info < Severity::Low);
        assert!(Confidence::High > Confidence::Low);
    }
}

/// The JSON contract's schema version for scan reports.
pub const REPORT_SCHEMA: u32 = 1;

/// Everything a scan reports; every renderer (text, JSON, SARIF, Markdown) reads this.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema: u32,
    pub tool: Tool,
    pub target: Target,
    /// Sorted by [`Finding::sort_key`].
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<crate::Diagnostic>,
    pub summary: Summary,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    /// This build of ecowatch.
    pub fn current() -> Tool {
        Tool {
            name: "ecowatch".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub path: String,
}

/// Counts for the summary line and for scripts. Deterministic: no timings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Findings reported (after suppressions and filters).
    pub findings: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
    /// Findings hidden by `[[ignore]]` entries or inline `ecowatch-ignore` comments.
    pub suppressed: usize,
    /// Files the scan looked at.
    pub files_scanned: usize,
    /// Rules whose gates passed and that ran.
    pub rules_run: usize,
    /// Rules loaded from the feeds.
    pub rules_loaded: usize,
    /// The `--fail-on` threshold and whether it was reached (what the exit code says).
    pub fail_on: Option<Severity>,
    pub failed: bool,
}

impl Summary {
    /// Counts `findings` by severity.
    pub fn count(&mut self, findings: &[Finding]) {
        self.findings = findings.len();
        for f in findings {
            match f.severity {
                Severity::Critical => self.critical += 1,
                Severity::High => self.high += 1,
                Severity::Medium => self.medium += 1,
                Severity::Low => self.low += 1,
                Severity::Info => self.info += 1,
            }
        }
    }
}
