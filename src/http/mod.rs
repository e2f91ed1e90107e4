//! The one HTTP client every source uses, so that ecowatch is polite and bounded everywhere:
//! a `User-Agent` naming ecowatch, connect and total timeouts, a cap on response size, retries
//! with exponential backoff and jitter on transient failures (honouring `Retry-After` on 429 and
//! 503), and at most N requests in flight per host.
//!
//! Only idempotent requests go through it (GETs, and POSTs that are queries such as OSV's
//! `querybatch`), because a retry may repeat a request the server already saw.
//!
//! Base URLs here come from ecowatch's configuration. URLs that users type (webhooks, extra
//! changelog URLs) must additionally pass the SSRF guard before reaching [`HttpClient`].

mod conditional;
mod config;
mod hosts;
mod retry;
pub mod ssrf;

pub use conditional::{Answer, Conditional, RateLimitHeaders, Validators};
pub use config::{ConfigError, HttpConfig, user_agent};
pub use retry::{backoff, parse_retry_after};

use hosts::HostLimits;
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Whether trying again later might succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transience {
    /// Timeouts, refused or reset connections, 5xx, 408 and 429: the server may recover.
    Transient,
    /// Bad URLs, other 4xx, oversized or malformed bodies: repeating will not help.
    Permanent,
}

/// The request an error is about ("POST https://api.osv.dev/v1/querybatch"), boxed so errors
/// stay small. URLs here are configured base URLs, never secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub method: Method,
    pub url: Url,
}

impl std::fmt::Display for RequestLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.url)
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot build the HTTP client")]
    Build(#[source] reqwest::Error),
    #[error("`{0}` is not an http or https URL")]
    BadUrl(String),
    #[error("{request}: no complete response within {timeout:?}")]
    Timeout {
        request: Box<RequestLine>,
        timeout: Duration,
    },
    #[error("{request}: the connection failed")]
    Transport {
        request: Box<RequestLine>,
        #[source]
        source: reqwest::Error,
    },
    #[error("{request}: HTTP {status}")]
    Status {
        request: Box<RequestLine>,
        status: StatusCode,
        /// The server's `Retry-After`, read on 429 and 503 only.
        retry_after: Option<Duration>,
    },
    /// A 403 or 429 from [`HttpClient::exchange`], unretried: the API's own rate-limit policy
    /// reads `rate` (and the start of the body) to decide how long to wait.
    #[error("{request}: HTTP {status}")]
    Refused {
        request: Box<RequestLine>,
        status: StatusCode,
        rate: Box<RateLimitHeaders>,
        /// The body's first KiB, for telling a rate limit from a plain refusal; never shown.
        excerpt: String,
    },
    #[error("{request}: the response is larger than {limit} bytes")]
    TooLarge {
        request: Box<RequestLine>,
        limit: u64,
    },
    #[error("{url}: the response is not the JSON expected")]
    Json {
        url: Box<Url>,
        #[source]
        source: serde_json::Error,
    },
    /// The last attempt's error names the request.
    #[error("gave up after {attempts} attempts")]
    Exhausted {
        request: Box<RequestLine>,
        attempts: u32,
        #[source]
        last: Box<HttpError>,
    },
}

impl HttpError {
    pub fn transience(&self) -> Transience {
        match self {
            HttpError::Timeout { .. } | HttpError::Exhausted { .. } | HttpError::Refused { .. } => {
                Transience::Transient
            }
            HttpError::Transport { source, .. } if !source.is_builder() => Transience::Transient,
            HttpError::Status { status, .. }
                if status.is_server_error()
                    || *status == StatusCode::TOO_MANY_REQUESTS
                    || *status == StatusCode::REQUEST_TIMEOUT =>
            {
                Transience::Transient
            }
            _ => Transience::Permanent,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.transience() == Transience::Transient
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The shared client. Cheap to clone; clones share connections, host limits and counters.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    config: HttpConfig,
    hosts: HostLimits,
    /// Attempts sent, retries included: what the servers saw.
    requests: AtomicU64,
}

/// reqwest's `rustls-no-provider` panics at `build()` unless a process-wide provider exists.
/// ring is the only one compiled in; a second install attempt fails harmlessly.
fn install_crypto_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

impl HttpClient {
    pub fn new(config: HttpConfig) -> Result<Self, HttpError> {
        Self::with_headers(config, reqwest::header::HeaderMap::new())
    }

    /// A client that sends `headers` with every request, for APIs that choose the answer's
    /// shape by them (npm's abbreviated metadata by `Accept`).
    pub fn with_headers(
        config: HttpConfig,
        headers: reqwest::header::HeaderMap,
    ) -> Result<Self, HttpError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(HttpError::Build)?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                hosts: HostLimits::new(config.max_in_flight_per_host),
                client,
                config,
                requests: AtomicU64::new(0),
            }),
        })
    }

    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// Requests sent so far, each retry counted.
    pub fn requests_sent(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// Parses `text` as an http(s) URL.
    pub fn parse_url(text: &str) -> Result<Url, HttpError> {
        match Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
            _ => Err(HttpError::BadUrl(text.to_string())),
        }
    }

    /// The body of a successful GET, at most `max_body_bytes` long.
    pub async fn get_bytes(&self, url: &Url) -> Result<Vec<u8>, HttpError> {
        self.execute(Method::GET, url, None).await
    }

    pub async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<T, HttpError> {
        let body = self.get_bytes(url).await?;
        decode(url, &body)
    }

    /// POSTs `body` as JSON and decodes the JSON answer. Only for queries: it is retried.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        url: &Url,
        body: &B,
    ) -> Result<T, HttpError> {
        let payload = serde_json::to_vec(body).map_err(|source| HttpError::Json {
            url: Box::new(url.clone()),
            source,
        })?;
        let answer = self.execute(Method::POST, url, Some(payload)).await?;
        decode(url, &answer)
    }

    /// Sends with retries: transient failures wait (the server's `Retry-After`, else backoff)
    /// and try again until `max_attempts`; permanent ones return at once.
    async fn execute(
        &self,
        method: Method,
        url: &Url,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, HttpError> {
        self.with_retries(
            &method,
            url,
            |_| false,
            || self.attempt(method.clone(), url, body.clone()),
        )
        .await
    }

    /// The retry loop every request shares: `send` is one try; transient failures wait (the
    /// server's `Retry-After`, else backoff with jitter) and try again until `max_attempts`;
    /// permanent ones, and those `stop` picks out, return at once.
    pub(crate) async fn with_retries<T, Fut>(
        &self,
        method: &Method,
        url: &Url,
        stop: impl Fn(&HttpError) -> bool,
        mut send: impl FnMut() -> Fut,
    ) -> Result<T, HttpError>
    where
        Fut: std::future::Future<Output = Result<T, HttpError>>,
    {
        let config = &self.inner.config;
        let max_attempts = config.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let err = match send().await {
                Ok(answer) => return Ok(answer),
                Err(err) => err,
            };
            if stop(&err) || !err.is_transient() {
                return Err(err);
            }
            let wait = match err.retry_after() {
                Some(wait) if wait > config.max_retry_after => return Err(err),
                Some(wait) => wait,
                None => backoff(config.backoff_base, config.backoff_max, attempt),
            };
            if attempt >= max_attempts {
                return Err(if attempt == 1 {
                    err
                } else {
                    HttpError::Exhausted {
                        request: line(method, url),
                        attempts: attempt,
                        last: Box::new(err),
                    }
                });
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One try, holding a slot of the host's in-flight limit until the body is read.
    async fn attempt(
        &self,
        method: Method,
        url: &Url,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, HttpError> {
        let inner = &self.inner;
        let _slot = inner.hosts.acquire(url).await;
        inner.requests.fetch_add(1, Ordering::Relaxed);
        let mut request = inner.client.request(method.clone(), url.clone());
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let failed = |source: reqwest::Error| self.transport_error(&method, url, source);
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = if status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::SERVICE_UNAVAILABLE
            {
                response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()))
            } else {
                None
            };
            return Err(HttpError::Status {
                request: line(&method, url),
                status,
                retry_after,
            });
        }
        let limit = inner.config.max_body_bytes;
        let too_large = || HttpError::TooLarge {
            request: line(&method, url),
            limit,
        };
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    fn transport_error(&self, method: &Method, url: &Url, source: reqwest::Error) -> HttpError {
        if source.is_timeout() {
            HttpError::Timeout {
                request: line(method, url),
                timeout: self.inner.config.timeout,
            }
        } else {
            HttpError::Transport {
                request: line(method, url),
                // The request line already names the URL.
                source: source.without_url(),
            }
        }
    }
}

fn line(method: &Method, url: &Url) -> Box<RequestLine> {
    Box::new(RequestLine {
        method: method.clone(),
        url: url.clone(),
    })
}

/// Decodes a whole body; truncated or malformed JSON is an error, never a partial value.
pub fn decode<T: DeserializeOwned>(url: &Url, body: &[u8]) -> Result<T, HttpError> {
    serde_json::from_slice(body).map_err(|source| HttpError::Json {
        url: Box::new(url.clone()),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_error(code: u16) -> HttpError {
        HttpError::Status {
            request: line(&Method::GET, &Url::parse("http://127.0.0.1/").unwrap()),
            status: StatusCode::from_u16(code).unwrap(),
            retry_after: None,
        }
    }

    #[test]
    fn server_errors_and_rate_limits_are_transient_client_errors_are_not() {
        for code in [500, 502, 503, 504, 429, 408] {
            assert!(status_error(code).is_transient(), "{code}");
        }
        for code in [400, 401, 403, 404, 410, 422] {
            assert_eq!(
                status_error(code).transience(),
                Transience::Permanent,
                "{code}"
            );
        }
    }

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        assert!(HttpClient::parse_url("https://api.osv.dev").is_ok());
        assert!(HttpClient::parse_url("http://127.0.0.1:8080/x").is_ok());
        for bad in [
            "file:///etc/passwd",
            "ftp://x.test/",
            "api.osv.dev",
            "",
            "http://",
        ] {
            assert!(HttpClient::parse_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn truncated_json_is_an_error_not_a_partial_value() {
        let url = Url::parse("http://127.0.0.1/").unwrap();
        let err = decode::<serde_json::Value>(&url, br#"{"results":[{"vulns":[{"id""#).unwrap_err();
        assert!(matches!(err, HttpError::Json { .. }));
        assert!(!err.is_transient());
    }

    #[test]
    fn building_twice_installs_the_provider_once_without_panicking() {
        assert!(HttpClient::new(HttpConfig::default()).is_ok());
        assert!(HttpClient::new(HttpConfig::default()).is_ok());
    }
}
