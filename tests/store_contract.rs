//! The store's contract, run unchanged on both backends: SQLite (a temp file) and a real
//! PostgreSQL that `scripts/test` starts on loopback (`scripts/services/postgres.sh`).
//!
//! Each contract test runs once per backend (`<test>::sqlite`, `<test>::postgres`). Every
//! PostgreSQL test gets a fresh database created through the owner role, migrated as the owner,
//! and used as the app role (no owner, no BYPASSRLS), the way the service runs. Without
//! `ECOWATCH_TEST_POSTGRES_URL` the PostgreSQL half skips loudly, except under `CI=true`, where it
//! fails, so CI cannot pass without it.

use chrono::{DateTime, TimeZone, Utc};
use ecowatch::store::*;
use serde_json::json;
use sqlx::AssertSqlSafe;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

// ------------------------------------------------------------------------------------ harness

/// A store on a throwaway database, and what is needed to drop that database afterwards.
struct Harness {
    store: Store,
    backend: Backend,
}

enum Backend {
    /// Removed (with the database) when the harness drops.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(PgDatabase),
}

struct PgDatabase {
    name: String,
    /// The app role (the service's role) on this database.
    app_url: String,
    /// The owner role on the shared `ecowatch` database, which may create and drop databases.
    admin_url: String,
}

fn env_var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// The PostgreSQL URLs from scripts/services/postgres.sh, or `None` (skip) outside CI.
fn postgres_urls() -> Option<(String, String)> {
    match (
        env_var("ECOWATCH_TEST_POSTGRES_URL"),
        env_var("ECOWATCH_TEST_POSTGRES_OWNER_URL"),
    ) {
        (Some(app), Some(owner)) => Some((app, owner)),
        _ if env_var("CI").as_deref() == Some("true") => panic!(
            "CI=true but ECOWATCH_TEST_POSTGRES_URL / ECOWATCH_TEST_POSTGRES_OWNER_URL are unset: \
             the PostgreSQL half of the store contract must run in CI (./scripts/test starts it)"
        ),
        _ => {
            eprintln!(
                "SKIPPED: PostgreSQL store contract (ECOWATCH_TEST_POSTGRES_URL unset; \
                 run ./scripts/test, or eval \"$(scripts/services/postgres.sh start)\")"
            );
            None
        }
    }
}

/// `url` with its database name replaced; the URLs come from postgres.sh, which writes
/// `postgres://user:password@127.0.0.1:port/ecowatch`.
fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url
        .rsplit_once('/')
        .expect("a postgres URL ends in /database");
    format!("{base}/{database}")
}

fn user_of(url: &str) -> String {
    let rest = url.split_once("://").expect("URL has a scheme").1;
    let userinfo = rest.split_once('@').expect("URL names a user").0;
    userinfo.split(':').next().unwrap_or_default().to_string()
}

static DATABASE_COUNTER: AtomicU32 = AtomicU32::new(0);

impl Harness {
    async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_sqlite(&dir.path().join("ecowatch.db"), false)
            .await
            .expect("open sqlite store");
        Harness {
            store,
            backend: Backend::Sqlite(dir),
        }
    }

    async fn postgres() -> Option<Harness> {
        let (app_url, owner_url) = postgres_urls()?;
        let name = format!(
            "ecowatch_test_{}_{}",
            std::process::id(),
            DATABASE_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&owner_url)
            .await
            .expect("connect as the owner role");
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create a test database");
        admin.close().await;

        // What postgres.sh does for the `ecowatch` database: tables the owner creates are
        // granted to the app role.
        let owner_db_url = with_database(&owner_url, &name);
        let owner_db = PgPool::connect(&owner_db_url)
            .await
            .expect("connect to the test database as owner");
        let app_role = user_of(&app_url);
        for grant in [
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES",
            "GRANT USAGE, SELECT ON SEQUENCES",
        ] {
            sqlx::query(AssertSqlSafe(format!(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public {grant} TO {app_role}"
            )))
            .execute(&owner_db)
            .await
            .expect("default privileges");
        }
        owner_db.close().await;

        let app_db_url = with_database(&app_url, &name);
        let store = Store::open(&StoreConfig::Postgres {
            url: app_db_url.clone(),
            owner_url: Some(owner_db_url),
        })
        .await
        .expect("open and migrate the postgres store");
        Some(Harness {
            store,
            backend: Backend::Postgres(PgDatabase {
                name,
                app_url: app_db_url,
                admin_url: owner_url,
            }),
        })
    }

    fn pg(&self) -> &PgDatabase {
        match &self.backend {
            Backend::Postgres(db) => db,
            Backend::Sqlite(_) => panic!("a PostgreSQL-only check ran on SQLite"),
        }
    }

    async fn finish(self) {
        self.store.close().await;
        if let Backend::Postgres(db) = self.backend
            && let Ok(admin) = PgPool::connect(&db.admin_url).await
        {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.name);
            let _ = sqlx::query(AssertSqlSafe(drop)).execute(&admin).await;
            admin.close().await;
        }
    }
}

/// Declares `mod <check> { sqlite, postgres }`, running the async fn `<check>(&Harness)` on each.
macro_rules! contract {
    ($($check:ident),* $(,)?) => {$(
        mod $check {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let h = super::Harness::sqlite().await;
                super::$check(&h).await;
                h.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(h) = super::Harness::postgres().await else { return };
                super::$check(&h).await;
                h.finish().await;
            }
        }
    )*};
}

contract!(
    migrations_apply_and_are_idempotent,
    tenants_are_named_once,
    tenant_a_never_reads_counts_or_changes_tenant_b,
    findings_keep_first_seen_and_filter,
    named_repos_are_unique_per_tenant,
    unseen_findings_become_fixed_and_scans_are_recorded,
    outbox_delivery_key_is_queued_once,
    new_finding_and_its_deliveries_commit_together,
    relay_claims_lease_fence_and_redrive,
    concurrent_claims_never_share_a_delivery,
    a_tick_is_claimed_once,
    notice_upsert_is_idempotent_and_follows_modified,
    notice_batches_count_writes_and_packages_find_their_notices,
    source_crawl_state_round_trips,
    package_repos_and_changelog_choices_round_trip,
);

fn at(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, 0, 0)
        .single()
        .expect("valid test date")
}

// ------------------------------------------------------------------------ contract checks

async fn migrations_apply_and_are_idempotent(h: &Harness) {
    let status = h.store.schema_status().await.expect("status");
    assert!(status.is_current(), "{status:?}");
    assert_eq!(status.current, Some(latest_schema_version()));
    h.store
        .migrate()
        .await
        .expect("a second migrate is a no-op");
    assert_eq!(h.store.schema_status().await.expect("status"), status);
}

async fn tenants_are_named_once(h: &Harness) {
    let a = h.store.ensure_tenant("acme").await.expect("tenant");
    assert_eq!(h.store.ensure_tenant("acme").await.expect("again"), a);
    let default = h.store.default_tenant().await.expect("default tenant");
    assert_ne!(default, a);
    assert_eq!(
        h.store.ensure_tenant(DEFAULT_TENANT).await.expect("x"),
        default
    );
    assert!(matches!(
        h.store.ensure_tenant("").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        h.store.ensure_tenant(&"x".repeat(201)).await,
        Err(StoreError::Invalid(_))
    ));
}

/// One tenant's data, created through the API.
struct Seeded {
    repo: WatchedRepo,
    open: Finding,
    fixed: Finding,
    subscription: Subscription,
    delivery: i64,
}

fn finding(repo_id: i64, fingerprint: &str, status: FindingStatus) -> FindingUpsert {
    FindingUpsert {
        repo_id,
        fingerprint: fingerprint.into(),
        rule_id: "GHSA-xxxx-yyyy-zzzz".into(),
        severity: "high".into(),
        title: "lodash: prototype pollution".into(),
        path: Some("package-lock.json".into()),
        line: Some(42),
        status,
        seen_at: at(2026, 1, 2, 3),
        details: json!({"package": "lodash", "version": "4.17.15"}),
    }
}

/// Mirror-image data: both tenants get the same URLs, fingerprints, targets and keys.
async fn seed(store: &Store, tenant: TenantId) -> Seeded {
    let repo = store
        .add_repo(tenant, "https://github.com/acme/app", Some("main"))
        .await
        .expect("add repo");
    let open = store
        .upsert_finding(tenant, &finding(repo.id, "fp-open", FindingStatus::Open))
        .await
        .expect("finding");
    let fixed = store
        .upsert_finding(tenant, &finding(repo.id, "fp-fixed", FindingStatus::Fixed))
        .await
        .expect("finding");
    let subscription = store
        .create_subscription(
            tenant,
            &NewSubscription {
                channel: Channel::Email,
                target: "team@acme.test".into(),
                filter: json!({"min_severity": "high"}),
            },
        )
        .await
        .expect("subscription");
    let Enqueued::Queued(delivery) = store
        .enqueue_delivery(
            tenant,
            &NewDelivery {
                subscription_id: subscription.id,
                delivery_key: "email:team@acme.test:fp-open".into(),
                payload: json!({"finding": "fp-open"}),
            },
        )
        .await
        .expect("delivery")
    else {
        panic!("first enqueue must queue");
    };
    Seeded {
        repo,
        open,
        fixed,
        subscription,
        delivery,
    }
}

/// Everything the API shows of one tenant.
#[derive(Debug, PartialEq)]
struct Snapshot {
    repos: Vec<WatchedRepo>,
    findings: Vec<Finding>,
    subscriptions: Vec<Subscription>,
    deliveries: Vec<Delivery>,
}

async fn snapshot(store: &Store, tenant: TenantId) -> Snapshot {
    Snapshot {
        repos: store.list_repos(tenant).await.expect("repos"),
        findings: store
            .list_findings(tenant, &FindingFilter::default())
            .await
            .expect("findings"),
        subscriptions: store.list_subscriptions(tenant).await.expect("subs"),
        deliveries: store.list_deliveries(tenant).await.expect("deliveries"),
    }
}

async fn tenant_a_never_reads_counts_or_changes_tenant_b(h: &Harness) {
    let store = &h.store;
    let a = store.ensure_tenant("tenant-a").await.expect("a");
    let b = store.ensure_tenant("tenant-b").await.expect("b");
    let sa = seed(store, a).await;
    let sb = seed(store, b).await;
    let b_before = snapshot(store, b).await;
    assert_eq!(b_before.repos.len(), 1);
    assert_eq!(b_before.findings.len(), 2);

    // Reads and counts as A show A's rows only.
    let a_view = snapshot(store, a).await;
    assert_eq!(a_view.repos, vec![sa.repo.clone()]);
    let mut a_finding_ids: Vec<i64> = a_view.findings.iter().map(|f| f.id).collect();
    a_finding_ids.sort();
    let mut expected = vec![sa.open.id, sa.fixed.id];
    expected.sort();
    assert_eq!(a_finding_ids, expected);
    assert_eq!(a_view.subscriptions, vec![sa.subscription.clone()]);
    assert_eq!(
        a_view.deliveries.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![sa.delivery]
    );
    let all = FindingFilter::default();
    assert_eq!(store.count_findings(a, &all).await.expect("count"), 2);
    let b_repo = FindingFilter {
        repo_id: Some(sb.repo.id),
        status: None,
    };
    assert!(store.list_findings(a, &b_repo).await.expect("l").is_empty());
    assert_eq!(store.count_findings(a, &b_repo).await.expect("count"), 0);
    let open = FindingFilter {
        repo_id: None,
        status: Some(FindingStatus::Open),
    };
    assert_eq!(
        store.list_findings(a, &open).await.expect("open"),
        vec![sa.open.clone()]
    );

    // Writes as A aimed at B's ids change nothing.
    assert!(!store.remove_repo(a, sb.repo.id).await.expect("remove"));
    assert!(
        !store
            .set_finding_status(a, sb.open.id, FindingStatus::Suppressed)
            .await
            .expect("status")
    );
    assert!(
        !store
            .delete_subscription(a, sb.subscription.id)
            .await
            .expect("delete")
    );
    let into_b_repo = finding(sb.repo.id, "fp-open", FindingStatus::Fixed);
    let refused = store.upsert_finding(a, &into_b_repo).await;
    assert!(
        matches!(refused, Err(StoreError::MissingReference(_))),
        "A must not write a finding under B's repository: {refused:?}"
    );
    let via_b_subscription = NewDelivery {
        subscription_id: sb.subscription.id,
        delivery_key: "email:team@acme.test:fp-new".into(),
        payload: json!({}),
    };
    let refused = store.enqueue_delivery(a, &via_b_subscription).await;
    assert!(
        matches!(refused, Err(StoreError::MissingReference(_))),
        "A must not queue a delivery to B's subscriber: {refused:?}"
    );
    // A's own writes with B's natural keys (same URL, fingerprint, delivery key) stay A's.
    let again = store
        .add_repo(a, "https://github.com/acme/app", Some("develop"))
        .await
        .expect("re-add");
    assert_eq!(again.id, sa.repo.id);
    store
        .upsert_finding(a, &finding(sa.repo.id, "fp-open", FindingStatus::Fixed))
        .await
        .expect("A updates its own finding");
    let same_key = NewDelivery {
        subscription_id: sa.subscription.id,
        delivery_key: "email:team@acme.test:fp-open".into(),
        payload: json!({}),
    };
    assert_eq!(
        store.enqueue_delivery(a, &same_key).await.expect("dup"),
        Enqueued::Duplicate
    );
    assert_eq!(snapshot(store, b).await, b_before);

    // A deleting all of its own data leaves B whole.
    assert!(
        store
            .delete_subscription(a, sa.subscription.id)
            .await
            .expect("d")
    );
    assert!(store.remove_repo(a, sa.repo.id).await.expect("r"));
    assert_eq!(store.count_findings(a, &all).await.expect("count"), 0);
    assert!(store.list_deliveries(a).await.expect("d").is_empty());
    assert_eq!(snapshot(store, b).await, b_before);
}

async fn findings_keep_first_seen_and_filter(h: &Harness) {
    let store = &h.store;
    let t = store.default_tenant().await.expect("tenant");
    let repo = store
        .add_repo(t, "https://github.com/acme/api", None)
        .await
        .expect("repo");
    let first = store
        .upsert_finding(t, &finding(repo.id, "fp", FindingStatus::Open))
        .await
        .expect("first");
    assert_eq!(first.first_seen, at(2026, 1, 2, 3));
    assert_eq!(first.last_seen, first.first_seen);
    assert_eq!(first.details["package"], "lodash");

    let mut later = finding(repo.id, "fp", FindingStatus::Fixed);
    later.seen_at = at(2026, 2, 1, 0);
    later.line = Some(7);
    let second = store.upsert_finding(t, &later).await.expect("second");
    assert_eq!(
        second.id, first.id,
        "same (tenant, repo, fingerprint) is one row"
    );
    assert_eq!(second.first_seen, at(2026, 1, 2, 3));
    assert_eq!(second.last_seen, at(2026, 2, 1, 0));
    assert_eq!(second.status, FindingStatus::Fixed);
    assert_eq!(second.line, Some(7));

    let fixed = FindingFilter {
        repo_id: Some(repo.id),
        status: Some(FindingStatus::Fixed),
    };
    assert_eq!(
        store.list_findings(t, &fixed).await.expect("l"),
        vec![second]
    );
    let open = FindingFilter {
        status: Some(FindingStatus::Open),
        ..FindingFilter::default()
    };
    assert_eq!(store.count_findings(t, &open).await.expect("c"), 0);
    assert!(
        store
            .set_finding_status(t, first.id, FindingStatus::Suppressed)
            .await
            .expect("s")
    );
    assert!(
        !store
            .set_finding_status(t, i64::MAX, FindingStatus::Open)
            .await
            .expect("missing id is false, not an error")
    );
    let missing_repo = finding(i64::MAX, "fp", FindingStatus::Open);
    assert!(matches!(
        store.upsert_finding(t, &missing_repo).await,
        Err(StoreError::MissingReference(_))
    ));
}

async fn named_repos_are_unique_per_tenant(h: &Harness) {
    let store = &h.store;
    let a = store.ensure_tenant("a").await.expect("tenant a");
    let b = store.ensure_tenant("b").await.expect("tenant b");
    let repo = store.watch_repo(a, "app", "/srv/app").await.expect("watch");
    assert_eq!(repo.name.as_deref(), Some("app"));
    assert_eq!(repo.url, "/srv/app");
    assert!(matches!(
        store.watch_repo(a, "app", "/srv/other").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.watch_repo(a, "other", "/srv/app").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.watch_repo(a, "", "/srv/x").await,
        Err(StoreError::Invalid(_))
    ));
    let theirs = store
        .watch_repo(b, "app", "/srv/app")
        .await
        .expect("another tenant may use the same name");
    assert_eq!(store.list_repos(a).await.expect("list"), vec![repo]);
    assert_eq!(store.list_repos(b).await.expect("list"), vec![theirs]);
    let unnamed = store
        .add_repo(a, "https://github.com/acme/app", None)
        .await
        .expect("add");
    assert_eq!(unnamed.name, None);
}

async fn unseen_findings_become_fixed_and_scans_are_recorded(h: &Harness) {
    let store = &h.store;
    let a = store.ensure_tenant("a").await.expect("tenant a");
    let b = store.ensure_tenant("b").await.expect("tenant b");
    let repo = store.watch_repo(a, "app", "/srv/app").await.expect("a");
    let other = store.watch_repo(a, "lib", "/srv/lib").await.expect("a");
    let b_repo = store.watch_repo(b, "app", "/srv/app").await.expect("b");
    for (tenant, repo_id) in [(a, repo.id), (a, other.id), (b, b_repo.id)] {
        for fp in ["seen", "gone"] {
            store
                .upsert_finding(tenant, &finding(repo_id, fp, FindingStatus::New))
                .await
                .expect("seed");
        }
    }
    let suppressed = store
        .upsert_finding(a, &finding(repo.id, "muted", FindingStatus::Suppressed))
        .await
        .expect("suppressed");

    let rescan = at(2026, 3, 1, 0);
    let mut seen = finding(repo.id, "seen", FindingStatus::Open);
    seen.seen_at = rescan;
    store.upsert_finding(a, &seen).await.expect("rescan");
    assert_eq!(
        store
            .mark_unseen_fixed(a, repo.id, rescan)
            .await
            .expect("mark"),
        1
    );
    let status_of = |findings: &[Finding], fp: &str| {
        findings
            .iter()
            .find(|f| f.fingerprint == fp)
            .map(|f| f.status)
    };
    let mine = store
        .list_findings(
            a,
            &FindingFilter {
                repo_id: Some(repo.id),
                status: None,
            },
        )
        .await
        .expect("list");
    assert_eq!(status_of(&mine, "seen"), Some(FindingStatus::Open));
    assert_eq!(status_of(&mine, "gone"), Some(FindingStatus::Fixed));
    assert_eq!(status_of(&mine, "muted"), Some(suppressed.status));
    let new = FindingFilter {
        repo_id: None,
        status: Some(FindingStatus::New),
    };
    assert_eq!(
        store.count_findings(a, &new).await.expect("count"),
        2,
        "the other repository is untouched"
    );
    assert_eq!(store.count_findings(b, &new).await.expect("count"), 2);
    assert_eq!(
        store
            .mark_unseen_fixed(a, b_repo.id, rescan)
            .await
            .expect("another tenant's repository is no error"),
        0
    );
    assert_eq!(store.count_findings(b, &new).await.expect("count"), 2);

    let record = ScanRecord {
        repo_id: repo.id,
        started_at: rescan,
        finished_at: at(2026, 3, 1, 1),
        status: "ok".into(),
        error: None,
        summary: json!({"new": 0, "open": 1, "fixed": 1}),
    };
    let first = store.record_scan(a, &record).await.expect("record");
    let second = store.record_scan(a, &record).await.expect("record");
    assert_ne!(first, second);
    let foreign = ScanRecord {
        repo_id: b_repo.id,
        ..record
    };
    assert!(matches!(
        store.record_scan(a, &foreign).await,
        Err(StoreError::MissingReference(_))
    ));
}

async fn outbox_delivery_key_is_queued_once(h: &Harness) {
    let store = &h.store;
    let a = store.ensure_tenant("a").await.expect("a");
    let b = store.ensure_tenant("b").await.expect("b");
    let sub = |target: &str| NewSubscription {
        channel: Channel::Webhook,
        target: target.into(),
        filter: json!({}),
    };
    let sa = store
        .create_subscription(a, &sub("https://hooks.example/a"))
        .await
        .expect("sub");
    let sb = store
        .create_subscription(b, &sub("https://hooks.example/a"))
        .await
        .expect("sub");
    let delivery = |subscription_id| NewDelivery {
        subscription_id,
        delivery_key: "digest:2026-W05".into(),
        payload: json!({"n": 1}),
    };
    let first = store
        .enqueue_delivery(a, &delivery(sa.id))
        .await
        .expect("1");
    assert!(matches!(first, Enqueued::Queued(_)));
    let mut changed = delivery(sa.id);
    changed.payload = json!({"n": 2});
    assert_eq!(
        store.enqueue_delivery(a, &changed).await.expect("2"),
        Enqueued::Duplicate
    );
    let queued = store.list_deliveries(a).await.expect("list");
    assert_eq!(queued.len(), 1);
    assert_eq!(
        queued[0].payload,
        json!({"n": 1}),
        "the duplicate changed nothing"
    );
    assert_eq!(queued[0].status, "pending");
    assert_eq!(queued[0].attempts, 0);
    // Keys are per tenant: B's identical key is B's own delivery.
    assert!(matches!(
        store
            .enqueue_delivery(b, &delivery(sb.id))
            .await
            .expect("b"),
        Enqueued::Queued(_)
    ));
    // The same subscription target twice is one subscription.
    let again = store
        .create_subscription(a, &sub("https://hooks.example/a"))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

fn email_sub(target: &str) -> NewSubscription {
    NewSubscription {
        channel: Channel::Email,
        target: target.into(),
        filter: json!({"cadence": "immediate"}),
    }
}

fn due(subscription_id: i64, key: &str, due_at: DateTime<Utc>) -> DueDelivery {
    DueDelivery {
        delivery: NewDelivery {
            subscription_id,
            delivery_key: key.into(),
            payload: json!({"title": key}),
        },
        due_at,
    }
}

async fn new_finding_and_its_deliveries_commit_together(h: &Harness) {
    let store = &h.store;
    let a = store.ensure_tenant("a").await.expect("a");
    let b = store.ensure_tenant("b").await.expect("b");
    let repo = store.watch_repo(a, "app", "/srv/app").await.expect("repo");
    let s1 = store
        .create_subscription(a, &email_sub("one@example.com"))
        .await
        .expect("s1");
    let s2 = store
        .create_subscription(a, &email_sub("two@example.com"))
        .await
        .expect("s2");
    let sb = store
        .create_subscription(b, &email_sub("b@example.com"))
        .await
        .expect("sb");
    let now = at(2026, 3, 1, 0);
    let deliveries = [due(s1.id, "k1", now), due(s2.id, "k2", now)];
    let (recorded, queued) = store
        .record_new_finding_with_deliveries(
            a,
            &finding(repo.id, "fp", FindingStatus::New),
            &deliveries,
        )
        .await
        .expect("record");
    assert_eq!(recorded.status, FindingStatus::New);
    assert_eq!(queued, 2);
    // Recording it again (a rescan) queues nothing: the keys are taken.
    let (_, again) = store
        .record_new_finding_with_deliveries(
            a,
            &finding(repo.id, "fp", FindingStatus::New),
            &deliveries,
        )
        .await
        .expect("again");
    assert_eq!(again, 0);
    assert_eq!(store.list_deliveries(a).await.expect("list").len(), 2);
    // Another tenant's subscription rolls the whole transaction back: no finding either.
    let foreign = [due(s1.id, "k3", now), due(sb.id, "k4", now)];
    let refused = store
        .record_new_finding_with_deliveries(
            a,
            &finding(repo.id, "other", FindingStatus::New),
            &foreign,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::MissingReference(_))),
        "{refused:?}"
    );
    let findings = store
        .list_findings(a, &FindingFilter::default())
        .await
        .expect("findings");
    assert!(
        findings.iter().all(|f| f.fingerprint != "other"),
        "rolled back"
    );
    assert_eq!(
        store.list_deliveries(a).await.expect("list").len(),
        2,
        "rolled back"
    );
    assert!(store.list_deliveries(b).await.expect("b").is_empty());
}

async fn relay_claims_lease_fence_and_redrive(h: &Harness) {
    let store = &h.store;
    let a = store.ensure_tenant("a").await.expect("a");
    let b = store.ensure_tenant("b").await.expect("b");
    let repo = store.watch_repo(a, "app", "/srv/app").await.expect("repo");
    let s = store
        .create_subscription(a, &email_sub("one@example.com"))
        .await
        .expect("s");
    let now = at(2026, 3, 1, 0);
    let later = at(2026, 3, 2, 0);
    store
        .record_new_finding_with_deliveries(
            a,
            &finding(repo.id, "fp", FindingStatus::New),
            &[due(s.id, "now", now), due(s.id, "tomorrow", later)],
        )
        .await
        .expect("record");
    let lease_until = at(2026, 3, 1, 1);
    // Only what is due is claimed; another tenant claims nothing of A's.
    assert!(
        store
            .claim_due_deliveries(b, now, lease_until, 10)
            .await
            .expect("b")
            .is_empty()
    );
    let claimed = store
        .claim_due_deliveries(a, now, lease_until, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    let first = &claimed[0];
    assert_eq!((first.delivery_key.as_str(), first.attempts), ("now", 1));
    // While leased, nobody else gets it.
    assert!(
        store
            .claim_due_deliveries(a, now, lease_until, 10)
            .await
            .expect("c")
            .is_empty()
    );
    // The lease runs out; a second worker claims it with a newer fencing token.
    let expired = at(2026, 3, 1, 2);
    let second = store
        .claim_due_deliveries(a, expired, at(2026, 3, 1, 3), 10)
        .await
        .expect("reclaim");
    assert_eq!(second.len(), 1);
    assert!(second[0].fence > first.fence);
    assert_eq!(second[0].attempts, 2);
    // The late first worker is fenced out; the second records its outcome.
    let sent = DeliveryOutcome::Sent { at: expired };
    assert!(
        !store
            .finish_delivery(a, first.id, first.fence, &sent)
            .await
            .expect("late")
    );
    let retry = DeliveryOutcome::Retry {
        error: "451 busy".into(),
        next_attempt_at: at(2026, 3, 1, 5),
    };
    assert!(
        store
            .finish_delivery(a, first.id, second[0].fence, &retry)
            .await
            .expect("retry")
    );
    let row = |list: Vec<Delivery>| {
        list.into_iter()
            .find(|d| d.delivery_key == "now")
            .expect("row")
    };
    let listed = row(store.list_deliveries(a).await.expect("list"));
    assert_eq!(listed.status, "pending");
    assert_eq!(listed.last_error.as_deref(), Some("451 busy"));
    assert_eq!(listed.next_attempt_at, at(2026, 3, 1, 5));
    // Not due before its next attempt; due after.
    assert!(
        store
            .claim_due_deliveries(a, at(2026, 3, 1, 4), at(2026, 3, 1, 6), 10)
            .await
            .expect("early")
            .is_empty()
    );
    let third = store
        .claim_due_deliveries(a, at(2026, 3, 1, 5), at(2026, 3, 1, 6), 10)
        .await
        .expect("due");
    assert_eq!(third.len(), 1);
    let dead = DeliveryOutcome::Dead {
        error: "550 no such user".into(),
    };
    assert!(
        store
            .finish_delivery(a, third[0].id, third[0].fence, &dead)
            .await
            .expect("dead")
    );
    // A second outcome for the same claim changes nothing (the row is no longer pending).
    assert!(
        !store
            .finish_delivery(a, third[0].id, third[0].fence, &sent)
            .await
            .expect("twice")
    );
    let listed = row(store.list_deliveries(a).await.expect("list"));
    assert_eq!((listed.status.as_str(), listed.attempts), ("dead", 3));
    // Dead letters are not claimed; redrive makes one due again, keeping key and attempts.
    let t = at(2026, 3, 1, 7);
    assert!(
        store
            .claim_due_deliveries(a, t, at(2026, 3, 1, 8), 10)
            .await
            .expect("none")
            .is_empty()
    );
    assert!(
        !store
            .redrive_delivery(b, third[0].id, t)
            .await
            .expect("other tenant")
    );
    assert!(
        store
            .redrive_delivery(a, third[0].id, t)
            .await
            .expect("redrive")
    );
    assert!(
        !store
            .redrive_delivery(a, third[0].id, t)
            .await
            .expect("not dead now")
    );
    let fourth = store
        .claim_due_deliveries(a, t, at(2026, 3, 1, 8), 10)
        .await
        .expect("again");
    assert_eq!(fourth.len(), 1);
    assert_eq!(
        (fourth[0].delivery_key.as_str(), fourth[0].attempts),
        ("now", 4)
    );
    assert!(
        store
            .finish_delivery(a, fourth[0].id, fourth[0].fence, &sent)
            .await
            .expect("sent")
    );
    let listed = row(store.list_deliveries(a).await.expect("list"));
    assert_eq!(listed.status, "sent");
    assert_eq!(listed.last_error, None);
}

async fn concurrent_claims_never_share_a_delivery(h: &Harness) {
    let store = &h.store;
    let a = store.ensure_tenant("a").await.expect("a");
    let repo = store.watch_repo(a, "app", "/srv/app").await.expect("repo");
    let s = store
        .create_subscription(a, &email_sub("one@example.com"))
        .await
        .expect("s");
    let now = at(2026, 3, 1, 0);
    for n in 0..20 {
        let key = format!("k{n}");
        store
            .record_new_finding_with_deliveries(
                a,
                &finding(repo.id, &key, FindingStatus::New),
                &[due(s.id, &key, now)],
            )
            .await
            .expect("record");
    }
    let lease = at(2026, 3, 1, 1);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_due_deliveries(a, now, lease, 8).await })
        })
        .collect();
    let mut ids = Vec::new();
    for worker in workers {
        ids.extend(
            worker
                .await
                .expect("join")
                .expect("claim")
                .into_iter()
                .map(|c| c.id),
        );
    }
    let claimed = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), claimed, "no delivery was claimed twice");
    assert_eq!(claimed, 20, "every due delivery was claimed by someone");
}

async fn a_tick_is_claimed_once(h: &Harness) {
    let store = &h.store;
    store
        .ensure_schedule("crawl", "*/15 * * * *", "UTC")
        .await
        .expect("schedule");
    let tick = at(2026, 3, 1, 9);
    // Eight "replicas" race for the same tick: exactly one wins.
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_tick("crawl", tick).await })
        })
        .collect();
    let mut wins = 0;
    for racer in racers {
        if racer.await.expect("task").expect("insert tick") {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
    assert!(!store.insert_tick("crawl", tick).await.expect("again"));
    assert!(
        store
            .insert_tick("crawl", at(2026, 3, 1, 10))
            .await
            .expect("next")
    );
    let orphan = store.insert_tick("no-such-schedule", tick).await;
    assert!(
        matches!(orphan, Err(StoreError::MissingReference(_))),
        "a tick needs its schedule: {orphan:?}"
    );
}

fn notice(modified: DateTime<Utc>, summary: &str) -> Notice {
    Notice {
        id: "GHSA-29mw-wpgm-hmr9".into(),
        kind: NoticeKind::Advisory,
        aliases: vec!["CVE-2020-28500".into()],
        summary: Some(summary.into()),
        details: Some("Lodash versions prior to 4.17.21 are vulnerable to ReDoS.".into()),
        severity: json!([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"}]),
        published: Some(at(2022, 1, 6, 20)),
        modified,
        withdrawn: None,
        affected: vec![Affected {
            ecosystem: "npm".into(),
            package: "lodash".into(),
            ranges: json!([{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]),
            versions: vec![],
        }],
        references: json!([{"type": "WEB", "url": "https://github.com/lodash/lodash/pull/5065"}]),
        patterns: vec![CodePattern {
            matcher: "regex".into(),
            pattern: r"\b_\.trim(End)?\(".into(),
            language: Some("javascript".into()),
            provenance: "curated".into(),
            confidence: 0.5,
        }],
        source_id: Some("osv".into()),
        raw: Some(json!({"id": "GHSA-29mw-wpgm-hmr9", "schema_version": "1.6.0"})),
    }
}

async fn notice_upsert_is_idempotent_and_follows_modified(h: &Harness) {
    let store = &h.store;
    let v1 = notice(at(2024, 1, 1, 0), "ReDoS in lodash");
    assert_eq!(
        store.upsert_notice(&v1).await.expect("insert"),
        NoticeWrite::Inserted
    );
    assert_eq!(
        store.get_notice(&v1.id).await.expect("get"),
        Some(v1.clone())
    );
    assert_eq!(
        store.upsert_notice(&v1).await.expect("same"),
        NoticeWrite::Unchanged
    );

    let older = notice(at(2023, 6, 1, 0), "stale copy");
    assert_eq!(
        store.upsert_notice(&older).await.expect("older"),
        NoticeWrite::Unchanged
    );
    assert_eq!(
        store.get_notice(&v1.id).await.expect("get"),
        Some(v1.clone())
    );

    // A sub-second newer `modified` still counts as newer (SQLite compares the stored text).
    let mut v2 = notice(
        at(2024, 1, 1, 0) + chrono::Duration::milliseconds(250),
        "ReDoS in lodash (updated)",
    );
    v2.aliases = vec!["CVE-2020-28500".into(), "SNYK-JS-LODASH-1018905".into()];
    v2.affected[0].versions = vec!["4.17.20".into()];
    v2.patterns.clear();
    assert_eq!(
        store.upsert_notice(&v2).await.expect("newer"),
        NoticeWrite::Updated
    );
    assert_eq!(
        store.get_notice(&v1.id).await.expect("get"),
        Some(v2.clone())
    );

    for alias in [
        "CVE-2020-28500",
        "SNYK-JS-LODASH-1018905",
        "GHSA-29mw-wpgm-hmr9",
    ] {
        let found = store.find_notices_by_alias(alias).await.expect("alias");
        assert_eq!(found, vec![v2.clone()], "by {alias}");
    }
    assert!(
        store
            .find_notices_by_alias("CVE-1999-0001")
            .await
            .expect("none")
            .is_empty()
    );
    assert_eq!(store.get_notice("missing").await.expect("get"), None);

    let mut bad = notice(at(2025, 1, 1, 0), "x");
    bad.patterns[0].confidence = f64::NAN;
    assert!(matches!(
        store.upsert_notice(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    bad.patterns[0].confidence = 1.5;
    assert!(store.upsert_notice(&bad).await.is_err());
    bad.id = " ".into();
    assert!(store.upsert_notice(&bad).await.is_err());
    assert_eq!(store.get_notice(&v1.id).await.expect("get"), Some(v2));
}

fn notice_for(id: &str, ecosystem: &str, package: &str, modified: DateTime<Utc>) -> Notice {
    let mut n = notice(modified, &format!("{id} summary"));
    n.id = id.into();
    n.aliases = vec![format!("CVE-{id}")];
    n.patterns.clear();
    n.affected = vec![Affected {
        ecosystem: ecosystem.into(),
        package: package.into(),
        ranges: json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]),
        versions: vec!["1.0".into()],
    }];
    n
}

async fn notice_batches_count_writes_and_packages_find_their_notices(h: &Harness) {
    use ecowatch::Ecosystem;
    let store = &h.store;
    let t = at(2024, 3, 1, 0);
    let batch = vec![
        notice_for("GHSA-aaaa", "npm", "lodash", t),
        notice_for("PYSEC-1", "PyPI", "django", t),
        notice_for("GHSA-bbbb", "npm", "lodash", t),
        // The same record twice in one batch: the second copy changes nothing.
        notice_for("GHSA-bbbb", "npm", "lodash", t),
    ];
    let counts = store.upsert_notices(&batch).await.expect("batch");
    assert_eq!(
        counts,
        NoticeCounts {
            inserted: 3,
            updated: 0,
            unchanged: 1
        }
    );
    let again = store.upsert_notices(&batch).await.expect("again");
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 4));

    let mut changed = batch.clone();
    changed[1].modified = t + chrono::Duration::hours(1);
    changed[1].summary = Some("new text".into());
    let counts = store.upsert_notices(&changed[..3]).await.expect("update");
    assert_eq!(
        (counts.inserted, counts.updated, counts.unchanged),
        (0, 1, 2)
    );
    assert_eq!(
        store.get_notice("PYSEC-1").await.expect("get"),
        Some(changed[1].clone())
    );
    assert_eq!(
        store.upsert_notices(&[]).await.expect("empty"),
        NoticeCounts::default()
    );

    let ids = |notices: Vec<Notice>| notices.into_iter().map(|n| n.id).collect::<Vec<_>>();
    let found = store
        .notices_for_packages(&[
            (Ecosystem::Npm, "lodash".into()),
            (Ecosystem::PyPI, "Django".into()),
            (Ecosystem::Npm, "lodash".into()),
        ])
        .await
        .expect("lookup");
    assert_eq!(
        ids(found.clone()),
        vec!["GHSA-aaaa", "GHSA-bbbb", "PYSEC-1"]
    );
    assert_eq!(found[2], changed[1], "whole notices come back");
    let none = store
        .notices_for_packages(&[
            (Ecosystem::Npm, "Lodash".into()),
            (Ecosystem::PyPI, "lodash".into()),
            (Ecosystem::CratesIo, "django".into()),
        ])
        .await
        .expect("lookup");
    assert!(none.is_empty(), "{none:?}");
    assert!(
        store
            .notices_for_packages(&[])
            .await
            .expect("empty")
            .is_empty()
    );

    // One invalid notice refuses the whole batch before anything is written.
    let mut bad = vec![
        notice_for("GHSA-cccc", "npm", "left-pad", t),
        batch[0].clone(),
    ];
    bad[1].id = "  ".into();
    assert!(matches!(
        store.upsert_notices(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.get_notice("GHSA-cccc").await.expect("get"), None);
}

async fn source_crawl_state_round_trips(h: &Harness) {
    let store = &h.store;
    assert_eq!(store.get_source("osv").await.expect("get"), None);
    let mut state = SourceState {
        id: "osv".into(),
        kind: "osv".into(),
        url: Some("https://osv-vulnerabilities.storage.googleapis.com".into()),
        cursor: None,
        watermark: Some(at(2026, 1, 1, 0)),
        etag: Some("\"abc\"".into()),
        last_modified: Some("Wed, 01 Jan 2026 00:00:00 GMT".into()),
        last_success_at: Some(at(2026, 1, 1, 1)),
        last_error_at: None,
        last_error: None,
    };
    store.put_source(&state).await.expect("put");
    assert_eq!(
        store.get_source("osv").await.expect("get"),
        Some(state.clone())
    );
    state.cursor = Some("page-2".into());
    state.last_error_at = Some(at(2026, 1, 2, 0));
    state.last_error = Some("HTTP 503".into());
    store.put_source(&state).await.expect("put again");
    assert_eq!(
        store.get_source("osv").await.expect("get"),
        Some(state.clone())
    );
    assert!(store.list_sources().await.expect("list").contains(&state));
}

async fn package_repos_and_changelog_choices_round_trip(h: &Harness) {
    let store = &h.store;
    assert_eq!(
        store
            .get_package_repo("npm", "left-pad")
            .await
            .expect("get"),
        None
    );
    let found = ecowatch::store::PackageRepo {
        github: Some("stevemao/left-pad".into()),
        discovered_at: at(2026, 1, 1, 0),
    };
    store
        .put_package_repo("npm", "left-pad", &found)
        .await
        .expect("put");
    let none = ecowatch::store::PackageRepo {
        github: None,
        discovered_at: at(2026, 1, 8, 0),
    };
    store
        .put_package_repo("PyPI", "left-pad", &none)
        .await
        .expect("put");
    assert_eq!(
        store
            .get_package_repo("npm", "left-pad")
            .await
            .expect("get"),
        Some(found)
    );
    assert_eq!(
        store
            .get_package_repo("PyPI", "left-pad")
            .await
            .expect("get"),
        Some(none)
    );
    assert_eq!(store.get_repo_changelog("a/b").await.expect("get"), None);
    store
        .put_repo_changelog("a/b", Some("docs/changelog.rst"))
        .await
        .expect("put");
    store
        .put_repo_changelog("a/b", None)
        .await
        .expect("put again");
    assert_eq!(
        store.get_repo_changelog("a/b").await.expect("get"),
        Some(None)
    );
}

// ------------------------------------------------------------------ PostgreSQL-only checks

/// The tables that must carry row-level security: every table with a `tenant_id` column.
const TENANT_TABLES: [&str; 8] = [
    "api_tokens",
    "dashboard_issues",
    "deliveries",
    "findings",
    "scans",
    "subscriptions",
    "suppressions",
    "watched_repos",
];

#[tokio::test]
async fn postgres_rls_is_enabled_and_forced_on_every_tenant_table() {
    let Some(h) = Harness::postgres().await else {
        return;
    };
    let app = PgPool::connect(&h.pg().app_url).await.expect("app pool");
    let rows: Vec<(String, bool, bool, String)> = sqlx::query_as(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity, \
                pg_get_userbyid(c.relowner)::text \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                       AND a.attname = 'tenant_id' AND NOT a.attisdropped) \
         ORDER BY 1",
    )
    .fetch_all(&app)
    .await
    .expect("catalog");
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        names, TENANT_TABLES,
        "the tenant tables changed: update RLS"
    );
    let (app_role, is_super, bypasses): (String, bool, bool) = sqlx::query_as(
        "SELECT rolname::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&app)
    .await
    .expect("role");
    assert!(!is_super && !bypasses, "the app role must obey RLS");
    for (table, enabled, forced, owner) in &rows {
        assert!(enabled, "{table}: row-level security is not enabled");
        assert!(forced, "{table}: row-level security is not forced");
        assert_ne!(owner, &app_role, "{table} is owned by the app role");
    }
    app.close().await;
    h.finish().await;
}

#[tokio::test]
async fn postgres_app_role_without_a_tenant_sees_nothing() {
    let Some(h) = Harness::postgres().await else {
        return;
    };
    let a = h.store.ensure_tenant("a").await.expect("a");
    let b = h.store.ensure_tenant("b").await.expect("b");
    seed(&h.store, a).await;
    seed(&h.store, b).await;
    // One connection, so the "after a tenant transaction" case below reuses the same session.
    let app = PgPoolOptions::new()
        .max_connections(1)
        .connect(&h.pg().app_url)
        .await
        .expect("app pool");
    let count = |table: &str| format!("SELECT COUNT(*) FROM {table}");
    for table in TENANT_TABLES {
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(count(table)))
            .fetch_one(&app)
            .await
            .expect("count");
        assert_eq!(n, 0, "{table}: rows visible with no tenant set");
    }

    // Inside a tenant transaction: that tenant's rows, and no writing into another tenant.
    let mut tx = app.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(a.get().to_string())
        .execute(&mut *tx)
        .await
        .expect("set tenant");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM findings")
        .fetch_one(&mut *tx)
        .await
        .expect("count");
    assert_eq!(n, 2, "A sees its own two findings");
    let (other,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM findings WHERE tenant_id = $1")
        .bind(b.get())
        .fetch_one(&mut *tx)
        .await
        .expect("count");
    assert_eq!(other, 0, "A sees none of B's findings even when asking");
    let err = sqlx::query("INSERT INTO watched_repos (tenant_id, url) VALUES ($1, 'https://x')")
        .bind(b.get())
        .execute(&mut *tx)
        .await
        .expect_err("WITH CHECK refuses a row for B");
    assert!(err.to_string().contains("row-level security"), "{err}");
    tx.rollback().await.expect("rollback");

    let mut tx = app.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(a.get().to_string())
        .execute(&mut *tx)
        .await
        .expect("set tenant");
    let moved = sqlx::query("UPDATE watched_repos SET tenant_id = $1")
        .bind(b.get())
        .execute(&mut *tx)
        .await;
    assert!(moved.is_err(), "A cannot hand its rows to B");
    tx.rollback().await.expect("rollback");

    // The setting was transaction-local: the same session afterwards sees nothing again
    // (current_setting now returns '' rather than NULL, which must also match nothing).
    for table in TENANT_TABLES {
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(count(table)))
            .fetch_one(&app)
            .await
            .expect("count after a tenant transaction");
        assert_eq!(n, 0, "{table}: tenant context leaked past its transaction");
    }
    app.close().await;
    h.finish().await;
}

#[tokio::test]
async fn postgres_db_status_cli_shows_the_version() {
    let Some(h) = Harness::postgres().await else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(["db", "status"])
        .env("ECOWATCH_DATABASE_URL", &h.pg().app_url)
        .env_remove("ECOWATCH_DB")
        .env_remove("ECOWATCH_DATABASE_OWNER_URL")
        .output()
        .expect("run ecowatch");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let latest = latest_schema_version();
    assert!(
        stdout.contains(&format!("schema version {latest}, latest {latest}")),
        "{stdout}"
    );
    assert!(
        !stdout.contains("ecowatch_app:"),
        "credentials must not be printed: {stdout}"
    );
    assert!(
        !stdout.contains("warning:"),
        "the app role is set up right: {stdout}"
    );
    h.finish().await;
}

#[tokio::test]
async fn postgres_isolation_warnings_name_a_role_that_owns_the_tables() {
    let Some(h) = Harness::postgres().await else {
        return;
    };
    assert_eq!(
        h.store.isolation_warnings().await.expect("app"),
        Vec::<String>::new()
    );
    let (_, owner_url) = postgres_urls().expect("set, or the harness would have skipped");
    let as_owner = Store::connect(&StoreConfig::Postgres {
        url: with_database(&owner_url, &h.pg().name),
        owner_url: None,
    })
    .await
    .expect("connect as owner");
    let warnings = as_owner.isolation_warnings().await.expect("owner");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("owns 8 tenant tables"), "{warnings:?}");
    as_owner.close().await;
    h.finish().await;
}

// ---------------------------------------------------------------------- SQLite-only checks

fn ecowatch_db(args: &[&str], db_env: Option<&std::path::Path>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
    cmd.args(args)
        .env_remove("ECOWATCH_DATABASE_URL")
        .env_remove("ECOWATCH_DB");
    if let Some(path) = db_env {
        cmd.env("ECOWATCH_DB", path);
    }
    let out = cmd.output().expect("run ecowatch");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sqlite_db_migrate_and_status_through_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("nested").join("ecowatch.db");
    let db_arg = db.to_str().expect("utf-8 path");
    let latest = latest_schema_version();

    let (code, stdout, _) = ecowatch_db(&["db", "--db", db_arg, "status"], None);
    assert_eq!(code, 0);
    assert!(stdout.contains("no database yet"), "{stdout}");
    assert!(!db.exists(), "status must not create the database");

    let (code, stdout, stderr) = ecowatch_db(&["db", "migrate", "--db", db_arg], None);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("schema version {latest}")),
        "{stdout}"
    );

    // ECOWATCH_DB names the same file.
    let (code, stdout, stderr) = ecowatch_db(&["db", "status"], Some(&db));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("schema version {latest}, latest {latest}")),
        "{stdout}"
    );
}

#[test]
fn sqlite_db_migrate_refuses_a_file_in_use_by_another_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ecowatch.db");
    let held = ProcessLock::acquire(&db).expect("hold the lock like a running serve");
    let (code, _, stderr) = ecowatch_db(
        &["db", "migrate", "--db", db.to_str().expect("utf-8")],
        None,
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("in use by another ecowatch process"),
        "{stderr}"
    );
    drop(held);
    let (code, _, stderr) = ecowatch_db(
        &["db", "migrate", "--db", db.to_str().expect("utf-8")],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
}

#[tokio::test]
async fn sqlite_exclusive_open_refuses_a_second_store_and_uses_wal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ecowatch.db");
    let first = Store::open_sqlite(&path, true).await.expect("first");
    let second = Store::open_sqlite(&path, true).await;
    assert!(
        matches!(second, Err(StoreError::Locked { .. })),
        "{second:?}"
    );
    // A non-exclusive reader (e.g. `db status`) may still look.
    let reader = Store::open_sqlite(&path, false).await.expect("reader");
    assert!(reader.schema_status().await.expect("status").is_current());
    reader.close().await;
    first.close().await;
    let third = Store::open_sqlite(&path, true)
        .await
        .expect("lock released");
    third.close().await;

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("raw");
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    pool.close().await;
}

#[tokio::test]
async fn sqlite_open_in_an_unwritable_place_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let result = Store::open_sqlite(&file.join("ecowatch.db"), false).await;
    assert!(
        matches!(result, Err(StoreError::CreateDir { .. })),
        "{result:?}"
    );
}
