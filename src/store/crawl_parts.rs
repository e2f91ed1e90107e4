//! The parts of a crawl tick: one row per (tick, source), so every replica can crawl a share.
//!
//! The replica running a crawl tick inserts its parts; any replica then claims one part at a
//! time under a lease (`lease_token`, `lease_until`), extends it while the part runs, and
//! finishes it only with its own token, so a replica whose lease ran out cannot overwrite the
//! part someone else took over. Inserting again (a tick taken over after its replica died)
//! adds nothing: parts already done stay done. On PostgreSQL the claim skips rows another
//! claimer has locked (`FOR UPDATE SKIP LOCKED`), so two replicas never get the same part.

use super::{Store, StoreError};
use chrono::{DateTime, Utc};

const INSERT_PART: &str = "INSERT INTO crawl_parts (tick_id, part) VALUES ($1, $2) \
     ON CONFLICT (tick_id, part) DO NOTHING";

/// A pending part, or a running one whose lease ran out, of a running tick of schedule `$1`;
/// `$4` is now. The claim condition is repeated outside the subquery so a row re-read after a
/// concurrent update is checked again.
const CLAIM_POSTGRES: &str = "UPDATE crawl_parts \
     SET status = 'running', lease_token = $2, lease_until = $3, worker = $5, \
         claims = claims + 1 \
     WHERE id = (SELECT p.id FROM crawl_parts p JOIN schedule_ticks t ON t.id = p.tick_id \
                 WHERE t.schedule_id = $1 AND t.status = 'running' \
                   AND (p.status = 'pending' OR (p.status = 'running' AND p.lease_until < $4)) \
                 ORDER BY p.tick_id, p.id LIMIT 1 FOR UPDATE OF p SKIP LOCKED) \
       AND (status = 'pending' OR (status = 'running' AND lease_until < $4)) \
     RETURNING id, tick_id, part";

/// SQLite has one writer (`BEGIN IMMEDIATE`), so no row locks are needed.
const CLAIM_SQLITE: &str = "UPDATE crawl_parts \
     SET status = 'running', lease_token = $2, lease_until = $3, worker = $5, \
         claims = claims + 1 \
     WHERE id = (SELECT p.id FROM crawl_parts p JOIN schedule_ticks t ON t.id = p.tick_id \
                 WHERE t.schedule_id = $1 AND t.status = 'running' \
                   AND (p.status = 'pending' OR (p.status = 'running' AND p.lease_until < $4)) \
                 ORDER BY p.tick_id, p.id LIMIT 1) \
     RETURNING id, tick_id, part";

const EXTEND_PART: &str = "UPDATE crawl_parts SET lease_until = $3 \
     WHERE id = $1 AND lease_token = $2 AND status = 'running'";

const FINISH_PART: &str = "UPDATE crawl_parts \
     SET status = $3, summary = $4, finished_at = $5, lease_until = NULL \
     WHERE id = $1 AND lease_token = $2 AND status = 'running'";

const RELEASE_PART: &str = "UPDATE crawl_parts \
     SET status = 'pending', lease_token = NULL, lease_until = NULL \
     WHERE id = $1 AND lease_token = $2 AND status = 'running'";

const LIST_PARTS: &str = "SELECT part, status, worker, claims, summary \
     FROM crawl_parts WHERE tick_id = $1 ORDER BY id";

/// A part this replica holds the lease of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedPart {
    pub id: i64,
    pub tick_id: i64,
    pub part: String,
    pub token: String,
}

/// How a part ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartStatus {
    Done,
    Failed,
}

impl PartStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PartStatus::Done => "done",
            PartStatus::Failed => "failed",
        }
    }
}

/// A part as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlPart {
    pub part: String,
    /// `pending`, `running`, `done` or `failed`.
    pub status: String,
    /// The replica that claimed it last.
    pub worker: Option<String>,
    /// How many times it was claimed (more than once: a replica died or gave it back).
    pub claims: i32,
    /// The part's one-line summary, or its error when it failed.
    pub summary: Option<String>,
}

impl CrawlPart {
    /// Done or failed: nobody works on it any more.
    pub fn is_settled(&self) -> bool {
        matches!(self.status.as_str(), "done" | "failed")
    }
}

type PartRow = (String, String, Option<String>, i32, Option<String>);

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
    /// Records the parts of `tick`; parts it has already (done or not) are kept as they are.
    pub async fn insert_crawl_parts(&self, tick_id: i64, parts: &[&str]) -> Result<(), StoreError> {
        // One statement per part, each atomic on its own: a part inserted by a concurrent call
        // is simply kept.
        for part in parts {
            on_pool!(self, |pool| {
                sqlx::query(INSERT_PART)
                    .bind(tick_id)
                    .bind(*part)
                    .execute(pool)
                    .await?;
            });
        }
        Ok(())
    }

    /// Claims one part of a running tick of `schedule` that nobody works on: pending, or
    /// running under a lease that ran out (its replica died). `worker` names this replica.
    pub async fn claim_crawl_part(
        &self,
        schedule: &str,
        token: &str,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<ClaimedPart>, StoreError> {
        let row: Option<(i64, i64, String)> = match self {
            Store::Sqlite(s) => {
                let mut tx = s.begin_write().await?;
                let row = sqlx::query_as(CLAIM_SQLITE)
                    .bind(schedule)
                    .bind(token)
                    .bind(lease_until)
                    .bind(now)
                    .bind(worker)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                row
            }
            Store::Postgres(p) => {
                sqlx::query_as(CLAIM_POSTGRES)
                    .bind(schedule)
                    .bind(token)
                    .bind(lease_until)
                    .bind(now)
                    .bind(worker)
                    .fetch_optional(&p.pool)
                    .await?
            }
        };
        Ok(row.map(|(id, tick_id, part)| ClaimedPart {
            id,
            tick_id,
            part,
            token: token.to_string(),
        }))
    }

    /// The part's heartbeat: `false` when the lease is no longer ours.
    pub async fn extend_crawl_part(
        &self,
        part: &ClaimedPart,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| {
            sqlx::query(EXTEND_PART)
                .bind(part.id)
                .bind(&part.token)
                .bind(lease_until)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Records how the part ended; `false` (nothing written) when the lease is no longer ours.
    pub async fn finish_crawl_part(
        &self,
        part: &ClaimedPart,
        status: PartStatus,
        summary: &str,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| {
            sqlx::query(FINISH_PART)
                .bind(part.id)
                .bind(&part.token)
                .bind(status.as_str())
                .bind(summary)
                .bind(Utc::now())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Gives the part back unfinished (shutdown): another replica claims it at once.
    pub async fn release_crawl_part(&self, part: &ClaimedPart) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| {
            sqlx::query(RELEASE_PART)
                .bind(part.id)
                .bind(&part.token)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// The parts of `tick`, in the order they were inserted.
    pub async fn list_crawl_parts(&self, tick_id: i64) -> Result<Vec<CrawlPart>, StoreError> {
        let rows: Vec<PartRow> = on_pool!(self, |pool| {
            sqlx::query_as(LIST_PARTS)
                .bind(tick_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(part, status, worker, claims, summary)| CrawlPart {
                part,
                status,
                worker,
                claims,
                summary,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    async fn store_with_tick() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("t.db"), false)
            .await
            .unwrap();
        store
            .ensure_schedule("crawl", "* * * * *", "UTC")
            .await
            .unwrap();
        let tick = store
            .claim_new_tick(
                "crawl",
                Utc::now(),
                "tick",
                Utc::now() + Duration::seconds(60),
            )
            .await
            .unwrap()
            .unwrap();
        (dir, store, tick.id)
    }

    #[tokio::test]
    async fn parts_are_claimed_once_fenced_by_token_and_kept_when_inserted_again() {
        let (_dir, store, tick) = store_with_tick().await;
        store
            .insert_crawl_parts(tick, &["osv", "npm"])
            .await
            .unwrap();
        let now = Utc::now();
        let live = now + Duration::seconds(60);
        let a = store
            .claim_crawl_part("crawl", "a", "ra", now, live)
            .await
            .unwrap()
            .unwrap();
        let b = store
            .claim_crawl_part("crawl", "b", "rb", now, live)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(a.part, b.part);
        assert_eq!(
            store
                .claim_crawl_part("crawl", "c", "rc", now, live)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .claim_crawl_part("other", "c", "rc", now, live)
                .await
                .unwrap(),
            None,
            "another schedule's parts are not ours"
        );
        let impostor = ClaimedPart {
            token: "b".into(),
            ..a.clone()
        };
        assert!(
            !store
                .finish_crawl_part(&impostor, PartStatus::Done, "x")
                .await
                .unwrap()
        );
        assert!(store.extend_crawl_part(&a, live).await.unwrap());
        assert!(
            store
                .finish_crawl_part(&a, PartStatus::Done, "osv: fine")
                .await
                .unwrap()
        );
        assert!(store.release_crawl_part(&b).await.unwrap());
        store
            .insert_crawl_parts(tick, &["osv", "npm", "pypi"])
            .await
            .unwrap();
        let parts = store.list_crawl_parts(tick).await.unwrap();
        let statuses: Vec<(&str, &str)> = parts
            .iter()
            .map(|p| (p.part.as_str(), p.status.as_str()))
            .collect();
        assert_eq!(
            statuses,
            [("osv", "done"), ("npm", "pending"), ("pypi", "pending")]
        );
        assert_eq!(parts[0].summary.as_deref(), Some("osv: fine"));
        assert_eq!(parts[0].worker.as_deref(), Some("ra"));
        assert!(parts[0].is_settled() && !parts[1].is_settled());
    }

    #[tokio::test]
    async fn an_expired_part_is_claimed_again_and_fences_the_old_holder() {
        let (_dir, store, tick) = store_with_tick().await;
        store.insert_crawl_parts(tick, &["osv"]).await.unwrap();
        let now = Utc::now();
        let old = store
            .claim_crawl_part("crawl", "a", "ra", now, now - Duration::seconds(1))
            .await
            .unwrap()
            .unwrap();
        let new = store
            .claim_crawl_part("crawl", "b", "rb", now, now + Duration::seconds(60))
            .await
            .unwrap()
            .expect("an expired lease is claimed again");
        assert_eq!(new.id, old.id);
        assert!(!store.extend_crawl_part(&old, now).await.unwrap());
        assert!(
            !store
                .finish_crawl_part(&old, PartStatus::Done, "late")
                .await
                .unwrap()
        );
        assert!(
            store
                .finish_crawl_part(&new, PartStatus::Failed, "osv: 5xx")
                .await
                .unwrap()
        );
        let parts = store.list_crawl_parts(tick).await.unwrap();
        assert_eq!(parts[0].status, "failed");
        assert_eq!(parts[0].claims, 2);
        assert_eq!(parts[0].worker.as_deref(), Some("rb"));
    }
}
