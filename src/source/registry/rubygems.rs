//! RubyGems: `GET {rubygems}/api/v1/versions/{name}.json` lists a gem's versions, and a yanked
//! version is simply no longer in the list. So a version a lockfile pins that the list lacks is
//! reported as yanked, and this source only speaks for the versions it was asked about.

use super::{
    Fetch, FetchError, Fetched, Flag, PackageInUse, Registry, get_or_missing, join, plausible_name,
    plausible_version,
};
use crate::http::{HttpClient, decode};
use crate::store::NoticeKind;
use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeSet;

#[derive(Debug, Deserialize)]
struct GemVersion {
    number: String,
    #[serde(default)]
    platform: Option<String>,
}

pub async fn fetch(
    http: &HttpClient,
    base: &Url,
    package: &PackageInUse,
    now: DateTime<Utc>,
) -> Result<Fetch, FetchError> {
    let name = &package.name;
    if !plausible_name(name) || name.contains(['/', '@']) {
        return Err(FetchError::Protocol(format!("`{name}` is not a gem name")));
    }
    if package.locked.is_empty() {
        // Nothing pinned, nothing that can be yanked from under the repository.
        return Ok(Fetch::Found(Fetched {
            notices: Vec::new(),
            withdrawable: Some(BTreeSet::new()),
        }));
    }
    let url = join(base, &format!("api/v1/versions/{name}.json"))?;
    let Some(body) = get_or_missing(http, &url).await? else {
        return Ok(Fetch::NotFound);
    };
    let listed: Vec<GemVersion> = decode(&url, &body)?;
    let (flags, checked) = flags(name, &package.locked, &listed);
    Ok(Fetch::Found(Fetched {
        notices: flags.into_iter().map(|f| f.into_notice(now)).collect(),
        withdrawable: Some(checked),
    }))
}

/// `version` as published: `1.15.0` or, for a platform gem, `1.15.0-x86_64-linux`.
fn is_listed(version: &str, listed: &[GemVersion]) -> bool {
    listed.iter().any(|v| {
        version == v.number
            || v.platform
                .as_deref()
                .is_some_and(|p| p != "ruby" && version == format!("{}-{p}", v.number))
            || version
                .strip_prefix(v.number.as_str())
                .is_some_and(|rest| rest.starts_with('-'))
    })
}

/// The flags, and the ids of every notice this answer speaks for (one per pinned version).
fn flags(
    name: &str,
    locked: &BTreeSet<String>,
    listed: &[GemVersion],
) -> (Vec<Flag>, BTreeSet<String>) {
    let mut flags = Vec::new();
    let mut checked = BTreeSet::new();
    for version in locked.iter().filter(|v| plausible_version(v)) {
        let id = format!("rubygems-yanked:{name}@{version}");
        checked.insert(id.clone());
        if is_listed(version, listed) {
            continue;
        }
        flags.push(Flag {
            summary: format!("{name} {version} was yanked from RubyGems"),
            details: Some(format!(
                "RubyGems no longer lists {name} {version}; a fresh install of the lockfile fails."
            )),
            url: format!("https://rubygems.org/gems/{name}/versions"),
            raw: json!({"registry": "RubyGems", "flag": "yanked", "version": version}),
            ..Flag::on_version(
                Registry::RubyGems,
                "yanked",
                NoticeKind::Yanked,
                name,
                version,
            )
        });
    }
    (flags, checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_version_missing_from_the_list_is_yanked() {
        let listed: Vec<GemVersion> = serde_json::from_str(
            r#"[{"authors":"x","built_at":"2023-01-01T00:00:00.000Z","number":"1.15.0","platform":"ruby","prerelease":false},
                {"number":"1.15.0","platform":"x86_64-linux","prerelease":false},
                {"number":"1.14.2","platform":"ruby","prerelease":false}]"#,
        )
        .unwrap();
        let locked: BTreeSet<String> = ["1.15.0", "1.15.0-x86_64-linux", "1.14.1", "1.14.2"]
            .into_iter()
            .map(String::from)
            .collect();
        let (flags, checked) = flags("nokogiri", &locked, &listed);
        let ids: Vec<&str> = flags.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["rubygems-yanked:nokogiri@1.14.1"]);
        assert_eq!(checked.len(), 4);
        assert_eq!(flags[0].summary, "nokogiri 1.14.1 was yanked from RubyGems");
    }
}
