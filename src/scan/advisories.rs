//! Advisory findings: every locked dependency (a lockfile's version or an exact pin) checked
//! against the notices the store holds for its (ecosystem, normalized name), with OSV range
//! semantics in that ecosystem's version order.
//!
//! Records that describe one problem (a GHSA, its CVE, the PYSEC or RUSTSEC copy) are linked by
//! their ids and aliases into one group, and a group gives one finding per (package, version,
//! file). The finding's rule is the id of the matching record from the ecosystem's own database
//! when there is one (RUSTSEC for crates.io, PYSEC for PyPI, GO for Go: what cargo-audit,
//! pip-audit and govulncheck print), else a GHSA, else the smallest id; every other id of the
//! group is listed in `aliases`. The choice depends only on the records, never on the order
//! they were imported in, so two scans print the same rule. Withdrawn records match nothing.

use super::PendingFinding;
use crate::dependency::Dependency;
use crate::diag::Diagnostic;
use crate::ecosystem::Ecosystem;
use crate::finding::{Confidence, Finding, Kind, Location, PackageRef, Severity};
use crate::osv::cvss::base_score_v3;
use crate::store::{Notice, NoticeKind};
use crate::version::{OsvEvent, OsvRange, OsvRangeKind, Scheme, Version, osv_affected};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// Where the scan gets notices from: the store in the CLI, a plain list in tests.
pub trait NoticeLookup: Send + Sync + fmt::Debug {
    /// Every notice about one of `packages` (ecosystem, normalized name). An `Err` is a
    /// message for a diagnostic; the scan goes on without advisories.
    fn notices_for(&self, packages: &[(Ecosystem, String)]) -> Result<Vec<Notice>, String>;
}

/// A fixed set of notices, filtered by package the way the store filters them.
impl NoticeLookup for Vec<Notice> {
    fn notices_for(&self, packages: &[(Ecosystem, String)]) -> Result<Vec<Notice>, String> {
        let wanted: BTreeSet<(&str, &str)> = packages
            .iter()
            .map(|(eco, name)| (eco.as_str(), name.as_str()))
            .collect();
        Ok(self
            .iter()
            .filter(|n| {
                n.affected
                    .iter()
                    .any(|a| wanted.contains(&(a.ecosystem.as_str(), a.package.as_str())))
            })
            .cloned()
            .collect())
    }
}

/// A dependency the advisories can be checked against: a locked version in an ecosystem with
/// an ordered version scheme.
fn checkable(dep: &Dependency) -> Option<(Scheme, &str)> {
    // Runtime pins (`.python-version`) are checked too: end-of-life notices name them.
    if dep.skipped.is_some() {
        return None;
    }
    Some((
        Scheme::for_ecosystem(dep.ecosystem)?,
        dep.version.as_deref()?,
    ))
}

/// The packages whose notices the scan needs.
pub fn packages_of(deps: &[Dependency]) -> Vec<(Ecosystem, String)> {
    let set: BTreeSet<(Ecosystem, String)> = deps
        .iter()
        .filter(|d| checkable(d).is_some())
        .map(|d| (d.ecosystem, d.name.clone()))
        .collect();
    set.into_iter().collect()
}

/// Findings for the locked dependencies in `deps` that `lookup`'s notices affect.
pub fn findings(
    deps: &[Dependency],
    lookup: &dyn NoticeLookup,
) -> (Vec<PendingFinding>, Vec<Diagnostic>) {
    let packages = packages_of(deps);
    if packages.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let notices = match lookup.notices_for(&packages) {
        Ok(notices) => notices,
        Err(message) => {
            return (
                Vec::new(),
                vec![Diagnostic::warning("advisories-unavailable", message)],
            );
        }
    };
    let notices: Vec<Notice> = notices
        .into_iter()
        .filter(|n| n.withdrawn.is_none() && !super::derived::owns(n))
        .collect();
    Matcher::new(&notices).run(deps)
}

/// The live notices, grouped by alias and indexed by package.
struct Matcher<'a> {
    notices: &'a [Notice],
    /// The alias group of each notice (an index into `groups`).
    group_of: Vec<usize>,
    groups: Vec<Vec<usize>>,
    by_package: HashMap<(Ecosystem, &'a str), Vec<usize>>,
}

impl<'a> Matcher<'a> {
    fn new(notices: &'a [Notice]) -> Matcher<'a> {
        // Union-find over notice indices, joined through every id they share.
        let mut parent: Vec<usize> = (0..notices.len()).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        let mut first_with_id: HashMap<&str, usize> = HashMap::new();
        for (i, n) in notices.iter().enumerate() {
            for id in std::iter::once(&n.id).chain(&n.aliases) {
                match first_with_id.get(id.as_str()) {
                    Some(&j) => {
                        let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                        parent[a.max(b)] = a.min(b);
                    }
                    None => {
                        first_with_id.insert(id, i);
                    }
                }
            }
        }
        let mut group_index: HashMap<usize, usize> = HashMap::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut group_of = Vec::with_capacity(notices.len());
        for i in 0..notices.len() {
            let r = root(&mut parent, i);
            let g = *group_index.entry(r).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(i);
            group_of.push(g);
        }
        let mut by_package: HashMap<(Ecosystem, &str), Vec<usize>> = HashMap::new();
        for (i, n) in notices.iter().enumerate() {
            for a in &n.affected {
                if let Some(eco) = Ecosystem::parse(&a.ecosystem) {
                    let list = by_package.entry((eco, a.package.as_str())).or_default();
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                }
            }
        }
        Matcher {
            notices,
            group_of,
            groups,
            by_package,
        }
    }

    fn run(&self, deps: &[Dependency]) -> (Vec<PendingFinding>, Vec<Diagnostic>) {
        let mut pending = Vec::new();
        let mut diagnostics = Vec::new();
        let mut reported: BTreeSet<(String, String, String, String)> = BTreeSet::new();
        for dep in deps {
            let Some((scheme, version)) = checkable(dep) else {
                continue;
            };
            let Some(candidates) = self.by_package.get(&(dep.ecosystem, dep.name.as_str())) else {
                continue;
            };
            // Matching notices per alias group, in group order.
            let mut matched: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for &i in candidates {
                match self.affects(&self.notices[i], dep, scheme, version) {
                    Ok(true) => matched.entry(self.group_of[i]).or_default().push(i),
                    Ok(false) => {}
                    Err(message) => diagnostics.push(
                        Diagnostic::warning("advisory-unmatchable", message)
                            .at(dep.source.path.clone())
                            .at_line(dep.source.line),
                    ),
                }
            }
            for (group, mut hits) in matched {
                hits.sort_by(|&a, &b| self.rank(dep.ecosystem, a, b));
                let finding = self.finding(dep, scheme, version, &self.groups[group], &hits);
                let key = (
                    finding.finding.rule.clone(),
                    dep.source.path.clone(),
                    dep.name.clone(),
                    version.to_string(),
                );
                if reported.insert(key) {
                    pending.push(finding);
                }
            }
        }
        (pending, diagnostics)
    }

    /// Whether any of `notice`'s entries for the dependency's package affects its version.
    fn affects(
        &self,
        notice: &Notice,
        dep: &Dependency,
        scheme: Scheme,
        version: &str,
    ) -> Result<bool, String> {
        for a in self.entries_for(notice, dep) {
            // End-of-life notices list release cycles (`3.8`, `18`): a pin belongs to the cycle
            // it equals or extends (`3.8.18`), whatever the version scheme.
            if notice.kind == NoticeKind::Eol
                && a.versions
                    .iter()
                    .any(|cycle| crate::source::endoflife::in_cycle(version, cycle))
            {
                return Ok(true);
            }
            if notice.kind == NoticeKind::Eol && is_empty_ranges(&a.ranges) {
                continue;
            }
            let ranges: Vec<OsvRange> = serde_json::from_value(a.ranges.clone())
                .map_err(|e| format!("{}: unreadable ranges for `{}`: {e}", notice.id, dep.name))?;
            let hit = osv_affected(scheme, version, &ranges, &a.versions).map_err(|e| {
                format!(
                    "cannot check `{}` {version} against {}: {e}",
                    dep.name, notice.id
                )
            })?;
            if hit {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn entries_for<'n>(
        &self,
        notice: &'n Notice,
        dep: &'n Dependency,
    ) -> impl Iterator<Item = &'n crate::store::Affected> {
        notice.affected.iter().filter(move |a| {
            a.package == dep.name && Ecosystem::parse(&a.ecosystem) == Some(dep.ecosystem)
        })
    }

    /// Orders notices so the first is the finding's rule: the ecosystem's own database, then
    /// GitHub's, then the smallest id.
    fn rank(&self, ecosystem: Ecosystem, a: usize, b: usize) -> Ordering {
        let home = match ecosystem {
            Ecosystem::CratesIo => "RUSTSEC-",
            Ecosystem::PyPI => "PYSEC-",
            Ecosystem::Go => "GO-",
            _ => "GHSA-",
        };
        let tier = |id: &str| {
            if id.starts_with(home) {
                0
            } else if id.starts_with("GHSA-") {
                1
            } else {
                2
            }
        };
        let (x, y) = (&self.notices[a].id, &self.notices[b].id);
        tier(x).cmp(&tier(y)).then_with(|| x.cmp(y))
    }

    fn finding(
        &self,
        dep: &Dependency,
        scheme: Scheme,
        version: &str,
        group: &[usize],
        hits: &[usize],
    ) -> PendingFinding {
        let lead = &self.notices[hits[0]];
        let rule = lead.id.clone();
        let aliases: Vec<String> = group
            .iter()
            .flat_map(|&i| {
                let n = &self.notices[i];
                std::iter::once(n.id.clone()).chain(n.aliases.iter().cloned())
            })
            .filter(|id| *id != rule)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let summary = hits
            .iter()
            .find_map(|&i| self.notices[i].summary.clone())
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
        let kind = kind_of(lead.kind);
        let severity = hits
            .iter()
            .filter_map(|&i| severity_of(&self.notices[i]))
            .max()
            .unwrap_or(if kind == Kind::Advisory {
                Severity::Medium
            } else {
                Severity::Low
            });
        let fixed = hits
            .iter()
            .flat_map(|&i| self.entries_for(&self.notices[i], dep))
            .filter_map(|a| smallest_fix_above(scheme, version, &a.ranges))
            .min();
        let states_fact = lead.source_id.as_deref().is_some_and(states_the_fact);
        let fix = match fixed {
            Some(v) => format!("upgrade to {v}"),
            None if states_fact && kind == Kind::Eol => {
                "upgrade to a supported release".to_string()
            }
            None if states_fact => "move to a version the registry does not flag".to_string(),
            None => "no fixed version published".to_string(),
        };
        let message = match &summary {
            // Registry flags and end-of-life notices state the whole fact themselves ("lodash
            // 4.17.20 is deprecated on npm: …", "Python 3.8 reached end of life on …").
            Some(s) if states_fact => s.clone(),
            Some(s) => format!("`{}` {version} is affected by {rule}: {s}", dep.name),
            None => format!("`{}` {version} is affected by {rule}", dep.name),
        };
        let references = references_of(hits.iter().map(|&i| &self.notices[i]));
        PendingFinding {
            finding: Finding {
                id: String::new(),
                rule: rule.clone(),
                kind,
                severity,
                confidence: Confidence::High,
                title: summary.unwrap_or_else(|| rule.clone()),
                message,
                package: Some(PackageRef {
                    ecosystem: dep.ecosystem,
                    name: dep.name.clone(),
                    version: Some(version.to_string()),
                }),
                locations: vec![Location {
                    path: dep.source.path.clone(),
                    line: dep.source.line,
                    column: 1,
                    snippet: String::new(),
                }],
                references,
                aliases,
                fix: Some(fix),
            },
            matched: format!("{}@{version}", dep.name),
        }
    }
}

/// Sources whose notice summaries are complete sentences naming package, version and fact.
fn states_the_fact(source_id: &str) -> bool {
    matches!(
        source_id,
        "npm" | "pypi" | "crates" | "packagist" | "go" | "rubygems" | "endoflife"
    )
}

fn is_empty_ranges(ranges: &Value) -> bool {
    ranges.is_null() || ranges.as_array().is_some_and(Vec::is_empty)
}

fn kind_of(kind: NoticeKind) -> Kind {
    match kind {
        NoticeKind::Advisory => Kind::Advisory,
        NoticeKind::Deprecation => Kind::Deprecation,
        NoticeKind::Removal => Kind::Removal,
        NoticeKind::Announcement => Kind::Announcement,
        NoticeKind::Yanked => Kind::Yanked,
        NoticeKind::Unmaintained => Kind::Unmaintained,
        NoticeKind::Eol => Kind::Eol,
        NoticeKind::Idiom => Kind::Idiom,
    }
}

/// The notice's severity: its CVSS v3 vector's base score when it has one, else the database's
/// label (GitHub's `database_specific.severity`: LOW, MODERATE, HIGH, CRITICAL).
pub fn severity_of(notice: &Notice) -> Option<Severity> {
    let scored = notice
        .severity
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            s.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t == "CVSS_V3")
        })
        .filter_map(|s| s.get("score").and_then(Value::as_str))
        .filter_map(base_score_v3)
        .map(severity_of_score)
        .max();
    if scored.is_some() {
        return scored;
    }
    let label = notice
        .raw
        .as_ref()
        .and_then(|r| r.get("database_specific"))
        .and_then(|d| d.get("severity"))
        .and_then(Value::as_str)?;
    match label.to_ascii_uppercase().as_str() {
        "CRITICAL" => Some(Severity::Critical),
        "HIGH" => Some(Severity::High),
        "MODERATE" | "MEDIUM" => Some(Severity::Medium),
        "LOW" => Some(Severity::Low),
        _ => None,
    }
}

/// CVSS v3.1 qualitative ratings (section 5); "None" (0.0) is info.
fn severity_of_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

/// The version to upgrade to: the smallest `fixed` event above `version` in ranges that order
/// like the ecosystem (`ECOSYSTEM`, and `SEMVER`, which Go writes without the `v`). A fix that
/// the very next event re-introduces on the same release line (`X.Y`) is passed over: RustSec's
/// "unaffected = ["= 0.2.0"]" pins end an interval at 0.2.0 only for 0.2.1 to be affected again,
/// and "upgrade to 0.2.0" would be no advice at all.
fn smallest_fix_above(scheme: Scheme, version: &str, ranges: &Value) -> Option<Version> {
    let current = Version::parse(scheme, version).ok()?;
    let ranges: Vec<OsvRange> = serde_json::from_value(ranges.clone()).ok()?;
    // Go advisories write SEMVER events without the `v` modules have; the fix is said Go's way.
    let parse = |text: &str| match scheme {
        Scheme::Go if !text.starts_with('v') => Version::parse(scheme, &format!("v{text}"))
            .or_else(|_| Version::parse(scheme, text))
            .ok(),
        _ => Version::parse(scheme, text).ok(),
    };
    let mut fixes = Vec::new();
    for range in ranges.iter().filter(|r| r.kind != OsvRangeKind::Git) {
        let mut events: Vec<(Version, &OsvEvent)> = range
            .events
            .iter()
            .filter_map(|e| {
                Some((
                    parse(event_version(e)).filter(|_| event_version(e) != "0")?,
                    e,
                ))
            })
            .collect();
        events.sort_by(|a, b| a.0.cmp(&b.0));
        for (i, (fixed, event)) in events.iter().enumerate() {
            if !matches!(event, OsvEvent::Fixed(_))
                || fixed.compare(&current) != Some(Ordering::Greater)
            {
                continue;
            }
            let reintroduced = events.get(i + 1).is_some_and(|(next, e)| {
                matches!(e, OsvEvent::Introduced(_))
                    && release_line(next.as_str()).is_some()
                    && release_line(next.as_str()) == release_line(fixed.as_str())
            });
            if !reintroduced {
                fixes.push(fixed.clone());
            }
        }
    }
    fixes.into_iter().min()
}

fn event_version(event: &OsvEvent) -> &str {
    match event {
        OsvEvent::Introduced(v)
        | OsvEvent::Fixed(v)
        | OsvEvent::LastAffected(v)
        | OsvEvent::Limit(v) => v,
    }
}

/// `(X, Y)` of a version written `X.Y…` (a leading `v` allowed).
fn release_line(text: &str) -> Option<(u64, u64)> {
    let text = text.strip_prefix('v').unwrap_or(text);
    let mut parts = text.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// URLs of the notices' references, advisories first, then web pages, then the rest; each once.
fn references_of<'n>(notices: impl Iterator<Item = &'n Notice>) -> Vec<String> {
    let mut ranked: Vec<(u8, usize, String)> = Vec::new();
    for reference in notices.flat_map(|n| n.references.as_array().into_iter().flatten()) {
        let Some(url) = reference.get("url").and_then(Value::as_str) else {
            continue;
        };
        let rank = match reference.get("type").and_then(Value::as_str) {
            Some("ADVISORY") => 0,
            Some("WEB") => 1,
            _ => 2,
        };
        if !ranked.iter().any(|(_, _, u)| u == url) {
            ranked.push((rank, ranked.len(), url.to_string()));
        }
    }
    ranked.sort();
    ranked.into_iter().map(|(_, _, url)| url).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Affected;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn notice(id: &str, aliases: &[&str], eco: &str, package: &str, ranges: Value) -> Notice {
        Notice {
            id: id.into(),
            kind: NoticeKind::Advisory,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            summary: Some(format!("{id} summary")),
            details: None,
            severity: json!([]),
            published: None,
            modified: Utc
                .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
                .single()
                .expect("date"),
            withdrawn: None,
            affected: vec![Affected {
                ecosystem: eco.into(),
                package: package.into(),
                ranges,
                versions: vec![],
            }],
            references: json!([{"type": "PACKAGE", "url": "https://p"}, {"type": "ADVISORY", "url": format!("https://a/{id}")}]),
            patterns: vec![],
            source_id: None,
            raw: None,
        }
    }

    fn fixed_at(introduced: &str, fixed: &str) -> Value {
        json!([{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}])
    }

    fn dep(eco: Ecosystem, name: &str, version: &str) -> Dependency {
        Dependency::new(eco, name, "lock", 3).locked(version)
    }

    #[test]
    fn aliases_join_records_into_one_finding_with_the_home_id() {
        let notices = vec![
            notice(
                "GHSA-x",
                &["CVE-1"],
                "PyPI",
                "jinja2",
                fixed_at("0", "2.11.3"),
            ),
            notice(
                "PYSEC-9",
                &["CVE-1"],
                "PyPI",
                "jinja2",
                fixed_at("0", "2.11.3"),
            ),
            notice(
                "OSV-3",
                &["GHSA-x"],
                "PyPI",
                "jinja2",
                fixed_at("0", "2.11.3"),
            ),
        ];
        let (found, diags) = findings(&[dep(Ecosystem::PyPI, "jinja2", "2.10")], &notices);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(found.len(), 1);
        let f = &found[0].finding;
        assert_eq!(f.rule, "PYSEC-9");
        assert_eq!(f.aliases, vec!["CVE-1", "GHSA-x", "OSV-3"]);
        assert_eq!(f.fix.as_deref(), Some("upgrade to 2.11.3"));
        assert_eq!(f.references[0], "https://a/PYSEC-9");
        assert_eq!(f.references.last().map(String::as_str), Some("https://p"));
        assert_eq!(
            f.message,
            "`jinja2` 2.10 is affected by PYSEC-9: PYSEC-9 summary"
        );
        assert_eq!(found[0].matched, "jinja2@2.10");
    }

    #[test]
    fn withdrawn_unaffected_and_unlocked_give_nothing() {
        let mut withdrawn = notice("GHSA-w", &[], "npm", "a", fixed_at("0", "2.0.0"));
        withdrawn.withdrawn = Some(withdrawn.modified);
        let notices = vec![
            withdrawn,
            notice("GHSA-b", &[], "npm", "b", fixed_at("0", "2.0.0")),
        ];
        let deps = vec![
            dep(Ecosystem::Npm, "a", "1.0.0"),
            dep(Ecosystem::Npm, "b", "2.0.0"),
            Dependency::new(Ecosystem::Npm, "b", "package.json", 1).requires("^1.0.0"),
        ];
        let (found, _) = findings(&deps, &notices);
        assert!(found.is_empty());
    }

    #[test]
    fn the_fix_is_on_the_release_line_and_not_reintroduced() {
        let events = |list: Value| json!([{"type": "SEMVER", "events": list}]);
        let pins = events(
            json!([{"introduced": "0"}, {"fixed": "0.2.0"}, {"introduced": "0.2.1-0"},
            {"fixed": "0.2.1"}, {"introduced": "0.2.2-0"}, {"fixed": "0.2.23"}]),
        );
        let fix =
            |v: &str, r: &Value| smallest_fix_above(Scheme::Cargo, v, r).map(|v| v.to_string());
        assert_eq!(fix("0.1.45", &pins).as_deref(), Some("0.2.23"));
        assert_eq!(fix("0.2.10", &pins).as_deref(), Some("0.2.23"));
        assert_eq!(fix("0.2.23", &pins), None);
        let branches = events(json!([{"introduced": "0"}, {"fixed": "1.26.19"},
            {"introduced": "2.0.0"}, {"fixed": "2.2.2"}]));
        assert_eq!(fix("1.26.5", &branches).as_deref(), Some("1.26.19"));
        assert_eq!(fix("2.1.0", &branches).as_deref(), Some("2.2.2"));
        let go = json!([{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.4"}]}]);
        assert_eq!(
            smallest_fix_above(Scheme::Go, "v1.2.3", &go)
                .map(|v| v.to_string())
                .as_deref(),
            Some("v1.2.4")
        );
    }

    #[test]
    fn severity_comes_from_cvss_then_the_label() {
        let mut n = notice("GHSA-s", &[], "npm", "a", fixed_at("0", "1"));
        assert_eq!(severity_of(&n), None);
        n.raw = Some(json!({"database_specific": {"severity": "MODERATE"}}));
        assert_eq!(severity_of(&n), Some(Severity::Medium));
        n.severity =
            json!([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]);
        assert_eq!(severity_of(&n), Some(Severity::Critical));
        n.severity = json!([{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N"}]);
        assert_eq!(severity_of(&n), Some(Severity::Medium));
    }

    #[test]
    fn bad_ranges_are_diagnostics_not_panics() {
        let notices = vec![
            notice("GHSA-r", &[], "npm", "a", json!({"not": "a list"})),
            notice("GHSA-t", &[], "npm", "b", fixed_at("0", "not a version")),
        ];
        let deps = vec![
            dep(Ecosystem::Npm, "a", "1.0.0"),
            dep(Ecosystem::Npm, "b", "1.0.0"),
        ];
        let (found, diags) = findings(&deps, &notices);
        assert!(found.is_empty());
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags.iter().all(|d| d.code == "advisory-unmatchable"));
    }

    #[test]
    fn a_lookup_error_is_one_diagnostic() {
        #[derive(Debug)]
        struct Broken;
        impl NoticeLookup for Broken {
            fn notices_for(&self, _: &[(Ecosystem, String)]) -> Result<Vec<Notice>, String> {
                Err("database is locked".into())
            }
        }
        let (found, diags) = findings(&[dep(Ecosystem::Npm, "a", "1.0.0")], &Broken);
        assert!(found.is_empty());
        assert_eq!(diags[0].code, "advisories-unavailable");
    }
}
