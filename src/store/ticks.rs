//! Schedule ticks under leases: what lets several `serve` replicas share one schedule.
//!
//! A tick is one row per (schedule, scheduled time). The replica whose INSERT wins holds its
//! lease (`lease_token`, `lease_until`) and extends it while the job runs; every later write
//! compares the token, so a replica whose lease ran out cannot finish a tick someone else took
//! over. A tick left `running` with an expired lease (its replica died) or `pending` (released
//! on shutdown, or inserted without a lease) is taken over; on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so two replicas never take the same row.

use super::{Store, StoreError};
use chrono::{DateTime, Utc};

const LATEST_TICK: &str = "SELECT scheduled_at FROM schedule_ticks WHERE schedule_id = $1 \
     ORDER BY scheduled_at DESC LIMIT 1";

const CLAIM_NEW_TICK: &str = "INSERT INTO schedule_ticks \
     (schedule_id, scheduled_at, lease_token, lease_until, started_at, status) \
     VALUES ($1, $2, $3, $4, $5, 'running') \
     ON CONFLICT (schedule_id, scheduled_at) DO NOTHING RETURNING id";

/// The oldest claimable tick of a schedule; `$4` is now. The lease condition is repeated
/// outside the subquery so a row re-read after a concurrent update is checked again.
const TAKE_OVER_POSTGRES: &str = "UPDATE schedule_ticks \
     SET lease_token = $2, lease_until = $3, started_at = $4, status = 'running' \
     WHERE id = (SELECT id FROM schedule_ticks WHERE schedule_id = $1 \
                   AND status IN ('pending', 'running') \
                   AND (lease_until IS NULL OR lease_until < $4) \
                 ORDER BY scheduled_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
       AND status IN ('pending', 'running') AND (lease_until IS NULL OR lease_until < $4) \
     RETURNING id, scheduled_at";

/// SQLite has one writer (`BEGIN IMMEDIATE`), so no row locks are needed.
const TAKE_OVER_SQLITE: &str = "UPDATE schedule_ticks \
     SET lease_token = $2, lease_until = $3, started_at = $4, status = 'running' \
     WHERE id = (SELECT id FROM schedule_ticks WHERE schedule_id = $1 \
                   AND status IN ('pending', 'running') \
                   AND (lease_until IS NULL OR lease_until < $4) \
                 ORDER BY scheduled_at LIMIT 1) \
     RETURNING id, scheduled_at";

const EXTEND_LEASE: &str = "UPDATE schedule_ticks SET lease_until = $3 \
     WHERE id = $1 AND lease_token = $2 AND status = 'running'";

const FINISH_TICK: &str = "UPDATE schedule_ticks \
     SET status = $3, finished_at = $4, last_error = $5, lease_until = NULL \
     WHERE id = $1 AND lease_token = $2 AND status = 'running'";

const RELEASE_TICK: &str = "UPDATE schedule_ticks \
     SET status = 'pending', lease_token = NULL, lease_until = NULL \
     WHERE id = $1 AND lease_token = $2 AND status = 'running'";

const LIST_TICKS: &str = "SELECT id, schedule_id, scheduled_at, status, lease_token, last_error \
     FROM schedule_ticks WHERE schedule_id = $1 ORDER BY scheduled_at";

/// A tick this replica holds the lease of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedTick {
    pub id: i64,
    pub schedule_id: String,
    pub scheduled_at: DateTime<Utc>,
    pub token: String,
}

/// How a tick ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickStatus {
    Finished,
    Failed,
}

impl TickStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TickStatus::Finished => "finished",
            TickStatus::Failed => "failed",
        }
    }
}

/// A tick as stored (for `serve`'s tests and operators' queries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickRecord {
    pub id: i64,
    pub schedule_id: String,
    pub scheduled_at: DateTime<Utc>,
    pub status: String,
    pub lease_token: Option<String>,
    pub last_error: Option<String>,
}

type TickRow = (
    i64,
    String,
    DateTime<Utc>,
    String,
    Option<String>,
    Option<String>,
);

/// Runs the same query on whichever pool this store has.
macro_rules! on_pool {
    ($self:ident, |$pool:ident| $body:expr) => {
        match $self {
            Store::Sqlite(s) => {
                let $pool = &s.pool;
                $body
            }
            Store::Postgres(p) => {
                let $pool = &p.pool;
                $body
            }
        }
    };
}

impl Store {
    /// The newest tick recorded for `schedule`, whatever its status: ticks before it are not
    /// missed, they were somebody's.
    pub async fn latest_tick(&self, schedule: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row: Option<(DateTime<Utc>,)> = on_pool!(self, |pool| {
            sqlx::query_as(LATEST_TICK)
                .bind(schedule)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(at,)| at))
    }

    /// Inserts the tick and takes its lease in one statement: `Some` for the one caller whose
    /// insert won, `None` when the tick exists already.
    pub async fn claim_new_tick(
        &self,
        schedule: &str,
        scheduled_at: DateTime<Utc>,
        token: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<ClaimedTick>, StoreError> {
        let row: Option<(i64,)> = on_pool!(self, |pool| {
            sqlx::query_as(CLAIM_NEW_TICK)
                .bind(schedule)
                .bind(scheduled_at)
                .bind(token)
                .bind(lease_until)
                .bind(Utc::now())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(id,)| ClaimedTick {
            id,
            schedule_id: schedule.to_string(),
            scheduled_at,
            token: token.to_string(),
        }))
    }

    /// Takes over the oldest tick of `schedule` whose lease ran out (its replica died) or that
    /// nobody holds (released on shutdown).
    pub async fn take_over_tick(
        &self,
        schedule: &str,
        token: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<ClaimedTick>, StoreError> {
        let row: Option<(i64, DateTime<Utc>)> = match self {
            Store::Sqlite(s) => {
                let mut tx = s.begin_write().await?;
                let row = sqlx::query_as(TAKE_OVER_SQLITE)
                    .bind(schedule)
                    .bind(token)
                    .bind(lease_until)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                row
            }
            Store::Postgres(p) => {
                sqlx::query_as(TAKE_OVER_POSTGRES)
                    .bind(schedule)
                    .bind(token)
                    .bind(lease_until)
                    .bind(now)
                    .fetch_optional(&p.pool)
                    .await?
            }
        };
        Ok(row.map(|(id, scheduled_at)| ClaimedTick {
            id,
            schedule_id: schedule.to_string(),
            scheduled_at,
            token: token.to_string(),
        }))
    }

    /// The heartbeat: `false` when the lease is no longer ours (it expired and was taken over).
    pub async fn extend_tick_lease(
        &self,
        tick: &ClaimedTick,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| {
            sqlx::query(EXTEND_LEASE)
                .bind(tick.id)
                .bind(&tick.token)
                .bind(lease_until)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Records how the tick ended; `false` (nothing written) when the lease is no longer ours.
    pub async fn finish_tick(
        &self,
        tick: &ClaimedTick,
        status: TickStatus,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| {
            sqlx::query(FINISH_TICK)
                .bind(tick.id)
                .bind(&tick.token)
                .bind(status.as_str())
                .bind(Utc::now())
                .bind(error)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Gives the tick back unfinished (shutdown): another replica takes it over at once.
    pub async fn release_tick(&self, tick: &ClaimedTick) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| {
            sqlx::query(RELEASE_TICK)
                .bind(tick.id)
                .bind(&tick.token)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Every tick of `schedule`, oldest first.
    pub async fn list_ticks(&self, schedule: &str) -> Result<Vec<TickRecord>, StoreError> {
        let rows: Vec<TickRow> = on_pool!(self, |pool| {
            sqlx::query_as(LIST_TICKS)
                .bind(schedule)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, schedule_id, scheduled_at, status, lease_token, last_error)| TickRecord {
                    id,
                    schedule_id,
                    scheduled_at,
                    status,
                    lease_token,
                    last_error,
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("t.db"), false)
            .await
            .unwrap();
        store
            .ensure_schedule("s", "* * * * *", "UTC")
            .await
            .unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn one_insert_wins_and_only_the_holder_can_finish() {
        let (_dir, store) = store().await;
        let at = DateTime::parse_from_rfc3339("2025-01-06T09:00:00Z")
            .unwrap()
            .to_utc();
        let now = Utc::now();
        let lease = now + Duration::seconds(60);
        let won = store.claim_new_tick("s", at, "a", lease).await.unwrap();
        let won = won.expect("first insert wins");
        assert_eq!(
            store.claim_new_tick("s", at, "b", lease).await.unwrap(),
            None
        );
        assert_eq!(
            store.take_over_tick("s", "b", now, lease).await.unwrap(),
            None,
            "a live lease is not taken over"
        );
        let impostor = ClaimedTick {
            token: "b".into(),
            ..won.clone()
        };
        assert!(
            !store
                .finish_tick(&impostor, TickStatus::Finished, None)
                .await
                .unwrap()
        );
        assert!(store.extend_tick_lease(&won, lease).await.unwrap());
        assert!(
            store
                .finish_tick(&won, TickStatus::Failed, Some("boom"))
                .await
                .unwrap()
        );
        let ticks = store.list_ticks("s").await.unwrap();
        assert_eq!(ticks.len(), 1);
        assert_eq!(ticks[0].status, "failed");
        assert_eq!(ticks[0].last_error.as_deref(), Some("boom"));
        assert_eq!(store.latest_tick("s").await.unwrap(), Some(at));
        assert!(
            !store.extend_tick_lease(&won, lease).await.unwrap(),
            "finished is final"
        );
    }

    #[tokio::test]
    async fn an_expired_or_released_lease_is_taken_over_and_fences_the_old_holder() {
        let (_dir, store) = store().await;
        let at = DateTime::parse_from_rfc3339("2025-01-06T09:00:00Z")
            .unwrap()
            .to_utc();
        let now = Utc::now();
        let expired = now - Duration::seconds(1);
        let old = store
            .claim_new_tick("s", at, "a", expired)
            .await
            .unwrap()
            .unwrap();
        let new = store
            .take_over_tick("s", "b", now, now + Duration::seconds(60))
            .await
            .unwrap()
            .expect("expired lease is taken over");
        assert_eq!((new.id, new.scheduled_at), (old.id, at));
        assert!(!store.extend_tick_lease(&old, now).await.unwrap());
        assert!(
            !store
                .finish_tick(&old, TickStatus::Finished, None)
                .await
                .unwrap()
        );
        assert!(store.release_tick(&new).await.unwrap());
        let again = store
            .take_over_tick("s", "c", now, now + Duration::seconds(60))
            .await
            .unwrap()
            .expect("released tick is taken over at once");
        assert!(
            store
                .finish_tick(&again, TickStatus::Finished, None)
                .await
                .unwrap()
        );
        assert_eq!(store.list_ticks("s").await.unwrap()[0].status, "finished");
    }
}
