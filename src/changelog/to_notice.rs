//! Classified changelog entries into store notices.
//!
//! - deprecated → a `deprecation` from its version on (`introduced: V`);
//! - removed and breaking → a `removal` for everyone below the version (`fixed: V`): code that
//!   uses the identifier cannot upgrade past V unchanged;
//! - security → an `advisory` for everyone below the version, "upgrade recommended"; the CVE
//!   and GHSA ids the entry cites become aliases, so a real advisory for the same problem
//!   joins it instead of doubling it.
//!
//! Each specific identifier becomes an `identifier` pattern whose provenance is the changelog's
//! URL and the sentence it was learned from. Ids hash (ecosystem, package, version, entry
//! text), so crawling the same changelog again writes the same notices.

use super::classify::{Category, classify};
use super::identifiers::{IdentKind, extract, is_generic};
use super::sections::{Section, cut};
use crate::finding::PackageRef;
use crate::store::{Affected, CodePattern, Notice, NoticeKind};
use crate::version::{Scheme, Version};
use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// `raw.origin` of notices made here; the scan's derived matcher recognises them by it.
pub const ORIGIN: &str = "changelog";
/// `matcher` of the patterns made here.
pub const IDENTIFIER_MATCHER: &str = "identifier";
/// Longest summary and quoted sentence, in bytes.
const MAX_SUMMARY_BYTES: usize = 300;
/// Longest URL kept.
const MAX_URL_BYTES: usize = 2048;

/// The notices `sections` announce for `package` (whose `version` is ignored), citing
/// `source_url` when given. Sections without a version and entries of no interest give none.
pub fn notices_from(
    sections: &[Section],
    package: &PackageRef,
    source_url: Option<&str>,
) -> Vec<Notice> {
    let url = source_url.and_then(safe_url);
    let name = package.ecosystem.normalize_name(&package.name);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for section in sections {
        let Some(version) = section
            .version
            .as_deref()
            .and_then(|v| usable_version(package, v))
        else {
            continue;
        };
        for entry in &section.entries {
            let (category, confidence) = classify(
                entry.heading.as_deref(),
                entry.parent.as_deref(),
                &entry.text,
            );
            if category == Category::Other {
                continue;
            }
            let id = notice_id(package, &name, &version, &entry.text);
            if !seen.insert(id.clone()) {
                continue;
            }
            out.push(build(
                id,
                package,
                &name,
                &version,
                section.date,
                category,
                confidence,
                entry,
                url.as_deref(),
            ));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn build(
    id: String,
    package: &PackageRef,
    name: &str,
    version: &str,
    date: Option<NaiveDate>,
    category: Category,
    confidence: f64,
    entry: &super::Entry,
    url: Option<&str>,
) -> Notice {
    let extracted = extract(&entry.text);
    let first = first_sentence(&entry.text);
    let (kind, summary) = match category {
        Category::Deprecated => (NoticeKind::Deprecation, first.clone()),
        Category::Removed | Category::Breaking => (NoticeKind::Removal, first.clone()),
        _ => (
            NoticeKind::Advisory,
            format!("Upgrade recommended (security fix in {version}): {first}"),
        ),
    };
    let patterns: Vec<CodePattern> = if kind == NoticeKind::Advisory {
        Vec::new()
    } else {
        extracted
            .identifiers
            .iter()
            .filter(|i| !is_generic(&i.text))
            .map(|i| CodePattern {
                matcher: IDENTIFIER_MATCHER.to_string(),
                pattern: i.text.clone(),
                language: match i.kind {
                    IdentKind::Env => Some("env".to_string()),
                    IdentKind::Flag => Some("flag".to_string()),
                    _ => None,
                },
                provenance: provenance(url, &sentence_with(&entry.text, &i.text)),
                confidence: round2(confidence * i.confidence_factor()),
            })
            .collect()
    };
    let events = if kind == NoticeKind::Deprecation {
        json!([{"introduced": version}])
    } else {
        json!([{"introduced": "0"}, {"fixed": version}])
    };
    let range_type = if package.ecosystem == crate::Ecosystem::Go {
        "SEMVER"
    } else {
        "ECOSYSTEM"
    };
    let modified = date
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let identifiers: Vec<Value> = extracted
        .identifiers
        .iter()
        .map(|i| {
            json!({
                "text": i.text,
                "kind": i.kind.as_str(),
                "in_code": i.in_code,
                "generic": is_generic(&i.text),
            })
        })
        .collect();
    Notice {
        id,
        kind,
        aliases: cited_ids(&entry.text),
        summary: Some(summary),
        details: Some(entry.text.clone()),
        severity: json!([]),
        published: date
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc()),
        modified,
        withdrawn: None,
        affected: vec![Affected {
            ecosystem: package.ecosystem.as_str().to_string(),
            package: name.to_string(),
            ranges: json!([{"type": range_type, "events": events}]),
            versions: Vec::new(),
        }],
        references: match url {
            Some(u) => json!([{"type": "WEB", "url": u}]),
            None => json!([]),
        },
        patterns,
        source_id: Some(ORIGIN.to_string()),
        raw: Some(json!({
            "origin": ORIGIN,
            "category": category.as_str(),
            "version": version,
            "date": date.map(|d| d.to_string()),
            "heading": entry.heading,
            "identifiers": identifiers,
            "replacement": extracted.replacement,
            "confidence": round2(confidence),
            "url": url,
        })),
    }
}

/// The version as the ecosystem's scheme reads it (`4.1` → `4.1.0` for SemVer ecosystems), or
/// `None` when it is not a version there.
fn usable_version(package: &PackageRef, version: &str) -> Option<String> {
    let version = version.trim().trim_start_matches(['v', 'V']);
    let Some(scheme) = Scheme::for_ecosystem(package.ecosystem) else {
        return Some(version.to_string());
    };
    let candidates = [
        version.to_string(),
        format!("{version}.0"),
        format!("{version}.0.0"),
    ];
    candidates.into_iter().find(|v| {
        let spelled = if package.ecosystem == crate::Ecosystem::Go {
            format!("v{v}")
        } else {
            v.clone()
        };
        Version::parse(scheme, &spelled).is_ok()
    })
}

fn notice_id(package: &PackageRef, name: &str, version: &str, text: &str) -> String {
    let mut h = Sha256::new();
    for part in [package.ecosystem.as_str(), name, version] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for word in text.split_whitespace() {
        h.update(word.as_bytes());
        h.update([b' ']);
    }
    let digest = h.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("ECOWATCH-CL-{hex}")
}

/// Only http(s) URLs without whitespace or control characters, cut to a sane length.
fn safe_url(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let ok = (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() <= MAX_URL_BYTES
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then(|| url.to_string())
}

/// `URL "sentence"`, or just the quoted sentence: the form [`split_provenance`] reads.
fn provenance(url: Option<&str>, sentence: &str) -> String {
    match url {
        Some(u) => format!("{u} \"{sentence}\""),
        None => format!("\"{sentence}\""),
    }
}

/// The URL (when the provenance starts with one) and the quoted sentence of a pattern's
/// provenance; other sources' free-form provenance comes back whole as the quote.
pub fn split_provenance(provenance: &str) -> (Option<&str>, &str) {
    let p = provenance.trim();
    let (url, rest) = match p.split_once(' ') {
        Some((first, rest)) if first.starts_with("https://") || first.starts_with("http://") => {
            (Some(first), rest.trim())
        }
        None if p.starts_with("https://") || p.starts_with("http://") => (Some(p), ""),
        _ => (None, p),
    };
    let quote = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(rest);
    (url, quote)
}

/// The entry's sentences (split after `.`, `!`, `?` followed by a space, outside code spans).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_code = false;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'`' => in_code = !in_code,
            b'.' | b'!' | b'?' if !in_code && bytes.get(i + 1) == Some(&b' ') => {
                out.push(text[start..=i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < text.len() {
        out.push(text[start..].trim());
    }
    out.retain(|s| !s.is_empty());
    out
}

fn first_sentence(text: &str) -> String {
    let s = sentences(text).first().copied().unwrap_or(text);
    shorten(s)
}

/// The first sentence that names `ident`, else the first one.
fn sentence_with(text: &str, ident: &str) -> String {
    let all = sentences(text);
    let s = all
        .iter()
        .find(|s| s.contains(ident))
        .or(all.first())
        .copied()
        .unwrap_or(text);
    shorten(s).replace('"', "'")
}

fn shorten(s: &str) -> String {
    let short = cut(s, MAX_SUMMARY_BYTES);
    if short.len() < s.len() {
        format!("{short}…")
    } else {
        short.to_string()
    }
}

/// CVE and GHSA ids an entry cites.
fn cited_ids(text: &str) -> Vec<String> {
    static IDS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(?:CVE-\d{4}-\d{4,7}|GHSA(?:-[0-9a-z]{4}){3})\b")
            .expect("constant regex compiles")
    });
    let set: BTreeSet<String> = IDS
        .find_iter(cut(text, 4096))
        .map(|m| m.as_str().to_string())
        .collect();
    set.into_iter().collect()
}

fn round2(x: f64) -> f64 {
    ((x * 100.0).round() / 100.0).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ecosystem;
    use crate::changelog::{Format, parse};

    fn pkg(eco: Ecosystem, name: &str) -> PackageRef {
        PackageRef {
            ecosystem: eco,
            name: name.into(),
            version: None,
        }
    }

    const TEXT: &str = "# Changelog\n\n## [Unreleased]\n### Deprecated\n- `x.y.z` soon.\n\n\
        ## [2.4.0] - 2024-06-01\n### Deprecated\n- `supabase.auth.api.foo()` is deprecated. Use `supabase.auth.bar()` instead.\n\
        - Removed `get()` and `legacyHelper`.\n### Security\n- Fix CVE-2024-0001 in token parsing.\n### Fixed\n- A crash.\n\n\
        ## [2.0] - 2024-01-01\n### Changed\n- **Breaking:** `connectPool()` now requires `pool_timeout_ms`.\n";

    #[test]
    fn entries_become_version_gated_notices() {
        let sections = parse(TEXT, Format::Markdown);
        let url = "https://github.com/o/r/blob/main/CHANGELOG.md";
        let n = notices_from(&sections, &pkg(Ecosystem::Npm, "supabase"), Some(url));
        assert_eq!(n.len(), 4, "{n:#?}");
        let dep = &n[0];
        assert_eq!(dep.kind, NoticeKind::Deprecation);
        assert_eq!(
            dep.affected[0].ranges,
            json!([{"type": "ECOSYSTEM", "events": [{"introduced": "2.4.0"}]}])
        );
        assert_eq!(dep.patterns.len(), 1);
        let p = &dep.patterns[0];
        assert_eq!(p.pattern, "supabase.auth.api.foo");
        assert_eq!(p.confidence, 0.9);
        assert_eq!(
            split_provenance(&p.provenance),
            (Some(url), "`supabase.auth.api.foo()` is deprecated.")
        );
        assert_eq!(
            dep.raw.as_ref().unwrap()["replacement"],
            "supabase.auth.bar"
        );
        assert_eq!(
            dep.summary.as_deref(),
            Some("`supabase.auth.api.foo()` is deprecated.")
        );
        assert_eq!(
            dep.modified.date_naive(),
            NaiveDate::from_ymd_opt(2024, 6, 1).unwrap()
        );

        let removal = &n[1];
        assert_eq!(removal.kind, NoticeKind::Removal);
        let pats: Vec<&str> = removal
            .patterns
            .iter()
            .map(|p| p.pattern.as_str())
            .collect();
        assert_eq!(pats, vec!["legacyHelper"], "`get` is generic");
        assert_eq!(
            removal.affected[0].ranges[0]["events"],
            json!([{"introduced": "0"}, {"fixed": "2.4.0"}])
        );

        let security = &n[2];
        assert_eq!(security.kind, NoticeKind::Advisory);
        assert_eq!(security.aliases, vec!["CVE-2024-0001"]);
        assert!(
            security
                .summary
                .as_deref()
                .unwrap()
                .starts_with("Upgrade recommended")
        );
        assert!(security.patterns.is_empty());

        let breaking = &n[3];
        assert_eq!(breaking.kind, NoticeKind::Removal);
        assert_eq!(
            breaking.affected[0].ranges[0]["events"][1]["fixed"],
            "2.0.0"
        );
        let pats: Vec<&str> = breaking
            .patterns
            .iter()
            .map(|p| p.pattern.as_str())
            .collect();
        assert_eq!(pats, vec!["connectPool", "pool_timeout_ms"]);
    }

    #[test]
    fn ids_are_stable_and_depend_on_package_version_and_text() {
        let sections = parse(TEXT, Format::Markdown);
        let a = notices_from(&sections, &pkg(Ecosystem::Npm, "supabase"), None);
        let b = notices_from(&sections, &pkg(Ecosystem::Npm, "supabase"), None);
        let ids = |n: &[Notice]| n.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        let c = notices_from(&sections, &pkg(Ecosystem::Npm, "other"), None);
        assert!(ids(&a).iter().all(|id| !ids(&c).contains(id)));
        assert!(a[0].references.as_array().unwrap().is_empty());
        assert_eq!(
            split_provenance(&a[0].patterns[0].provenance).0,
            None,
            "no URL, no reference"
        );
    }

    #[test]
    fn hostile_urls_and_versions_are_refused() {
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url("https://x/\r\nSet-Cookie: a"), None);
        let sections = parse("## 1.0.0\n- `abc.def` is deprecated.\n", Format::Markdown);
        let n = notices_from(
            &sections,
            &pkg(Ecosystem::PyPI, "Foo_Bar"),
            Some("file:///etc"),
        );
        assert_eq!(n[0].affected[0].package, "foo-bar");
        assert_eq!(n[0].references, json!([]));
        let weird = parse(
            "## 1.0.0-💥\n- `abc.def` is deprecated.\n",
            Format::Markdown,
        );
        let _ = notices_from(&weird, &pkg(Ecosystem::CratesIo, "x"), None);
    }
}
