//! Request budgets per credential and bucket (GitHub's `core` and `graphql`), in the store so
//! every process and replica using one token sees the same numbers: a process that learns the
//! budget is spent stops the others from spending requests before the reset.
//!
//! Credentials are identified by a hash of the token, never the token.

use super::{Store, StoreError};
use chrono::{DateTime, Utc};

/// What the API last said about one credential's bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestBudget {
    pub limit: Option<i64>,
    pub remaining: Option<i64>,
    pub reset_at: Option<DateTime<Utc>>,
}

impl RequestBudget {
    /// When the budget is known to be spent and not yet reset at `now`: no request before then.
    pub fn blocked_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match (self.remaining, self.reset_at) {
            (Some(remaining), Some(reset)) if remaining <= 0 && reset > now => Some(reset),
            _ => None,
        }
    }
}

const GET_BUDGET: &str = "SELECT limit_total, remaining, reset_at FROM request_budgets \
     WHERE credential_id = $1 AND bucket = $2";

/// Answers arrive out of order when several processes share a token: within one window (same
/// reset) the lowest `remaining` wins; a later window replaces an earlier one; an answer from an
/// earlier window changes nothing.
const RECORD_BUDGET: &str = "INSERT INTO request_budgets \
     (credential_id, bucket, limit_total, remaining, reset_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (credential_id, bucket) DO UPDATE SET \
       limit_total = COALESCE(excluded.limit_total, request_budgets.limit_total), \
       remaining = CASE \
         WHEN request_budgets.reset_at IS NULL OR excluded.reset_at IS NULL \
              OR excluded.reset_at > request_budgets.reset_at THEN excluded.remaining \
         WHEN excluded.reset_at < request_budgets.reset_at THEN request_budgets.remaining \
         WHEN request_budgets.remaining IS NULL OR excluded.remaining < request_budgets.remaining \
              THEN excluded.remaining \
         ELSE request_budgets.remaining END, \
       reset_at = CASE \
         WHEN request_budgets.reset_at IS NULL OR excluded.reset_at > request_budgets.reset_at \
              THEN excluded.reset_at \
         ELSE request_budgets.reset_at END, \
       updated_at = excluded.updated_at";

type BudgetRow = (Option<i64>, Option<i64>, Option<DateTime<Utc>>);

const LIST_BUDGETS: &str = "SELECT bucket, remaining FROM request_budgets \
     WHERE remaining IS NOT NULL ORDER BY bucket, credential_id";

/// Notices per source, for `/metrics` (what each crawler has brought in).
const NOTICES_BY_SOURCE: &str = "SELECT COALESCE(source_id, ''), COUNT(*) FROM notices \
     GROUP BY COALESCE(source_id, '') ORDER BY 1";

impl Store {
    /// (bucket, remaining) of every credential's last known budget; credentials stay hashed and
    /// are not returned, so the figures can be exported as metrics.
    pub async fn list_request_budgets(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(match self {
            Store::Sqlite(s) => sqlx::query_as(LIST_BUDGETS).fetch_all(&s.pool).await?,
            Store::Postgres(p) => sqlx::query_as(LIST_BUDGETS).fetch_all(&p.pool).await?,
        })
    }

    /// How many notices each source has stored (`""` for imported ones without a source).
    pub async fn count_notices_by_source(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(match self {
            Store::Sqlite(s) => sqlx::query_as(NOTICES_BY_SOURCE).fetch_all(&s.pool).await?,
            Store::Postgres(p) => sqlx::query_as(NOTICES_BY_SOURCE).fetch_all(&p.pool).await?,
        })
    }

    /// The last known budget of `credential`'s `bucket`, if any answer was recorded.
    pub async fn get_request_budget(
        &self,
        credential: &str,
        bucket: &str,
    ) -> Result<Option<RequestBudget>, StoreError> {
        let row: Option<BudgetRow> = match self {
            Store::Sqlite(s) => {
                sqlx::query_as(GET_BUDGET)
                    .bind(credential)
                    .bind(bucket)
                    .fetch_optional(&s.pool)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_as(GET_BUDGET)
                    .bind(credential)
                    .bind(bucket)
                    .fetch_optional(&p.pool)
                    .await?
            }
        };
        Ok(row.map(|(limit, remaining, reset_at)| RequestBudget {
            limit,
            remaining,
            reset_at,
        }))
    }

    /// Records what a response said about the budget (see [`RECORD_BUDGET`] for races).
    pub async fn record_request_budget(
        &self,
        credential: &str,
        bucket: &str,
        budget: &RequestBudget,
    ) -> Result<(), StoreError> {
        if credential.is_empty() || bucket.is_empty() {
            return Err(StoreError::Invalid(
                "a request budget needs a credential and a bucket".into(),
            ));
        }
        let now = Utc::now();
        match self {
            Store::Sqlite(s) => {
                sqlx::query(RECORD_BUDGET)
                    .bind(credential)
                    .bind(bucket)
                    .bind(budget.limit)
                    .bind(budget.remaining)
                    .bind(budget.reset_at)
                    .bind(now)
                    .execute(&s.pool)
                    .await?;
            }
            Store::Postgres(p) => {
                sqlx::query(RECORD_BUDGET)
                    .bind(credential)
                    .bind(bucket)
                    .bind(budget.limit)
                    .bind(budget.remaining)
                    .bind(budget.reset_at)
                    .bind(now)
                    .execute(&p.pool)
                    .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn only_a_spent_budget_before_its_reset_blocks() {
        let now = at(0);
        let spent = RequestBudget {
            limit: Some(5000),
            remaining: Some(0),
            reset_at: Some(at(120)),
        };
        assert_eq!(spent.blocked_until(now), Some(at(120)));
        assert_eq!(spent.blocked_until(at(120)), None);
        let left = RequestBudget {
            remaining: Some(1),
            ..spent.clone()
        };
        assert_eq!(left.blocked_until(now), None);
        let unknown_reset = RequestBudget {
            reset_at: None,
            ..spent
        };
        assert_eq!(unknown_reset.blocked_until(now), None);
    }

    #[tokio::test]
    async fn out_of_order_answers_keep_the_lowest_remaining_of_the_latest_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("b.db"), false)
            .await
            .unwrap();
        let record = |remaining: i64, reset: DateTime<Utc>| RequestBudget {
            limit: Some(5000),
            remaining: Some(remaining),
            reset_at: Some(reset),
        };
        store
            .record_request_budget("cred", "core", &record(10, at(100)))
            .await
            .unwrap();
        store
            .record_request_budget("cred", "core", &record(0, at(100)))
            .await
            .unwrap();
        // A slower process reports an older, higher number for the same window.
        store
            .record_request_budget("cred", "core", &record(7, at(100)))
            .await
            .unwrap();
        let got = store
            .get_request_budget("cred", "core")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.remaining, Some(0));
        // An answer from an earlier window is ignored.
        store
            .record_request_budget("cred", "core", &record(3000, at(100) - Duration::hours(1)))
            .await
            .unwrap();
        let got = store.get_request_budget("cred", "core").await.unwrap();
        assert_eq!(got.unwrap().remaining, Some(0));
        // The next window replaces it.
        store
            .record_request_budget("cred", "core", &record(4999, at(3700)))
            .await
            .unwrap();
        let got = store.get_request_budget("cred", "core").await.unwrap();
        assert_eq!(
            got.unwrap(),
            record(4999, at(3700)),
            "the new window's numbers"
        );
        assert!(
            store
                .get_request_budget("cred", "graphql")
                .await
                .unwrap()
                .is_none()
        );
    }
}
