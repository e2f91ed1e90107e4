//! What the tenant HTTP API reads (one finding, a page of findings, one subscription) and the
//! crawl/rescan requests it records.
//!
//! Tenant reads go through [`tenant_scoped!`]: on PostgreSQL a transaction that set
//! `app.tenant_id` (forced row-level security filters every row), on SQLite statements that name
//! `tenant_id = $1` themselves, exactly like the per-tenant methods in the backends. An id of
//! another tenant therefore reads as "no such row", never as someone else's data.

use super::types::{FindingRow, SubscriptionRow, finding_from_row, subscription_from_row};
use super::{Finding, FindingStatus, Store, StoreError, Subscription, TenantId};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Runs `$body` with `$conn` bound to a connection scoped to `$tenant`, inside a transaction
/// that commits when the body finishes (and rolls back when it returns early with `?`).
/// `$sqlite_begin` is `"BEGIN"` for reads and `"BEGIN IMMEDIATE"` for writes that read first.
macro_rules! tenant_scoped {
    ($store:expr, $tenant:expr, $sqlite_begin:literal, |$conn:ident| $body:block) => {
        match $store {
            Store::Sqlite(s) => {
                let mut tx = s.pool.begin_with($sqlite_begin).await?;
                let out = {
                    let $conn: &mut sqlx::SqliteConnection = &mut *tx;
                    $body
                };
                tx.commit().await?;
                out
            }
            Store::Postgres(p) => {
                let mut tx = p.tenant_tx($tenant).await?;
                let out = {
                    let $conn: &mut sqlx::PgConnection = &mut *tx;
                    $body
                };
                tx.commit().await?;
                out
            }
        }
    };
}
pub(super) use tenant_scoped;

/// The finding columns [`FindingRow`] reads, then the repository's name.
macro_rules! finding_with_repo {
    () => {
        "SELECT f.id, f.repo_id, f.fingerprint, f.rule_id, f.severity, f.title, f.path, f.line, \
         f.first_seen, f.last_seen, f.status, f.details, r.name \
         FROM findings f JOIN watched_repos r ON r.tenant_id = f.tenant_id AND r.id = f.repo_id "
    };
}

const GET_FINDING: &str = concat!(finding_with_repo!(), "WHERE f.tenant_id = $1 AND f.id = $2");

/// Keyset pagination on the id: a page starts after `$2`, so findings added or fixed between
/// two requests neither repeat nor shift later pages. `$3`..`$5` are optional filters.
///
/// Written so the database reads only the page: the findings walk the `(tenant_id, id)` index
/// in order and stop at the limit, and the tenant's repositories are read once and joined to
/// those rows (a plain join let PostgreSQL read all of a tenant's findings through the
/// repository and sort them, which cost a millisecond per page at 1,000 findings). A page
/// leaves out `details`, the largest column, which only the single-finding read returns.
const FINDINGS_PAGE: &str = "WITH repos AS MATERIALIZED ( \
         SELECT id, name FROM watched_repos WHERE tenant_id = $1), \
     page AS MATERIALIZED ( \
         SELECT f.id, f.repo_id, f.fingerprint, f.rule_id, f.severity, f.title, f.path, f.line, \
                f.first_seen, f.last_seen, f.status \
         FROM findings f \
         WHERE f.tenant_id = $1 AND f.id > $2 \
           AND (CAST($3 AS TEXT) IS NULL OR f.status = $3) \
           AND (CAST($4 AS TEXT) IS NULL OR f.severity = $4) \
           AND (CAST($5 AS TEXT) IS NULL OR f.repo_id IN (SELECT id FROM repos WHERE name = $5)) \
         ORDER BY f.id LIMIT $6) \
     SELECT page.*, repos.name FROM page LEFT JOIN repos ON repos.id = page.repo_id \
     ORDER BY page.id";

const GET_SUBSCRIPTION: &str = "SELECT id, channel, target, filter, created_at \
     FROM subscriptions WHERE tenant_id = $1 AND id = $2";

/// Creates a schedule the API was asked to run before `serve` ever configured it; an existing
/// schedule keeps its cron expression and time zone (unlike `Store::ensure_schedule`).
const ENSURE_SCHEDULE_EXISTS: &str = "INSERT INTO schedules (id, cron, timezone) \
     VALUES ($1, $2, 'UTC') ON CONFLICT (id) DO NOTHING";

type FindingWithRepoRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    sqlx::types::Json<Value>,
    Option<String>,
);

/// A row of [`FINDINGS_PAGE`]: a finding without its details, then the repository's name.
type PageRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    Option<String>,
);

fn page_entry(row: PageRow) -> Result<FindingWithRepo, StoreError> {
    let (id, repo_id, fingerprint, rule_id, severity, title, path, line, first, last, status, r) =
        row;
    Ok(FindingWithRepo {
        finding: Finding {
            id,
            repo_id,
            fingerprint,
            rule_id,
            severity,
            title,
            path,
            line,
            first_seen: first,
            last_seen: last,
            status: FindingStatus::parse(&status)?,
            details: Value::Null,
        },
        repo_name: r,
    })
}

/// A finding with the name of the repository it was found in.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingWithRepo {
    pub finding: Finding,
    /// `None` for repositories watched before names existed.
    pub repo_name: Option<String>,
}

fn finding_with_repo(row: FindingWithRepoRow) -> Result<FindingWithRepo, StoreError> {
    let (id, repo_id, fingerprint, rule_id, severity, title, path, line, first, last, status, d, r) =
        row;
    let finding_row: FindingRow = (
        id,
        repo_id,
        fingerprint,
        rule_id,
        severity,
        title,
        path,
        line,
        first,
        last,
        status,
        d,
    );
    Ok(FindingWithRepo {
        finding: finding_from_row(finding_row)?,
        repo_name: r,
    })
}

/// One page of a tenant's findings, oldest id first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingPageQuery {
    pub status: Option<FindingStatus>,
    pub severity: Option<String>,
    /// The watched repository's name.
    pub repo: Option<String>,
    /// Only findings with an id above this one (the previous page's last id).
    pub after: Option<i64>,
    /// At most this many (1 to [`MAX_PAGE`]).
    pub limit: i64,
}

/// The largest page the store hands out in one read.
pub const MAX_PAGE: i64 = 500;

impl Store {
    /// The tenant's finding `id`; `None` when the tenant has none by that id (including
    /// another tenant's finding).
    pub async fn get_finding(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<Option<FindingWithRepo>, StoreError> {
        let row: Option<FindingWithRepoRow> = tenant_scoped!(self, tenant, "BEGIN", |conn| {
            sqlx::query_as(GET_FINDING)
                .bind(tenant.get())
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
        });
        row.map(finding_with_repo).transpose()
    }

    /// A page of the tenant's findings matching `query`, by ascending id. Page entries carry
    /// no details (`Value::Null`); [`Store::get_finding`] reads one finding with them.
    pub async fn findings_page(
        &self,
        tenant: TenantId,
        query: &FindingPageQuery,
    ) -> Result<Vec<FindingWithRepo>, StoreError> {
        if !(1..=MAX_PAGE).contains(&query.limit) {
            return Err(StoreError::Invalid(format!(
                "a page holds 1 to {MAX_PAGE} findings"
            )));
        }
        let rows: Vec<PageRow> = tenant_scoped!(self, tenant, "BEGIN", |conn| {
            sqlx::query_as(FINDINGS_PAGE)
                .bind(tenant.get())
                .bind(query.after.unwrap_or(0))
                .bind(query.status.map(FindingStatus::as_str))
                .bind(query.severity.as_deref())
                .bind(query.repo.as_deref())
                .bind(query.limit)
                .fetch_all(&mut *conn)
                .await?
        });
        rows.into_iter().map(page_entry).collect()
    }

    /// The tenant's subscription `id`, or `None` (also for another tenant's).
    pub async fn get_subscription(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<Option<Subscription>, StoreError> {
        let row: Option<SubscriptionRow> = tenant_scoped!(self, tenant, "BEGIN", |conn| {
            sqlx::query_as(GET_SUBSCRIPTION)
                .bind(tenant.get())
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
        });
        row.map(subscription_from_row).transpose()
    }

    /// Records a request to run `schedule` (`crawl`, `rescan`) now, as a tick at `at` that the
    /// `serve` loop claims like any other. The schedule is created with `default_cron` only if
    /// it does not exist yet. `false` when a tick at `at` exists already (requests within the
    /// same instant collapse into one run).
    pub async fn request_schedule_run(
        &self,
        schedule: &str,
        default_cron: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        match self {
            Store::Sqlite(s) => {
                sqlx::query(ENSURE_SCHEDULE_EXISTS)
                    .bind(schedule)
                    .bind(default_cron)
                    .execute(&s.pool)
                    .await?;
            }
            Store::Postgres(p) => {
                sqlx::query(ENSURE_SCHEDULE_EXISTS)
                    .bind(schedule)
                    .bind(default_cron)
                    .execute(&p.pool)
                    .await?;
            }
        }
        self.insert_tick(schedule, at).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_statements_name_the_tenant() {
        for sql in [GET_FINDING, FINDINGS_PAGE, GET_SUBSCRIPTION] {
            assert!(sql.contains("WHERE f.tenant_id = $1") || sql.contains("WHERE tenant_id = $1"));
        }
        // Both halves of the page query name the tenant.
        assert_eq!(FINDINGS_PAGE.matches("tenant_id = $1").count(), 2);
        // The join cannot pair a finding with another tenant's repository.
        assert!(GET_FINDING.contains("r.tenant_id = f.tenant_id"));
    }

    #[tokio::test]
    async fn pages_are_keyset_ordered_and_filtered_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("db.sqlite"), false)
            .await
            .unwrap();
        let a = store.ensure_tenant("a").await.unwrap();
        let b = store.ensure_tenant("b").await.unwrap();
        let repo = store.watch_repo(a, "api", "/tmp/api").await.unwrap();
        let other = store.watch_repo(b, "api", "/tmp/api").await.unwrap();
        let now = Utc::now();
        let upsert = |repo_id: i64, n: usize, severity: &str| super::super::FindingUpsert {
            repo_id,
            fingerprint: format!("fp{n}"),
            rule_id: "r".into(),
            severity: severity.into(),
            title: format!("t{n}"),
            path: None,
            line: None,
            status: FindingStatus::New,
            seen_at: now,
            details: serde_json::json!({}),
        };
        for n in 0..5 {
            let severity = if n % 2 == 0 { "high" } else { "low" };
            store
                .upsert_finding(a, &upsert(repo.id, n, severity))
                .await
                .unwrap();
        }
        let foreign = store
            .upsert_finding(b, &upsert(other.id, 9, "high"))
            .await
            .unwrap();

        let mut query = FindingPageQuery {
            limit: 2,
            ..Default::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = store.findings_page(a, &query).await.unwrap();
            if page.is_empty() {
                break;
            }
            query.after = page.last().map(|f| f.finding.id);
            seen.extend(page.into_iter().map(|f| f.finding.title));
        }
        assert_eq!(seen, ["t0", "t1", "t2", "t3", "t4"]);

        let high = FindingPageQuery {
            severity: Some("high".into()),
            repo: Some("api".into()),
            limit: 10,
            ..Default::default()
        };
        assert_eq!(store.findings_page(a, &high).await.unwrap().len(), 3);
        assert!(store.get_finding(a, foreign.id).await.unwrap().is_none());
        let mine = store.get_finding(b, foreign.id).await.unwrap().unwrap();
        assert_eq!(mine.repo_name.as_deref(), Some("api"));
        let too_big = FindingPageQuery {
            limit: MAX_PAGE + 1,
            ..Default::default()
        };
        assert!(store.findings_page(a, &too_big).await.is_err());
    }
}
