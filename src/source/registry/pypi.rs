//! PyPI: `GET {pypi}/pypi/{name}/json` (the JSON API). Each release lists its files, and each
//! file says whether it is `yanked` and why (`yanked_reason`, PEP 592). A release is yanked
//! when all its files are; installers then skip it unless pinned exactly, which is why a lockfile
//! that pins one deserves a warning.
//!
//! PEP 792 project status (archived, deprecated, quarantined) is left out for now: the Simple
//! API's JSON spelling of it was still being revised when this was written.

use super::{
    Fetch, FetchError, Fetched, Flag, MAX_MESSAGE_CHARS, PackageInUse, Registry, clean_text,
    get_or_missing, join, plausible_name, plausible_version,
};
use crate::ecosystem::Ecosystem;
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

pub async fn fetch(
    http: &HttpClient,
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
    let Some(body) = get_or_missing(http, &url).await? else {
        return Ok(Fetch::NotFound);
    };
    let project: Project = decode(&url, &body)?;
    Ok(Fetch::Found(Fetched {
        notices: flags(name, project)
            .into_iter()
            .map(|f| f.into_notice(now))
            .collect(),
        withdrawable: None,
    }))
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
                source_id: Registry::PyPI.source_id(),
                id: format!("pypi-yanked:{name}@{version}"),
                kind: NoticeKind::Yanked,
                ecosystem: Ecosystem::PyPI,
                package: name.to_string(),
                summary,
                details: None,
                versions: vec![version.clone()],
                ranges: json!([]),
                url: format!("https://pypi.org/project/{name}/{version}/"),
                raw: json!({"registry": "PyPI", "flag": "yanked", "version": version, "reason": reason}),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
