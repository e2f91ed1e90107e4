//! Findings grouped by the upstream event behind them (the rule or notice id), across
//! repositories: "Supabase legacy API keys → 3 repositories, 7 files" reads better than seven
//! separate lines, and says how big the migration is.

use crate::notify::email::inert;
use crate::notify::subscription::severity_rank;
use crate::store::Finding;
use chrono::NaiveDate;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// The most groups one section lists; the rest are counted.
pub const MAX_GROUPS: usize = 40;
/// Example locations shown per repository.
const MAX_EXAMPLES: usize = 3;
/// Repositories listed per group.
const MAX_REPOS: usize = 20;
pub const MAX_TITLE_CHARS: usize = 160;

/// One upstream event and where it shows up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The rule or notice id.
    pub rule_id: String,
    pub title: String,
    /// The highest severity among its findings.
    pub severity: String,
    pub findings: usize,
    /// Distinct (repository, path) pairs.
    pub files: usize,
    pub repos: Vec<RepoShare>,
    /// Repositories not listed in `repos` (over the cap).
    #[serde(default)]
    pub more_repos: usize,
    /// The sunset date the findings' messages state, if any.
    pub sunset: Option<NaiveDate>,
}

/// One repository's part of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoShare {
    pub name: String,
    pub findings: usize,
    pub files: usize,
    /// A few `path:line` examples.
    pub examples: Vec<String>,
}

/// A section's groups, capped, with how many were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub groups: Vec<Group>,
    pub more: usize,
}

impl Section {
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn findings(&self) -> usize {
        self.groups.iter().map(|g| g.findings).sum()
    }
}

/// Groups `(repository name, finding)` pairs by rule: most severe first, then the biggest.
pub fn group(findings: &[(&str, &Finding)]) -> Section {
    #[derive(Default)]
    struct Acc<'a> {
        title: &'a str,
        severity: &'a str,
        findings: usize,
        sunset: Option<NaiveDate>,
        /// repo → (findings, paths, examples)
        repos: BTreeMap<&'a str, (usize, BTreeSet<&'a str>, Vec<String>)>,
    }
    let mut by_rule: BTreeMap<&str, Acc> = BTreeMap::new();
    for (repo, finding) in findings {
        let acc = by_rule.entry(finding.rule_id.as_str()).or_default();
        if acc.title.is_empty() {
            acc.title = &finding.title;
        }
        if rank(&finding.severity) > rank(acc.severity) || acc.severity.is_empty() {
            acc.severity = &finding.severity;
        }
        acc.findings += 1;
        if acc.sunset.is_none() {
            acc.sunset = sunset_of(&finding.details);
        }
        let share = acc.repos.entry(repo).or_default();
        share.0 += 1;
        if let Some(path) = finding.path.as_deref() {
            share.1.insert(path);
            if share.2.len() < MAX_EXAMPLES {
                let at = match finding.line {
                    Some(line) => format!("{path}:{line}"),
                    None => path.to_string(),
                };
                share.2.push(inert(&at, 120));
            }
        }
    }
    let mut groups: Vec<Group> = by_rule
        .into_iter()
        .map(|(rule_id, acc)| {
            let files = acc.repos.values().map(|r| r.1.len()).sum();
            let mut repos: Vec<RepoShare> = acc
                .repos
                .into_iter()
                .map(|(name, (findings, paths, examples))| RepoShare {
                    name: inert(name, 100),
                    findings,
                    files: paths.len(),
                    examples,
                })
                .collect();
            repos.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.name.cmp(&b.name)));
            let more_repos = repos.len().saturating_sub(MAX_REPOS);
            repos.truncate(MAX_REPOS);
            Group {
                rule_id: inert(rule_id, 120),
                title: inert(acc.title, MAX_TITLE_CHARS),
                severity: inert(acc.severity, 20),
                findings: acc.findings,
                files,
                repos,
                more_repos,
                sunset: acc.sunset,
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        rank(&b.severity)
            .cmp(&rank(&a.severity))
            .then(b.findings.cmp(&a.findings))
            .then(a.title.cmp(&b.title))
    });
    let more = groups.len().saturating_sub(MAX_GROUPS);
    groups.truncate(MAX_GROUPS);
    Section { groups, more }
}

/// Unknown severities rank lowest (they still show).
fn rank(severity: &str) -> i64 {
    severity_rank(severity).map_or(-1, |r| r as i64)
}

/// The sunset date a scan wrote into the finding's message: `(sunset in 31 days, 2026-12-31)`,
/// `(sunset today, …)` or `(sunset passed 3 days ago, …)` (see `rules::Timeline::sunset_note`).
pub fn sunset_of(details: &Value) -> Option<NaiveDate> {
    static SUNSET: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"\(sunset (?:in \d+ days?|today|passed \d+ days? ago), (\d{4}-\d{2}-\d{2})\)")
            .ok()
    });
    let message = details.get("message")?.as_str()?;
    let captures = SUNSET.as_ref()?.captures(message)?;
    captures.get(1)?.as_str().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FindingStatus;
    use chrono::Utc;
    use serde_json::json;

    pub(crate) fn finding(rule: &str, severity: &str, path: &str, message: &str) -> Finding {
        Finding {
            id: 1,
            repo_id: 1,
            fingerprint: format!("{rule}{path}"),
            rule_id: rule.into(),
            severity: severity.into(),
            title: format!("Title of {rule}"),
            path: Some(path.into()),
            line: Some(3),
            first_seen: Utc::now(),
            last_seen: Utc::now(),
            status: FindingStatus::New,
            details: json!({ "message": message }),
        }
    }

    #[test]
    fn findings_group_by_rule_across_repositories() {
        let keys = |p: &str| finding("supabase/legacy-api-key", "medium", p, "x");
        let a = keys("a.ts");
        let b = keys("b.ts");
        let c = keys("a.ts");
        let d = finding("python/utcnow", "high", "app.py", "y");
        let section = group(&[("web", &a), ("web", &b), ("api", &c), ("api", &d)]);
        assert_eq!(section.groups.len(), 2);
        // Most severe first.
        assert_eq!(section.groups[0].rule_id, "python/utcnow");
        let keys = &section.groups[1];
        assert_eq!((keys.findings, keys.files, keys.repos.len()), (3, 3, 2));
        assert_eq!(keys.repos[0].name, "web");
        assert_eq!(keys.repos[0].examples, vec!["a.ts:3", "b.ts:3"]);
        assert_eq!(section.findings(), 4);
    }

    #[test]
    fn sunset_dates_are_read_from_the_message() {
        let date = |m: &str| sunset_of(&json!({ "message": m }));
        assert_eq!(
            date("Legacy key (sunset in 31 days, 2026-12-31)"),
            "2026-12-31".parse().ok()
        );
        assert_eq!(
            date("x (sunset passed 1 day ago, 2026-01-01)"),
            "2026-01-01".parse().ok()
        );
        assert_eq!(date("no date here"), None);
        assert_eq!(date("(sunset in 3 days, 2026-13-45)"), None);
        assert_eq!(sunset_of(&json!({})), None);
    }

    #[test]
    fn hostile_titles_are_made_inert_and_sections_are_capped() {
        let mut f = finding("r", "high", "a\r\nb.py", "m");
        f.title = "<script>\r\nBcc: x@evil\u{202E}".into();
        let section = group(&[("api", &f)]);
        assert_eq!(section.groups[0].title, "<script> Bcc: x@evil");
        assert_eq!(section.groups[0].repos[0].examples, vec!["a b.py:3"]);
        let many: Vec<Finding> = (0..MAX_GROUPS + 5)
            .map(|i| finding(&format!("r{i}"), "low", "a.py", "m"))
            .collect();
        let pairs: Vec<(&str, &Finding)> = many.iter().map(|f| ("api", f)).collect();
        let section = group(&pairs);
        assert_eq!((section.groups.len(), section.more), (MAX_GROUPS, 5));
    }
}
