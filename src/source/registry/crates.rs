//! crates.io: `GET {crates}/api/v1/crates/{name}`, whose `versions` say which are `yanked`
//! (and, where the owner gave one, the `yank_message`). crates.io's crawler policy asks for at
//! most one request a second, so requests to crates.io itself go one at a time, paced.

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
use std::time::Duration;

/// crates.io's crawler policy: one request a second.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Whether `base` is crates.io itself (a mirror or a test server is not paced).
pub fn is_crates_io(base: &Url) -> bool {
    base.host_str()
        .is_some_and(|h| h == "crates.io" || h.ends_with(".crates.io"))
}

/// Spaces requests at least `interval` apart.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    last: tokio::time::Instant,
}

impl Pacer {
    /// The first request is taken to start now.
    pub fn new(interval: Duration) -> Pacer {
        Pacer {
            interval,
            last: tokio::time::Instant::now(),
        }
    }

    /// Waits until `interval` after the previous request, then counts this one as sent.
    pub async fn wait(&mut self) {
        tokio::time::sleep_until(self.last + self.interval).await;
        self.last = tokio::time::Instant::now();
    }
}

#[derive(Debug, Deserialize)]
struct CrateAnswer {
    #[serde(default)]
    versions: Vec<CrateVersion>,
}

#[derive(Debug, Deserialize)]
struct CrateVersion {
    num: String,
    #[serde(default)]
    yanked: bool,
    #[serde(default)]
    yank_message: Option<String>,
}

pub async fn fetch(
    http: &HttpClient,
    base: &Url,
    package: &PackageInUse,
    now: DateTime<Utc>,
) -> Result<Fetch, FetchError> {
    let name = &package.name;
    if !plausible_name(name) || name.contains(['/', '@', '.', '~', '+']) {
        return Err(FetchError::Protocol(format!(
            "`{name}` is not a crate name"
        )));
    }
    let url = join(base, &format!("api/v1/crates/{name}"))?;
    let Some(body) = get_or_missing(http, &url).await? else {
        return Ok(Fetch::NotFound);
    };
    let answer: CrateAnswer = decode(&url, &body)?;
    Ok(Fetch::Found(Fetched {
        notices: flags(name, answer)
            .into_iter()
            .map(|f| f.into_notice(now))
            .collect(),
        withdrawable: None,
    }))
}

fn flags(name: &str, answer: CrateAnswer) -> Vec<Flag> {
    answer
        .versions
        .into_iter()
        .filter(|v| v.yanked && plausible_version(&v.num))
        .map(|v| {
            let message = v
                .yank_message
                .as_deref()
                .map(|m| clean_text(m, MAX_MESSAGE_CHARS))
                .unwrap_or_default();
            let version = v.num;
            let summary = if message.is_empty() {
                format!("{name} {version} was yanked from crates.io")
            } else {
                format!("{name} {version} was yanked from crates.io: {message}")
            };
            Flag {
                summary,
                url: format!("https://crates.io/crates/{name}/{version}"),
                raw: json!({"registry": "crates.io", "flag": "yanked", "version": version, "message": message}),
                ..Flag::on_version(Registry::CratesIo, "yanked", NoticeKind::Yanked, name, &version)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yanked_versions_become_flags() {
        let answer: CrateAnswer = serde_json::from_str(
            r#"{"crate":{"id":"demo","name":"demo","max_version":"0.3.1"},
            "versions":[
              {"id":3,"crate":"demo","num":"0.3.1","yanked":false,"yank_message":null},
              {"id":2,"crate":"demo","num":"0.3.0","yanked":true,"yank_message":"unsound Send impl"},
              {"id":1,"crate":"demo","num":"0.2.0","yanked":true}
            ],"keywords":[],"categories":[]}"#,
        )
        .unwrap();
        let flags = flags("demo", answer);
        assert_eq!(flags.len(), 2);
        assert_eq!(
            flags[0].summary,
            "demo 0.3.0 was yanked from crates.io: unsound Send impl"
        );
        assert_eq!(flags[1].id, "crates-yanked:demo@0.2.0");
    }

    #[test]
    fn only_crates_io_itself_is_paced() {
        assert!(is_crates_io(&Url::parse("https://crates.io/").unwrap()));
        assert!(is_crates_io(
            &Url::parse("https://static.crates.io/").unwrap()
        ));
        assert!(!is_crates_io(
            &Url::parse("http://127.0.0.1:8080/").unwrap()
        ));
        assert!(!is_crates_io(&Url::parse("https://notcrates.io/").unwrap()));
    }
}
