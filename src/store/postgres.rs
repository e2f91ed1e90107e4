//! The PostgreSQL backend, for several replicas on one database.
//!
//! The service connects as a role that neither owns the tables nor bypasses row-level security.
//! Every call on tenant data runs in its own transaction that first sets `app.tenant_id` with
//! `set_config(.., true)` (transaction-local), so a pooled connection never carries one
//! tenant's context into the next caller's work; forced RLS then filters every row by it.
//! Migrations run as the owner role when `ECOWATCH_DATABASE_OWNER_URL` is given.

use super::StoreError;
use super::migrations;
use super::sql;
use super::types::*;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::types::Json;
use sqlx::{Postgres, Transaction};

#[derive(Clone)]
pub struct PgStore {
    pub(super) pool: PgPool,
    owner_url: Option<String>,
}

/// The owner URL holds a password.
impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool)
            .field("owner_url", &self.owner_url.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl PgStore {
    pub(super) async fn connect(url: &str, owner_url: Option<String>) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
        Ok(PgStore { pool, owner_url })
    }

    /// A write transaction for shared (tenant-less) data; row locks need no special start here.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'_, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    pub(super) async fn close(self) {
        self.pool.close().await;
    }

    /// A transaction in which row-level security sees `tenant`, and only `tenant`.
    pub(super) async fn tenant_tx(
        &self,
        tenant: TenantId,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        // One round trip instead of two: the tenant is set by the statement that opens the
        // transaction. The id is an integer we formatted, so nothing can be injected.
        let begin = format!(
            "BEGIN; SELECT set_config('app.tenant_id', '{}', true)",
            tenant.get()
        );
        Ok(self.pool.begin_with(sqlx::AssertSqlSafe(begin)).await?)
    }

    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
        match &self.owner_url {
            Some(owner_url) => {
                let owner = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(owner_url)
                    .await?;
                let result = migrations::postgres().run(&owner).await;
                owner.close().await;
                result?;
            }
            // The service role may not create tables; a current schema needs nothing from it.
            None if self.schema_version().await? == Some(migrations::latest_version()) => {}
            None => migrations::postgres().run(&self.pool).await?,
        }
        Ok(())
    }

    pub(super) async fn schema_version(&self) -> Result<Option<i64>, StoreError> {
        let (exists,): (bool,) =
            sqlx::query_as("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(&self.pool)
                .await?;
        if !exists {
            return Ok(None);
        }
        let (version,): (Option<i64>,) = sqlx::query_as(sql::APPLIED_VERSION)
            .fetch_one(&self.pool)
            .await?;
        Ok(version)
    }

    /// Why the connected role would not be held by row-level security: it is a superuser,
    /// has BYPASSRLS, or owns tenant tables (an owner can switch RLS off).
    pub(super) async fn isolation_warnings(&self) -> Result<Vec<String>, StoreError> {
        let (role, is_super, bypasses, owned): (String, bool, bool, i64) = sqlx::query_as(
            "SELECT r.rolname::text, r.rolsuper, r.rolbypassrls, \
               (SELECT COUNT(*) FROM pg_class c \
                 WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p') \
                   AND c.relnamespace = to_regnamespace(current_schema()) \
                   AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                               AND a.attname = 'tenant_id' AND NOT a.attisdropped)) \
             FROM pg_roles r WHERE r.rolname = current_user",
        )
        .fetch_one(&self.pool)
        .await?;
        let mut warnings = Vec::new();
        if is_super {
            warnings.push(format!(
                "role `{role}` is a superuser: row-level security does not apply"
            ));
        }
        if bypasses {
            warnings.push(format!(
                "role `{role}` has BYPASSRLS: row-level security does not apply"
            ));
        }
        if owned > 0 {
            warnings.push(format!(
                "role `{role}` owns {owned} tenant tables: connect the service as a role that does not"
            ));
        }
        Ok(warnings)
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
        let mut tx = self.tenant_tx(tenant).await?;
        let row: RepoRow = sqlx::query_as(sql::ADD_REPO)
            .bind(tenant.get())
            .bind(url)
            .bind(default_branch)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(repo_from_row(row))
    }

    pub(super) async fn watch_repo(
        &self,
        tenant: TenantId,
        name: &str,
        url: &str,
    ) -> Result<WatchedRepo, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let row: RepoRow = sqlx::query_as(sql::WATCH_REPO)
            .bind(tenant.get())
            .bind(name)
            .bind(url)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(repo_from_row(row))
    }

    pub(super) async fn list_repos(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<WatchedRepo>, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<RepoRow> = sqlx::query_as(sql::LIST_REPOS)
            .bind(tenant.get())
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(repo_from_row).collect())
    }

    pub(super) async fn remove_repo(&self, tenant: TenantId, id: i64) -> Result<bool, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(sql::REMOVE_REPO)
            .bind(tenant.get())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn upsert_finding(
        &self,
        tenant: TenantId,
        f: &FindingUpsert,
    ) -> Result<Finding, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
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
        tx.commit().await?;
        finding_from_row(row)
    }

    pub(super) async fn list_findings(
        &self,
        tenant: TenantId,
        filter: &FindingFilter,
    ) -> Result<Vec<Finding>, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<FindingRow> = sqlx::query_as(sql::LIST_FINDINGS)
            .bind(tenant.get())
            .bind(filter.repo_id)
            .bind(filter.status.map(FindingStatus::as_str))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.into_iter().map(finding_from_row).collect()
    }

    pub(super) async fn count_findings(
        &self,
        tenant: TenantId,
        filter: &FindingFilter,
    ) -> Result<i64, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let (n,): (i64,) = sqlx::query_as(sql::COUNT_FINDINGS)
            .bind(tenant.get())
            .bind(filter.repo_id)
            .bind(filter.status.map(FindingStatus::as_str))
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    pub(super) async fn mark_unseen_fixed(
        &self,
        tenant: TenantId,
        repo_id: i64,
        seen_at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(sql::MARK_UNSEEN_FIXED)
            .bind(tenant.get())
            .bind(repo_id)
            .bind(seen_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    pub(super) async fn record_scan(
        &self,
        tenant: TenantId,
        scan: &ScanRecord,
    ) -> Result<i64, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let (id,): (i64,) = sqlx::query_as(sql::RECORD_SCAN)
            .bind(tenant.get())
            .bind(scan.repo_id)
            .bind(scan.started_at)
            .bind(scan.finished_at)
            .bind(&scan.status)
            .bind(&scan.error)
            .bind(Json(&scan.summary))
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(super) async fn set_finding_status(
        &self,
        tenant: TenantId,
        id: i64,
        status: FindingStatus,
    ) -> Result<bool, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(sql::SET_FINDING_STATUS)
            .bind(tenant.get())
            .bind(id)
            .bind(status.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn create_subscription(
        &self,
        tenant: TenantId,
        s: &NewSubscription,
    ) -> Result<Subscription, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let row: SubscriptionRow = sqlx::query_as(sql::CREATE_SUBSCRIPTION)
            .bind(tenant.get())
            .bind(s.channel.as_str())
            .bind(&s.target)
            .bind(Json(&s.filter))
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        subscription_from_row(row)
    }

    pub(super) async fn list_subscriptions(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<Subscription>, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<SubscriptionRow> = sqlx::query_as(sql::LIST_SUBSCRIPTIONS)
            .bind(tenant.get())
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.into_iter().map(subscription_from_row).collect()
    }

    pub(super) async fn delete_subscription(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(sql::DELETE_SUBSCRIPTION)
            .bind(tenant.get())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn enqueue_delivery(
        &self,
        tenant: TenantId,
        d: &NewDelivery,
    ) -> Result<Enqueued, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        // Due now, stamped by us: the database's default timestamp has a coarser text form on
        // SQLite, so a claim in the same millisecond would not see the row as due.
        let row: Option<(i64,)> = sqlx::query_as(sql::ENQUEUE_DELIVERY_AT)
            .bind(tenant.get())
            .bind(d.subscription_id)
            .bind(&d.delivery_key)
            .bind(Json(&d.payload))
            .bind(Utc::now())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row.map_or(Enqueued::Duplicate, |(id,)| Enqueued::Queued(id)))
    }

    pub(super) async fn list_deliveries(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<DeliveryRow> = sqlx::query_as(sql::LIST_DELIVERIES)
            .bind(tenant.get())
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(delivery_from_row).collect())
    }

    pub(super) async fn record_new_finding_with_deliveries(
        &self,
        tenant: TenantId,
        f: &FindingUpsert,
        deliveries: &[DueDelivery],
    ) -> Result<(Finding, u64), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
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
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<ClaimedRow> = sqlx::query_as(sql::CLAIM_DUE_POSTGRES)
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
        let mut tx = self.tenant_tx(tenant).await?;
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
        let mut tx = self.tenant_tx(tenant).await?;
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

super::knowledge::write_notice_fn!(sqlx::PgConnection);
