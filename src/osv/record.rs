//! The OSV record model (schema 1.x), its JSON and YAML parsers, and the mapping to a store
//! [`Notice`].
//!
//! Parsing is two steps: the text becomes a generic value (kept verbatim as the notice's `raw`,
//! so nothing the model does not name is lost), then the value becomes the typed record, which
//! validates what matching needs (`id`, `modified`, ranges the version module can evaluate).

use super::{MAX_RECORD_BYTES, OsvError};
use crate::ecosystem::Ecosystem;
use crate::store::{Affected, Notice, NoticeKind};
use crate::version::OsvRange;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// One OSV record.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OsvRecord {
    pub id: String,
    #[serde(deserialize_with = "timestamp")]
    pub modified: DateTime<Utc>,
    #[serde(default, deserialize_with = "optional_timestamp")]
    pub published: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "optional_timestamp")]
    pub withdrawn: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub aliases: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub related: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub severity: Vec<OsvSeverity>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub affected: Vec<OsvAffected>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub references: Vec<OsvReference>,
    #[serde(default)]
    pub database_specific: Option<Value>,
    /// The record exactly as read.
    #[serde(skip)]
    pub raw: Value,
}

/// `severity[]`: a scoring system and its vector or score.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OsvSeverity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

/// `affected[]`: one package and the versions of it the record is about.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OsvAffected {
    /// Absent on records about a repository rather than a package (GIT ranges only).
    #[serde(default)]
    pub package: Option<OsvPackage>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ranges: Vec<OsvRange>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub versions: Vec<String>,
    #[serde(default)]
    pub ecosystem_specific: Option<Value>,
    #[serde(default)]
    pub database_specific: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OsvPackage {
    pub ecosystem: String,
    pub name: String,
    #[serde(default)]
    pub purl: Option<String>,
}

/// `references[]`: `ADVISORY`, `WEB`, `REPORT`, `FIX`, `PACKAGE`, ... and a URL.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OsvReference {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

/// Parses one OSV record written as JSON (as OSV.dev, GitHub and RustSec's export write them).
pub fn parse_osv_json(bytes: &[u8]) -> Result<OsvRecord, OsvError> {
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(OsvError::TooLarge);
    }
    // serde_json limits nesting to 128 levels, so hostile depth fails instead of overflowing.
    let raw: Value = serde_json::from_slice(bytes).map_err(|e| OsvError::Syntax {
        format: "JSON",
        message: e.to_string(),
    })?;
    from_value(raw)
}

/// Parses one OSV record written as YAML (as the PyPA advisory database writes them).
pub fn parse_osv_yaml(text: &str) -> Result<OsvRecord, OsvError> {
    if text.len() as u64 > MAX_RECORD_BYTES {
        return Err(OsvError::TooLarge);
    }
    // serde-saphyr's default budgets bound aliases and nodes (no billion laughs).
    let syntax = |e: serde_saphyr::Error| OsvError::Syntax {
        format: "YAML",
        message: e.to_string().lines().next().unwrap_or("").to_string(),
    };
    let raw: Value = serde_saphyr::from_str(text).map_err(syntax)?;
    // Typed from the text, not from `raw`: an unquoted `fixed: 2.10` must stay the string
    // `2.10`, which a generic value would already have turned into the number 2.1.
    let mut record: OsvRecord = serde_saphyr::from_str(text).map_err(|e| {
        OsvError::invalid(
            record_id_of(&raw),
            e.to_string().lines().next().unwrap_or(""),
        )
    })?;
    record.raw = raw;
    record.validate()?;
    Ok(record)
}

/// The typed record from a generic value (JSON, or what the RustSec converter builds).
pub(crate) fn from_value(raw: Value) -> Result<OsvRecord, OsvError> {
    if !raw.is_object() {
        return Err(OsvError::invalid(None, "an OSV record is a JSON object"));
    }
    let mut record = OsvRecord::deserialize(&raw)
        .map_err(|e| OsvError::invalid(record_id_of(&raw), e.to_string()))?;
    record.raw = raw;
    record.validate()?;
    Ok(record)
}

fn record_id_of(raw: &Value) -> Option<&str> {
    raw.get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.trim().is_empty())
}

impl OsvRecord {
    fn validate(&self) -> Result<(), OsvError> {
        if self.id.trim().is_empty() || self.id.len() > 256 {
            return Err(OsvError::invalid(None, "`id` is empty or too long"));
        }
        Ok(())
    }

    /// The notice this record becomes: an advisory, or `unmaintained` when RustSec says the
    /// crate is unmaintained. Package names are normalized the way the inventory writes them
    /// (PEP 503 for PyPI), so a lookup by the inventory's name finds the record.
    pub fn to_notice(&self, source: &str) -> Notice {
        let mut aliases: Vec<String> = self
            .aliases
            .iter()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty() && *a != self.id)
            .collect();
        aliases.sort();
        aliases.dedup();
        let raw_affected = self.raw.get("affected").and_then(Value::as_array);
        let mut affected: Vec<Affected> = Vec::new();
        for (i, entry) in self.affected.iter().enumerate() {
            let Some(package) = &entry.package else {
                continue;
            };
            let name = match Ecosystem::parse(&package.ecosystem) {
                Some(eco) => eco.normalize_name(&package.name),
                None => package.name.trim().to_string(),
            };
            // Ranges as written (a GIT range's `repo`, `database_specific`), not as modelled.
            let ranges = raw_affected
                .and_then(|all| all.get(i))
                .and_then(|a| a.get("ranges"))
                .filter(|r| r.is_array())
                .cloned()
                .unwrap_or_else(|| Value::Array(Vec::new()));
            let item = Affected {
                ecosystem: package.ecosystem.clone(),
                package: name,
                ranges,
                versions: entry.versions.clone(),
            };
            if !affected.contains(&item) {
                affected.push(item);
            }
        }
        let array_of = |key: &str| {
            self.raw
                .get(key)
                .filter(|v| v.is_array())
                .cloned()
                .unwrap_or_else(|| Value::Array(Vec::new()))
        };
        Notice {
            id: self.id.clone(),
            kind: self.kind(),
            aliases,
            summary: self.summary.clone().filter(|s| !s.trim().is_empty()),
            details: self.details.clone().filter(|s| !s.trim().is_empty()),
            severity: array_of("severity"),
            published: self.published,
            modified: self.modified,
            withdrawn: self.withdrawn,
            affected,
            references: array_of("references"),
            patterns: Vec::new(),
            source_id: Some(source.to_string()),
            raw: Some(self.raw.clone()),
        }
    }

    /// RustSec marks unmaintained crates with `informational = "unmaintained"`, in its own
    /// format and in its OSV export (`database_specific.informational`).
    fn kind(&self) -> NoticeKind {
        let informational = self
            .database_specific
            .as_ref()
            .and_then(|d| d.get("informational"))
            .and_then(Value::as_str);
        match informational {
            Some("unmaintained") => NoticeKind::Unmaintained,
            _ => NoticeKind::Advisory,
        }
    }
}

/// `null` reads as the empty value: OSV writers emit `"aliases": null` as readily as `[]`.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_timestamp(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 timestamp: {text:?}")))
}

fn optional_timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => parse_timestamp(&text).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("not an RFC 3339 timestamp: {text:?}"))
        }),
    }
}

/// RFC 3339, plus what real databases also write: no zone (UTC), or a bare date (midnight UTC).
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::{OsvEvent, OsvRangeKind};

    const GHSA: &str = r#"{
      "schema_version": "1.4.0",
      "id": "GHSA-29mw-wpgm-hmr9",
      "modified": "2024-02-26T18:12:41.532Z",
      "published": "2022-01-06T20:30:46Z",
      "aliases": ["CVE-2020-28500"],
      "summary": "Regular Expression Denial of Service (ReDoS) in lodash",
      "details": "All versions of package lodash prior to 4.17.21 are vulnerable.",
      "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"}],
      "affected": [{
        "package": {"ecosystem": "npm", "name": "lodash", "purl": "pkg:npm/lodash"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "4.0.0"}, {"fixed": "4.17.21"}]}],
        "database_specific": {"source": "x"}
      }],
      "references": [{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2020-28500"}],
      "database_specific": {"severity": "MODERATE", "github_reviewed": true}
    }"#;

    #[test]
    fn json_record_becomes_a_notice_without_loss() {
        let record = parse_osv_json(GHSA.as_bytes()).expect("parses");
        assert_eq!(record.id, "GHSA-29mw-wpgm-hmr9");
        assert_eq!(record.affected[0].ranges[0].kind, OsvRangeKind::Ecosystem);
        let notice = record.to_notice("osv");
        assert_eq!(notice.kind, NoticeKind::Advisory);
        assert_eq!(notice.aliases, vec!["CVE-2020-28500"]);
        assert_eq!(notice.affected.len(), 1);
        assert_eq!(notice.affected[0].package, "lodash");
        assert_eq!(
            notice.affected[0].ranges[0]["events"][1]["fixed"],
            "4.17.21"
        );
        assert_eq!(notice.source_id.as_deref(), Some("osv"));
        let raw = notice.raw.expect("raw kept");
        assert_eq!(raw["database_specific"]["github_reviewed"], true);
        assert_eq!(raw["schema_version"], "1.4.0");
        assert_eq!(notice.severity[0]["type"], "CVSS_V3");
    }

    #[test]
    fn pypi_names_are_normalized_and_nulls_read_as_empty() {
        let json = r#"{"id":"PYSEC-1","modified":"2021-01-01T00:00:00Z","aliases":null,
          "summary":null,"affected":[{"package":{"ecosystem":"PyPI","name":"Zope.Interface"},
          "ranges":null,"versions":["1.0"]},{"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"0"}]}]}]}"#;
        let notice = parse_osv_json(json.as_bytes())
            .expect("parses")
            .to_notice("t");
        assert_eq!(
            notice.affected.len(),
            1,
            "entries without a package are kept in raw only"
        );
        assert_eq!(notice.affected[0].package, "zope-interface");
        assert_eq!(notice.affected[0].versions, vec!["1.0"]);
        assert!(notice.aliases.is_empty());
        assert_eq!(notice.summary, None);
    }

    #[test]
    fn unmaintained_rustsec_records_are_unmaintained_notices() {
        let json = r#"{"id":"RUSTSEC-2021-0139","modified":"2021-12-09T00:00:00Z",
          "database_specific":{"informational":"unmaintained"},"affected":[]}"#;
        let notice = parse_osv_json(json.as_bytes())
            .expect("parses")
            .to_notice("t");
        assert_eq!(notice.kind, NoticeKind::Unmaintained);
    }

    #[test]
    fn yaml_keeps_unquoted_versions_as_written() {
        let yaml = "id: PYSEC-2021-66\nmodified: 2021-06-15T17:04:00Z\npublished: 2021-04-01\n\
                    aliases:\n- CVE-2020-28493\naffected:\n- package:\n    name: Jinja2\n    \
                    ecosystem: PyPI\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - \
                    introduced: \"0\"\n    - fixed: 2.10\n  versions:\n  - '2.0'\n  - 2.0rc1\n";
        let record = parse_osv_yaml(yaml).expect("parses");
        assert_eq!(
            record.affected[0].ranges[0].events[1],
            OsvEvent::Fixed("2.10".into())
        );
        assert_eq!(record.affected[0].versions, vec!["2.0", "2.0rc1"]);
        assert_eq!(
            record.published.map(|p| p.to_rfc3339()),
            Some("2021-04-01T00:00:00+00:00".into())
        );
        assert_eq!(record.to_notice("pypa").affected[0].package, "jinja2");
    }

    #[test]
    fn malformed_records_are_errors_that_name_the_record() {
        let cases: &[(&str, &str)] = &[
            ("", "syntax"),
            ("{\"id\": ", "syntax"),
            ("[1, 2]", "object"),
            ("{\"modified\": \"2021-01-01T00:00:00Z\"}", "id"),
            ("{\"id\": \"X-1\"}", "X-1"),
            ("{\"id\": \"X-2\", \"modified\": \"yesterday\"}", "X-2"),
            (
                r#"{"id":"X-3","modified":"2021-01-01T00:00:00Z","affected":[{"ranges":[{"type":"NOPE","events":[]}]}]}"#,
                "X-3",
            ),
            (
                r#"{"id":"X-4","modified":"2021-01-01T00:00:00Z","affected":[{"ranges":[{"type":"SEMVER","events":[{"patched":"1"}]}]}]}"#,
                "X-4",
            ),
            (
                "{\"id\": \"\", \"modified\": \"2021-01-01T00:00:00Z\"}",
                "id",
            ),
        ];
        for (text, needle) in cases {
            let err = parse_osv_json(text.as_bytes()).expect_err(text);
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
        let err = parse_osv_json(b"{\"id\": \"X-1\"}").expect_err("no modified");
        assert_eq!(err.record_id(), Some("X-1"));
        let deep = "[".repeat(10_000);
        assert!(parse_osv_json(deep.as_bytes()).is_err());
        assert!(parse_osv_yaml("id: [unclosed").is_err());
        assert!(parse_osv_yaml("- just\n- a list\n").is_err());
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                    g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
        assert!(parse_osv_yaml(bomb).is_err());
    }

    #[test]
    fn timestamps_accept_what_databases_write() {
        for text in [
            "2021-06-15T17:04:00Z",
            "2021-06-15T17:04:00.123456Z",
            "2021-06-15T19:04:00+02:00",
            "2021-06-15T17:04:00",
        ] {
            assert_eq!(
                parse_timestamp(text).map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
                Some("2021-06-15 17:04".to_string()),
                "{text}"
            );
        }
        assert!(parse_timestamp("2021-06-15").is_some());
        assert!(parse_timestamp("15/06/2021").is_none());
    }
}
