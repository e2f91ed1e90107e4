//! The shared request budget as the GitHub client uses it: one row per credential (a hash of
//! the token and the API it is for, never the token) and bucket, in the store, so every process
//! on the same token obeys what any of them learnt. Before each request: a spent budget whose
//! reset is near is waited out; one whose reset is far stops the source with a clear error.

use crate::store::{RequestBudget, Store, StoreError};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// GitHub's primary-limit buckets ecowatch spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Core,
    Graphql,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Core => "core",
            Bucket::Graphql => "graphql",
        }
    }
}

/// A credential's budget is spent until `until`, too far off to wait for.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the GitHub {bucket} rate limit for this token is used up until {until} (UTC); no request \
     is sent before then, by this or any other ecowatch process"
)]
pub struct BudgetSpent {
    pub bucket: &'static str,
    pub until: DateTime<Utc>,
}

/// Why a budget check did not clear the request.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    #[error(transparent)]
    Spent(#[from] BudgetSpent),
    #[error("cannot read or record the request budget")]
    Store(#[from] StoreError),
}

/// The id a credential's budget is kept under: a hash of the API base and the token, so two
/// GitHub Enterprise servers (or two tokens) never share a row, and the token never appears.
pub fn credential_id(api_base: &str, token: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(api_base.as_bytes());
    hasher.update([0]);
    match token {
        Some(token) => hasher.update(token.as_bytes()),
        None => hasher.update(b"(anonymous)"),
    }
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("github:{hex}")
}

/// Waits out a spent budget if its reset is at most `max_wait` away; otherwise fails without
/// sending anything.
pub async fn clear_to_send(
    store: &Store,
    credential: &str,
    bucket: Bucket,
    max_wait: Duration,
) -> Result<(), BudgetError> {
    loop {
        let now = Utc::now();
        let Some(until) = store
            .get_request_budget(credential, bucket.as_str())
            .await?
            .and_then(|b| b.blocked_until(now))
        else {
            return Ok(());
        };
        let wait = (until - now).to_std().unwrap_or(Duration::ZERO);
        if wait > max_wait {
            return Err(BudgetSpent {
                bucket: bucket.as_str(),
                until,
            }
            .into());
        }
        // A little past the reset: the server's clock decides, not ours.
        tokio::time::sleep(wait + Duration::from_millis(250)).await;
    }
}

/// Records what a response said about the budget.
pub async fn record(
    store: &Store,
    credential: &str,
    bucket: Bucket,
    limit: Option<i64>,
    remaining: Option<i64>,
    reset_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    if remaining.is_none() && reset_at.is_none() {
        return Ok(());
    }
    store
        .record_request_budget(
            credential,
            bucket.as_str(),
            &RequestBudget {
                limit,
                remaining,
                reset_at,
            },
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_ids_hide_the_token_and_separate_servers() {
        let id = credential_id("https://api.github.com/", Some("ghp_secret"));
        assert!(id.starts_with("github:"));
        assert!(!id.contains("ghp_secret"));
        assert_ne!(
            id,
            credential_id("https://ghe.example/api/v3/", Some("ghp_secret"))
        );
        assert_ne!(id, credential_id("https://api.github.com/", None));
        assert_eq!(
            id,
            credential_id("https://api.github.com/", Some("ghp_secret"))
        );
    }

    #[tokio::test]
    async fn a_far_reset_stops_at_once_and_a_past_one_lets_through() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("b.db"), false)
            .await
            .unwrap();
        let cred = "github:test";
        clear_to_send(&store, cred, Bucket::Core, Duration::ZERO)
            .await
            .unwrap();
        let far = Utc::now() + chrono::Duration::hours(1);
        record(&store, cred, Bucket::Core, Some(5000), Some(0), Some(far))
            .await
            .unwrap();
        let err = clear_to_send(&store, cred, Bucket::Core, Duration::from_secs(60))
            .await
            .unwrap_err();
        assert!(matches!(err, BudgetError::Spent(_)), "{err}");
        assert!(err.to_string().contains("used up until"), "{err}");
        // The other bucket is not affected.
        clear_to_send(&store, cred, Bucket::Graphql, Duration::ZERO)
            .await
            .unwrap();
    }
}
