//! Rules: the curated knowledge in `feeds/`, loaded, validated and compiled once per run.
//!
//! - [`schema`]: the file format as serde reads it, spans kept.
//! - [`load`]: files to compiled [`Rule`]s, or problems with file:line:column.
//! - [`lint`]: `ecowatch feeds lint`.
//! - [`fixtures`]: `ecowatch feeds test`.
//! - [`bundled`]: the rule files embedded at build time.

pub mod bundled;
pub mod fixtures;
pub mod lint;
pub mod load;
pub mod schema;

use crate::ecosystem::Ecosystem;
use crate::finding::{Confidence, Kind, Severity};
use crate::matcher::Matcher;
use crate::matcher::imports::ImportsGate;
use chrono::NaiveDate;
use globset::GlobSet;

pub use load::{FeedFile, LoadProblem, load_feed_files, load_rules, read_feeds_dir};

/// One validated, compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    /// Where the rule was read from, for messages.
    pub source: String,
    pub title: String,
    pub message: String,
    pub kind: Kind,
    pub severity: Severity,
    pub confidence: Confidence,
    pub tags: Vec<String>,
    pub fix: Option<String>,
    pub note: String,
    pub references: Vec<String>,
    pub when: When,
    pub files: FileFilter,
    pub timeline: Timeline,
    pub matchers: Vec<MatchSpec>,
}

impl Rule {
    /// True when `--select`/`--ignore` item `selector` (`<id>` or `tag:<name>`) names this
    /// rule. A bare namespace (`python`, `python/`) selects every rule in it.
    pub fn is_selected_by(&self, selector: &str) -> bool {
        if let Some(tag) = selector.strip_prefix("tag:") {
            return self.tags.iter().any(|t| t == tag);
        }
        let selector = selector.trim_end_matches('/');
        self.id == selector
            || self
                .id
                .strip_prefix(selector)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// `[when]`: gates evaluated before any file is read (dependencies, runtimes) or per file
/// before any matcher runs (imports).
#[derive(Debug, Default)]
pub struct When {
    /// Any one must be present.
    pub dependencies: Vec<DependencyGate>,
    /// Each must be admitted.
    pub runtimes: Vec<RuntimeGate>,
    pub imports: Option<ImportsGate>,
}

#[derive(Debug)]
pub struct DependencyGate {
    pub ecosystem: Ecosystem,
    /// Normalized the ecosystem's way.
    pub name: String,
    pub version: Option<String>,
}

#[derive(Debug)]
pub struct RuntimeGate {
    pub runtime: Ecosystem,
    pub version: String,
    /// When the repository pins no such runtime: run the rule (`true`, default) or not.
    pub pass_when_unknown: bool,
}

/// `[files]`, or a matcher's `files`: globs on the path relative to the repository root.
#[derive(Debug, Default)]
pub struct FileFilter {
    pub include: Option<GlobSet>,
    pub exclude: Option<GlobSet>,
}

impl FileFilter {
    /// Does the filter let `path` through? Several `aliases` may stand for one file (fixtures
    /// are presented under more than one name); any alias that passes is enough.
    pub fn admits(&self, aliases: &[&str]) -> bool {
        aliases.iter().any(|path| {
            self.include.as_ref().is_none_or(|g| g.is_match(path))
                && !self.exclude.as_ref().is_some_and(|g| g.is_match(path))
        })
    }
}

/// `[timeline]`.
#[derive(Debug, Default)]
pub struct Timeline {
    pub announced: Option<NaiveDate>,
    pub sunset: Option<NaiveDate>,
    /// (after, severity), sorted by date.
    pub escalate: Vec<(NaiveDate, Severity)>,
}

impl Timeline {
    /// The rule's severity on day `now`: raised by every escalation whose date has passed.
    pub fn severity_on(&self, base: Severity, now: NaiveDate) -> Severity {
        self.escalate
            .iter()
            .filter(|(after, _)| now >= *after)
            .map(|(_, s)| *s)
            .fold(base, Severity::max)
    }

    /// "(sunset in N days)" and friends, for the message; `None` without a sunset date.
    pub fn sunset_note(&self, now: NaiveDate) -> Option<String> {
        let sunset = self.sunset?;
        let days = (sunset - now).num_days();
        Some(match days {
            0 => format!("(sunset today, {sunset})"),
            1 => format!("(sunset in 1 day, {sunset})"),
            -1 => format!("(sunset passed 1 day ago, {sunset})"),
            d if d > 0 => format!("(sunset in {d} days, {sunset})"),
            d => format!("(sunset passed {} days ago, {sunset})", -d),
        })
    }
}

/// One `[[match]]` table, compiled.
#[derive(Debug)]
pub struct MatchSpec {
    pub matcher: Matcher,
    pub message: Option<String>,
    pub severity: Option<Severity>,
    pub confidence: Option<Confidence>,
    /// The matcher's own `files`.
    pub files: FileFilter,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn timeline_escalates_and_counts_days() {
        let t = Timeline {
            announced: None,
            sunset: Some(date("2026-12-31")),
            escalate: vec![(date("2026-10-01"), Severity::High)],
        };
        assert_eq!(
            t.severity_on(Severity::Low, date("2026-09-30")),
            Severity::Low
        );
        assert_eq!(
            t.severity_on(Severity::Low, date("2026-10-01")),
            Severity::High
        );
        assert_eq!(
            t.severity_on(Severity::Critical, date("2026-10-01")),
            Severity::Critical
        );
        assert_eq!(
            t.sunset_note(date("2026-12-01")).unwrap(),
            "(sunset in 30 days, 2026-12-31)"
        );
        assert_eq!(
            t.sunset_note(date("2027-01-02")).unwrap(),
            "(sunset passed 2 days ago, 2026-12-31)"
        );
        assert!(
            Timeline::default()
                .sunset_note(date("2026-01-01"))
                .is_none()
        );
    }
}
