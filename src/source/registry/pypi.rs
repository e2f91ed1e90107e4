//! PyPI: `GET {pypi}/pypi/{name}/json` (the JSON API). Each release lists its files, and each
//! file says whether it is `yanked` and why (`yanked_reason`, PEP 592). A release is yanked
//! when all its files are; installers then skip it unless pinned exactly, which is why a lockfile
//! that pins one deserves a warning.
//!
//!
//! The project's status (PEP 792, "Project status markers in the simple index") is only in the
//! Simple API, not in the JSON API: `GET {pypi}/simple/{name}/` with `Accept:
//! application/vnd.pypi.simple.v1+json` answers, from `api-version` 1.4 on, a top-level
//! `"project-status": {"status": "archived", "reason": "…"}` next to `meta` (absent means
//! active). So a project costs two requests: the JSON API for yanks, the Simple API for its
//! status. The Simple API is asked even when the JSON API does not know the project, because a
//! quarantined project (malware) may be gone from one and still marked in the other.
//!
//! `archived`, `deprecated` and `quarantined` each become one package-level notice
//! (`pypi-status:{name}`), withdrawn when the project is active again. An index that answers
//! the Simple API in HTML (a mirror without content negotiation) says nothing about status.

use super::{
    Fetch, FetchError, Fetched, Flag, MAX_MESSAGE_CHARS, PackageInUse, Registry, clean_text,
    get_or_missing, join, plausible_name, plausible_version,
};
use crate::http::{HttpClient, decode};
use crate::store::NoticeKind;
use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
struct Project {
    #[serde(default)]
    releases: BTreeMap<String, Vec<ReleaseFile>>,
}

#[derive(Debug, Deserialize)]
struct ReleaseFile {
    #[serde(default)]
    yanked: bool,
    #[serde(default)]
    yanked_reason: Option<String>,
}

/// The Simple API's JSON form (PEP 691), which carries the project status (PEP 792).
pub const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";
/// The first Simple API version with `project-status`; older answers mean "active".
const STATUS_API_MINOR: u32 = 4;

/// `GET {pypi}/simple/{name}/` in JSON, only the parts about status.
#[derive(Debug, Deserialize)]
struct SimpleDetail {
    #[serde(default)]
    meta: SimpleMeta,
    #[serde(rename = "project-status", default)]
    project_status: Option<ProjectStatus>,
}

#[derive(Debug, Default, Deserialize)]
struct SimpleMeta {
    #[serde(rename = "api-version", default)]
    api_version: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProjectStatus {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// The statuses worth a notice; `active` (and anything unknown) is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Archived,
    Deprecated,
    Quarantined,
}

/// `http` asks the JSON API, `simple` (which sends [`SIMPLE_JSON`] as `Accept`) the Simple API.
pub async fn fetch(
    http: &HttpClient,
    simple: &HttpClient,
    base: &Url,
    package: &PackageInUse,
    now: DateTime<Utc>,
) -> Result<Fetch, FetchError> {
    let name = &package.name;
    if !plausible_name(name) || name.contains(['/', '@']) {
        return Err(FetchError::Protocol(format!(
            "`{name}` is not a PyPI project name"
        )));
    }
    let url = join(base, &format!("pypi/{name}/json"))?;
    let project: Option<Project> = match get_or_missing(http, &url).await? {
        Some(body) => Some(decode(&url, &body)?),
        None => None,
    };
    let status = project_status(simple, base, name).await?;
    if project.is_none() && status.is_none() {
        // Neither API knows the project (a private one, most likely): nothing to say.
        return Ok(Fetch::NotFound);
    }
    let mut found = project.map(|p| flags(name, p)).unwrap_or_default();
    found.extend(status.map(|(status, reason)| status_flag(name, status, &reason)));
    Ok(Fetch::Found(Fetched {
        notices: found.into_iter().map(|f| f.into_notice(now)).collect(),
        withdrawable: None,
    }))
}

/// The project's PEP 792 status from the Simple API, with its reason made fit to quote; `None`
/// for an active project, one the index does not know, an answer older than API 1.4, or an
/// index that answers in HTML.
async fn project_status(
    simple: &HttpClient,
    base: &Url,
    name: &str,
) -> Result<Option<(Status, String)>, FetchError> {
    let url = join(base, &format!("simple/{name}/"))?;
    let Some(body) = get_or_missing(simple, &url).await? else {
        return Ok(None);
    };
    if body.trim_ascii_start().starts_with(b"<") {
        return Ok(None);
    }
    let detail: SimpleDetail = decode(&url, &body)?;
    read_status(detail).map_err(|message| FetchError::Protocol(format!("{url}: {message}")))
}

fn read_status(detail: SimpleDetail) -> Result<Option<(Status, String)>, String> {
    let version = detail.meta.api_version.as_deref().unwrap_or("1.0");
    let (major, minor) = version
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .ok_or_else(|| {
            format!(
                "api-version `{}` is not MAJOR.MINOR",
                clean_text(version, 20)
            )
        })?;
    // The spec: a major version newer than understood is a hard failure.
    if major != 1 {
        return Err(format!(
            "Simple API version {major}.{minor} is not supported"
        ));
    }
    if minor < STATUS_API_MINOR {
        return Ok(None);
    }
    let Some(marker) = detail.project_status else {
        return Ok(None);
    };
    let status = match marker.status.as_deref() {
        Some("archived") => Status::Archived,
        Some("deprecated") => Status::Deprecated,
        Some("quarantined") => Status::Quarantined,
        // `active`, absent, or a status this version does not know: nothing to report.
        _ => return Ok(None),
    };
    let reason = marker
        .reason
        .as_deref()
        .map(|r| clean_text(r, MAX_MESSAGE_CHARS))
        .unwrap_or_default();
    Ok(Some((status, reason)))
}

/// One package-level flag for a project's status; its id stays the same across statuses, so a
/// change (archived → deprecated) rewrites it and `active` withdraws it.
fn status_flag(name: &str, status: Status, reason: &str) -> Flag {
    let (kind, word, meaning, severity) = match status {
        Status::Archived => (
            NoticeKind::Unmaintained,
            "archived",
            "no further releases are expected",
            None,
        ),
        Status::Deprecated => (
            NoticeKind::Deprecation,
            "deprecated",
            "its maintainers consider it obsolete",
            None,
        ),
        Status::Quarantined => (
            NoticeKind::Advisory,
            "quarantined",
            "PyPI considers it unsafe to use, e.g. malware",
            Some("HIGH"),
        ),
    };
    let summary = if reason.is_empty() {
        format!("{name} is {word} on PyPI ({meaning})")
    } else {
        format!("{name} is {word} on PyPI ({meaning}): {reason}")
    };
    let mut raw =
        json!({"registry": "PyPI", "flag": "project-status", "status": word, "reason": reason});
    if let Some(severity) = severity {
        raw["database_specific"] = json!({"severity": severity});
    }
    Flag {
        summary,
        url: format!("https://pypi.org/project/{name}/"),
        raw,
        ..Flag::on_package(Registry::PyPI, "status", kind, name)
    }
}

fn flags(name: &str, project: Project) -> Vec<Flag> {
    project
        .releases
        .into_iter()
        .filter(|(version, files)| {
            plausible_version(version) && !files.is_empty() && files.iter().all(|f| f.yanked)
        })
        .map(|(version, files)| {
            let reason = files
                .iter()
                .find_map(|f| f.yanked_reason.as_deref().filter(|r| !r.trim().is_empty()))
                .map(|r| clean_text(r, MAX_MESSAGE_CHARS))
                .unwrap_or_default();
            let summary = if reason.is_empty() {
                format!("{name} {version} was yanked from PyPI")
            } else {
                format!("{name} {version} was yanked from PyPI: {reason}")
            };
            Flag {
                summary,
                url: format!("https://pypi.org/project/{name}/{version}/"),
                raw: json!({"registry": "PyPI", "flag": "yanked", "version": version, "reason": reason}),
                ..Flag::on_version(Registry::PyPI, "yanked", NoticeKind::Yanked, name, &version)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(text: &str) -> Result<Option<(Status, String)>, String> {
        read_status(serde_json::from_str(text).unwrap())
    }

    #[test]
    fn the_simple_api_status_marker_is_read_from_api_version_1_4_on() {
        let archived = status_of(
            r#"{"meta":{"api-version":"1.4"},"name":"demo","files":[],
               "project-status":{"status":"archived","reason":"Moved to\r\nnewdemo \u001b[31m"}}"#,
        )
        .unwrap();
        assert_eq!(
            archived,
            Some((Status::Archived, "Moved to newdemo [31m".to_string()))
        );
        let flag = status_flag("demo", Status::Archived, "Moved to newdemo");
        assert_eq!(
            flag.summary,
            "demo is archived on PyPI (no further releases are expected): Moved to newdemo"
        );
        assert_eq!(flag.id, "pypi-status:demo");
        assert_eq!(flag.kind, NoticeKind::Unmaintained);
        let quarantined = status_flag("evil", Status::Quarantined, "");
        assert_eq!(quarantined.kind, NoticeKind::Advisory);
        assert_eq!(quarantined.raw["database_specific"]["severity"], "HIGH");
        assert_eq!(
            status_of(r#"{"meta":{"api-version":"1.4"},"project-status":{"status":"deprecated"}}"#)
                .unwrap(),
            Some((Status::Deprecated, String::new()))
        );
        // Active, absent, unknown, or an answer from before the marker existed: nothing.
        for quiet in [
            r#"{"meta":{"api-version":"1.4"},"project-status":{"status":"active"}}"#,
            r#"{"meta":{"api-version":"1.4"},"name":"demo","files":[]}"#,
            r#"{"meta":{"api-version":"1.4"},"project-status":{"status":"haunted"}}"#,
            r#"{"meta":{"api-version":"1.3"},"project-status":{"status":"archived"}}"#,
            r#"{"name":"demo","files":[]}"#,
        ] {
            assert_eq!(status_of(quiet).unwrap(), None, "{quiet}");
        }
        assert!(status_of(r#"{"meta":{"api-version":"2.0"}}"#).is_err());
        assert!(status_of(r#"{"meta":{"api-version":"one"}}"#).is_err());
    }

    #[test]
    fn a_long_hostile_reason_is_capped() {
        let text = format!(
            r#"{{"meta":{{"api-version":"1.4"}},"project-status":{{"status":"quarantined","reason":"{}"}}}}"#,
            "x".repeat(5000)
        );
        let (_, reason) = status_of(&text).unwrap().unwrap();
        assert_eq!(reason.chars().count(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn a_release_is_yanked_when_all_its_files_are() {
        let project: Project = serde_json::from_str(
            r#"{"info":{"name":"demo","version":"1.2.0","yanked":false},
            "releases":{
              "1.0.0":[{"filename":"demo-1.0.0.tar.gz","yanked":true,"yanked_reason":"Broken\nmetadata"},
                       {"filename":"demo-1.0.0-py3-none-any.whl","yanked":true,"yanked_reason":null}],
              "1.1.0":[{"filename":"demo-1.1.0.tar.gz","yanked":true,"yanked_reason":null},
                       {"filename":"demo-1.1.0-py3-none-any.whl","yanked":false,"yanked_reason":null}],
              "1.1.1":[{"filename":"demo-1.1.1.tar.gz","yanked":true}],
              "1.2.0":[],
              "1.3.0":[{"filename":"demo-1.3.0.tar.gz","yanked":false,"yanked_reason":null}]
            },"urls":[],"vulnerabilities":[]}"#,
        )
        .unwrap();
        let flags = flags("demo", project);
        let summaries: Vec<&str> = flags.iter().map(|f| f.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "demo 1.0.0 was yanked from PyPI: Broken metadata",
                "demo 1.1.1 was yanked from PyPI"
            ]
        );
        assert_eq!(flags[0].id, "pypi-yanked:demo@1.0.0");
    }
}
