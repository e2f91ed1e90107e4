//! Suppressions: `[[ignore]]` entries from `ecowatch.toml` and inline `ecowatch-ignore`
//! comments. An ignore must say why; one that has expired or hides nothing is reported, so
//! ignores do not outlive the reason they were written for.
//!
//! How the scan engine wires it (all pure; `today` is injected, nothing reads the clock):
//!
//! ```ignore
//! // 1. While reading each scanned file (in parallel is fine):
//! let found: Vec<InlineIgnore> = suppress::inline_ignores(rel_path, &text);
//! // 2. Collect them:
//! let inline: InlineIndex = per_file_results.into_iter().flatten().collect();
//! // 3. After matching:
//! let mut suppressor = Suppressor::new(&config.ignores, inline, today);
//! let (kept, suppressed) = suppressor.apply(findings);
//! report.summary.suppressed = suppressed;
//! report.diagnostics.extend(suppressor.finish());
//! ```
//!
//! Inline syntax, in any comment style, anywhere on a line:
//! `ecowatch-ignore: <id> -- <reason>` (several ids may be separated by commas). On a line
//! that holds only a comment it covers the next line that is not itself such a comment (and
//! its own line); after code it covers its own line. `<id>` matches a finding's rule or any of
//! its aliases, ignoring ASCII case. Without a reason it does not apply and gives the
//! diagnostic `ignore-without-reason`; without an id, `ignore-malformed`.
//!
//! Config entries match on the rule/advisory id (or an alias), and when given, a path glob
//! over any of the finding's locations and the package name (normalized per ecosystem). An
//! entry whose `until` is before `today` no longer applies and gives `ignore-expired`. Any
//! ignore that hid nothing gives `ignore-unused`.

use crate::config::IgnoreEntry;
use crate::diag::Diagnostic;
use crate::finding::Finding;
use chrono::NaiveDate;
use globset::{GlobBuilder, GlobMatcher};
use std::collections::BTreeMap;

const MARKER: &str = "ecowatch-ignore:";

/// One inline `ecowatch-ignore` comment found in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineIgnore {
    /// Path relative to the scanned root, forward slashes (as in [`crate::finding::Location`]).
    pub path: String,
    /// 1-based line the comment is on.
    pub line: u32,
    /// Lines whose findings it hides.
    pub covers: Vec<u32>,
    /// Rule ids or aliases it names; empty when malformed.
    pub ids: Vec<String>,
    /// `None` when no reason follows `--`: the ignore then does not apply.
    pub reason: Option<String>,
}

/// Finds the inline ignores in one file's text. Never fails; odd comments become ignores that
/// do not apply (and diagnostics at [`Suppressor::finish`]).
pub fn inline_ignores(path: &str, text: &str) -> Vec<InlineIgnore> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        let (ids, reason) = parse_directive(&line[at + MARKER.len()..]);
        let this = line_number(index);
        let covers = if is_comment_only(&line[..at]) {
            // Skip following comment-only ignore lines so stacked ignores reach the code.
            let mut next = index + 1;
            while next < lines.len()
                && lines[next]
                    .find(MARKER)
                    .is_some_and(|a| is_comment_only(&lines[next][..a]))
            {
                next += 1;
            }
            vec![this, line_number(next)]
        } else {
            vec![this]
        };
        found.push(InlineIgnore {
            path: path.to_string(),
            line: this,
            covers,
            ids,
            reason,
        });
    }
    found
}

fn line_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// True when the text before the marker is only a comment opener (`#`, `//`, `/*`, `<!--`,
/// `--`, `;`, `{#`, `REM` ...), i.e. the line holds no code.
fn is_comment_only(before: &str) -> bool {
    let before = before.trim();
    before
        .chars()
        .all(|c| !c.is_alphanumeric() && !matches!(c, '"' | '\'' | '`' | ')' | ']' | '}'))
        || before.eq_ignore_ascii_case("rem")
}

/// Splits `<ids> -- <reason>` (the text after the marker).
fn parse_directive(rest: &str) -> (Vec<String>, Option<String>) {
    let (ids, reason) = match rest.find("--") {
        Some(at) if !rest[at..].starts_with("-->") => (&rest[..at], Some(&rest[at + 2..])),
        _ => (rest, None),
    };
    let ids = strip_closer(ids)
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let reason = reason
        .map(|r| strip_closer(r).trim().to_string())
        .filter(|r| !r.is_empty());
    (ids, reason)
}

/// Drops a trailing block-comment closer (`*/`, `-->`, `#}`, `%>`).
fn strip_closer(text: &str) -> &str {
    let mut text = text.trim_end();
    for closer in ["*/", "-->", "#}", "--%>", "%>"] {
        if let Some(stripped) = text.strip_suffix(closer) {
            text = stripped.trim_end();
            break;
        }
    }
    text
}

/// The inline ignores of every scanned file, keyed by path.
#[derive(Clone, Debug, Default)]
pub struct InlineIndex {
    by_path: BTreeMap<String, Vec<InlineIgnore>>,
}

impl InlineIndex {
    pub fn insert(&mut self, ignore: InlineIgnore) {
        self.by_path
            .entry(ignore.path.clone())
            .or_default()
            .push(ignore);
    }

    pub fn len(&self) -> usize {
        self.by_path.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }
}

impl FromIterator<InlineIgnore> for InlineIndex {
    fn from_iter<I: IntoIterator<Item = InlineIgnore>>(iter: I) -> Self {
        let mut index = InlineIndex::default();
        for ignore in iter {
            index.insert(ignore);
        }
        index
    }
}

impl Extend<InlineIgnore> for InlineIndex {
    fn extend<I: IntoIterator<Item = InlineIgnore>>(&mut self, iter: I) {
        for ignore in iter {
            self.insert(ignore);
        }
    }
}

struct ConfigIgnore {
    entry: IgnoreEntry,
    /// `None`: any path. `Some(None)`: a glob that does not compile, which matches nothing
    /// (config load already refuses those; this only keeps `new` infallible).
    glob: Option<Option<GlobMatcher>>,
    expired: bool,
    used: bool,
}

impl ConfigIgnore {
    fn matches(&self, finding: &Finding) -> bool {
        if self.expired || !names(finding, self.entry.target.id()) {
            return false;
        }
        let path_ok = match &self.glob {
            None => true,
            Some(None) => false,
            Some(Some(glob)) => finding.locations.iter().any(|l| glob.is_match(&l.path)),
        };
        let package_ok = match (&self.entry.package, &finding.package) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(wanted), Some(package)) => {
                package.ecosystem.normalize_name(wanted)
                    == package.ecosystem.normalize_name(&package.name)
            }
        };
        path_ok && package_ok
    }
}

/// Whether `id` is the finding's rule or one of its aliases (ASCII case ignored: advisory ids
/// are written both ways).
fn names(finding: &Finding, id: &str) -> bool {
    finding.rule.eq_ignore_ascii_case(id)
        || finding.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
}

struct InlineState {
    ignore: InlineIgnore,
    used: bool,
}

impl InlineState {
    fn applies(&self) -> bool {
        self.ignore.reason.is_some() && !self.ignore.ids.is_empty()
    }
}

/// Applies ignores to findings and remembers which ignores were used.
pub struct Suppressor {
    config: Vec<ConfigIgnore>,
    inline: BTreeMap<String, Vec<InlineState>>,
    today: NaiveDate,
}

impl Suppressor {
    /// `config_ignores` come validated from [`crate::config::Config`]; `today` decides expiry
    /// (an entry applies through its `until` day).
    pub fn new(config_ignores: &[IgnoreEntry], inline: InlineIndex, today: NaiveDate) -> Self {
        let config = config_ignores
            .iter()
            .map(|entry| ConfigIgnore {
                glob: entry.path.as_deref().map(|p| {
                    GlobBuilder::new(p)
                        .literal_separator(true)
                        .build()
                        .ok()
                        .map(|g| g.compile_matcher())
                }),
                expired: entry.until.is_some_and(|until| until < today),
                entry: entry.clone(),
                used: false,
            })
            .collect();
        let inline = inline
            .by_path
            .into_iter()
            .map(|(path, list)| {
                let states = list
                    .into_iter()
                    .map(|ignore| InlineState {
                        ignore,
                        used: false,
                    })
                    .collect();
                (path, states)
            })
            .collect();
        Suppressor {
            config,
            inline,
            today,
        }
    }

    /// Splits `findings` into those kept (order preserved) and the number hidden. Inline
    /// ignores are tried first; every ignore that matches a finding counts as used.
    pub fn apply(&mut self, findings: Vec<Finding>) -> (Vec<Finding>, usize) {
        let mut kept = Vec::with_capacity(findings.len());
        let mut suppressed = 0;
        for finding in findings {
            let by_inline = self.apply_inline(&finding);
            let mut by_config = false;
            for ignore in &mut self.config {
                if ignore.matches(&finding) {
                    ignore.used = true;
                    by_config = true;
                }
            }
            if by_inline || by_config {
                suppressed += 1;
            } else {
                kept.push(finding);
            }
        }
        (kept, suppressed)
    }

    fn apply_inline(&mut self, finding: &Finding) -> bool {
        let mut hit = false;
        for location in &finding.locations {
            let Some(states) = self.inline.get_mut(&location.path) else {
                continue;
            };
            for state in states.iter_mut() {
                if state.applies()
                    && state.ignore.covers.contains(&location.line)
                    && state.ignore.ids.iter().any(|id| names(finding, id))
                {
                    state.used = true;
                    hit = true;
                }
            }
        }
        hit
    }

    /// Diagnostics about the ignores themselves, sorted by place: `ignore-without-reason`,
    /// `ignore-malformed`, `ignore-expired`, `ignore-unused`.
    pub fn finish(self) -> Vec<Diagnostic> {
        let mut diagnostics = Vec::new();
        for state in self.inline.values().flatten() {
            let ignore = &state.ignore;
            let at = |d: Diagnostic| d.at(ignore.path.clone()).at_line(ignore.line);
            if ignore.ids.is_empty() {
                diagnostics.push(at(Diagnostic::warning(
                    "ignore-malformed",
                    "`ecowatch-ignore:` names no rule; write `ecowatch-ignore: <rule-id> -- <reason>`",
                )));
            } else if ignore.reason.is_none() {
                diagnostics.push(at(Diagnostic::warning(
                    "ignore-without-reason",
                    format!(
                        "ignore of `{}` has no reason, so it does not apply; add `-- <reason>`",
                        ignore.ids.join(", ")
                    ),
                )));
            } else if !state.used {
                diagnostics.push(at(Diagnostic::warning(
                    "ignore-unused",
                    format!("ignore of `{}` matched no finding", ignore.ids.join(", ")),
                )));
            }
        }
        for ignore in &self.config {
            let entry = &ignore.entry;
            let id = entry.target.id();
            let at = |d: Diagnostic| d.at(entry.origin.clone()).at_line(entry.line);
            if ignore.expired {
                let until = entry.until.map(|d| d.to_string()).unwrap_or_default();
                diagnostics.push(at(Diagnostic::warning(
                    "ignore-expired",
                    format!(
                        "ignore of `{id}` expired on {until} (today is {}); it no longer applies",
                        self.today
                    ),
                )));
            } else if !ignore.used {
                diagnostics.push(at(Diagnostic::warning(
                    "ignore-unused",
                    format!("ignore of `{id}` matched no finding"),
                )));
            }
        }
        diagnostics.sort_by(|a, b| (&a.path, a.line, &a.code).cmp(&(&b.path, b.line, &b.code)));
        diagnostics
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IgnoreTarget;
    use crate::ecosystem::Ecosystem;
    use crate::finding::{Confidence, Kind, Location, PackageRef, Severity};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()
    }

    fn finding(rule: &str, path: &str, line: u32) -> Finding {
        Finding {
            id: format!("{rule}@{path}:{line}"),
            rule: rule.to_string(),
            kind: Kind::Deprecation,
            severity: Severity::Medium,
            confidence: Confidence::High,
            title: "t".into(),
            message: "m".into(),
            package: None,
            locations: vec![Location {
                path: path.to_string(),
                line,
                column: 1,
                snippet: String::new(),
            }],
            references: vec![],
            aliases: vec![],
            fix: None,
        }
    }

    fn entry(target: IgnoreTarget) -> IgnoreEntry {
        IgnoreEntry {
            target,
            path: None,
            package: None,
            reason: "because".into(),
            until: None,
            origin: "ecowatch.toml".into(),
            line: 3,
        }
    }

    fn rule(id: &str) -> IgnoreEntry {
        entry(IgnoreTarget::Rule(id.into()))
    }

    fn codes(diagnostics: &[Diagnostic]) -> Vec<(&str, Option<&str>, Option<u32>)> {
        diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.path.as_deref(), d.line))
            .collect()
    }

    fn run(
        ignores: &[IgnoreEntry],
        inline: InlineIndex,
        findings: Vec<Finding>,
    ) -> (Vec<Finding>, usize, Vec<Diagnostic>) {
        let mut s = Suppressor::new(ignores, inline, today());
        let (kept, n) = s.apply(findings);
        (kept, n, s.finish())
    }

    #[test]
    fn config_rule_match_hides_and_counts() {
        let (kept, n, diags) = run(
            &[rule("py/utcnow")],
            InlineIndex::default(),
            vec![
                finding("py/utcnow", "a.py", 1),
                finding("py/other", "a.py", 2),
            ],
        );
        assert_eq!(n, 1);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].rule, "py/other");
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn advisory_matches_an_alias_ignoring_case() {
        let mut f = finding("GHSA-aaaa-bbbb-cccc", "package-lock.json", 10);
        f.aliases = vec!["CVE-2024-1234".into()];
        let (kept, n, diags) = run(
            &[entry(IgnoreTarget::Advisory("cve-2024-1234".into()))],
            InlineIndex::default(),
            vec![f],
        );
        assert_eq!((kept.len(), n), (0, 1));
        assert!(diags.is_empty());
    }

    #[test]
    fn path_glob_limits_the_entry() {
        let mut ignore = rule("py/utcnow");
        ignore.path = Some("legacy/**".into());
        let (kept, n, _) = run(
            &[ignore],
            InlineIndex::default(),
            vec![
                finding("py/utcnow", "legacy/deep/a.py", 1),
                finding("py/utcnow", "src/legacy/a.py", 1),
                finding("py/utcnow", "app.py", 1),
            ],
        );
        assert_eq!(n, 1);
        let paths: Vec<&str> = kept.iter().map(|f| f.locations[0].path.as_str()).collect();
        assert_eq!(paths, ["src/legacy/a.py", "app.py"]);
    }

    #[test]
    fn single_star_does_not_cross_directories() {
        let mut ignore = rule("r");
        ignore.path = Some("src/*.py".into());
        let (kept, n, _) = run(
            &[ignore],
            InlineIndex::default(),
            vec![finding("r", "src/a.py", 1), finding("r", "src/sub/b.py", 1)],
        );
        assert_eq!((kept.len(), n), (1, 1));
    }

    #[test]
    fn package_name_is_normalized_per_ecosystem() {
        let mut f = finding("GHSA-x", "requirements.txt", 1);
        f.package = Some(PackageRef {
            ecosystem: Ecosystem::PyPI,
            name: "zope.interface".into(),
            version: Some("1.0".into()),
        });
        let mut ignore = entry(IgnoreTarget::Advisory("GHSA-x".into()));
        ignore.package = Some("Zope_Interface".into());
        let mut other = entry(IgnoreTarget::Advisory("GHSA-x".into()));
        other.package = Some("requests".into());
        let (kept, n, diags) = run(&[ignore, other], InlineIndex::default(), vec![f]);
        assert_eq!((kept.len(), n), (0, 1));
        assert_eq!(
            codes(&diags),
            [("ignore-unused", Some("ecowatch.toml"), Some(3))]
        );
    }

    #[test]
    fn expired_entry_no_longer_applies_and_says_so() {
        let mut old = rule("r");
        old.until = NaiveDate::from_ymd_opt(2026, 1, 14);
        let mut last_day = rule("r");
        last_day.until = Some(today());
        last_day.line = 9;
        let (kept, n, diags) = run(&[old], InlineIndex::default(), vec![finding("r", "a", 1)]);
        assert_eq!((kept.len(), n), (1, 0));
        assert_eq!(
            codes(&diags),
            [("ignore-expired", Some("ecowatch.toml"), Some(3))]
        );
        assert!(
            diags[0].message.contains("2026-01-14"),
            "{}",
            diags[0].message
        );

        let (kept, n, diags) = run(
            &[last_day],
            InlineIndex::default(),
            vec![finding("r", "a", 1)],
        );
        assert_eq!((kept.len(), n), (0, 1), "until is inclusive");
        assert!(diags.is_empty());
    }

    #[test]
    fn unused_config_and_inline_ignores_are_reported() {
        let inline: InlineIndex =
            inline_ignores("src/a.py", "x = 1  # ecowatch-ignore: r -- fine here\n")
                .into_iter()
                .collect();
        let (_, n, diags) = run(&[rule("nothing/matches")], inline, vec![]);
        assert_eq!(n, 0);
        assert_eq!(
            codes(&diags),
            [
                ("ignore-unused", Some("ecowatch.toml"), Some(3)),
                ("ignore-unused", Some("src/a.py"), Some(1)),
            ]
        );
    }

    #[test]
    fn inline_on_the_line_before_and_at_line_end() {
        let text = "\
import datetime
# ecowatch-ignore: py/utcnow -- tests pin naive times
a = datetime.datetime.utcnow()
b = datetime.datetime.utcnow()  // ecowatch-ignore: py/utcnow -- same
c = datetime.datetime.utcnow()
";
        let inline: InlineIndex = inline_ignores("t.py", text).into_iter().collect();
        assert_eq!(inline.len(), 2);
        let (kept, n, diags) = run(
            &[],
            inline,
            vec![
                finding("py/utcnow", "t.py", 3),
                finding("py/utcnow", "t.py", 4),
                finding("py/utcnow", "t.py", 5),
                finding("py/utcnow", "other.py", 3),
                finding("py/other", "t.py", 3),
            ],
        );
        assert_eq!(n, 2);
        let left: Vec<(&str, &str, u32)> = kept
            .iter()
            .map(|f| {
                (
                    f.rule.as_str(),
                    f.locations[0].path.as_str(),
                    f.locations[0].line,
                )
            })
            .collect();
        assert_eq!(
            left,
            [
                ("py/utcnow", "t.py", 5),
                ("py/utcnow", "other.py", 3),
                ("py/other", "t.py", 3)
            ]
        );
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn trailing_ignore_does_not_reach_the_next_line() {
        let text = "a()  # ecowatch-ignore: r -- why\nb()\n";
        let ignores = inline_ignores("f.py", text);
        assert_eq!(ignores[0].covers, [1]);
        let (kept, ..) = run(
            &[],
            ignores.into_iter().collect(),
            vec![finding("r", "f.py", 2)],
        );
        assert_eq!(kept.len(), 1);
    }

    #[test]
    fn stacked_comment_ignores_reach_the_code_below() {
        let text = "<!-- ecowatch-ignore: tailwind/play-cdn -- prototype page -->\n\
                    {# ecowatch-ignore: html/other, html/third -- also #}\n\
                    <script src=\"https://cdn.tailwindcss.com\"></script>\n";
        let ignores = inline_ignores("index.html", text);
        assert_eq!(ignores.len(), 2);
        assert_eq!(ignores[0].covers, [1, 3]);
        assert_eq!(ignores[0].reason.as_deref(), Some("prototype page"));
        assert_eq!(ignores[1].ids, ["html/other", "html/third"]);
        assert_eq!(ignores[1].reason.as_deref(), Some("also"));
        let (kept, n, _) = run(
            &[],
            ignores.into_iter().collect(),
            vec![finding("tailwind/play-cdn", "index.html", 3)],
        );
        assert_eq!((kept.len(), n), (0, 1));
    }

    #[test]
    fn missing_reason_does_not_apply_and_is_diagnosed() {
        let text =
            "# ecowatch-ignore: r\nx()\n/* ecowatch-ignore: r -- */\ny()\n# ecowatch-ignore:\n";
        let ignores = inline_ignores("f.c", text);
        assert_eq!(ignores.len(), 3);
        assert!(ignores.iter().all(|i| i.reason.is_none()));
        let (kept, n, diags) = run(
            &[],
            ignores.into_iter().collect(),
            vec![finding("r", "f.c", 2), finding("r", "f.c", 4)],
        );
        assert_eq!((kept.len(), n), (2, 0));
        assert_eq!(
            codes(&diags),
            [
                ("ignore-without-reason", Some("f.c"), Some(1)),
                ("ignore-without-reason", Some("f.c"), Some(3)),
                ("ignore-malformed", Some("f.c"), Some(5)),
            ]
        );
    }

    #[test]
    fn inline_and_config_together_count_a_finding_once() {
        let inline: InlineIndex = inline_ignores("a.py", "x()  # ecowatch-ignore: r -- ok\n")
            .into_iter()
            .collect();
        let (kept, n, diags) = run(&[rule("r")], inline, vec![finding("r", "a.py", 1)]);
        assert_eq!((kept.len(), n), (0, 1));
        assert!(diags.is_empty(), "both ignores were used: {diags:?}");
    }

    #[test]
    fn package_level_finding_without_locations_and_path_glob() {
        let mut f = finding("GHSA-x", "x", 1);
        f.locations.clear();
        let mut ignore = rule("GHSA-x");
        ignore.path = Some("**".into());
        let (kept, ..) = run(&[ignore], InlineIndex::default(), vec![f.clone()]);
        assert_eq!(kept.len(), 1, "a path filter needs a location to match");
        let (kept, ..) = run(&[rule("GHSA-x")], InlineIndex::default(), vec![f]);
        assert!(kept.is_empty());
    }

    #[test]
    fn hostile_and_odd_text_never_panics() {
        for text in [
            "",
            "ecowatch-ignore:",
            "ecowatch-ignore:--",
            "ecowatch-ignore: -- reason only",
            "é ecowatch-ignore: r -- ü\u{0}",
            "ecowatch-ignore: r -->",
            "\r\n\r\necowatch-ignore: r -- x\r\n",
        ] {
            let _ = inline_ignores("f", text);
        }
        let ignores = inline_ignores("f", "ecowatch-ignore: -- reason only");
        assert!(ignores[0].ids.is_empty());
        let ignores = inline_ignores("f", "\r\n# ecowatch-ignore: r -- x\r\ny\r\n");
        assert_eq!(ignores[0].line, 2);
        assert_eq!(ignores[0].covers, [2, 3]);
        assert_eq!(ignores[0].reason.as_deref(), Some("x"));
    }
}
