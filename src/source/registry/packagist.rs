//! Packagist: `GET {repo}/p2/{vendor}/{name}.json`, the metadata Composer 2 reads. Versions come
//! newest first in Composer's minified form, where the first entry is written in full: its
//! `abandoned` is `true`, or the name of the package to use instead, when the package is
//! abandoned.

use super::{
    Fetch, FetchError, Fetched, Flag, MAX_MESSAGE_CHARS, PackageInUse, Registry, clean_text,
    get_or_missing, join, plausible_name,
};
use crate::http::{HttpClient, decode};
use crate::store::NoticeKind;
use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    packages: BTreeMap<String, Vec<Value>>,
}

pub async fn fetch(
    http: &HttpClient,
    base: &Url,
    package: &PackageInUse,
    now: DateTime<Utc>,
) -> Result<Fetch, FetchError> {
    let name = &package.name;
    if !plausible_name(name) || name.matches('/').count() != 1 || name.contains('@') {
        return Err(FetchError::Protocol(format!(
            "`{name}` is not a Composer package name"
        )));
    }
    let url = join(base, &format!("p2/{name}.json"))?;
    let Some(body) = get_or_missing(http, &url).await? else {
        return Ok(Fetch::NotFound);
    };
    let metadata: Metadata = decode(&url, &body)?;
    Ok(Fetch::Found(Fetched {
        notices: flag(name, &metadata)
            .into_iter()
            .map(|f| f.into_notice(now))
            .collect(),
        withdrawable: None,
    }))
}

fn flag(name: &str, metadata: &Metadata) -> Option<Flag> {
    let newest = metadata
        .packages
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .and_then(|(_, versions)| versions.first())?;
    let replacement = match newest.get("abandoned")? {
        Value::Bool(true) => None,
        Value::String(text) if !text.trim().is_empty() => Some(clean_text(text, MAX_MESSAGE_CHARS)),
        _ => return None,
    };
    let summary = match &replacement {
        Some(other) => format!("{name} is abandoned on Packagist; use {other} instead"),
        None => format!("{name} is abandoned on Packagist"),
    };
    Some(Flag {
        summary,
        url: format!("https://packagist.org/packages/{name}"),
        raw: json!({"registry": "Packagist", "flag": "abandoned", "replacement": replacement}),
        ..Flag::on_package(
            Registry::Packagist,
            "abandoned",
            NoticeKind::Unmaintained,
            name,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(abandoned: &str) -> Metadata {
        serde_json::from_str(&format!(
            r#"{{"packages":{{"swiftmailer/swiftmailer":[
              {{"name":"swiftmailer/swiftmailer","version":"v6.3.0","version_normalized":"6.3.0.0"{abandoned}}},
              {{"version":"v6.2.7","version_normalized":"6.2.7.0"}}
            ]}},"minified":"composer/2.0"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn abandoned_with_and_without_a_replacement() {
        let with = flag(
            "swiftmailer/swiftmailer",
            &metadata(r#","abandoned":"symfony/mailer""#),
        )
        .unwrap();
        assert_eq!(
            with.summary,
            "swiftmailer/swiftmailer is abandoned on Packagist; use symfony/mailer instead"
        );
        let bare = flag("swiftmailer/swiftmailer", &metadata(r#","abandoned":true"#)).unwrap();
        assert_eq!(
            bare.summary,
            "swiftmailer/swiftmailer is abandoned on Packagist"
        );
        assert!(flag("swiftmailer/swiftmailer", &metadata("")).is_none());
        assert!(
            flag(
                "swiftmailer/swiftmailer",
                &metadata(r#","abandoned":false"#)
            )
            .is_none()
        );
    }
}
