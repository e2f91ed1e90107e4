//! Derived knowledge in code: the identifiers that deprecation and removal notices (learned
//! from changelogs, release notes, announcements) name, found in the files that use the package.
//!
//! Three gates keep a pattern learned from prose from firing on unrelated code:
//! 1. the repository depends on the package at a version the notice affects (a deprecation from
//!    its version on, a removal below it), read from a lockfile or an exact pin;
//! 2. the file imports the package (JS/TS `import`/`require` of it or a subpath, Python
//!    `import`/`from` of its module, a Go import path, Rust `use crate_name`, Ruby `require`),
//!    or, for `ENV_NAMES` and `--flags`, is an env or config file (`.env*`, TOML, YAML, JSON);
//! 3. the identifier matches on word boundaries, and generic names never match alone.
//!
//! Each finding quotes the sentence the pattern was learned from, links its URL and carries the
//! pattern's confidence. Announcements without identifiers become one package-level finding per
//! repository, at the manifest line of the dependency. Every file is read once, in the scan's
//! one walk; one Aho-Corasick pass per file finds all identifiers at once.

use super::PendingFinding;
use super::advisories::NoticeLookup;
use crate::changelog::identifiers::is_generic;
use crate::changelog::to_notice::{IDENTIFIER_MATCHER, ORIGIN, split_provenance};
use crate::dependency::Dependency;
use crate::ecosystem::Ecosystem;
use crate::finding::{Confidence, Finding, Kind, Location, PackageRef, Severity};
use crate::matcher::imports::ImportsGate;
use crate::matcher::lang::Language;
use crate::matcher::prefilter::Prefilter;
use crate::store::{Affected, Notice, NoticeKind};
use crate::version::{OsvRange, Scheme, osv_affected};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Longest line shown in a snippet; the rest of a minified line is not read.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// Whether the derived matcher, not the advisory matcher, answers for `notice`: deprecations,
/// removals and announcements that carry identifier patterns or come from a changelog, and
/// every announcement (one per repository, not one per lockfile entry).
pub fn owns(notice: &Notice) -> bool {
    let kind_fits = matches!(
        notice.kind,
        NoticeKind::Deprecation | NoticeKind::Removal | NoticeKind::Announcement
    );
    kind_fits
        && (notice.kind == NoticeKind::Announcement
            || notice
                .patterns
                .iter()
                .any(|p| p.matcher == IDENTIFIER_MATCHER)
            || notice
                .raw
                .as_ref()
                .and_then(|r| r.get("origin"))
                .and_then(Value::as_str)
                == Some(ORIGIN))
}

/// A (notice, package) pair whose identifiers are searched for.
#[derive(Debug)]
struct Target {
    rule: String,
    kind: Kind,
    title: String,
    package: PackageRef,
    /// The version where the notice takes effect (deprecated from, removed in).
    boundary: Option<String>,
    gate: ImportsGate,
    references: Vec<String>,
    replacement: Option<String>,
}

/// One identifier of one target.
#[derive(Debug)]
struct Slot {
    target: usize,
    pattern: String,
    quote: String,
    url: Option<String>,
    confidence: f64,
    /// Also matched in env and config files (env names, flags).
    in_config: bool,
    /// `-` is part of the word (flags).
    dashes: bool,
}

/// The derived matcher for one scan.
#[derive(Debug, Default)]
pub struct Derived {
    targets: Vec<Target>,
    slots: Vec<Slot>,
    prefilter: Option<Prefilter>,
}

impl Derived {
    /// The matcher for `deps`, plus the package-level findings of announcements (located at
    /// the dependency's manifest line, without a snippet: the caller fills it in). A lookup
    /// error gives an empty matcher; the advisory pass already reported it.
    pub fn build(deps: &[Dependency], lookup: &dyn NoticeLookup) -> (Derived, Vec<PendingFinding>) {
        let packages: BTreeSet<(Ecosystem, String)> = deps
            .iter()
            .filter(|d| d.skipped.is_none() && !d.ecosystem.is_runtime())
            .map(|d| (d.ecosystem, d.name.clone()))
            .collect();
        if packages.is_empty() {
            return (Derived::default(), Vec::new());
        }
        let packages: Vec<(Ecosystem, String)> = packages.into_iter().collect();
        let Ok(notices) = lookup.notices_for(&packages) else {
            return (Derived::default(), Vec::new());
        };
        let mut derived = Derived::default();
        let mut package_level = Vec::new();
        let mut notices: Vec<&Notice> = notices
            .iter()
            .filter(|n| n.withdrawn.is_none() && owns(n))
            .collect();
        notices.sort_by(|a, b| a.id.cmp(&b.id));
        for notice in notices {
            derived.add(notice, deps, &mut package_level);
        }
        let literals: Vec<Option<Vec<String>>> = derived
            .slots
            .iter()
            .map(|s| Some(vec![s.pattern.clone()]))
            .collect();
        if !literals.is_empty() {
            derived.prefilter = Some(Prefilter::new(&literals));
        }
        (derived, package_level)
    }

    fn add(
        &mut self,
        notice: &Notice,
        deps: &[Dependency],
        package_level: &mut Vec<PendingFinding>,
    ) {
        let patterns: Vec<_> = notice
            .patterns
            .iter()
            .filter(|p| p.matcher == IDENTIFIER_MATCHER && !is_generic(&p.pattern))
            .collect();
        for affected in &notice.affected {
            let Some(ecosystem) = Ecosystem::parse(&affected.ecosystem) else {
                continue;
            };
            let name = ecosystem.normalize_name(&affected.package);
            let mut in_range: Vec<&Dependency> = deps
                .iter()
                .filter(|d| d.ecosystem == ecosystem && d.name == name && d.skipped.is_none())
                .filter(|d| affects(affected, d, patterns.is_empty()))
                .collect();
            if in_range.is_empty() {
                continue;
            }
            // Manifest entries first (the line a person edits), then by place, for stable output.
            in_range.sort_by(|a, b| {
                (!a.direct, &a.source.path, a.source.line).cmp(&(
                    !b.direct,
                    &b.source.path,
                    b.source.line,
                ))
            });
            let version = in_range
                .iter()
                .find_map(|d| d.version.clone())
                .or_else(|| in_range.iter().find_map(|d| d.requirement.clone()));
            let package = PackageRef {
                ecosystem,
                name: name.clone(),
                version,
            };
            if patterns.is_empty() {
                if notice.kind == NoticeKind::Announcement {
                    package_level.push(announcement(notice, package, in_range[0]));
                }
                continue;
            }
            let Ok(gate) = ImportsGate::new(&modules_of(ecosystem, &name, notice)) else {
                continue;
            };
            let target = self.targets.len();
            self.targets.push(Target {
                rule: notice.id.clone(),
                kind: kind_of(notice.kind),
                title: one_line(notice.summary.as_deref().unwrap_or(&notice.id)),
                boundary: boundary(affected, notice.kind),
                package,
                gate,
                references: urls(&notice.references),
                replacement: notice
                    .raw
                    .as_ref()
                    .and_then(|r| r.get("replacement"))
                    .and_then(Value::as_str)
                    .map(one_line),
            });
            for p in &patterns {
                let (url, quote) = split_provenance(&p.provenance);
                let lang = p.language.as_deref();
                self.slots.push(Slot {
                    target,
                    pattern: p.pattern.clone(),
                    quote: one_line(quote),
                    url: url.map(str::to_string),
                    confidence: p.confidence,
                    in_config: matches!(lang, Some("env" | "flag")),
                    dashes: lang == Some("flag") || p.pattern.starts_with("--"),
                });
            }
        }
    }

    /// True when no notice gave anything to search for.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether the file at `path` could hold a match (before reading it).
    pub fn wants(&self, path: &str) -> bool {
        !self.is_empty()
            && (is_code(Language::for_path(path))
                || (is_env_or_config(path) && self.slots.iter().any(|s| s.in_config)))
    }

    /// The matches in one file.
    pub fn scan_file(&self, path: &str, text: &str) -> Vec<PendingFinding> {
        let Some(prefilter) = &self.prefilter else {
            return Vec::new();
        };
        let lang = Language::for_path(path);
        let code = is_code(lang);
        let config = is_env_or_config(path);
        if !code && !config {
            return Vec::new();
        }
        let found = prefilter.scan(text);
        let mut imports: BTreeMap<usize, bool> = BTreeMap::new();
        let mut line_starts: Option<Vec<usize>> = None;
        let mut out = Vec::new();
        for (i, offsets) in found.offsets.iter().enumerate() {
            if offsets.is_empty() {
                continue;
            }
            let slot = &self.slots[i];
            let target = &self.targets[slot.target];
            let admitted = if code {
                *imports
                    .entry(slot.target)
                    .or_insert_with(|| target.gate.admits(lang, text))
            } else {
                slot.in_config
            };
            if !admitted {
                continue;
            }
            let starts = line_starts.get_or_insert_with(|| {
                std::iter::once(0)
                    .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|p| p + 1))
                    .collect()
            });
            let mut last_line = None;
            for &offset in offsets {
                if !on_word_boundaries(text, offset, slot.pattern.len(), slot.dashes) {
                    continue;
                }
                let idx = match starts.binary_search(&offset) {
                    Ok(i) => i,
                    Err(i) => i.saturating_sub(1),
                };
                if last_line == Some(idx) {
                    continue;
                }
                last_line = Some(idx);
                let start = starts[idx];
                let end = starts.get(idx + 1).copied().unwrap_or(text.len());
                let line = text[start..end].trim_end_matches(['\n', '\r']);
                let shown = crate::changelog::sections::cut(line, MAX_LINE_BYTES);
                out.push(self.finding(slot, target, path, idx, shown, offset - start));
            }
        }
        out
    }

    fn finding(
        &self,
        slot: &Slot,
        target: &Target,
        path: &str,
        line_index: usize,
        line: &str,
        byte_in_line: usize,
    ) -> PendingFinding {
        let pkg = &target.package;
        let have = pkg.version.as_deref().unwrap_or("?");
        let what = match (target.kind, target.boundary.as_deref()) {
            (Kind::Deprecation, Some(v)) => {
                format!("is deprecated since `{}` {v} (locked: {have})", pkg.name)
            }
            (Kind::Removal, Some(v)) => format!(
                "is removed or changed in `{}` {v}; this code blocks the upgrade from {have}",
                pkg.name
            ),
            _ => format!("is named in a notice about `{}` {have}", pkg.name),
        };
        let message = if slot.quote.is_empty() {
            format!("`{}` {what}.", slot.pattern)
        } else {
            format!(
                "`{}` {what}. The changelog says: \"{}\"",
                slot.pattern, slot.quote
            )
        };
        let mut references: Vec<String> = slot.url.iter().cloned().collect();
        for r in &target.references {
            if !references.contains(r) {
                references.push(r.clone());
            }
        }
        let fix = match (&target.replacement, target.kind, target.boundary.as_deref()) {
            (Some(r), _, _) => format!("Use `{r}` instead."),
            (None, Kind::Removal, Some(v)) => {
                format!(
                    "Migrate away from `{}` before upgrading to {v}.",
                    slot.pattern
                )
            }
            _ => format!("Migrate away from `{}` (see the changelog).", slot.pattern),
        };
        PendingFinding {
            finding: Finding {
                id: String::new(),
                rule: target.rule.clone(),
                kind: target.kind,
                severity: severity_of(target.kind),
                confidence: confidence_of(slot.confidence),
                title: target.title.clone(),
                message,
                package: Some(pkg.clone()),
                locations: vec![Location {
                    path: path.to_string(),
                    line: u32::try_from(line_index + 1).unwrap_or(u32::MAX),
                    column: crate::matcher::char_column(line, byte_in_line),
                    snippet: crate::matcher::snippet(line),
                }],
                references,
                aliases: Vec::new(),
                fix: Some(fix),
            },
            matched: slot.pattern.clone(),
        }
    }
}

/// Whether `dep` is in the notice's affected range. A dependency without a locked version
/// only counts for announcements without identifiers that affect every version.
fn affects(affected: &Affected, dep: &Dependency, package_level: bool) -> bool {
    let Ok(ranges) = serde_json::from_value::<Vec<OsvRange>>(affected.ranges.clone()) else {
        return false;
    };
    let every_version = affected.versions.is_empty()
        && ranges.iter().all(|r| {
            r.events
                .iter()
                .all(|e| matches!(e, crate::version::OsvEvent::Introduced(v) if v == "0"))
        });
    match (&dep.version, Scheme::for_ecosystem(dep.ecosystem)) {
        (Some(version), Some(scheme)) => {
            (ranges.is_empty() && affected.versions.is_empty())
                || osv_affected(scheme, version, &ranges, &affected.versions).unwrap_or(false)
        }
        _ => package_level && every_version,
    }
}

/// The version where the notice takes effect: a deprecation's `introduced`, a removal's `fixed`.
fn boundary(affected: &Affected, kind: NoticeKind) -> Option<String> {
    let wanted = if kind == NoticeKind::Deprecation {
        "introduced"
    } else {
        "fixed"
    };
    affected
        .ranges
        .as_array()?
        .iter()
        .flat_map(|r| {
            r.get("events")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|e| e.get(wanted).and_then(Value::as_str))
        .find(|v| *v != "0")
        .map(one_line)
}

/// Module names code imports the package by; a notice's `raw.module` (a string or a list)
/// wins for Python distributions whose module differs (`beautifulsoup4` → `bs4`).
fn modules_of(ecosystem: Ecosystem, name: &str, notice: &Notice) -> Vec<String> {
    let mut modules: Vec<String> = notice
        .raw
        .as_ref()
        .and_then(|r| r.get("module"))
        .map(|m| match m {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    modules.retain(|m| !m.trim().is_empty() && m.len() < 256);
    match ecosystem {
        Ecosystem::PyPI => {
            let lower = name.to_ascii_lowercase();
            modules.push(lower.replace(['-', '.'], "_"));
            modules.push(lower.replace(['-', '_'], "."));
        }
        Ecosystem::RubyGems => {
            modules.push(name.to_string());
            modules.push(name.replace('-', "/"));
        }
        _ => modules.push(name.to_string()),
    }
    modules.sort();
    modules.dedup();
    modules
}

fn is_code(lang: Language) -> bool {
    matches!(
        lang,
        Language::JavaScript
            | Language::TypeScript
            | Language::Python
            | Language::Go
            | Language::Rust
            | Language::Ruby
    )
}

/// `.env`, `.env.local`, and TOML, YAML and JSON files.
fn is_env_or_config(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with(".env")
        || matches!(
            Language::for_path(path),
            Language::Toml | Language::Yaml | Language::Json
        )
}

/// The match at `offset..offset+len` is not part of a longer identifier.
fn on_word_boundaries(text: &str, offset: usize, len: usize, dashes: bool) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$' || (dashes && c == '-');
    let before = text[..offset].chars().next_back();
    let after = text.get(offset + len..).and_then(|t| t.chars().next());
    !before.is_some_and(word) && !after.is_some_and(word)
}

fn announcement(notice: &Notice, package: PackageRef, dep: &Dependency) -> PendingFinding {
    let summary = one_line(notice.summary.as_deref().unwrap_or(&notice.id));
    PendingFinding {
        finding: Finding {
            id: String::new(),
            rule: notice.id.clone(),
            kind: Kind::Announcement,
            severity: Severity::Low,
            confidence: Confidence::Medium,
            title: summary.clone(),
            message: format!(
                "`{}` is the subject of an announcement: {summary}",
                package.name
            ),
            package: Some(package),
            locations: vec![Location {
                path: dep.source.path.clone(),
                line: dep.source.line,
                column: 1,
                snippet: String::new(),
            }],
            references: urls(&notice.references),
            aliases: notice.aliases.clone(),
            fix: None,
        },
        matched: notice.id.clone(),
    }
}

fn urls(references: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for url in references
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("url").and_then(Value::as_str))
    {
        if !out.iter().any(|u| u == url) {
            out.push(url.to_string());
        }
    }
    out
}

fn kind_of(kind: NoticeKind) -> Kind {
    match kind {
        NoticeKind::Removal => Kind::Removal,
        NoticeKind::Announcement => Kind::Announcement,
        _ => Kind::Deprecation,
    }
}

fn severity_of(kind: Kind) -> Severity {
    match kind {
        Kind::Removal => Severity::Medium,
        _ => Severity::Low,
    }
}

fn confidence_of(score: f64) -> Confidence {
    if score >= 0.8 {
        Confidence::High
    } else if score >= 0.5 {
        Confidence::Medium
    } else {
        Confidence::Low
    }
}

/// Stored text on one line, without control characters, cut for a message.
fn one_line(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let joined = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let short = crate::changelog::sections::cut(&joined, 400);
    if short.len() < joined.len() {
        format!("{short}…")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changelog::{Format, notices_from, parse};

    fn notices(text: &str, eco: Ecosystem, name: &str) -> Vec<Notice> {
        let pkg = PackageRef {
            ecosystem: eco,
            name: name.into(),
            version: None,
        };
        notices_from(
            &parse(text, Format::Markdown),
            &pkg,
            Some("https://example.com/CHANGELOG.md"),
        )
    }

    fn dep(eco: Ecosystem, name: &str, version: &str) -> Dependency {
        Dependency::new(eco, name, "requirements.txt", 2).locked(version)
    }

    const LOG: &str = "## 2.4.0\n### Deprecated\n- `supabase.auth.api.foo()` is deprecated, use `supabase.auth.bar()` instead.\n- `SUPABASE_LEGACY_KEY` is deprecated.\n";

    #[test]
    fn matches_only_in_importing_files_on_word_boundaries() {
        let n = notices(LOG, Ecosystem::PyPI, "supabase");
        let (d, pkg_level) = Derived::build(&[dep(Ecosystem::PyPI, "supabase", "2.5.0")], &n);
        assert!(pkg_level.is_empty());
        let py = "from supabase import create_client\nx = supabase.auth.api.foo(1)\ny = supabase.auth.api.foobar\n";
        let hits = d.scan_file("app.py", py);
        assert_eq!(hits.len(), 1);
        let f = &hits[0].finding;
        assert_eq!((f.locations[0].line, f.locations[0].column), (2, 5));
        assert_eq!(f.references, vec!["https://example.com/CHANGELOG.md"]);
        assert!(
            f.message.contains(
                "\"`supabase.auth.api.foo()` is deprecated, use `supabase.auth.bar()` instead.\""
            ),
            "{}",
            f.message
        );
        assert_eq!(f.fix.as_deref(), Some("Use `supabase.auth.bar` instead."));
        assert_eq!(f.confidence, Confidence::High);
        assert!(
            d.scan_file("other.py", "import requests\nsupabase.auth.api.foo()\n")
                .is_empty()
        );
        assert!(
            d.scan_file("README.md", "supabase.auth.api.foo()")
                .is_empty()
        );
        let env = d.scan_file(
            ".env.local",
            "SUPABASE_LEGACY_KEY=1\nXSUPABASE_LEGACY_KEY=2\n",
        );
        assert_eq!(env.len(), 1);
        assert!(d.wants("config/settings.yaml") && !d.wants("docs/a.md"));
    }

    #[test]
    fn versions_gate_deprecations_and_removals() {
        let n = notices(LOG, Ecosystem::PyPI, "supabase");
        let (below, _) = Derived::build(&[dep(Ecosystem::PyPI, "supabase", "2.3.9")], &n);
        assert!(below.is_empty());
        let unlocked = Dependency::new(Ecosystem::PyPI, "supabase", "requirements.txt", 1);
        let (unknown, _) = Derived::build(&[unlocked], &n);
        assert!(unknown.is_empty());

        let removal = notices(
            "## 3.0.0\n- Removed `oldApiCall()`.\n",
            Ecosystem::Npm,
            "lib",
        );
        let (old, _) = Derived::build(&[dep(Ecosystem::Npm, "lib", "2.9.0")], &removal);
        let js = "import { x } from 'lib/sub';\noldApiCall();\n";
        let hits = old.scan_file("a.ts", js);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].finding.kind, Kind::Removal);
        let (new, _) = Derived::build(&[dep(Ecosystem::Npm, "lib", "3.0.0")], &removal);
        assert!(new.is_empty());
    }

    #[test]
    fn announcements_without_identifiers_are_one_package_finding() {
        let mut a = notices(LOG, Ecosystem::PyPI, "supabase").remove(0);
        a.id = "ANN-1".into();
        a.kind = NoticeKind::Announcement;
        a.patterns.clear();
        a.affected[0].ranges = serde_json::json!([]);
        let deps = vec![
            Dependency::new(Ecosystem::PyPI, "supabase", "poetry.lock", 9).locked("2.0.0"),
            Dependency::new(Ecosystem::PyPI, "supabase", "pyproject.toml", 4).requires("^2"),
        ];
        let mut deps = deps;
        deps[1].direct = true;
        let (d, found) = Derived::build(&deps, &vec![a]);
        assert!(d.is_empty());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].finding.locations[0].path, "pyproject.toml");
        assert_eq!(found[0].finding.locations[0].line, 4);
    }

    #[test]
    fn modules_follow_the_ecosystem_and_the_notice() {
        let mut n = notices(LOG, Ecosystem::PyPI, "beautifulsoup4").remove(0);
        n.raw = Some(serde_json::json!({"module": "bs4"}));
        assert_eq!(
            modules_of(Ecosystem::PyPI, "beautifulsoup4", &n),
            vec!["beautifulsoup4", "bs4"]
        );
        assert_eq!(
            modules_of(Ecosystem::PyPI, "google-cloud-storage", &n)[..2],
            ["bs4".to_string(), "google.cloud.storage".to_string()]
        );
        assert!(on_word_boundaries("x --legacy-auth y", 2, 13, true));
        assert!(!on_word_boundaries("x --legacy-auth-v2", 2, 13, true));
        assert!(on_word_boundaries("é.foo", 3, 3, false));
    }
}
