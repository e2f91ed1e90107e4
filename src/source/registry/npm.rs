//! npm: `GET {registry}/{name}` with `Accept: application/vnd.npm.install-v1+json`, the
//! abbreviated ("corgi") document installers read. It is much smaller than the full packument
//! and still carries each version's `deprecated` message. Scoped names travel as
//! `@scope%2fname`, as the npm CLI sends them.

use super::{
    Fetch, FetchError, Fetched, Flag, MAX_MESSAGE_CHARS, PackageInUse, Registry, clean_text,
    get_or_missing, join, plausible_name, plausible_version,
};
use crate::http::{HttpClient, decode};
use crate::store::NoticeKind;
use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const ABBREVIATED_METADATA: &str = "application/vnd.npm.install-v1+json";

/// The abbreviated document: only what the crawl reads.
#[derive(Debug, Deserialize)]
struct Packument {
    #[serde(default)]
    versions: BTreeMap<String, VersionEntry>,
}

#[derive(Debug, Deserialize)]
struct VersionEntry {
    /// A message when deprecated; npm writes nothing (or, rarely, `false`/`""`) otherwise.
    #[serde(default)]
    deprecated: Value,
}

/// The path segment npm expects: `@scope/name` becomes `@scope%2fname`.
pub fn path_segment(name: &str) -> String {
    match name.strip_prefix('@').and_then(|rest| rest.split_once('/')) {
        Some((scope, bare)) => format!("@{scope}%2f{bare}"),
        None => name.to_string(),
    }
}

pub async fn fetch(
    http: &HttpClient,
    base: &Url,
    package: &PackageInUse,
    now: DateTime<Utc>,
) -> Result<Fetch, FetchError> {
    let name = &package.name;
    if !plausible_name(name) || name.matches('/').count() > 1 {
        return Err(FetchError::Protocol(format!(
            "`{name}` is not an npm package name"
        )));
    }
    let url = join(base, &path_segment(name))?;
    let Some(body) = get_or_missing(http, &url).await? else {
        return Ok(Fetch::NotFound);
    };
    let document: Packument = decode(&url, &body)?;
    Ok(Fetch::Found(Fetched {
        notices: flags(name, document)
            .into_iter()
            .map(|f| f.into_notice(now))
            .collect(),
        withdrawable: None,
    }))
}

fn flags(name: &str, document: Packument) -> Vec<Flag> {
    document
        .versions
        .into_iter()
        .filter(|(version, _)| plausible_version(version))
        .filter_map(|(version, entry)| {
            let message = match &entry.deprecated {
                Value::String(text) if !text.trim().is_empty() => {
                    clean_text(text, MAX_MESSAGE_CHARS)
                }
                Value::Bool(true) => String::new(),
                _ => return None,
            };
            let summary = if message.is_empty() {
                format!("{name} {version} is deprecated on npm")
            } else {
                format!("{name} {version} is deprecated on npm: {message}")
            };
            Some(Flag {
                summary,
                url: format!("https://www.npmjs.com/package/{name}/v/{version}"),
                raw: json!({"registry": "npm", "flag": "deprecated", "version": version, "message": message}),
                ..Flag::on_version(Registry::Npm, "deprecated", NoticeKind::Deprecation, name, &version)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_names_are_encoded_like_the_npm_cli_does() {
        assert_eq!(path_segment("@babel/core"), "@babel%2fcore");
        assert_eq!(path_segment("lodash"), "lodash");
    }

    #[test]
    fn only_versions_with_a_message_or_true_are_deprecated() {
        let document: Packument = serde_json::from_str(
            r#"{"name":"request","modified":"2024-01-01T00:00:00.000Z","dist-tags":{"latest":"2.88.2"},
            "versions":{
              "2.88.0":{"name":"request","version":"2.88.0","deprecated":"request has been deprecated, see https://github.com/request/request/issues/3142"},
              "2.88.1":{"name":"request","version":"2.88.1","deprecated":""},
              "2.88.2":{"name":"request","version":"2.88.2"},
              "2.87.0":{"name":"request","version":"2.87.0","deprecated":true},
              "2.86.0":{"name":"request","version":"2.86.0","deprecated":false}
            }}"#,
        )
        .unwrap();
        let flags = flags("request", document);
        let ids: Vec<&str> = flags.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "npm-deprecated:request@2.87.0",
                "npm-deprecated:request@2.88.0"
            ]
        );
        assert_eq!(
            flags[1].summary,
            "request 2.88.0 is deprecated on npm: request has been deprecated, see https://github.com/request/request/issues/3142"
        );
        assert_eq!(flags[0].summary, "request 2.87.0 is deprecated on npm");
    }
}
