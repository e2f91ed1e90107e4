//! The GitHub client: REST (conditional GETs) and GraphQL, through ecowatch's own
//! [`HttpClient`] rather than octocrab. octocrab's generic helpers treat a 304 as an error, and
//! its retry layer would bypass ours: the body caps, transient retries with backoff, per-host
//! in-flight limits, and the request budget shared through the store. So requests here are
//! serial (GitHub asks for that), each first cleared against the shared budget, and each answer
//! recorded back into it.

use super::budget::{self, Bucket, BudgetError};
use super::ratelimit::{self, DEFAULT_SECONDARY_WAIT, Limit};
use crate::http::{Conditional, HttpClient, HttpError, RateLimitHeaders, Validators};
use crate::store::{CachedValidators, Store, StoreError};
use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;

pub const ENV_TOKEN: &str = "ECOWATCH_GITHUB_TOKEN";
pub const ENV_API_URL: &str = "ECOWATCH_GITHUB_API_URL";
pub const ENV_GRAPHQL_URL: &str = "ECOWATCH_GITHUB_GRAPHQL_URL";
/// The least wait after a secondary limit without `retry-after` (GitHub says a minute).
pub const ENV_SECONDARY_WAIT_MS: &str = "ECOWATCH_GITHUB_SECONDARY_WAIT_MS";
/// A spent budget whose reset is at most this far off is waited out; further, the source stops.
pub const ENV_MAX_RESET_WAIT_SECS: &str = "ECOWATCH_GITHUB_MAX_RESET_WAIT_SECS";
pub const DEFAULT_API_URL: &str = "https://api.github.com";

const DEFAULT_MAX_RESET_WAIT: Duration = Duration::from_secs(60);
/// Secondary limits in a row on one request before the source gives up ("degraded").
const MAX_SECONDARY_RETRIES: u32 = 5;
const API_VERSION: &str = "2022-11-28";
/// GraphQL error text kept in an error message.
const MAX_ERROR_TEXT: usize = 300;

/// Where GitHub is and how to behave towards it.
#[derive(Clone)]
pub struct GitHubConfig {
    /// REST base, with a trailing slash.
    pub api: Url,
    pub graphql: Url,
    token: Option<String>,
    pub secondary_wait: Duration,
    pub max_reset_wait: Duration,
}

/// The token is a secret: never printed.
impl std::fmt::Debug for GitHubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubConfig")
            .field("api", &self.api.as_str())
            .field("graphql", &self.graphql.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("secondary_wait", &self.secondary_wait)
            .field("max_reset_wait", &self.max_reset_wait)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("{name}: {message}")]
    Config { name: &'static str, message: String },
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Budget(#[from] BudgetError),
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error(
        "{request}: GitHub's secondary rate limit held after {attempts} waits; try again later"
    )]
    SecondaryLimit { request: String, attempts: u32 },
    #[error("{url}: GitHub answered with an error: {message}")]
    Graphql { url: String, message: String },
    #[error("{url}: the answer is not the JSON expected")]
    Json {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}

impl GitHubError {
    /// Errors after which no further request on this credential makes sense this run.
    pub fn stops_the_source(&self) -> bool {
        matches!(
            self,
            GitHubError::Budget(_) | GitHubError::SecondaryLimit { .. } | GitHubError::Store(_)
        )
    }
}

impl GitHubConfig {
    /// The environment alone (no ecowatch.toml): see [`crate::source::settings`].
    pub fn from_env() -> Result<Self, GitHubError> {
        use crate::source::settings::{SourceSettings, process_env};
        SourceSettings::from_env().github_config(&process_env)
    }

    pub fn resolve(env: impl Fn(&str) -> Option<String>) -> Result<Self, GitHubError> {
        let get = |key: &str| {
            env(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let api_text = get(ENV_API_URL).unwrap_or_else(|| DEFAULT_API_URL.to_string());
        let api = with_slash(&api_text).ok_or_else(|| GitHubError::Config {
            name: ENV_API_URL,
            message: format!("`{api_text}` is not an http(s) URL"),
        })?;
        let graphql = match get(ENV_GRAPHQL_URL) {
            Some(text) => HttpClient::parse_url(&text).map_err(|_| GitHubError::Config {
                name: ENV_GRAPHQL_URL,
                message: format!("`{text}` is not an http(s) URL"),
            })?,
            None => api.join("graphql").map_err(|err| GitHubError::Config {
                name: ENV_API_URL,
                message: err.to_string(),
            })?,
        };
        let millis = |name: &'static str| -> Result<Option<u64>, GitHubError> {
            get(name)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| GitHubError::Config {
                        name,
                        message: format!("`{v}` is not a whole number"),
                    })
                })
                .transpose()
        };
        let token = env(ENV_TOKEN)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if token
            .as_deref()
            .is_some_and(|t| t.chars().any(|c| c.is_control() || c == ' '))
        {
            return Err(GitHubError::Config {
                name: ENV_TOKEN,
                message: "the token holds spaces or control characters".into(),
            });
        }
        Ok(GitHubConfig {
            api,
            graphql,
            token,
            secondary_wait: millis(ENV_SECONDARY_WAIT_MS)?
                .map_or(DEFAULT_SECONDARY_WAIT, Duration::from_millis),
            max_reset_wait: millis(ENV_MAX_RESET_WAIT_SECS)?
                .map_or(DEFAULT_MAX_RESET_WAIT, Duration::from_secs),
        })
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }
}

fn with_slash(text: &str) -> Option<Url> {
    let mut url = HttpClient::parse_url(text).ok()?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Some(url)
}

/// Counters for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GitHubStats {
    pub not_modified: u64,
    /// REST answers that cost a primary point (a 2xx; a 304 costs none).
    pub core_points: u64,
    /// GraphQL points, as `rateLimit { cost }` reported them.
    pub graphql_points: u64,
    pub rate_limit_waits: u64,
}

/// A REST GET's outcome.
#[derive(Debug)]
pub enum RestAnswer {
    NotModified,
    Fresh {
        body: Vec<u8>,
        validators: Validators,
        /// The next page (`Link: rel="next"`), only when it is on the configured API's origin:
        /// the token must never travel elsewhere.
        next_page: Option<Url>,
    },
}

pub struct GitHubClient {
    http: HttpClient,
    store: Store,
    config: GitHubConfig,
    credential: String,
    auth: Option<HeaderValue>,
    stats: Mutex<GitHubStats>,
}

#[derive(Deserialize)]
struct GraphqlEnvelope {
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

/// One entry of a GraphQL answer's `errors`.
#[derive(Debug, Deserialize)]
pub struct GraphqlError {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: String,
    /// Where in `data` the error belongs; its first element is the top-level field or alias.
    #[serde(default)]
    pub path: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RateLimitField {
    cost: Option<i64>,
    limit: Option<i64>,
    remaining: Option<i64>,
    reset_at: Option<DateTime<Utc>>,
}

impl GitHubClient {
    pub fn new(http: HttpClient, store: Store, config: GitHubConfig) -> Result<Self, GitHubError> {
        let credential = budget::credential_id(config.api.as_str(), config.token.as_deref());
        let auth = match &config.token {
            Some(token) => {
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        GitHubError::Config {
                            name: ENV_TOKEN,
                            message: "the token is not a valid header value".into(),
                        }
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(GitHubClient {
            http,
            store,
            config,
            credential,
            auth,
            stats: Mutex::new(GitHubStats::default()),
        })
    }

    pub fn config(&self) -> &GitHubConfig {
        &self.config
    }

    pub fn stats(&self) -> GitHubStats {
        *self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn requests_sent(&self) -> u64 {
        self.http.requests_sent()
    }

    fn count(&self, f: impl FnOnce(&mut GitHubStats)) {
        f(&mut self.stats.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn headers(&self, accept: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(accept) {
            headers.insert(header::ACCEPT, value);
        }
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static(API_VERSION),
        );
        if let Some(auth) = &self.auth {
            headers.insert(header::AUTHORIZATION, auth.clone());
        }
        headers
    }

    /// `path` under the REST base (`repos/o/r/releases?per_page=100`).
    pub fn rest_url(&self, path: &str) -> Result<Url, GitHubError> {
        self.config
            .api
            .join(path)
            .map_err(|err| GitHubError::Config {
                name: ENV_API_URL,
                message: format!("cannot build a URL for `{path}`: {err}"),
            })
    }

    /// The validators' key: an ETag holds only for the credential and `Accept` that got it.
    fn cache_key(&self, url: &Url, accept: &str) -> String {
        format!("{} {} {}", self.credential, accept, url)
    }

    /// A conditional GET with the validators stored for (credential, URL, Accept). Call
    /// [`GitHubClient::remember`] once what the body yielded is stored.
    pub async fn rest_get(&self, url: &Url, accept: &str) -> Result<RestAnswer, GitHubError> {
        let key = self.cache_key(url, accept);
        let validators = self
            .store
            .get_validators(&key)
            .await?
            .map(|v| Validators {
                etag: v.etag,
                last_modified: v.last_modified,
            })
            .unwrap_or_default();
        let headers = self.headers(accept);
        let mut secondary = 0;
        loop {
            budget::clear_to_send(
                &self.store,
                &self.credential,
                Bucket::Core,
                self.config.max_reset_wait,
            )
            .await?;
            match self.http.get_conditional(url, &headers, &validators).await {
                Ok(Conditional::NotModified { rate }) => {
                    self.count(|s| s.not_modified += 1);
                    self.record(Bucket::Core, &rate, None).await?;
                    return Ok(RestAnswer::NotModified);
                }
                Ok(Conditional::Fresh {
                    body,
                    validators,
                    rate,
                    next_page,
                }) => {
                    self.count(|s| s.core_points += 1);
                    self.record(Bucket::Core, &rate, None).await?;
                    let next_page = next_page.and_then(|text| self.same_api(&text));
                    return Ok(RestAnswer::Fresh {
                        body,
                        validators,
                        next_page,
                    });
                }
                Err(err) => {
                    self.on_refusal(err, Bucket::Core, url, &mut secondary)
                        .await?
                }
            }
        }
    }

    /// Whether validators are stored for `url`: none means this is the first visit.
    pub async fn has_validators(&self, url: &Url, accept: &str) -> Result<bool, GitHubError> {
        let key = self.cache_key(url, accept);
        Ok(self.store.get_validators(&key).await?.is_some())
    }

    /// Drops the validators stored for `url`, so the next request is answered in full.
    pub async fn forget(&self, url: &Url, accept: &str) -> Result<(), GitHubError> {
        let key = self.cache_key(url, accept);
        self.store.delete_validators(&key).await?;
        Ok(())
    }

    /// `text` as a URL under the configured REST base (same scheme, host, port and path prefix).
    fn same_api(&self, text: &str) -> Option<Url> {
        let url = Url::parse(text).ok()?;
        let api = &self.config.api;
        (url.origin() == api.origin() && url.path().starts_with(api.path())).then_some(url)
    }

    /// Stores the validators of a fresh answer (see [`Store::put_validators`]).
    pub async fn remember(
        &self,
        url: &Url,
        accept: &str,
        validators: &Validators,
    ) -> Result<(), GitHubError> {
        let key = self.cache_key(url, accept);
        self.store
            .put_validators(
                &key,
                200,
                &CachedValidators {
                    etag: validators.etag.clone(),
                    last_modified: validators.last_modified.clone(),
                },
            )
            .await?;
        Ok(())
    }

    /// A GraphQL query; `data` decoded as `T`. `rateLimit { cost remaining resetAt }` in the
    /// answer's data is recorded; errors of type `RATE_LIMITED` (which come as HTTP 200) wait
    /// like REST limits; other errors fail the query.
    pub async fn graphql<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<T, GitHubError> {
        let (data, errors) = self.graphql_partial(query, variables).await?;
        let url = self.config.graphql.as_str();
        if !errors.is_empty() {
            return Err(GitHubError::Graphql {
                url: url.to_string(),
                message: error_text(&errors),
            });
        }
        serde_json::from_value(data).map_err(|source| GitHubError::Json {
            url: url.to_string(),
            source,
        })
    }

    /// A GraphQL query whose errors need not fail it: a batch of aliased fields gets the data
    /// of the fields that resolved, and the errors (each naming its alias in `path`) of those
    /// that did not. Rate limits are handled as in [`GitHubClient::graphql`].
    pub async fn graphql_partial(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<(Value, Vec<GraphqlError>), GitHubError> {
        let url = self.config.graphql.clone();
        let payload = serde_json::to_vec(&serde_json::json!({
            "query": query,
            "variables": variables,
        }))
        .map_err(|source| GitHubError::Json {
            url: url.to_string(),
            source,
        })?;
        let headers = self.headers("application/json");
        let mut secondary = 0;
        loop {
            budget::clear_to_send(
                &self.store,
                &self.credential,
                Bucket::Graphql,
                self.config.max_reset_wait,
            )
            .await?;
            let answer = match self
                .http
                .exchange(Method::POST, &url, &headers, Some(payload.clone()))
                .await
            {
                Ok(answer) => answer,
                Err(err) => {
                    self.on_refusal(err, Bucket::Graphql, &url, &mut secondary)
                        .await?;
                    continue;
                }
            };
            let envelope: GraphqlEnvelope =
                serde_json::from_slice(&answer.body).map_err(|source| GitHubError::Json {
                    url: url.to_string(),
                    source,
                })?;
            let mut data = envelope.data.unwrap_or(Value::Null);
            let rate_field: Option<RateLimitField> = data
                .get_mut("rateLimit")
                .map(Value::take)
                .and_then(|v| serde_json::from_value(v).ok());
            let cost = rate_field.as_ref().and_then(|r| r.cost).unwrap_or(1).max(0);
            self.count(|s| s.graphql_points += u64::try_from(cost).unwrap_or(0));
            self.record(Bucket::Graphql, &answer.rate, rate_field.as_ref())
                .await?;
            if envelope
                .errors
                .iter()
                .any(|e| e.kind.as_deref() == Some("RATE_LIMITED"))
            {
                let now = Utc::now();
                let limit = ratelimit::classify_graphql_limit(
                    &answer.rate,
                    rate_field.as_ref().and_then(|r| r.remaining),
                    rate_field.as_ref().and_then(|r| r.reset_at),
                    now,
                );
                self.wait_for(limit, Bucket::Graphql, &url, &mut secondary)
                    .await?;
                continue;
            }
            return Ok((data, envelope.errors));
        }
    }

    /// A 403/429 becomes a wait (or the end of the source); any other error is returned.
    async fn on_refusal(
        &self,
        err: HttpError,
        bucket: Bucket,
        url: &Url,
        secondary: &mut u32,
    ) -> Result<(), GitHubError> {
        let HttpError::Refused {
            status,
            rate,
            excerpt,
            ..
        } = &err
        else {
            return Err(err.into());
        };
        let limit = ratelimit::classify_refusal(*status, rate, excerpt, Utc::now());
        if limit == Limit::NotALimit {
            return Err(err.into());
        }
        self.wait_for(limit, bucket, url, secondary).await
    }

    /// Primary: record the spent budget (the next `clear_to_send` waits or stops). Secondary:
    /// sleep with growing backoff, at most [`MAX_SECONDARY_RETRIES`] times.
    async fn wait_for(
        &self,
        limit: Limit,
        bucket: Bucket,
        url: &Url,
        secondary: &mut u32,
    ) -> Result<(), GitHubError> {
        self.count(|s| s.rate_limit_waits += 1);
        match limit {
            Limit::Primary { reset_at } => {
                budget::record(
                    &self.store,
                    &self.credential,
                    bucket,
                    None,
                    Some(0),
                    Some(reset_at),
                )
                .await?;
                Ok(())
            }
            Limit::Secondary { retry_after } => {
                *secondary += 1;
                if *secondary > MAX_SECONDARY_RETRIES {
                    return Err(GitHubError::SecondaryLimit {
                        request: url.to_string(),
                        attempts: MAX_SECONDARY_RETRIES,
                    });
                }
                let wait =
                    ratelimit::secondary_wait(retry_after, self.config.secondary_wait, *secondary);
                tokio::time::sleep(wait).await;
                Ok(())
            }
            Limit::NotALimit => Ok(()),
        }
    }

    async fn record(
        &self,
        bucket: Bucket,
        rate: &RateLimitHeaders,
        field: Option<&RateLimitField>,
    ) -> Result<(), GitHubError> {
        let reset = field
            .and_then(|f| f.reset_at)
            .or_else(|| rate.reset.and_then(|s| DateTime::from_timestamp(s, 0)));
        let remaining = field.and_then(|f| f.remaining).or(rate.remaining);
        let limit = field.and_then(|f| f.limit).or(rate.limit);
        budget::record(
            &self.store,
            &self.credential,
            bucket,
            limit,
            remaining,
            reset,
        )
        .await?;
        Ok(())
    }
}

/// GraphQL error messages, joined and capped, control characters dropped.
pub(crate) fn error_text(errors: &[GraphqlError]) -> String {
    let joined = errors
        .iter()
        .map(|e| match &e.kind {
            Some(kind) => format!("{kind}: {}", e.message),
            None => e.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    joined
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_ERROR_TEXT)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides_and_the_token_stays_secret() {
        let config = GitHubConfig::resolve(|_| None).unwrap();
        assert_eq!(config.api.as_str(), "https://api.github.com/");
        assert_eq!(config.graphql.as_str(), "https://api.github.com/graphql");
        assert_eq!(config.secondary_wait, DEFAULT_SECONDARY_WAIT);
        let config = GitHubConfig::resolve(|key| {
            Some(
                match key {
                    ENV_API_URL => "http://127.0.0.1:9/api/v3",
                    ENV_TOKEN => "ghp_topsecret",
                    ENV_SECONDARY_WAIT_MS => "5",
                    _ => return None,
                }
                .to_string(),
            )
        })
        .unwrap();
        assert_eq!(config.api.as_str(), "http://127.0.0.1:9/api/v3/");
        assert_eq!(config.graphql.as_str(), "http://127.0.0.1:9/api/v3/graphql");
        assert_eq!(config.secondary_wait, Duration::from_millis(5));
        assert!(!format!("{config:?}").contains("topsecret"));
        let err = GitHubConfig::resolve(|key| (key == ENV_API_URL).then(|| "file:///x".into()))
            .unwrap_err();
        assert!(err.to_string().contains(ENV_API_URL));
        let err =
            GitHubConfig::resolve(|key| (key == ENV_TOKEN).then(|| "a\r\nb".into())).unwrap_err();
        assert!(!err.to_string().contains("a\r\nb"));
    }

    #[test]
    fn graphql_errors_are_capped_and_stripped() {
        let errors = vec![GraphqlError {
            kind: Some("NOT_FOUND".into()),
            message: format!("Could not resolve\r\n{}", "x".repeat(1000)),
            path: Vec::new(),
        }];
        let text = error_text(&errors);
        assert!(text.starts_with("NOT_FOUND: Could not resolve"));
        assert!(!text.contains('\n'));
        assert_eq!(text.chars().count(), MAX_ERROR_TEXT);
    }
}
