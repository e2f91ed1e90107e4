//! `ecowatch feeds test`: every rule's fixtures, checked against their annotations.
//!
//! A line containing `ruleid: <id>` says the next line (that is not itself an annotation) must
//! produce a finding of that rule; `ok: <id>` says it must not. Sibling files `name.<ext>` are
//! scanned with gates off, presented under their own name and under the name left after the
//! rule's stem (`engines.package.json` also answers to `package.json`, `key.env` to `.env`);
//! directories `name.fixtures/` are scanned as repositories, gates on.

use super::Rule;
use super::load::{list_files, rules_root};
use crate::scan::plan::{DEFAULT_MAX_LINE_BYTES, Plan};
use crate::scan::{self, ScanOptions};
use chrono::NaiveDate;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

static ANNOTATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(ruleid|ok):\s*([a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*)")
        .expect("constant regex compiles")
});

/// Lines annotated in one fixture file, for one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectations {
    /// Lines that must produce a finding.
    pub ruleid: BTreeSet<u32>,
    /// Lines that must not.
    pub ok: BTreeSet<u32>,
}

/// Every rule's expectations in `text`, keyed by rule id.
pub fn annotations(text: &str) -> BTreeMap<String, Expectations> {
    let mut out: BTreeMap<String, Expectations> = BTreeMap::new();
    let mut waiting: Vec<(bool, String)> = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line_no = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        let found: Vec<(bool, String)> = ANNOTATION
            .captures_iter(line)
            .filter_map(|c| {
                Some((
                    c.get(1)?.as_str() == "ruleid",
                    c.get(2)?.as_str().to_string(),
                ))
            })
            .collect();
        if found.is_empty() {
            for (must, id) in waiting.drain(..) {
                let e = out.entry(id).or_default();
                if must {
                    e.ruleid.insert(line_no);
                } else {
                    e.ok.insert(line_no);
                }
            }
        } else {
            waiting.extend(found);
        }
    }
    out
}

/// One fixture file's result for one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseResult {
    /// The fixture as shown to people (`name.py`, `name.fixtures/package.json`).
    pub fixture: String,
    pub expected: BTreeSet<u32>,
    pub ok_lines: BTreeSet<u32>,
    pub got: BTreeSet<u32>,
}

impl CaseResult {
    /// Passes when the findings are exactly the `ruleid` lines (so `ok` lines and unannotated
    /// lines must stay quiet).
    pub fn passed(&self) -> bool {
        self.expected == self.got
    }
}

/// One rule's fixture results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleResult {
    pub rule: String,
    pub cases: Vec<CaseResult>,
    /// Problems running the fixtures (unreadable files, a fixture repository that failed).
    pub errors: Vec<String>,
}

impl RuleResult {
    pub fn passed(&self) -> bool {
        self.errors.is_empty() && self.cases.iter().all(CaseResult::passed)
    }

    /// Annotation counts across all fixtures: (ruleid, ok).
    pub fn annotation_counts(&self) -> (usize, usize) {
        self.cases.iter().fold((0, 0), |(r, o), c| {
            (r + c.expected.len(), o + c.ok_lines.len())
        })
    }
}

/// The fixtures of rule `rule_id` below the rules root: sibling files and `.fixtures` dirs.
pub fn fixture_paths(rules_dir: &Path, rule_id: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (ns, name) = rule_id.split_once('/').unwrap_or(("", rule_id));
    let dir = rules_dir.join(ns);
    let prefix = format!("{name}.");
    let mut files = Vec::new();
    let mut repos = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if !file_name.starts_with(&prefix) || file_name == format!("{name}.toml") {
                continue;
            }
            match entry.file_type() {
                Ok(t) if t.is_dir() && file_name.ends_with(".fixtures") => repos.push(entry.path()),
                Ok(t) if t.is_file() => files.push(entry.path()),
                _ => {}
            }
        }
    }
    files.sort();
    repos.sort();
    (files, repos)
}

/// Runs every fixture of every rule in `rules`, found under the feeds directory `feeds_dir`.
pub fn run_all(feeds_dir: &Path, rules: &[Rule], now: NaiveDate) -> Vec<RuleResult> {
    let root = rules_root(feeds_dir);
    rules.iter().map(|r| run_rule(&root, r, now)).collect()
}

/// Runs one rule's fixtures.
pub fn run_rule(rules_dir: &Path, rule: &Rule, now: NaiveDate) -> RuleResult {
    let (files, repos) = fixture_paths(rules_dir, &rule.id);
    let mut result = RuleResult {
        rule: rule.id.clone(),
        cases: Vec::new(),
        errors: Vec::new(),
    };
    for file in files {
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = match std::fs::read(&file)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::repo::decode_text(b).map_err(|e| e.to_string()))
        {
            Ok(text) => text,
            Err(e) => {
                result.errors.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        let expectations = annotations(&text).remove(&rule.id).unwrap_or_default();
        let aliases = fixture_aliases(&file_name);
        let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
        let plan = Plan::new(vec![rule], false, DEFAULT_MAX_LINE_BYTES);
        let outcome = plan.scan_file(&aliases, || Ok(text.clone()));
        let got = outcome.hits.iter().map(|h| h.hit.line).collect();
        result.cases.push(CaseResult {
            fixture: file_name.clone(),
            expected: expectations.ruleid,
            ok_lines: expectations.ok,
            got,
        });
    }
    for repo in repos {
        run_repo_fixture(&repo, rule, now, &mut result);
    }
    result
}

/// The names a sibling fixture answers to: its own, then every tail after a dot, with and
/// without the dot (`x.ok.package.json` → `package.json`, `.json`; `key.env` → `.env`), so
/// that a matcher's `files` globs can select it.
pub fn fixture_aliases(file_name: &str) -> Vec<String> {
    let mut out = vec![file_name.to_string()];
    for (i, _) in file_name.match_indices('.') {
        out.push(file_name[i..].to_string());
        out.push(file_name[i + 1..].to_string());
    }
    out.retain(|a| !a.is_empty());
    out.dedup();
    out
}

/// A `name.fixtures/` directory: scanned as a repository with gates on.
fn run_repo_fixture(repo: &Path, rule: &Rule, now: NaiveDate, result: &mut RuleResult) {
    let repo_name = repo
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut options = ScanOptions::new(now);
    options.walk.respect_gitignore = false;
    let report = match scan::scan(repo, std::slice::from_ref(rule), &options) {
        Ok(report) => report,
        Err(e) => {
            result.errors.push(format!("{}: {e}", repo.display()));
            return;
        }
    };
    let mut got: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for f in report.findings.iter().filter(|f| f.rule == rule.id) {
        for loc in &f.locations {
            got.entry(loc.path.clone()).or_default().insert(loc.line);
        }
    }
    let mut files = Vec::new();
    if let Err(e) = list_files(repo, repo, &mut files) {
        result.errors.push(format!("{}: {e}", repo.display()));
        return;
    }
    files.sort();
    for rel in files {
        let Ok(text) = std::fs::read(repo.join(&rel))
            .map_err(|e| e.to_string())
            .and_then(|b| crate::repo::decode_text(b).map_err(|e| e.to_string()))
        else {
            continue;
        };
        let expectations = annotations(&text).remove(&rule.id).unwrap_or_default();
        let file_got = got.remove(&rel).unwrap_or_default();
        if expectations == Expectations::default() && file_got.is_empty() {
            continue;
        }
        result.cases.push(CaseResult {
            fixture: format!("{repo_name}/{rel}"),
            expected: expectations.ruleid,
            ok_lines: expectations.ok,
            got: file_got,
        });
    }
    // Findings in files that could not be read as text still count.
    for (rel, lines) in got {
        result.cases.push(CaseResult {
            fixture: format!("{repo_name}/{rel}"),
            expected: BTreeSet::new(),
            ok_lines: BTreeSet::new(),
            got: lines,
        });
    }
}

/// The `feeds test` report: one line per rule, expected vs got for failures.
pub fn render(results: &[RuleResult]) -> String {
    let mut out = String::new();
    let lines = |set: &BTreeSet<u32>| {
        if set.is_empty() {
            "(none)".to_string()
        } else {
            set.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    for r in results {
        if r.passed() {
            let _ = writeln!(out, "ok    {} ({} fixture files)", r.rule, r.cases.len());
            continue;
        }
        let _ = writeln!(out, "FAIL  {}", r.rule);
        for e in &r.errors {
            let _ = writeln!(out, "      error: {e}");
        }
        for c in r.cases.iter().filter(|c| !c.passed()) {
            let _ = writeln!(out, "      {}", c.fixture);
            let _ = writeln!(out, "        expected lines: {}", lines(&c.expected));
            let _ = writeln!(out, "        got lines:      {}", lines(&c.got));
            let missing: BTreeSet<u32> = c.expected.difference(&c.got).copied().collect();
            let extra: BTreeSet<u32> = c.got.difference(&c.expected).copied().collect();
            if !missing.is_empty() {
                let _ = writeln!(out, "        missing:        {}", lines(&missing));
            }
            if !extra.is_empty() {
                let on_ok: BTreeSet<u32> = extra.intersection(&c.ok_lines).copied().collect();
                let _ = writeln!(out, "        unexpected:     {}", lines(&extra));
                if !on_ok.is_empty() {
                    let _ = writeln!(out, "        (on `ok` lines: {})", lines(&on_ok));
                }
            }
        }
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    let _ = writeln!(
        out,
        "\n{} rules, {} passed, {} failed",
        results.len(),
        results.len() - failed,
        failed
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_point_at_the_next_code_line() {
        let text = "# ruleid: demo/a\nbad()\n# ok: demo/a\n# ruleid: demo/b\ngood()\n{\"//\": \"ruleid: demo/a\",\n\"x\": 1}\n";
        let all = annotations(text);
        assert_eq!(all["demo/a"].ruleid, BTreeSet::from([2, 7]));
        assert_eq!(all["demo/a"].ok, BTreeSet::from([5]));
        assert_eq!(all["demo/b"].ruleid, BTreeSet::from([5]));
    }

    #[test]
    fn aliases_cover_every_tail() {
        assert_eq!(
            fixture_aliases("rule.ok.package.json"),
            vec![
                "rule.ok.package.json",
                ".ok.package.json",
                "ok.package.json",
                ".package.json",
                "package.json",
                ".json",
                "json"
            ]
        );
        assert!(fixture_aliases("key.env").contains(&".env".to_string()));
    }

    #[test]
    fn a_case_passes_only_when_findings_equal_ruleid_lines() {
        let case = |expected: &[u32], got: &[u32]| CaseResult {
            fixture: "x".into(),
            expected: expected.iter().copied().collect(),
            ok_lines: BTreeSet::new(),
            got: got.iter().copied().collect(),
        };
        assert!(case(&[2], &[2]).passed());
        assert!(!case(&[2], &[]).passed());
        assert!(!case(&[2], &[2, 4]).passed());
    }
}
