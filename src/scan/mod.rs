//! The `scan` job: inventory, repository gates (rules whose `[when]` fails are dropped before
//! the walk), dependency matchers on the inventory, then one parallel walk in which each file
//! goes through the per-file [`plan::Plan`]. Findings are fingerprinted and sorted so two runs
//! print the same bytes.
//!
//! - [`advisories`]: locked dependencies against the store's advisories (OSV notices).
//! - [`derived`]: identifiers of deprecations and removals learned from changelogs, in code.
//! - [`gates`]: `[when] dependencies` and `runtimes` on the inventory.
//! - [`plan`]: globs, prefilter, imports gate and matchers for one file.

pub mod advisories;
pub mod derived;
pub mod gates;
pub mod plan;

use crate::config::IgnoreEntry;
use crate::finding::{
    Confidence, Finding, Location, REPORT_SCHEMA, ScanReport, Severity, Summary, Target, Tool,
    fingerprint,
};
use crate::inventory::{self, InventoryOptions};
use crate::matcher::lang::is_known_binary;
use crate::matcher::{Hit, Matcher};
use crate::repo::Repo;
use crate::rules::{MatchSpec, Rule};
use crate::suppress::{InlineIndex, Suppressor};
use crate::walk::{self, WalkOptions};
use chrono::NaiveDate;
use plan::{DEFAULT_MAX_LINE_BYTES, FileHit, Plan};
use regex::Regex;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

/// Largest file the code matchers read; bigger files (bundles, dumps) get a diagnostic.
pub const DEFAULT_MAX_SCAN_BYTES: u64 = 8 * 1024 * 1024;

/// How to scan. `now` is injected: matchers and timelines never read the clock.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub now: NaiveDate,
    pub walk: WalkOptions,
    pub max_file_bytes: u64,
    pub max_line_bytes: usize,
    pub min_confidence: Confidence,
    /// `None` is `--fail-on never`.
    pub fail_on: Option<Severity>,
    /// `[[ignore]]` entries from `ecowatch.toml`.
    pub ignores: Vec<IgnoreEntry>,
    /// Globs (relative to the target) of files neither pass reads, from `[scan] exclude`.
    pub exclude: Vec<String>,
    /// Advanced as files are scanned, for a progress line; `None` costs nothing.
    pub progress: Option<Arc<ScanProgress>>,
    /// Advisories to match the locked dependencies against (the store, in the CLI); `None`
    /// skips advisory matching.
    pub notices: Option<Arc<dyn advisories::NoticeLookup>>,
}

/// How far a scan has got: files listed and files through the code pass.
#[derive(Debug, Default)]
pub struct ScanProgress {
    pub total: AtomicUsize,
    pub done: AtomicUsize,
}

impl ScanOptions {
    pub fn new(now: NaiveDate) -> ScanOptions {
        ScanOptions {
            now,
            walk: WalkOptions::default(),
            max_file_bytes: DEFAULT_MAX_SCAN_BYTES,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            min_confidence: Confidence::Low,
            fail_on: Some(Severity::High),
            ignores: Vec::new(),
            exclude: Vec::new(),
            progress: None,
            notices: None,
        }
    }
}

/// Why no scan could be made at all (problems with single files are diagnostics).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Inventory(#[from] inventory::InventoryError),
    #[error("cannot open `{path}`: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid exclude glob `{glob}`: {source}")]
    Exclude {
        glob: String,
        source: globset::Error,
    },
}

/// A finding before its fingerprint is known, with the text the fingerprint hashes.
pub struct PendingFinding {
    pub finding: Finding,
    pub matched: String,
}

/// Scans the repository at `target` with `rules`.
pub fn scan(target: &Path, rules: &[Rule], options: &ScanOptions) -> Result<ScanReport, ScanError> {
    // One walk lists the tree; the manifests pass builds the inventory the gates need before
    // any code file is read, and the code pass below reuses the same list.
    let manifest_repo = inventory::open_repo(target, InventoryOptions::default().max_file_bytes)?;
    let (mut files, walk_problems) = walk::list_files(manifest_repo.root(), &options.walk);
    let excluded = exclude_set(&options.exclude)?;
    files.retain(|f| !excluded.is_match(&f.rel));
    if let Some(p) = &options.progress {
        p.total.store(files.len(), Ordering::Relaxed);
    }
    let inventory = inventory::from_files(target, &manifest_repo, &files, options.walk.threads);
    let mut diagnostics = inventory.diagnostics;
    diagnostics.extend(walk_problems);
    let active: Vec<&Rule> = rules
        .iter()
        .filter(|r| gates::admits(r, &inventory.dependencies))
        .collect();

    let repo = Repo::open(target, options.max_file_bytes).map_err(|source| ScanError::Open {
        path: target.display().to_string(),
        source,
    })?;
    let mut pending = Vec::new();
    let mut manifest_lines: HashMap<String, Option<String>> = HashMap::new();
    for rule in &active {
        for spec in &rule.matchers {
            if let Matcher::Dependency(m) = &spec.matcher {
                for (path, mut hit) in m.find(&inventory.dependencies) {
                    let text = manifest_lines
                        .entry(path.clone())
                        .or_insert_with(|| repo.read_text(&path).ok());
                    if let Some(line) = text
                        .as_deref()
                        .and_then(|t| t.lines().nth(hit.line.saturating_sub(1) as usize))
                        .filter(|l| !l.trim().is_empty())
                    {
                        hit.snippet = crate::matcher::snippet(line);
                        let indent = line.len() - line.trim_start().len();
                        hit.column = crate::matcher::char_column(line, indent);
                    }
                    pending.push(pending_finding(rule, spec, &path, hit, options.now));
                }
            }
        }
    }
    let mut derived = derived::Derived::default();
    if let Some(lookup) = &options.notices {
        let (mut found, problems) = advisories::findings(&inventory.dependencies, lookup.as_ref());
        diagnostics.extend(problems);
        let (matcher, package_level) =
            derived::Derived::build(&inventory.dependencies, lookup.as_ref());
        derived = matcher;
        found.extend(package_level);
        for mut p in found {
            for location in &mut p.finding.locations {
                let text = manifest_lines
                    .entry(location.path.clone())
                    .or_insert_with(|| repo.read_text(&location.path).ok());
                if let Some(line) = text
                    .as_deref()
                    .and_then(|t| t.lines().nth(location.line.saturating_sub(1) as usize))
                    .filter(|l| !l.trim().is_empty())
                {
                    location.snippet = crate::matcher::snippet(line);
                    let indent = line.len() - line.trim_start().len();
                    location.column = crate::matcher::char_column(line, indent);
                }
            }
            pending.push(p);
        }
    }
    drop(manifest_lines);

    let plan = Plan::new(active.clone(), true, options.max_line_bytes);
    let mut files_scanned = 0;
    let mut inline = InlineIndex::default();
    if plan.reads_files() || !derived.is_empty() {
        let collected = Mutex::new((Vec::new(), Vec::new(), 0usize, Vec::new(), Vec::new()));
        walk::for_each_parallel(&files, options.walk.threads, |file| {
            if let Some(p) = &options.progress {
                p.done.fetch_add(1, Ordering::Relaxed);
            }
            if is_known_binary(&file.rel) {
                return;
            }
            // The file is read once, for the derived matcher and the rules alike.
            let mut derived_hits = Vec::new();
            let outcome = if derived.wants(&file.rel) {
                let read = repo.read_walked_text(&file.rel, file.is_symlink);
                let mut own_ignores = Vec::new();
                if let Ok(text) = &read {
                    derived_hits = derived.scan_file(&file.rel, text);
                    if !derived_hits.is_empty()
                        && memchr::memmem::find(text.as_bytes(), b"ecowatch-ignore").is_some()
                    {
                        own_ignores = crate::suppress::inline_ignores(&file.rel, text);
                    }
                }
                let derived_read = read.is_ok();
                let mut outcome = plan.scan_file(&[&file.rel], || read);
                if !outcome.scanned {
                    outcome.inline_ignores = own_ignores;
                }
                outcome.scanned |= derived_read;
                outcome
            } else {
                plan.scan_file(&[&file.rel], || {
                    repo.read_walked_text(&file.rel, file.is_symlink)
                })
            };
            if !outcome.scanned && outcome.diagnostics.is_empty() {
                return;
            }
            let hits: Vec<(String, FileHit)> = outcome
                .hits
                .into_iter()
                .map(|h| (file.rel.clone(), h))
                .collect();
            let mut guard = collected.lock().unwrap_or_else(|p| p.into_inner());
            guard.0.extend(hits);
            guard.1.extend(outcome.diagnostics);
            guard.2 += usize::from(outcome.scanned);
            guard.3.extend(outcome.inline_ignores);
            guard.4.extend(derived_hits);
        });
        let (hits, file_diags, scanned, inline_ignores, derived_found) =
            collected.into_inner().unwrap_or_else(|p| p.into_inner());
        pending.extend(derived_found);
        inline.extend(inline_ignores);
        diagnostics.extend(file_diags);
        files_scanned = scanned;
        for (path, h) in hits {
            let rule = plan.rules()[h.rule];
            pending.push(pending_finding(
                rule,
                &rule.matchers[h.spec],
                &path,
                h.hit,
                options.now,
            ));
        }
    }

    let findings = finish(pending, options.min_confidence);
    let mut suppressor = Suppressor::new(&options.ignores, inline, options.now);
    let (findings, suppressed) = suppressor.apply(findings);
    diagnostics.extend(suppressor.finish());
    diagnostics.sort_by(|a, b| {
        (&a.path, a.line, &a.code)
            .cmp(&(&b.path, b.line, &b.code))
            .then_with(|| a.cmp(b))
    });
    diagnostics.dedup();
    let mut summary = Summary {
        suppressed,
        files_scanned,
        rules_run: active.len(),
        rules_loaded: rules.len(),
        fail_on: options.fail_on,
        ..Summary::default()
    };
    summary.count(&findings);
    summary.failed = options
        .fail_on
        .is_some_and(|threshold| findings.iter().any(|f| f.severity >= threshold));
    Ok(ScanReport {
        schema: REPORT_SCHEMA,
        tool: Tool::current(),
        target: Target {
            path: target.display().to_string().replace('\\', "/"),
        },
        findings,
        diagnostics,
        summary,
    })
}

/// A hit of `spec` (of `rule`) at `path`, as a finding without its fingerprint yet.
pub fn pending_finding(
    rule: &Rule,
    spec: &MatchSpec,
    path: &str,
    hit: Hit,
    now: NaiveDate,
) -> PendingFinding {
    let template = spec.message.as_deref().unwrap_or(&rule.message);
    let mut message = substitute(template, &hit.captures);
    if let Some(note) = rule.timeline.sunset_note(now) {
        message.push(' ');
        message.push_str(&note);
    }
    let severity = rule
        .timeline
        .severity_on(spec.severity.unwrap_or(rule.severity), now);
    PendingFinding {
        finding: Finding {
            id: String::new(),
            rule: rule.id.clone(),
            kind: rule.kind,
            severity,
            confidence: spec.confidence.unwrap_or(rule.confidence),
            title: rule.title.clone(),
            message,
            package: hit.package,
            locations: vec![Location {
                path: path.to_string(),
                line: hit.line,
                column: hit.column,
                snippet: hit.snippet,
            }],
            references: rule.references.clone(),
            aliases: Vec::new(),
            fix: rule.fix.clone().or_else(|| Some(rule.note.clone())),
        },
        matched: hit.matched,
    }
}

/// Drops findings under `min_confidence`, assigns fingerprints (identical matched text in one
/// file is told apart by its occurrence, in line order) and sorts.
pub fn finish(mut pending: Vec<PendingFinding>, min_confidence: Confidence) -> Vec<Finding> {
    pending.retain(|p| p.finding.confidence >= min_confidence);
    pending.sort_by(|a, b| {
        let key = |p: &PendingFinding| {
            let loc = p.finding.locations.first();
            (
                p.finding.rule.clone(),
                loc.map(|l| (l.path.clone(), l.line, l.column)),
                p.matched.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    let mut seen: HashMap<(String, String, String), u32> = HashMap::new();
    let mut findings: Vec<Finding> = pending
        .into_iter()
        .map(|p| {
            let mut f = p.finding;
            let path = f
                .locations
                .first()
                .map(|l| l.path.clone())
                .unwrap_or_default();
            let normalized = p.matched.split_whitespace().collect::<Vec<_>>().join(" ");
            let n = seen
                .entry((f.rule.clone(), path.clone(), normalized))
                .or_insert(0);
            f.id = fingerprint(&f.rule, &path, &p.matched, *n);
            *n += 1;
            f
        })
        .collect();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// `[scan] exclude` globs; `*` stays within one directory.
fn exclude_set(globs: &[String]) -> Result<globset::GlobSet, ScanError> {
    let mut set = globset::GlobSetBuilder::new();
    for glob in globs {
        let g = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|source| ScanError::Exclude {
                glob: glob.clone(),
                source,
            })?;
        set.add(g);
    }
    set.build().map_err(|source| ScanError::Exclude {
        glob: globs.join(", "),
        source,
    })
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$([A-Za-z_][A-Za-z0-9_]*)").expect("constant regex compiles"));

/// Longest capture substituted into a message, in characters.
const MAX_CAPTURE_CHARS: usize = 120;

/// `$NAME` → the capture's text; unknown names stay as written.
pub fn substitute(template: &str, captures: &BTreeMap<String, String>) -> String {
    PLACEHOLDER
        .replace_all(template, |caps: &regex::Captures<'_>| {
            let whole = caps.get(0).map_or("", |m| m.as_str());
            let name = caps.get(1).map_or("", |m| m.as_str());
            match captures.get(name) {
                Some(value) => {
                    let one_line = value.split_whitespace().collect::<Vec<_>>().join(" ");
                    match one_line.char_indices().nth(MAX_CAPTURE_CHARS) {
                        Some((cut, _)) => format!("{}…", &one_line[..cut]),
                        None => one_line,
                    }
                }
                None => whole.to_string(),
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_known_captures_only() {
        let mut caps = BTreeMap::new();
        caps.insert("CALL".to_string(), "datetime.utcnow".to_string());
        caps.insert("ARGS".to_string(), "a,\n   b".to_string());
        assert_eq!(
            substitute("`$CALL($ARGS)` and $OTHER cost $5", &caps),
            "`datetime.utcnow(a, b)` and $OTHER cost $5"
        );
    }
}
