//! One OSV record (the body of `GET /v1/vulns/{id}`) to a notice.
//!
//! Stand-in until the OSV import (`crate::osv::parse_osv_json` + `OsvRecord::to_notice`) lands:
//! it keeps what the store's columns hold and the whole record in `raw`, so nothing is lost and
//! a later re-import can redo the conversion. Only this file changes when the switch happens.

use crate::store::{Affected, Notice, NoticeKind};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Why a fetched record cannot become a notice.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("not valid JSON")]
    Json(#[source] serde_json::Error),
    #[error("not an OSV record: {0}")]
    Shape(String),
}

/// Parses `bytes` as one OSV record and converts it for the store, tagged with `source`.
pub fn to_notice(bytes: &[u8], source: &str) -> Result<Notice, RecordError> {
    let value: Value = serde_json::from_slice(bytes).map_err(RecordError::Json)?;
    let object = value
        .as_object()
        .ok_or_else(|| RecordError::Shape("the record is not a JSON object".into()))?;
    let id = object
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| RecordError::Shape("`id` is missing".into()))?
        .to_string();
    let modified = time(object.get("modified")).ok_or_else(|| {
        RecordError::Shape(format!("`{id}`: `modified` is missing or unreadable"))
    })?;
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(String::from);
    let array = |key: &str| match object.get(key) {
        Some(v @ Value::Array(_)) => v.clone(),
        _ => Value::Array(Vec::new()),
    };
    let aliases = object
        .get("aliases")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let affected = object
        .get("affected")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(affected).collect())
        .unwrap_or_default();
    Ok(Notice {
        kind: NoticeKind::Advisory,
        aliases,
        summary: text("summary"),
        details: text("details"),
        severity: array("severity"),
        published: time(object.get("published")),
        modified,
        withdrawn: time(object.get("withdrawn")),
        affected,
        references: array("references"),
        patterns: Vec::new(),
        source_id: Some(source.to_string()),
        id,
        raw: Some(value),
    })
}

fn time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value?.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// An `affected[]` entry that names a package; entries without one (OSV allows them for
/// commit-only records) cannot match a dependency and are skipped.
fn affected(entry: &Value) -> Option<Affected> {
    let package = entry.get("package")?;
    Some(Affected {
        ecosystem: package.get("ecosystem")?.as_str()?.to_string(),
        package: package.get("name")?.as_str()?.to_string(),
        ranges: match entry.get("ranges") {
            Some(v @ Value::Array(_)) => v.clone(),
            _ => Value::Array(Vec::new()),
        },
        versions: entry
            .get("versions")
            .and_then(Value::as_array)
            .map(|v| {
                v.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_the_fields_the_store_keeps() {
        let record = br#"{
          "schema_version": "1.6.0",
          "id": "RUSTSEC-2021-0003",
          "modified": "2023-06-13T13:10:24Z",
          "published": "2021-01-08T12:00:00Z",
          "aliases": ["CVE-2021-25900", "GHSA-43w2-9j62-hq99"],
          "summary": "Buffer overflow in SmallVec::insert_many",
          "affected": [{"package": {"ecosystem": "crates.io", "name": "smallvec"},
                        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.6.3"}, {"fixed": "0.6.14"}]}]},
                       {"ranges": [{"type": "GIT", "repo": "x", "events": [{"introduced": "0"}]}]}],
          "references": [{"type": "ADVISORY", "url": "https://rustsec.org/advisories/RUSTSEC-2021-0003.html"}]
        }"#;
        let notice = to_notice(record, "osv").unwrap();
        assert_eq!(notice.id, "RUSTSEC-2021-0003");
        assert_eq!(notice.aliases, ["CVE-2021-25900", "GHSA-43w2-9j62-hq99"]);
        assert_eq!(notice.affected.len(), 1);
        assert_eq!(notice.affected[0].package, "smallvec");
        assert_eq!(notice.source_id.as_deref(), Some("osv"));
        assert_eq!(notice.modified.to_rfc3339(), "2023-06-13T13:10:24+00:00");
        assert!(notice.raw.is_some());
    }

    #[test]
    fn truncated_or_shapeless_records_are_errors() {
        assert!(matches!(
            to_notice(br#"{"id":"GHSA-x","modified":"2024-01-01T00:0"#, "osv"),
            Err(RecordError::Json(_))
        ));
        for bad in [
            &b"[]"[..],
            br#"{"id":""}"#,
            br#"{"id":"X"}"#,
            br#"{"id":"X","modified":"soon"}"#,
        ] {
            assert!(matches!(to_notice(bad, "osv"), Err(RecordError::Shape(_))));
        }
    }
}
