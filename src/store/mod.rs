//! The knowledge store: the only place with SQL.
//!
//! One domain API over two databases: SQLite (embedded default: one file, WAL) and PostgreSQL
//! (several replicas). Both run the same statements ([`sql`]) and the same contract test suite
//! (`tests/store_contract.rs`).
//!
//! Public knowledge (notices, sources, crawl state, schedules) is shared. Everything a team owns
//! carries `tenant_id NOT NULL`, and every function touching it takes a [`TenantId`]. On
//! PostgreSQL each of those calls runs in a transaction that sets `app.tenant_id` locally, and
//! forced row-level security filters every row by it, so a missing `WHERE` cannot leak another
//! tenant's data; on SQLite the statements' own `tenant_id = $1` and the composite foreign keys
//! do that job.

/// Runs `$body` inside the tenant's write transaction on either backend and commits it; `$tx`
/// is the transaction (use `&mut *$tx` as the executor). On PostgreSQL the transaction sets
/// `app.tenant_id`, so row-level security scopes every statement in it. Defined before the
/// modules so each of them can use it.
macro_rules! tenant_tx {
    ($store:expr, $tenant:expr, |$tx:ident| $body:block) => {
        match $store {
            Store::Sqlite(s) => {
                let mut $tx = s.begin_write().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            Store::Postgres(p) => {
                let mut $tx = p.tenant_tx($tenant).await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

mod api_reads;
mod budget;
mod config;
mod crawl_parts;
mod dashboard;
mod http_cache;
mod knowledge;
mod lock;
mod migrations;
mod operator_alerts;
mod outbox_stats;
mod package_repos;
mod postgres;
mod sql;
mod sqlite;
mod subscription_state;
mod tenants;
mod ticks;
mod tokens;
mod types;

pub use api_reads::{FindingPageQuery, FindingWithRepo, MAX_PAGE};
pub use budget::RequestBudget;
pub use config::{ENV_DATABASE_OWNER_URL, ENV_DATABASE_URL, ENV_DB, StoreConfig};
pub use crawl_parts::{ClaimedPart, CrawlPart, PartStatus};
pub use dashboard::DashboardIssue;
pub use http_cache::CachedValidators;
pub use lock::ProcessLock;
pub use package_repos::PackageRepo;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use subscription_state::SubscriptionState;
pub use tenants::Tenant;
pub use ticks::{ClaimedTick, TickRecord, TickStatus};
pub use tokens::{ApiPrincipal, ApiToken};
pub use types::*;

use crate::ecosystem::Ecosystem;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// Why a store call failed. Messages never include database URLs (they carry passwords).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "no data directory for the default database: set XDG_DATA_HOME or HOME, or pass --db FILE"
    )]
    NoDataDir,
    #[error("{0}")]
    Config(String),
    #[error("cannot create the database directory `{path}`")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "`{path}` is in use by another ecowatch process; a SQLite database serves one process \
         (run several replicas on PostgreSQL: set ECOWATCH_DATABASE_URL)"
    )]
    Locked { path: PathBuf },
    #[error("cannot lock `{path}`")]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A row with the same key exists (e.g. the same subscription target twice).
    #[error("already exists")]
    Conflict(#[source] sqlx::Error),
    /// The row refers to something the tenant does not have (a repository or subscription
    /// that is not theirs, or a schedule that does not exist).
    #[error("refers to something that does not exist for this tenant")]
    MissingReference(#[source] sqlx::Error),
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("schema migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database holds a value this version cannot read: {0}")]
    Corrupt(String),
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// The highest schema version this build of ecowatch carries.
pub fn latest_schema_version() -> i64 {
    migrations::latest_version()
}

/// Constraint violations become errors a caller can act on; the rest stay database errors.
impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        let kind = match &err {
            sqlx::Error::Database(db) => Some(db.kind()),
            _ => None,
        };
        match kind {
            Some(sqlx::error::ErrorKind::UniqueViolation) => StoreError::Conflict(err),
            Some(sqlx::error::ErrorKind::ForeignKeyViolation) => StoreError::MissingReference(err),
            _ => StoreError::Database(err),
        }
    }
}

/// The store, on whichever backend the configuration chose. Cheap to clone (pools are shared).
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Runs the same method on whichever backend this is.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(s) => s.$method($($arg),*).await,
            Store::Postgres(p) => p.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Connects without touching the schema (`ecowatch db status`).
    pub async fn connect(config: &StoreConfig) -> Result<Store, StoreError> {
        Ok(match config {
            StoreConfig::Sqlite { path, exclusive } => {
                Store::Sqlite(SqliteStore::open(path, *exclusive).await?)
            }
            StoreConfig::Postgres { url, owner_url } => {
                Store::Postgres(PgStore::connect(url, owner_url.clone()).await?)
            }
        })
    }

    /// Connects and applies pending migrations: what every command does on start.
    pub async fn open(config: &StoreConfig) -> Result<Store, StoreError> {
        let store = Store::connect(config).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens (creating if needed) and migrates a SQLite file. `exclusive` takes the
    /// one-process lock and fails with [`StoreError::Locked`] when another process holds it.
    pub async fn open_sqlite(path: &Path, exclusive: bool) -> Result<Store, StoreError> {
        Store::open(&StoreConfig::Sqlite {
            path: path.to_path_buf(),
            exclusive,
        })
        .await
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Applies pending migrations (on PostgreSQL as the owner role when one is configured).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        dispatch!(self.migrate())
    }

    /// The applied and the latest known schema version.
    pub async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        let current = dispatch!(self.schema_version())?;
        Ok(SchemaStatus {
            current,
            latest: migrations::latest_version(),
        })
    }

    /// Reasons tenant isolation would rest on the SQL alone: on PostgreSQL, a service role that
    /// is a superuser, bypasses RLS or owns the tables. Empty on SQLite (which has no RLS) and on
    /// a correctly set up PostgreSQL.
    pub async fn isolation_warnings(&self) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Sqlite(_) => Ok(Vec::new()),
            Store::Postgres(p) => p.isolation_warnings().await,
        }
    }

    /// Closes every pooled connection (and on SQLite releases the process lock).
    pub async fn close(self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }

    // ---- tenants

    /// The id of the tenant called `name`, created on first use.
    pub async fn ensure_tenant(&self, name: &str) -> Result<TenantId, StoreError> {
        if name.is_empty() || name.len() > 200 {
            return Err(StoreError::Invalid(
                "a tenant name has 1 to 200 bytes".into(),
            ));
        }
        dispatch!(self.ensure_tenant(name))
    }

    /// The tenant a single-team installation runs as.
    pub async fn default_tenant(&self) -> Result<TenantId, StoreError> {
        self.ensure_tenant(DEFAULT_TENANT).await
    }

    // ---- watched repositories

    /// Watches `url` for `tenant` (again watching the same URL updates its branch).
    pub async fn add_repo(
        &self,
        tenant: TenantId,
        url: &str,
        default_branch: Option<&str>,
    ) -> Result<WatchedRepo, StoreError> {
        dispatch!(self.add_repo(tenant, url, default_branch))
    }

    /// Watches `url` under `name` for `tenant`. A name or URL the tenant already watches is
    /// [`StoreError::Conflict`].
    pub async fn watch_repo(
        &self,
        tenant: TenantId,
        name: &str,
        url: &str,
    ) -> Result<WatchedRepo, StoreError> {
        if name.is_empty() || name.len() > 200 {
            return Err(StoreError::Invalid(
                "a repository name has 1 to 200 bytes".into(),
            ));
        }
        dispatch!(self.watch_repo(tenant, name, url))
    }

    pub async fn list_repos(&self, tenant: TenantId) -> Result<Vec<WatchedRepo>, StoreError> {
        dispatch!(self.list_repos(tenant))
    }

    /// Stops watching; `false` when `tenant` has no such repository. Its scans and findings go too.
    pub async fn remove_repo(&self, tenant: TenantId, repo_id: i64) -> Result<bool, StoreError> {
        dispatch!(self.remove_repo(tenant, repo_id))
    }

    // ---- findings

    /// Records a finding by (tenant, repository, fingerprint): new ones get `first_seen`, known
    /// ones keep it and move `last_seen`. Fails if the repository is not the tenant's.
    pub async fn upsert_finding(
        &self,
        tenant: TenantId,
        finding: &FindingUpsert,
    ) -> Result<Finding, StoreError> {
        dispatch!(self.upsert_finding(tenant, finding))
    }

    pub async fn list_findings(
        &self,
        tenant: TenantId,
        filter: &FindingFilter,
    ) -> Result<Vec<Finding>, StoreError> {
        dispatch!(self.list_findings(tenant, filter))
    }

    pub async fn count_findings(
        &self,
        tenant: TenantId,
        filter: &FindingFilter,
    ) -> Result<i64, StoreError> {
        dispatch!(self.count_findings(tenant, filter))
    }

    /// Marks the repository's `new` and `open` findings that the scan stamped `seen_at` did not
    /// upsert (their `last_seen` differs) as `fixed`; returns how many. Suppressed ones stay.
    pub async fn mark_unseen_fixed(
        &self,
        tenant: TenantId,
        repo_id: i64,
        seen_at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        dispatch!(self.mark_unseen_fixed(tenant, repo_id, seen_at))
    }

    /// Adds a finished scan to the repository's history; returns its id.
    pub async fn record_scan(
        &self,
        tenant: TenantId,
        scan: &ScanRecord,
    ) -> Result<i64, StoreError> {
        dispatch!(self.record_scan(tenant, scan))
    }

    /// `false` when `tenant` has no such finding.
    pub async fn set_finding_status(
        &self,
        tenant: TenantId,
        finding_id: i64,
        status: FindingStatus,
    ) -> Result<bool, StoreError> {
        dispatch!(self.set_finding_status(tenant, finding_id, status))
    }

    // ---- subscriptions

    pub async fn create_subscription(
        &self,
        tenant: TenantId,
        subscription: &NewSubscription,
    ) -> Result<Subscription, StoreError> {
        dispatch!(self.create_subscription(tenant, subscription))
    }

    pub async fn list_subscriptions(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<Subscription>, StoreError> {
        dispatch!(self.list_subscriptions(tenant))
    }

    /// `false` when `tenant` has no such subscription. Its queued deliveries go too.
    pub async fn delete_subscription(
        &self,
        tenant: TenantId,
        subscription_id: i64,
    ) -> Result<bool, StoreError> {
        dispatch!(self.delete_subscription(tenant, subscription_id))
    }

    // ---- deliveries (the outbox)

    /// Queues a delivery; a key already queued for this tenant is a no-op
    /// ([`Enqueued::Duplicate`]). Fails if the subscription is not the tenant's.
    pub async fn enqueue_delivery(
        &self,
        tenant: TenantId,
        delivery: &NewDelivery,
    ) -> Result<Enqueued, StoreError> {
        dispatch!(self.enqueue_delivery(tenant, delivery))
    }

    pub async fn list_deliveries(&self, tenant: TenantId) -> Result<Vec<Delivery>, StoreError> {
        dispatch!(self.list_deliveries(tenant))
    }

    /// Records a finding (as [`Store::upsert_finding`]) and queues its deliveries in the same
    /// transaction: a finding is never recorded without the promise to tell its subscribers.
    /// Keys already queued are skipped; returns the finding and how many were queued.
    pub async fn record_new_finding_with_deliveries(
        &self,
        tenant: TenantId,
        finding: &FindingUpsert,
        deliveries: &[DueDelivery],
    ) -> Result<(Finding, u64), StoreError> {
        dispatch!(self.record_new_finding_with_deliveries(tenant, finding, deliveries))
    }

    /// Leases up to `limit` deliveries due at `now` until `lease_until`, counting an attempt and
    /// bumping each one's fencing token. Never call it inside a send: claim, commit, then send.
    pub async fn claim_due_deliveries(
        &self,
        tenant: TenantId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        dispatch!(self.claim_due_deliveries(tenant, now, lease_until, limit))
    }

    /// Records how a claimed delivery went; `false` (and nothing written) when the claim was
    /// fenced out: its lease ran out and another claim took the row since.
    pub async fn finish_delivery(
        &self,
        tenant: TenantId,
        delivery_id: i64,
        fence: i64,
        outcome: &DeliveryOutcome,
    ) -> Result<bool, StoreError> {
        dispatch!(self.finish_delivery(tenant, delivery_id, fence, outcome))
    }

    /// Makes a dead delivery due at `now` again (same key, attempts kept); `false` when the
    /// tenant has no such dead delivery.
    pub async fn redrive_delivery(
        &self,
        tenant: TenantId,
        delivery_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch!(self.redrive_delivery(tenant, delivery_id, now))
    }

    // ---- schedules (shared)

    /// Creates or updates a schedule (5-field cron expression and time zone).
    pub async fn ensure_schedule(
        &self,
        id: &str,
        cron: &str,
        timezone: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self.ensure_schedule(id, cron, timezone))
    }

    /// Claims the tick of `schedule` at `scheduled_at`: `true` for the one caller whose insert
    /// won, `false` for everyone else (another replica already has it).
    pub async fn insert_tick(
        &self,
        schedule: &str,
        scheduled_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch!(self.insert_tick(schedule, scheduled_at))
    }

    // ---- notices (shared)

    /// Stores a notice unless the stored copy is as new or newer (by `modified`), replacing its
    /// aliases, affected packages and patterns with the new ones.
    pub async fn upsert_notice(&self, notice: &Notice) -> Result<NoticeWrite, StoreError> {
        types::validate_notice(notice)?;
        dispatch!(self.upsert_notice(notice))
    }

    /// [`Store::upsert_notice`] for many notices in one transaction (what imports of large dumps
    /// need). All or nothing: one invalid notice refuses the batch before anything is written.
    pub async fn upsert_notices(&self, notices: &[Notice]) -> Result<NoticeCounts, StoreError> {
        for notice in notices {
            types::validate_notice(notice)?;
        }
        if notices.is_empty() {
            return Ok(NoticeCounts::default());
        }
        dispatch!(self.upsert_notices(notices))
    }

    /// Every notice with an `affected` entry for one of `packages`, by id. Names are compared
    /// normalized the ecosystem's way (PEP 503 for PyPI), as notices store them.
    pub async fn notices_for_packages(
        &self,
        packages: &[(Ecosystem, String)],
    ) -> Result<Vec<Notice>, StoreError> {
        let mut keys: Vec<(String, String)> = packages
            .iter()
            .map(|(eco, name)| (eco.as_str().to_string(), eco.normalize_name(name)))
            .collect();
        keys.sort();
        keys.dedup();
        dispatch!(self.notices_for_packages(&keys))
    }

    pub async fn get_notice(&self, id: &str) -> Result<Option<Notice>, StoreError> {
        dispatch!(self.get_notice(id))
    }

    /// Notices known by `alias` (CVE, GHSA, RUSTSEC, PYSEC, ...) or whose own id it is.
    pub async fn find_notices_by_alias(&self, alias: &str) -> Result<Vec<Notice>, StoreError> {
        dispatch!(self.find_notices_by_alias(alias))
    }

    // ---- sources and crawl state (shared)

    pub async fn get_source(&self, id: &str) -> Result<Option<SourceState>, StoreError> {
        dispatch!(self.get_source(id))
    }

    /// Every source's crawl state, by id (`ecowatch sources`, the digest's staleness warning).
    pub async fn list_sources(&self) -> Result<Vec<SourceState>, StoreError> {
        dispatch!(self.list_sources())
    }

    /// Creates or replaces a source's crawl state.
    pub async fn put_source(&self, state: &SourceState) -> Result<(), StoreError> {
        dispatch!(self.put_source(state))
    }
}
