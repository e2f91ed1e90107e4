//! RustSec's native advisories (`crates/<name>/RUSTSEC-YYYY-NNNN.md` in the advisory-db): a
//! ```` ```toml ```` front block, then a Markdown title and description. They become OSV records
//! the way RustSec's own OSV export shapes them, so both inputs match identically.
//!
//! `[versions] patched` and `unaffected` are Cargo requirements; cargo-audit calls a version
//! vulnerable when it matches none of them. Here each requirement becomes an interval, their
//! union is the safe set, and its complement becomes one `SEMVER` range of `introduced`/`fixed`
//! events. For every release (non-prerelease) version this answers exactly as cargo-audit does;
//! for prereleases Cargo's rule (a prerelease matches only a comparator naming the same
//! `major.minor.patch`) has no OSV equivalent, so answers may differ there.

use super::OsvError;
use super::record::{OsvRecord, from_value, parse_timestamp};
use semver::{BuildMetadata, Comparator, Op, Prerelease, Version, VersionReq};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct AdvisoryFile {
    advisory: AdvisorySection,
    #[serde(default)]
    versions: VersionsSection,
    #[serde(default)]
    affected: Option<toml::Value>,
}

#[derive(Deserialize)]
struct AdvisorySection {
    id: String,
    package: String,
    date: toml::Value,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    related: Vec<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    cvss: Option<String>,
    #[serde(default)]
    informational: Option<String>,
    #[serde(default)]
    withdrawn: Option<toml::Value>,
    /// The V1 format kept title and description in the TOML and versions here.
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    patched_versions: Vec<String>,
    #[serde(default)]
    unaffected_versions: Vec<String>,
}

#[derive(Deserialize, Default)]
struct VersionsSection {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

/// Parses a RustSec advisory (V3 Markdown with a TOML front block, or a V1 `.toml` file's text).
pub fn parse_rustsec_markdown(text: &str) -> Result<OsvRecord, OsvError> {
    if text.len() as u64 > super::MAX_RECORD_BYTES {
        return Err(OsvError::TooLarge);
    }
    let (front, body) = split_front_matter(text)?;
    let file: AdvisoryFile = toml::from_str(front).map_err(|e| OsvError::Syntax {
        format: "TOML",
        message: e.message().lines().next().unwrap_or("").to_string(),
    })?;
    let a = &file.advisory;
    let id = Some(a.id.as_str());
    let date = toml_date(&a.date)
        .ok_or_else(|| OsvError::invalid(id, "`date` is not a YYYY-MM-DD date"))?;
    let withdrawn = match &a.withdrawn {
        Some(w) => Some(
            toml_date(w)
                .ok_or_else(|| OsvError::invalid(id, "`withdrawn` is not a YYYY-MM-DD date"))?,
        ),
        None => None,
    };
    let (title, description) = match (&a.title, &a.description) {
        (Some(t), d) => (Some(t.clone()), d.clone()),
        (None, _) => title_and_description(body),
    };
    let patched = first_non_empty(&file.versions.patched, &a.patched_versions);
    let unaffected = first_non_empty(&file.versions.unaffected, &a.unaffected_versions);
    let events =
        affected_events(patched, unaffected).map_err(|message| OsvError::invalid(id, message))?;

    let mut references = vec![json!({
        "type": "ADVISORY",
        "url": format!("https://rustsec.org/advisories/{}.html", a.id),
    })];
    if let Some(url) = &a.url {
        references.push(json!({"type": "REPORT", "url": url}));
    }
    for url in &a.references {
        references.push(json!({"type": "WEB", "url": url}));
    }
    references.push(json!({
        "type": "PACKAGE",
        "url": format!("https://crates.io/crates/{}", a.package),
    }));
    let severity: Vec<Value> = a
        .cvss
        .iter()
        .map(|vector| {
            let kind = if vector.starts_with("CVSS:4") {
                "CVSS_V4"
            } else {
                "CVSS_V3"
            };
            json!({"type": kind, "score": vector})
        })
        .collect();
    let mut record = json!({
        "schema_version": "1.6.0",
        "id": a.id,
        // The Markdown carries no modification time; its date is the best stable stand-in.
        "modified": date,
        "published": date,
        "aliases": a.aliases,
        "related": a.related,
        "summary": title,
        "details": description,
        "severity": severity,
        "affected": [{
            "package": {
                "ecosystem": "crates.io",
                "name": a.package,
                "purl": format!("pkg:cargo/{}", a.package),
            },
            "ranges": [{"type": "SEMVER", "events": events}],
            "ecosystem_specific": {"affects": file.affected.as_ref().map(toml_to_json)},
            "database_specific": {"patched": patched, "unaffected": unaffected},
        }],
        "references": references,
        "database_specific": {
            "categories": a.categories,
            "keywords": a.keywords,
            "cvss": a.cvss,
            "informational": a.informational,
            "source": "rustsec-markdown",
        },
    });
    if let (Some(w), Some(obj)) = (withdrawn, record.as_object_mut()) {
        obj.insert("withdrawn".into(), Value::String(w));
    }
    from_value(record)
}

fn first_non_empty<'a>(a: &'a [String], b: &'a [String]) -> &'a [String] {
    if a.is_empty() { b } else { a }
}

/// The TOML between the ```` ```toml ```` fence and the closing fence, and the Markdown after it.
/// A text without a fence is taken as TOML (the V1 format).
fn split_front_matter(text: &str) -> Result<(&str, &str), OsvError> {
    let text = text.trim_start_matches('\u{feff}');
    let Some(rest) = text.trim_start().strip_prefix("```toml") else {
        return Ok((text, ""));
    };
    let close = rest.find("\n```").ok_or_else(|| OsvError::Syntax {
        format: "Markdown",
        message: "the ```toml block is not closed".into(),
    })?;
    let after = &rest[close + 4..];
    let body = after.split_once('\n').map_or("", |(_, b)| b);
    Ok((&rest[..close], body))
}

/// The first `# ` heading is the title; the text after it is the description.
fn title_and_description(body: &str) -> (Option<String>, Option<String>) {
    let mut lines = body.lines();
    let mut title = None;
    for line in lines.by_ref() {
        if let Some(t) = line.strip_prefix("# ") {
            title = Some(t.trim().to_string());
            break;
        }
    }
    let rest = lines.collect::<Vec<_>>().join("\n").trim().to_string();
    (title, (!rest.is_empty()).then_some(rest))
}

/// `date = "2020-11-18"` (a string in RustSec) or a bare TOML date, as RFC 3339.
fn toml_date(value: &toml::Value) -> Option<String> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        _ => return None,
    };
    parse_timestamp(&text).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn toml_to_json(value: &toml::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

// ---- Cargo requirements → OSV events

/// A lower bound, inclusive; `None` is "from the very first version".
type Lower = Option<Version>;
/// An upper bound, exclusive; `None` is "no end".
type Upper = Option<Version>;

/// The OSV events of "every version that matches none of `patched` and `unaffected`".
fn affected_events(patched: &[String], unaffected: &[String]) -> Result<Vec<Value>, String> {
    let mut safe: Vec<(Lower, Upper)> = Vec::new();
    for text in patched.iter().chain(unaffected) {
        let req = VersionReq::parse(text)
            .map_err(|e| format!("`{text}` is not a Cargo version requirement: {e}"))?;
        let mut interval: (Lower, Upper) = (None, None);
        for comparator in &req.comparators {
            let (lower, upper) = comparator_bounds(comparator)
                .ok_or_else(|| format!("`{text}`: unsupported comparator"))?;
            interval.0 = max_lower(interval.0, lower);
            interval.1 = min_upper(interval.1, upper);
        }
        let empty = matches!(&interval, (Some(l), Some(u)) if l >= u);
        if !empty {
            safe.push(interval);
        }
    }
    // Sort by lower bound ("from the start" first) and merge overlapping or touching intervals.
    safe.sort_by(|a, b| a.0.cmp(&b.0));
    let mut merged: Vec<(Lower, Upper)> = Vec::new();
    for (lower, upper) in safe {
        match merged.last_mut() {
            Some(last) if touches(&last.1, &lower) => last.1 = max_upper(last.1.take(), upper),
            _ => merged.push((lower, upper)),
        }
    }
    // The complement: affected from the start (or each safe interval's end) to the next start.
    let mut events = Vec::new();
    let mut cursor: Option<Lower> = Some(None);
    for (lower, upper) in merged {
        if let Some(from) = cursor.take() {
            match (&from, &lower) {
                (None, None) => {}
                (_, Some(l)) if from.as_ref().is_some_and(|f| f >= l) => {}
                _ => {
                    events.push(
                        json!({"introduced": from.map_or("0".to_string(), |v| v.to_string())}),
                    );
                    if let Some(l) = &lower {
                        events.push(json!({"fixed": l.to_string()}));
                    }
                }
            }
        }
        cursor = upper.map(Some);
    }
    if let Some(from) = cursor {
        events.push(json!({"introduced": from.map_or("0".to_string(), |v| v.to_string())}));
    }
    Ok(events)
}

/// Whether an interval ending at `upper` (exclusive) reaches one starting at `lower`.
fn touches(upper: &Upper, lower: &Lower) -> bool {
    match (upper, lower) {
        (None, _) | (_, None) => true,
        (Some(u), Some(l)) => l <= u,
    }
}

fn max_lower(a: Lower, b: Lower) -> Lower {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_upper(a: Upper, b: Upper) -> Upper {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_upper(a: Upper, b: Upper) -> Upper {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}

fn version(major: u64, minor: u64, patch: u64, pre: Prerelease) -> Version {
    Version {
        major,
        minor,
        patch,
        pre,
        build: BuildMetadata::EMPTY,
    }
}

/// `X.Y.Z-0`: below every other prerelease of `X.Y.Z`, so an exclusive upper bound there leaves
/// the prereleases of `X.Y.Z` outside, as Cargo does.
fn floor_of(major: u64, minor: u64, patch: u64) -> Option<Version> {
    Some(version(major, minor, patch, Prerelease::new("0").ok()?))
}

/// The version right after `v`: `X.Y.(Z+1)-0` for a release, `v` with `.0` appended for a
/// prerelease.
fn successor(v: &Version) -> Option<Version> {
    if v.pre.is_empty() {
        floor_of(v.major, v.minor, v.patch.checked_add(1)?)
    } else {
        let pre = Prerelease::new(&format!("{}.0", v.pre)).ok()?;
        Some(version(v.major, v.minor, v.patch, pre))
    }
}

/// One comparator as `[lower, upper)`, with Cargo's meaning of each operator and partial
/// version (`^0.2` is `>=0.2.0, <0.3.0`).
fn comparator_bounds(c: &Comparator) -> Option<(Lower, Upper)> {
    let (major, minor, patch) = (c.major, c.minor, c.patch);
    let exact = || version(major, minor.unwrap_or(0), patch.unwrap_or(0), c.pre.clone());
    // The first version past the partial version `major[.minor[.patch]]`.
    let past_partial = || -> Option<Version> {
        match (minor, patch) {
            (Some(mi), Some(pa)) => successor(&version(major, mi, pa, c.pre.clone())),
            (Some(mi), None) => floor_of(major, mi.checked_add(1)?, 0),
            (None, _) => floor_of(major.checked_add(1)?, 0, 0),
        }
    };
    Some(match c.op {
        Op::Exact | Op::Wildcard => (Some(exact()), Some(past_partial()?)),
        Op::Greater => {
            let lower = match (minor, patch) {
                (Some(mi), Some(pa)) => successor(&version(major, mi, pa, c.pre.clone()))?,
                (Some(mi), None) => version(major, mi.checked_add(1)?, 0, Prerelease::EMPTY),
                (None, _) => version(major.checked_add(1)?, 0, 0, Prerelease::EMPTY),
            };
            (Some(lower), None)
        }
        Op::GreaterEq => (Some(exact()), None),
        Op::Less => {
            let upper = if c.pre.is_empty() {
                floor_of(major, minor.unwrap_or(0), patch.unwrap_or(0))?
            } else {
                exact()
            };
            (None, Some(upper))
        }
        Op::LessEq => (None, Some(past_partial()?)),
        Op::Tilde => {
            let upper = match minor {
                Some(mi) => floor_of(major, mi.checked_add(1)?, 0)?,
                None => floor_of(major.checked_add(1)?, 0, 0)?,
            };
            (Some(exact()), Some(upper))
        }
        Op::Caret => {
            let upper = match (major, minor, patch) {
                (0, Some(0), Some(pa)) => floor_of(0, 0, pa.checked_add(1)?)?,
                (0, Some(mi), _) => floor_of(0, mi.checked_add(1)?, 0)?,
                (ma, _, _) => floor_of(ma.checked_add(1)?, 0, 0)?,
            };
            (Some(exact()), Some(upper))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::{OsvRange, Scheme, osv_affected};

    fn events(patched: &[&str], unaffected: &[&str]) -> Vec<Value> {
        let own = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        affected_events(&own(patched), &own(unaffected)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// What cargo-audit answers: vulnerable when no requirement matches.
    fn cargo_audit_says(patched: &[&str], unaffected: &[&str], v: &str) -> bool {
        let v = Version::parse(v).expect("version");
        !patched
            .iter()
            .chain(unaffected)
            .any(|r| VersionReq::parse(r).expect("req").matches(&v))
    }

    fn osv_says(patched: &[&str], unaffected: &[&str], v: &str) -> bool {
        let range: OsvRange = serde_json::from_value(
            json!({"type": "SEMVER", "events": events(patched, unaffected)}),
        )
        .expect("range");
        osv_affected(Scheme::Cargo, v, &[range], &[]).expect("evaluates")
    }

    #[test]
    fn requirements_become_the_complement_as_events() {
        assert_eq!(
            events(&[">= 0.2.23"], &[]),
            vec![json!({"introduced": "0"}), json!({"fixed": "0.2.23"})]
        );
        assert_eq!(
            events(&[">= 0.4.31"], &["< 0.4.20"]),
            vec![
                json!({"introduced": "0.4.20-0"}),
                json!({"fixed": "0.4.31"})
            ]
        );
        assert_eq!(events(&[], &[]), vec![json!({"introduced": "0"})]);
        assert_eq!(events(&["*"], &[]), Vec::<Value>::new());
    }

    #[test]
    fn agrees_with_cargo_semantics_on_release_versions() {
        let cases: &[(&[&str], &[&str])] = &[
            (&[">= 0.2.23"], &[]),
            (&[">= 0.4.31"], &["< 0.4.20"]),
            (&["^0.5.4", ">= 0.6.3"], &[]),
            (&["^1.2.3", "~1.1.9", ">= 2.0.1"], &["= 1.0.0", "<= 0.8"]),
            (&[">= 1.0.5, < 1.1.0", ">= 1.1.2"], &["> 3.0.0"]),
            (&["^0.0.3"], &["^0.1"]),
            (&["=0.3"], &["<0.2.0"]),
            (&["1.2.*", ">=2"], &["0.*"]),
            (&[], &[]),
            (&[">= 3.0.0-beta.1"], &[]),
        ];
        let versions = [
            "0.0.1", "0.0.3", "0.0.4", "0.1.0", "0.1.9", "0.2.0", "0.2.22", "0.2.23", "0.3.0",
            "0.3.7", "0.4.19", "0.4.20", "0.4.30", "0.4.31", "0.5.3", "0.5.4", "0.5.9", "0.6.2",
            "0.6.3", "0.8.0", "0.8.9", "0.9.0", "1.0.0", "1.0.4", "1.0.5", "1.0.9", "1.1.0",
            "1.1.1", "1.1.2", "1.1.9", "1.1.10", "1.2.0", "1.2.3", "1.9.9", "2.0.0", "2.0.1",
            "3.0.0", "3.0.1", "9.9.9",
        ];
        for (patched, unaffected) in cases {
            for v in versions {
                assert_eq!(
                    osv_says(patched, unaffected, v),
                    cargo_audit_says(patched, unaffected, v),
                    "patched {patched:?} unaffected {unaffected:?} at {v}"
                );
            }
        }
    }

    const TIME: &str = r#"```toml
[advisory]
id = "RUSTSEC-2020-0071"
package = "time"
date = "2020-11-18"
url = "https://github.com/time-rs/time/issues/293"
categories = ["code-execution", "memory-corruption"]
keywords = ["segfault"]
aliases = ["CVE-2020-26235", "GHSA-wcg3-cvx6-7396"]
cvss = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:N/I:N/A:H"

[affected]
functions = { "time::UtcOffset::local_offset_at" = ["< 0.2.23, >= 0.2.0"] }
os = ["linux"]

[versions]
patched = [">= 0.2.23"]
unaffected = ["= 0.2.0", "= 0.2.1", "= 0.2.2", "= 0.2.3", "= 0.2.4", "= 0.2.5", "= 0.2.6"]
```

# Potential segfault in the time crate

### Impact

Unix-like operating systems may segfault due to dereferencing a dangling pointer.
"#;

    #[test]
    fn markdown_advisory_becomes_an_osv_record() {
        let record = parse_rustsec_markdown(TIME).expect("parses");
        assert_eq!(record.id, "RUSTSEC-2020-0071");
        assert_eq!(
            record.summary.as_deref(),
            Some("Potential segfault in the time crate")
        );
        assert!(
            record
                .details
                .as_deref()
                .is_some_and(|d| d.starts_with("### Impact"))
        );
        assert_eq!(
            record.aliases,
            vec!["CVE-2020-26235", "GHSA-wcg3-cvx6-7396"]
        );
        assert_eq!(record.severity[0].kind, "CVSS_V3");
        assert_eq!(record.references[0].kind, "ADVISORY");
        assert_eq!(record.withdrawn, None);
        let notice = record.to_notice("rustsec");
        assert_eq!(notice.affected[0].ecosystem, "crates.io");
        assert_eq!(notice.affected[0].package, "time");
        let ranges: Vec<OsvRange> =
            serde_json::from_value(notice.affected[0].ranges.clone()).expect("ranges");
        let check = |v: &str| osv_affected(Scheme::Cargo, v, &ranges, &[]).expect("evaluates");
        assert!(check("0.1.43"));
        assert!(!check("0.2.3"));
        assert!(check("0.2.7"));
        assert!(check("0.2.22"));
        assert!(!check("0.2.23"));
        assert!(!check("0.3.17"));
    }

    #[test]
    fn informational_and_withdrawn_are_kept() {
        let text = "```toml\n[advisory]\nid = \"RUSTSEC-2021-0139\"\npackage = \"ansi_term\"\n\
                    date = \"2021-08-18\"\ninformational = \"unmaintained\"\nwithdrawn = 2022-01-02\n\
                    [versions]\npatched = []\n```\n\n# ansi_term is Unmaintained\n";
        let record = parse_rustsec_markdown(text).expect("parses");
        assert!(record.withdrawn.is_some());
        assert_eq!(
            record.to_notice("rustsec").kind,
            crate::store::NoticeKind::Unmaintained
        );
    }

    #[test]
    fn malformed_advisories_are_errors() {
        for (text, needle) in [
            ("```toml\n[advisory]\nid = \"X\"\n", "not closed"),
            ("```toml\n[advisory\n```\n", "TOML"),
            ("```toml\n[advisory]\nid = \"X\"\n```\n", "TOML"),
            (
                "```toml\n[advisory]\nid = \"R-1\"\npackage = \"p\"\ndate = \"soon\"\n```\n",
                "R-1",
            ),
            (
                "```toml\n[advisory]\nid = \"R-2\"\npackage = \"p\"\ndate = \"2020-01-01\"\n\
                 [versions]\npatched = [\"not a req\"]\n```\n",
                "not a req",
            ),
        ] {
            let err = parse_rustsec_markdown(text).expect_err(text);
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
    }
}
