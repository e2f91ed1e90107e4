//! The SQLite backend: the embedded default, one file in WAL mode with a busy timeout.
//!
//! SQLite has no row-level security: tenant isolation rests on every statement's
//! `tenant_id = $1` ([`super::sql`]) and on composite `(tenant_id, id)` foreign keys. Writes that
//! read first begin with `BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of
//! failing with `SQLITE_BUSY` when a read lock cannot be upgraded.

use super::StoreError;
use super::lock::ProcessLock;
use super::migrations;
use super::sql;
use super::types::*;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long a writer waits for another before giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    /// Held for the store's lifetime when opened exclusively.
    _lock: Option<Arc<ProcessLock>>,
}

impl SqliteStore {
    pub(super) async fn open(path: &Path, exclusive: bool) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let lock = if exclusive {
            Some(Arc::new(ProcessLock::acquire(path)?))
        } else {
            None
        };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool, _lock: lock })
    }

    /// A write transaction that takes the write lock up front, so a writer that reads first
    /// queues on the busy timeout instead of failing to upgrade its lock.
    pub(super) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'_, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub(super) async fn close(self) {
        self.pool.close().await;
    }

    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
        migrations::sqlite().run(&self.pool).await?;
        Ok(())
    }

    pub(super) async fn schema_version(&self) -> Result<Option<i64>, StoreError> {
        let (tables,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&self.pool)
        .await?;
        if tables == 0 {
            return Ok(None);
        }
        let (version,): (Option<i64>,) = sqlx::query_as(sql::APPLIED_VERSION)
            .fetch_one(&self.pool)
            .await?;
        Ok(version)
    }

    pub(super) async fn ensure_tenant(&self, name: &str) -> Result<TenantId, StoreError> {
        let (id,): (i64,) = sqlx::query_as(sql::ENSURE_TENANT)
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(TenantId::from_db(id))
    }

    pub(super) async fn add_repo(
        &self,
        tenant: TenantId,
        url: &str,
        default_branch: Option<&str>,
    ) -> Result<WatchedRepo, StoreError> {
        let row: RepoRow = sqlx::query_as(sql::ADD_REPO)
            .bind(tenant.get())
            .bind(url)
            .bind(default_branch)
            .fetch_one(&self.pool)
            .await?;
        Ok(repo_from_row(row))
    }

    pub(super) async fn watch_repo(
        &self,
        tenant: TenantId,
        name: &str,
        url: &str,
    ) -> Result<WatchedRepo, StoreError> {
        let row: RepoRow = sqlx::query_as(sql::WATCH_REPO)
            .bind(tenant.get())
            .bind(name)
            .bind(url)
            .fetch_one(&self.pool)
            .await?;
        Ok(repo_from_row(row))
    }

    pub(super) async fn list_repos(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<WatchedRepo>, StoreError> {
        let rows: Vec<RepoRow> = sqlx::query_as(sql::LIST_REPOS)
            .bind(tenant.get())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(repo_from_row).collect())
    }

    pub(super) async fn remove_repo(&self, tenant: TenantId, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::REMOVE_REPO)
            .bind(tenant.get())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn upsert_finding(
        &self,
        tenant: TenantId,
        f: &FindingUpsert,
    ) -> Result<Finding, StoreError> {
        let row: FindingRow = sqlx::query_as(sql::UPSERT_FINDING)
            .bind(tenant.get())
            .bind(f.repo_id)
            .bind(&f.fingerprint)
            .bind(&f.rule_id)
            .bind(&f.severity)
            .bind(&f.title)
            .bind(&f.path)
            .bind(f.line)
            .bind(f.seen_at)
            .bind(f.status.as_str())
            .bind(Json(&f.details))
            .fetch_one(&self.pool)
            .await?;
        finding_from_row(row)
    }

    pub(super) async fn list_findings(
        &self,
        tenant: TenantId,
        filter: &FindingFilter,
    ) -> Result<Vec<Finding>, StoreError> {
        let rows: Vec<FindingRow> = sqlx::query_as(sql::LIST_FINDINGS)
            .bind(tenant.get())
            .bind(filter.repo_id)
            .bind(filter.status.map(FindingStatus::as_str))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(finding_from_row).collect()
    }

    pub(super) async fn count_findings(
        &self,
        tenant: TenantId,
        filter: &FindingFilter,
    ) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(sql::COUNT_FINDINGS)
            .bind(tenant.get())
            .bind(filter.repo_id)
            .bind(filter.status.map(FindingStatus::as_str))
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    pub(super) async fn mark_unseen_fixed(
        &self,
        tenant: TenantId,
        repo_id: i64,
        seen_at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(sql::MARK_UNSEEN_FIXED)
            .bind(tenant.get())
            .bind(repo_id)
            .bind(seen_at)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    pub(super) async fn record_scan(
        &self,
        tenant: TenantId,
        scan: &ScanRecord,
    ) -> Result<i64, StoreError> {
        let (id,): (i64,) = sqlx::query_as(sql::RECORD_SCAN)
            .bind(tenant.get())
            .bind(scan.repo_id)
            .bind(scan.started_at)
            .bind(scan.finished_at)
            .bind(&scan.status)
            .bind(&scan.error)
            .bind(Json(&scan.summary))
            .fetch_one(&self.pool)
            .await?;
        Ok(id)
    }

    pub(super) async fn set_finding_status(
        &self,
        tenant: TenantId,
        id: i64,
        status: FindingStatus,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::SET_FINDING_STATUS)
            .bind(tenant.get())
            .bind(id)
            .bind(status.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn create_subscription(
        &self,
        tenant: TenantId,
        s: &NewSubscription,
    ) -> Result<Subscription, StoreError> {
        let row: SubscriptionRow = sqlx::query_as(sql::CREATE_SUBSCRIPTION)
            .bind(tenant.get())
            .bind(s.channel.as_str())
            .bind(&s.target)
            .bind(Json(&s.filter))
            .fetch_one(&self.pool)
            .await?;
        subscription_from_row(row)
    }

    pub(super) async fn list_subscriptions(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<Subscription>, StoreError> {
        let rows: Vec<SubscriptionRow> = sqlx::query_as(sql::LIST_SUBSCRIPTIONS)
            .bind(tenant.get())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(subscription_from_row).collect()
    }

    pub(super) async fn delete_subscription(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::DELETE_SUBSCRIPTION)
            .bind(tenant.get())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn enqueue_delivery(
        &self,
        tenant: TenantId,
        d: &NewDelivery,
    ) -> Result<Enqueued, StoreError> {
        // Due now, stamped by us: the database's default timestamp has a coarser text form on
        // SQLite, so a claim in the same millisecond would not see the row as due.
        let row: Option<(i64,)> = sqlx::query_as(sql::ENQUEUE_DELIVERY_AT)
            .bind(tenant.get())
            .bind(d.subscription_id)
            .bind(&d.delivery_key)
            .bind(Json(&d.payload))
            .bind(Utc::now())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map_or(Enqueued::Duplicate, |(id,)| Enqueued::Queued(id)))
    }

    pub(super) async fn list_deliveries(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(sql::LIST_DELIVERIES)
            .bind(tenant.get())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(delivery_from_row).collect())
    }

    pub(super) async fn record_new_finding_with_deliveries(
        &self,
        tenant: TenantId,
        f: &FindingUpsert,
        deliveries: &[DueDelivery],
    ) -> Result<(Finding, u64), StoreError> {
        let mut tx = self.begin_write().await?;
        let row: FindingRow = sqlx::query_as(sql::UPSERT_FINDING)
            .bind(tenant.get())
            .bind(f.repo_id)
            .bind(&f.fingerprint)
            .bind(&f.rule_id)
            .bind(&f.severity)
            .bind(&f.title)
            .bind(&f.path)
            .bind(f.line)
            .bind(f.seen_at)
            .bind(f.status.as_str())
            .bind(Json(&f.details))
            .fetch_one(&mut *tx)
            .await?;
        let mut queued = 0;
        for d in deliveries {
            let row: Option<(i64,)> = sqlx::query_as(sql::ENQUEUE_DELIVERY_AT)
                .bind(tenant.get())
                .bind(d.delivery.subscription_id)
                .bind(&d.delivery.delivery_key)
                .bind(Json(&d.delivery.payload))
                .bind(d.due_at)
                .fetch_optional(&mut *tx)
                .await?;
            queued += u64::from(row.is_some());
        }
        tx.commit().await?;
        Ok((finding_from_row(row)?, queued))
    }

    pub(super) async fn claim_due_deliveries(
        &self,
        tenant: TenantId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows: Vec<ClaimedRow> = sqlx::query_as(sql::CLAIM_DUE_SQLITE)
            .bind(tenant.get())
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(claimed_from_row).collect())
    }

    pub(super) async fn finish_delivery(
        &self,
        tenant: TenantId,
        id: i64,
        fence: i64,
        outcome: &DeliveryOutcome,
    ) -> Result<bool, StoreError> {
        let (status, error, next, sent) = match outcome {
            DeliveryOutcome::Sent { at } => ("sent", None, None, Some(*at)),
            DeliveryOutcome::Retry {
                error,
                next_attempt_at,
            } => (
                "pending",
                Some(error.as_str()),
                Some(*next_attempt_at),
                None,
            ),
            DeliveryOutcome::Dead { error } => ("dead", Some(error.as_str()), None, None),
        };
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(sql::FINISH_DELIVERY)
            .bind(tenant.get())
            .bind(id)
            .bind(fence)
            .bind(status)
            .bind(error)
            .bind(next)
            .bind(sent)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn redrive_delivery(
        &self,
        tenant: TenantId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(sql::REDRIVE_DELIVERY)
            .bind(tenant.get())
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn ensure_schedule(
        &self,
        id: &str,
        cron: &str,
        timezone: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::ENSURE_SCHEDULE)
            .bind(id)
            .bind(cron)
            .bind(timezone)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn insert_tick(
        &self,
        schedule: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(sql::INSERT_TICK)
            .bind(schedule)
            .bind(at)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    super::knowledge::knowledge_methods!();
}

super::knowledge::write_notice_fn!(sqlx::SqliteConnection);
