//! GitHub's rate-limit rules, as its docs state them: a primary limit (a 403 or 429 with
//! `x-ratelimit-remaining: 0`: nothing before `x-ratelimit-reset`), a secondary limit (a 403 or
//! 429 otherwise: wait `retry-after`, else at least a minute, then back off exponentially), and
//! GraphQL limits that arrive as HTTP 200 with an error of type `RATE_LIMITED`.

use crate::http::RateLimitHeaders;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use std::time::Duration;

/// GitHub's documented floor when a secondary limit gives no `retry-after`.
pub const DEFAULT_SECONDARY_WAIT: Duration = Duration::from_secs(60);
/// A wait that grows past this is capped: the attempt cap ends things before it matters.
const MAX_SECONDARY_WAIT: Duration = Duration::from_secs(15 * 60);
/// A primary limit whose reset time is missing or garbled waits this long.
const UNKNOWN_RESET: Duration = Duration::from_secs(60);

/// What a refusal (or a GraphQL error) means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limit {
    /// The credential's budget is spent until `reset_at`.
    Primary { reset_at: DateTime<Utc> },
    /// Slow down: wait `retry_after` if given, else the configured minimum, growing each time.
    Secondary { retry_after: Option<Duration> },
    /// Not a rate limit (a plain 403: no access, SSO, a blocked repository).
    NotALimit,
}

/// Classifies a 403 or 429. A 403 is a limit only when the headers or the message say so:
/// GitHub also answers 403 for lack of access, and waiting would not help.
pub fn classify_refusal(
    status: StatusCode,
    rate: &RateLimitHeaders,
    excerpt: &str,
    now: DateTime<Utc>,
) -> Limit {
    if rate.remaining == Some(0) && rate.retry_after.is_none() {
        return Limit::Primary {
            reset_at: reset_time(rate.reset, now),
        };
    }
    let says_limit = excerpt.to_ascii_lowercase().contains("rate limit");
    if status == StatusCode::TOO_MANY_REQUESTS || rate.retry_after.is_some() || says_limit {
        return Limit::Secondary {
            retry_after: rate.retry_after,
        };
    }
    Limit::NotALimit
}

/// Classifies a GraphQL `RATE_LIMITED` error: primary when the budget is known to be spent.
pub fn classify_graphql_limit(
    rate: &RateLimitHeaders,
    body_remaining: Option<i64>,
    body_reset: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Limit {
    if rate.remaining == Some(0) || body_remaining == Some(0) {
        let reset_at = body_reset
            .filter(|r| *r > now)
            .unwrap_or_else(|| reset_time(rate.reset, now));
        return Limit::Primary { reset_at };
    }
    Limit::Secondary {
        retry_after: rate.retry_after,
    }
}

/// `x-ratelimit-reset` as a time; missing or garbled means a minute from now.
pub fn reset_time(reset: Option<i64>, now: DateTime<Utc>) -> DateTime<Utc> {
    reset
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(|| now + UNKNOWN_RESET)
}

/// The wait before retry `attempt` (1 for the first) after a secondary limit: the server's
/// `retry-after` or `minimum`, doubled for each further attempt, plus up to a quarter more at
/// random so processes that were limited together do not return together. Never less than
/// what the server asked for.
pub fn secondary_wait(retry_after: Option<Duration>, minimum: Duration, attempt: u32) -> Duration {
    let base = retry_after.unwrap_or(minimum);
    let grown = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(10))
        .min(MAX_SECONDARY_WAIT.max(base));
    let jitter_max = u64::try_from((grown / 4).as_millis()).unwrap_or(u64::MAX);
    grown + Duration::from_millis(fastrand::u64(0..=jitter_max))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn rate(remaining: Option<i64>, reset: Option<i64>, retry: Option<u64>) -> RateLimitHeaders {
        RateLimitHeaders {
            remaining,
            reset,
            retry_after: retry.map(Duration::from_secs),
            ..RateLimitHeaders::default()
        }
    }

    #[test]
    fn remaining_zero_is_primary_until_the_reset() {
        let limit = classify_refusal(
            StatusCode::FORBIDDEN,
            &rate(Some(0), Some(1_700_000_120), None),
            "API rate limit exceeded",
            now(),
        );
        assert_eq!(
            limit,
            Limit::Primary {
                reset_at: DateTime::from_timestamp(1_700_000_120, 0).unwrap()
            }
        );
        // No usable reset: a minute, not "now".
        let limit = classify_refusal(
            StatusCode::TOO_MANY_REQUESTS,
            &rate(Some(0), None, None),
            "",
            now(),
        );
        assert_eq!(
            limit,
            Limit::Primary {
                reset_at: now() + UNKNOWN_RESET
            }
        );
    }

    #[test]
    fn secondary_limits_with_and_without_retry_after_and_plain_forbidden() {
        let secondary = classify_refusal(
            StatusCode::FORBIDDEN,
            &rate(Some(4000), None, None),
            r#"{"message":"You have exceeded a secondary rate limit."}"#,
            now(),
        );
        assert_eq!(secondary, Limit::Secondary { retry_after: None });
        let with_retry = classify_refusal(
            StatusCode::FORBIDDEN,
            &rate(Some(4000), None, Some(30)),
            "",
            now(),
        );
        assert_eq!(
            with_retry,
            Limit::Secondary {
                retry_after: Some(Duration::from_secs(30))
            }
        );
        assert_eq!(
            classify_refusal(
                StatusCode::TOO_MANY_REQUESTS,
                &rate(None, None, None),
                "",
                now()
            ),
            Limit::Secondary { retry_after: None }
        );
        assert_eq!(
            classify_refusal(
                StatusCode::FORBIDDEN,
                &rate(Some(4000), None, None),
                r#"{"message":"Resource not accessible by integration"}"#,
                now()
            ),
            Limit::NotALimit
        );
    }

    #[test]
    fn secondary_waits_never_undercut_the_server_and_grow() {
        for _ in 0..100 {
            let first = secondary_wait(None, DEFAULT_SECONDARY_WAIT, 1);
            assert!(first >= Duration::from_secs(60) && first <= Duration::from_secs(75));
            let third = secondary_wait(None, DEFAULT_SECONDARY_WAIT, 3);
            assert!(third >= Duration::from_secs(240));
            let told = secondary_wait(Some(Duration::from_secs(30)), DEFAULT_SECONDARY_WAIT, 1);
            assert!(told >= Duration::from_secs(30) && told < Duration::from_secs(60));
            assert!(secondary_wait(None, DEFAULT_SECONDARY_WAIT, 40) <= MAX_SECONDARY_WAIT * 2);
        }
    }

    #[test]
    fn graphql_rate_limited_with_budget_left_is_secondary() {
        assert_eq!(
            classify_graphql_limit(&rate(Some(10), None, None), Some(10), None, now()),
            Limit::Secondary { retry_after: None }
        );
        let reset = now() + chrono::Duration::seconds(300);
        assert_eq!(
            classify_graphql_limit(&rate(None, None, None), Some(0), Some(reset), now()),
            Limit::Primary { reset_at: reset }
        );
    }
}
