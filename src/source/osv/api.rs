//! The shapes of OSV's API that the crawl uses (https://google.github.io/osv.dev/api/):
//! `POST /v1/querybatch` and `GET /v1/vulns/{id}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// OSV refuses batches larger than this.
pub const MAX_BATCH: usize = 1000;

/// One package (and optionally the version a lockfile pins) to ask about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Query {
    pub package: Package,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The `next_page_token` of this query's previous answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Package {
    pub ecosystem: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct BatchRequest<'a> {
    pub queries: &'a [Query],
}

/// One result per query, in the order of the queries.
#[derive(Debug, Deserialize)]
pub struct BatchResponse {
    #[serde(default)]
    pub results: Vec<BatchResult>,
}

/// A query's matches; a query with none is `{}`.
#[derive(Debug, Default, Deserialize)]
pub struct BatchResult {
    #[serde(default)]
    pub vulns: Vec<VulnRef>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// What `querybatch` says about a match: only its id and when it last changed.
#[derive(Debug, Deserialize)]
pub struct VulnRef {
    pub id: String,
    #[serde(default)]
    pub modified: Option<String>,
}

impl VulnRef {
    /// `None` when absent or unreadable: then the details are fetched to find out.
    pub fn modified_at(&self) -> Option<DateTime<Utc>> {
        let text = self.modified.as_deref()?;
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// OSV ids are short ASCII tokens (`GHSA-xxxx-xxxx-xxxx`, `PYSEC-2021-66`, `RUSTSEC-2021-0003`,
/// `CVE-…`). Anything else is refused before it becomes part of a URL path.
pub fn is_plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        && id != "."
        && id != ".."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_matches_osv_shape() {
        let queries = [
            Query {
                package: Package {
                    ecosystem: "npm".into(),
                    name: "lodash".into(),
                },
                version: Some("4.17.20".into()),
                page_token: None,
            },
            Query {
                package: Package {
                    ecosystem: "PyPI".into(),
                    name: "jinja2".into(),
                },
                version: None,
                page_token: Some("tok".into()),
            },
        ];
        let json = serde_json::to_value(BatchRequest { queries: &queries }).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"queries": [
                {"package": {"ecosystem": "npm", "name": "lodash"}, "version": "4.17.20"},
                {"package": {"ecosystem": "PyPI", "name": "jinja2"}, "page_token": "tok"}
            ]})
        );
    }

    #[test]
    fn response_with_empty_results_and_tokens() {
        let response: BatchResponse = serde_json::from_str(
            r#"{"results":[{},{"vulns":[{"id":"GHSA-35jh-r3h4-6jhm","modified":"2024-03-15T12:00:00.123456Z"}],"next_page_token":"abc"}]}"#,
        )
        .unwrap();
        assert_eq!(response.results.len(), 2);
        assert!(response.results[0].vulns.is_empty());
        assert_eq!(response.results[1].next_page_token.as_deref(), Some("abc"));
        let modified = response.results[1].vulns[0].modified_at().unwrap();
        assert_eq!(modified.to_rfc3339(), "2024-03-15T12:00:00.123456+00:00");
    }

    #[test]
    fn unreadable_modified_is_none() {
        for text in [
            None,
            Some(""),
            Some("yesterday"),
            Some("2024-13-01T00:00:00Z"),
        ] {
            let r = VulnRef {
                id: "X".into(),
                modified: text.map(String::from),
            };
            assert_eq!(r.modified_at(), None, "{text:?}");
        }
    }

    #[test]
    fn ids_that_could_escape_a_url_path_are_refused() {
        for good in [
            "GHSA-35jh-r3h4-6jhm",
            "PYSEC-2021-66",
            "RUSTSEC-2021-0003",
            "CVE-2021-23337",
        ] {
            assert!(is_plausible_id(good), "{good}");
        }
        for bad in [
            "",
            "..",
            "a/b",
            "../admin",
            "x?y=1",
            "a b",
            "é",
            &"A".repeat(129),
        ] {
            assert!(!is_plausible_id(bad), "{bad:?}");
        }
    }
}
