//! Conditional GETs and exchanges whose response headers matter, for APIs that meter us
//! (GitHub above all).
//!
//! A `304 Not Modified` is a success with no body: the caller keeps what it derived last time,
//! and on GitHub it costs no primary budget. A 403 or 429 is handed back unretried as
//! [`HttpError::Refused`] with the rate-limit headers, because whether and how long to wait is
//! the API's policy (primary vs secondary limits), not this client's. Everything else goes
//! through the same caps, per-host slots and transient retries as [`HttpClient::get_bytes`].

use super::{HttpClient, HttpError, line, parse_retry_after};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

/// Bytes of a refused response kept to tell a rate limit from a plain "forbidden".
const REFUSED_EXCERPT_BYTES: usize = 1024;
/// A validator longer than this is not something a sane server sends; it is not stored.
const MAX_VALIDATOR_LEN: usize = 512;
/// A `Link` header longer than this is not read.
const MAX_LINK_LEN: usize = 4096;

/// What a previous response said about its version, sent back to ask "changed since?".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }

    fn from_headers(headers: &HeaderMap) -> Self {
        Validators {
            etag: text(headers, header::ETAG.as_str()).filter(|v| v.len() <= MAX_VALIDATOR_LEN),
            last_modified: text(headers, header::LAST_MODIFIED.as_str())
                .filter(|v| v.len() <= MAX_VALIDATOR_LEN),
        }
    }
}

/// The response headers a rate-limit policy reads (GitHub's names; absent ones are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitHeaders {
    pub limit: Option<i64>,
    pub remaining: Option<i64>,
    pub used: Option<i64>,
    /// When the window resets, in UTC epoch seconds.
    pub reset: Option<i64>,
    /// The bucket the request counted against (`core`, `graphql`, `search`, ...).
    pub resource: Option<String>,
    pub retry_after: Option<Duration>,
}

impl RateLimitHeaders {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let number = |name: &str| text(headers, name).and_then(|v| v.parse::<i64>().ok());
        RateLimitHeaders {
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            used: number("x-ratelimit-used"),
            reset: number("x-ratelimit-reset"),
            resource: text(headers, "x-ratelimit-resource")
                .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic())),
            retry_after: text(headers, header::RETRY_AFTER.as_str())
                .and_then(|v| parse_retry_after(&v, SystemTime::now())),
        }
    }
}

/// The outcome of a conditional GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional {
    /// 304: what the validators describe is still current.
    NotModified { rate: RateLimitHeaders },
    /// 2xx: a new body and the validators to send next time.
    Fresh {
        body: Vec<u8>,
        validators: Validators,
        rate: RateLimitHeaders,
        /// The `Link: <...>; rel="next"` target, for paginated APIs.
        next_page: Option<String>,
    },
}

/// A successful (2xx or 304) response with the headers that matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub validators: Validators,
    pub rate: RateLimitHeaders,
    /// The `Link: <...>; rel="next"` target, for paginated APIs.
    pub next_page: Option<String>,
}

impl HttpClient {
    /// GET `url` with `headers`, plus `If-None-Match` / `If-Modified-Since` from `validators`.
    pub async fn get_conditional(
        &self,
        url: &Url,
        headers: &HeaderMap,
        validators: &Validators,
    ) -> Result<Conditional, HttpError> {
        let mut headers = headers.clone();
        if let Some(value) = validators.etag.as_deref().and_then(header_value) {
            headers.insert(header::IF_NONE_MATCH, value);
        }
        if let Some(value) = validators.last_modified.as_deref().and_then(header_value) {
            headers.insert(header::IF_MODIFIED_SINCE, value);
        }
        let answer = self.exchange(Method::GET, url, &headers, None).await?;
        Ok(if answer.status == StatusCode::NOT_MODIFIED {
            Conditional::NotModified { rate: answer.rate }
        } else {
            Conditional::Fresh {
                body: answer.body,
                validators: answer.validators,
                rate: answer.rate,
                next_page: answer.next_page,
            }
        })
    }

    /// One request with extra `headers` (and an optional JSON body, for queries only: it is
    /// retried), answered with its rate-limit headers. Transient failures (timeouts, 5xx, 408)
    /// are retried with backoff; 403 and 429 come back at once as [`HttpError::Refused`].
    pub async fn exchange(
        &self,
        method: Method,
        url: &Url,
        headers: &HeaderMap,
        json_body: Option<Vec<u8>>,
    ) -> Result<Answer, HttpError> {
        // A 403/429 is the caller's to read (primary or secondary limit), not to retry blindly.
        let refused = |err: &HttpError| matches!(err, HttpError::Refused { .. });
        self.with_retries(&method, url, refused, || {
            self.attempt_with_headers(method.clone(), url, headers, json_body.clone())
        })
        .await
    }

    async fn attempt_with_headers(
        &self,
        method: Method,
        url: &Url,
        headers: &HeaderMap,
        json_body: Option<Vec<u8>>,
    ) -> Result<Answer, HttpError> {
        let inner = &self.inner;
        let _slot = inner.hosts.acquire(url).await;
        inner.requests.fetch_add(1, Ordering::Relaxed);
        let mut request = inner
            .client
            .request(method.clone(), url.clone())
            .headers(headers.clone());
        if let Some(body) = json_body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let failed = |source: reqwest::Error| self.transport_error(&method, url, source);
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status();
        let rate = RateLimitHeaders::from_headers(response.headers());
        let validators = Validators::from_headers(response.headers());
        let next_page =
            text(response.headers(), header::LINK.as_str()).and_then(|link| next_link(&link));
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Answer {
                status,
                body: Vec::new(),
                validators,
                rate,
                next_page,
            });
        }
        if status == StatusCode::FORBIDDEN || status == StatusCode::TOO_MANY_REQUESTS {
            let mut excerpt = Vec::new();
            while excerpt.len() < REFUSED_EXCERPT_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            excerpt.truncate(REFUSED_EXCERPT_BYTES);
            return Err(HttpError::Refused {
                request: line(&method, url),
                status,
                rate: Box::new(rate),
                excerpt: String::from_utf8_lossy(&excerpt).into_owned(),
            });
        }
        if !status.is_success() {
            let retry_after = (status == StatusCode::SERVICE_UNAVAILABLE)
                .then_some(rate.retry_after)
                .flatten();
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
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            body,
            validators,
            rate,
            next_page,
        })
    }
}

fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The `rel="next"` target of a `Link` header (RFC 8288, as GitHub writes it:
/// `<https://api.github.com/...&page=2>; rel="next", <...>; rel="last"`).
fn next_link(link: &str) -> Option<String> {
    if link.len() > MAX_LINK_LEN {
        return None;
    }
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            p.trim()
                .strip_prefix("rel=")
                .is_some_and(|rel| rel.trim_matches('"').split(' ').any(|r| r == "next"))
        });
        is_next.then(|| target.to_string())
    })
}

/// A stored validator as a header value; one with CR, LF or other controls is not sent.
fn header_value(text: &str) -> Option<HeaderValue> {
    if text.bytes().any(|b| b.is_ascii_control()) {
        return None;
    }
    HeaderValue::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_headers_are_read_and_garbage_is_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-used", HeaderValue::from_static("5000"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("1700000000"));
        headers.insert("x-ratelimit-resource", HeaderValue::from_static("core"));
        headers.insert("retry-after", HeaderValue::from_static("30"));
        let rate = RateLimitHeaders::from_headers(&headers);
        assert_eq!(rate.remaining, Some(0));
        assert_eq!(rate.reset, Some(1_700_000_000));
        assert_eq!(rate.resource.as_deref(), Some("core"));
        assert_eq!(rate.retry_after, Some(Duration::from_secs(30)));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("lots"));
        headers.insert("x-ratelimit-resource", HeaderValue::from_static("a b"));
        let rate = RateLimitHeaders::from_headers(&headers);
        assert_eq!(rate.remaining, None);
        assert_eq!(rate.resource, None);
    }

    #[test]
    fn the_next_link_is_read_and_others_are_ignored() {
        let link = "<https://api.github.com/repositories/1/releases?per_page=100&page=2>; rel=\"next\", \
                    <https://api.github.com/repositories/1/releases?per_page=100&page=5>; rel=\"last\"";
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1/releases?per_page=100&page=2")
        );
        assert_eq!(next_link("<https://x.test/?page=1>; rel=\"prev\""), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link(&"<".repeat(10_000)), None);
    }

    #[test]
    fn validators_with_control_characters_are_never_sent() {
        assert!(header_value("\"abc\"").is_some());
        assert!(header_value("\"abc\"\r\nX-Evil: 1").is_none());
    }
}
