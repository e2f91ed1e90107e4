//! Posting a repository's dashboard issue to GitHub: created once, then edited in place.
//!
//! The issue is found by the number stored for the repository ([`crate::store::DashboardIssue`]);
//! a stored number GitHub answers 404 or 410 for (deleted, transferred) is replaced by a new
//! issue. A body whose hash equals the stored one is not sent at all. Requests go out once,
//! without retries: a retried POST could open a second issue, and the next sync catches up.
//! The token (ECOWATCH_GITHUB_TOKEN) goes out as a sensitive bearer header only.

use super::dashboard::{self, Dashboard, ISSUE_TITLE};
use crate::http::HttpConfig;
use crate::store::{DashboardIssue, Finding, FindingFilter, FindingStatus, Store, StoreError};
use crate::store::{TenantId, WatchedRepo};
use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeSet;

pub const ENV_TOKEN: &str = "ECOWATCH_GITHUB_TOKEN";
pub const ENV_API_URL: &str = "ECOWATCH_GITHUB_API_URL";
pub const DEFAULT_API_URL: &str = "https://api.github.com";
const API_VERSION: &str = "2022-11-28";

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("{0}")]
    Config(String),
    #[error("{what}: request failed")]
    Http {
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{what}: GitHub answered HTTP {status}")]
    Status { what: String, status: u16 },
    #[error("{what}: the answer is not the issue JSON expected")]
    Json { what: String },
    #[error("the store failed")]
    Store(#[from] StoreError),
}

/// `owner/repo` on GitHub, checked to be only the characters GitHub allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubSlug(String);

impl GitHubSlug {
    pub fn parse(text: &str) -> Result<Self, DashboardError> {
        let ok_part = |part: &str| {
            !part.is_empty()
                && part.len() <= 100
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match text.split_once('/') {
            Some((owner, repo)) if ok_part(owner) && ok_part(repo) => {
                Ok(GitHubSlug(text.to_string()))
            }
            _ => Err(DashboardError::Config(format!(
                "`{}` is not OWNER/REPO",
                text.chars().take(120).collect::<String>()
            ))),
        }
    }

    /// The slug of `https://github.com/OWNER/REPO[.git]`; `None` for any other URL.
    pub fn from_url(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("https://github.com/")?;
        let rest = rest.trim_end_matches('/');
        let rest = rest.strip_suffix(".git").unwrap_or(rest);
        GitHubSlug::parse(rest).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An issue as GitHub answers for it (the fields the sink uses).
#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    pub number: i64,
    pub html_url: String,
}

/// GitHub's issues API, with the token.
pub struct IssuesClient {
    client: reqwest::Client,
    api: Url,
}

/// The token is a secret: never printed.
impl std::fmt::Debug for IssuesClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuesClient")
            .field("api", &self.api.as_str())
            .finish_non_exhaustive()
    }
}

impl IssuesClient {
    /// From ECOWATCH_GITHUB_TOKEN (required) and ECOWATCH_GITHUB_API_URL, with the HTTP
    /// timeouts and User-Agent of ECOWATCH_HTTP_*.
    pub fn from_env() -> Result<Self, DashboardError> {
        let token = std::env::var(ENV_TOKEN)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                DashboardError::Config(format!(
                    "{ENV_TOKEN} is not set (a token that may write issues)"
                ))
            })?;
        let api = std::env::var(ENV_API_URL).unwrap_or_else(|_| DEFAULT_API_URL.to_string());
        let http = HttpConfig::from_env().map_err(|e| DashboardError::Config(e.to_string()))?;
        IssuesClient::new(&api, token.trim(), &http)
    }

    pub fn new(api: &str, token: &str, http: &HttpConfig) -> Result<Self, DashboardError> {
        let mut api = Url::parse(api)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                DashboardError::Config(format!("{ENV_API_URL} is not an http(s) URL"))
            })?;
        if !api.path().ends_with('/') {
            let path = format!("{}/", api.path());
            api.set_path(&path);
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            DashboardError::Config(format!("{ENV_TOKEN} is not a valid header value"))
        })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, auth);
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static(API_VERSION),
        );
        // reqwest's `rustls-no-provider` needs a process-wide provider; a second install fails
        // harmlessly.
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(http.user_agent.clone())
            .connect_timeout(http.connect_timeout)
            .timeout(http.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| DashboardError::Http {
                what: "building the HTTP client".into(),
                source,
            })?;
        Ok(IssuesClient { client, api })
    }

    fn url(&self, path: &str) -> Result<Url, DashboardError> {
        self.api
            .join(path)
            .map_err(|_| DashboardError::Config(format!("cannot build a URL for `{path}`")))
    }

    /// Opens a new dashboard issue.
    pub async fn create(&self, slug: &GitHubSlug, body: &str) -> Result<Issue, DashboardError> {
        let what = format!("creating the dashboard issue in {}", slug.as_str());
        let url = self.url(&format!("repos/{}/issues", slug.as_str()))?;
        let request = self
            .client
            .post(url)
            .json(&serde_json::json!({ "title": ISSUE_TITLE, "body": body }));
        match send(request, &what).await? {
            Some(issue) => Ok(issue),
            None => Err(DashboardError::Status { what, status: 404 }),
        }
    }

    /// Replaces issue `number`'s body; `None` when GitHub says it is gone (404, 410).
    pub async fn edit(
        &self,
        slug: &GitHubSlug,
        number: i64,
        body: &str,
    ) -> Result<Option<Issue>, DashboardError> {
        let what = format!("editing dashboard issue {number} in {}", slug.as_str());
        let url = self.url(&format!("repos/{}/issues/{number}", slug.as_str()))?;
        let request = self
            .client
            .patch(url)
            .json(&serde_json::json!({ "body": body }));
        send(request, &what).await
    }
}

/// Sends once; `None` for 404/410, the issue for 2xx, an error otherwise.
async fn send(
    request: reqwest::RequestBuilder,
    what: &str,
) -> Result<Option<Issue>, DashboardError> {
    let response = request
        .send()
        .await
        .map_err(|source| DashboardError::Http {
            what: what.to_string(),
            source: source.without_url(),
        })?;
    let status = response.status();
    if matches!(status, StatusCode::NOT_FOUND | StatusCode::GONE) {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(DashboardError::Status {
            what: what.to_string(),
            status: status.as_u16(),
        });
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|source| DashboardError::Http {
            what: what.to_string(),
            source: source.without_url(),
        })?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|_| DashboardError::Json {
            what: what.to_string(),
        })
}

/// What the last posted body showed, by fingerprint.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Shown {
    #[serde(default)]
    open: BTreeSet<String>,
    #[serde(default)]
    fixed: BTreeSet<String>,
}

/// What one repository's sync did.
#[derive(Debug)]
pub enum Outcome {
    Created(Issue),
    Edited(Issue),
    /// The stored issue was gone; a new one replaced it.
    Recreated(Issue),
    /// The body is what was posted last; nothing was sent.
    Unchanged {
        number: i64,
    },
    /// `--dry-run`: the body that would be posted.
    DryRun(String),
}

/// Renders the repository's dashboard from the stored findings and posts it (or, without a
/// client, returns the body). "Fixed since last update" lists what the last posted body showed
/// open and is now fixed; while the open set stays the same, that list stays too, so an
/// unchanged state renders the same body and sends nothing.
pub async fn sync_repo(
    store: &Store,
    tenant: TenantId,
    repo: &WatchedRepo,
    repo_name: &str,
    slug: &GitHubSlug,
    client: Option<&IssuesClient>,
    now: DateTime<Utc>,
) -> Result<Outcome, DashboardError> {
    let findings = store
        .list_findings(
            tenant,
            &FindingFilter {
                repo_id: Some(repo.id),
                status: None,
            },
        )
        .await?;
    let stored = store
        .dashboard_issue(tenant, repo.id)
        .await?
        .filter(|issue| issue.github_repo == slug.as_str());
    let previous: Shown = stored
        .as_ref()
        .and_then(|issue| serde_json::from_str(&issue.shown).ok())
        .unwrap_or_default();

    let (open, rest): (Vec<Finding>, Vec<Finding>) = findings
        .into_iter()
        .partition(|f| matches!(f.status, FindingStatus::New | FindingStatus::Open));
    let open_now: BTreeSet<String> = open.iter().map(|f| f.fingerprint.clone()).collect();
    let fixed_candidates: BTreeSet<String> = if open_now == previous.open {
        previous.fixed.clone()
    } else {
        previous.open.difference(&open_now).cloned().collect()
    };
    let fixed: Vec<Finding> = rest
        .into_iter()
        .filter(|f| f.status == FindingStatus::Fixed && fixed_candidates.contains(&f.fingerprint))
        .collect();
    let shown = Shown {
        open: open_now,
        fixed: fixed.iter().map(|f| f.fingerprint.clone()).collect(),
    };

    let body = dashboard::render(&Dashboard {
        github_repo: slug.as_str(),
        repo_name,
        open: &open,
        fixed: &fixed,
    });
    let Some(client) = client else {
        return Ok(Outcome::DryRun(body));
    };
    let hash = sha256_hex(&body);
    if let Some(issue) = &stored
        && issue.body_sha256 == hash
    {
        return Ok(Outcome::Unchanged {
            number: issue.issue_number,
        });
    }
    let outcome = match &stored {
        Some(issue) => match client.edit(slug, issue.issue_number, &body).await? {
            Some(edited) => Outcome::Edited(edited),
            None => Outcome::Recreated(client.create(slug, &body).await?),
        },
        None => Outcome::Created(client.create(slug, &body).await?),
    };
    let number = match &outcome {
        Outcome::Created(i) | Outcome::Edited(i) | Outcome::Recreated(i) => i.number,
        Outcome::Unchanged { number } => *number,
        Outcome::DryRun(_) => return Ok(outcome),
    };
    store
        .put_dashboard_issue(
            tenant,
            &DashboardIssue {
                repo_id: repo.id,
                github_repo: slug.as_str().to_string(),
                issue_number: number,
                body_sha256: hash,
                shown: serde_json::to_string(&shown).unwrap_or_else(|_| "{}".into()),
                updated_at: now,
            },
        )
        .await?;
    Ok(outcome)
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_only_from_github_https_urls() {
        let slug = |u: &str| GitHubSlug::from_url(u).map(|s| s.as_str().to_string());
        assert_eq!(
            slug("https://github.com/acme/api.git").as_deref(),
            Some("acme/api")
        );
        assert_eq!(
            slug("https://github.com/acme/api").as_deref(),
            Some("acme/api")
        );
        assert_eq!(slug("https://gitlab.com/acme/api"), None);
        assert_eq!(slug("https://github.com/acme/api/tree/main"), None);
        assert_eq!(slug("https://github.com/../x"), None);
        assert!(GitHubSlug::parse("acme/a pi").is_err());
        assert!(GitHubSlug::parse("acme").is_err());
    }

    #[test]
    fn the_token_is_not_in_debug_output() {
        let http = HttpConfig::resolve(|_| None).unwrap();
        let client = IssuesClient::new("http://127.0.0.1:1", "ghp_secret", &http).unwrap();
        assert!(!format!("{client:?}").contains("ghp_secret"));
    }
}
