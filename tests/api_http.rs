//! The tenant API and one-click unsubscribe over real HTTP: `ecowatch::api::routes` served on a
//! loopback listener inside the test, against a real store, with tokens, repositories, findings
//! and subscriptions made through the built binary (`tokens create`, `watch add`, `rescan`,
//! `subscribe`) and called with reqwest.
//!
//! Every check runs on a temp SQLite file and on PostgreSQL (ECOWATCH_TEST_POSTGRES_URL and
//! ECOWATCH_TEST_POSTGRES_OWNER_URL from scripts/services/postgres.sh), where the service role
//! is held by forced row-level security: the cross-tenant 404s there are RLS at work. Without
//! PostgreSQL that half skips loudly, except under `CI=true`, where it fails. The PostgreSQL
//! database is shared with other test binaries, so every world uses its own tenant names.

use chrono::{DateTime, Utc};
use ecowatch::api::{ApiState, routes};
use ecowatch::notify::unsubscribe::UnsubscribeKeys;
use ecowatch::store::{
    Channel, DeliveryOutcome, Enqueued, FindingStatus, FindingUpsert, NewDelivery, NewSubscription,
    Store, StoreConfig, TenantId,
};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KEYS: &str = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const NOW: &str = "2026-06-01";
const DEPRECATED: &str = "import datetime\nnow = datetime.datetime.utcnow()\n";
const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>\u{202e}";

fn env_var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// The PostgreSQL URLs (service role, owner role), or `None` (skip) outside CI.
fn postgres_urls() -> Option<(String, String)> {
    match (
        env_var("ECOWATCH_TEST_POSTGRES_URL"),
        env_var("ECOWATCH_TEST_POSTGRES_OWNER_URL"),
    ) {
        (Some(app), Some(owner)) => Some((app, owner)),
        _ if env_var("CI").as_deref() == Some("true") => panic!(
            "CI=true but ECOWATCH_TEST_POSTGRES_URL / ECOWATCH_TEST_POSTGRES_OWNER_URL are unset: \
             the cross-tenant API checks must run on PostgreSQL with RLS (./scripts/test)"
        ),
        _ => {
            eprintln!(
                "SKIPPED: API over PostgreSQL (ECOWATCH_TEST_POSTGRES_URL unset; run \
                 ./scripts/test, or eval \"$(scripts/services/postgres.sh start)\")"
            );
            None
        }
    }
}

enum Db {
    Sqlite(PathBuf),
    Postgres { app: String, owner: String },
}

/// One test's world: a store, the API serving it on loopback, and a place for repositories.
struct World {
    dir: tempfile::TempDir,
    db: Db,
    store: Store,
    keys: UnsubscribeKeys,
    base: String,
    http: reqwest::Client,
    /// Makes this world's tenant names unique in a shared database.
    suffix: String,
}

impl World {
    async fn sqlite() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ecowatch.db");
        let store = Store::open_sqlite(&path, false).await.expect("open sqlite");
        World::serve(dir, Db::Sqlite(path), store).await
    }

    async fn postgres() -> Option<World> {
        let (app, owner) = postgres_urls()?;
        let store = Store::open(&StoreConfig::Postgres {
            url: app.clone(),
            owner_url: Some(owner.clone()),
        })
        .await
        .expect("open postgres");
        assert_eq!(
            store.isolation_warnings().await.expect("isolation check"),
            Vec::<String>::new(),
            "the service role must be held by row-level security for these checks to mean anything"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        Some(World::serve(dir, Db::Postgres { app, owner }, store).await)
    }

    async fn serve(dir: tempfile::TempDir, db: Db, store: Store) -> World {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let keys = UnsubscribeKeys::parse(KEYS).expect("keys");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let app = routes(ApiState::new(store.clone(), Some(keys.clone())));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let suffix: String = (0..10).map(|_| fastrand::lowercase()).collect();
        World {
            dir,
            db,
            store,
            keys,
            base: format!("http://{addr}"),
            http,
            suffix,
        }
    }

    fn tenant(&self, name: &str) -> String {
        format!("{name}-{}", self.suffix)
    }

    async fn tenant_id(&self, name: &str) -> TenantId {
        self.store
            .ensure_tenant(&self.tenant(name))
            .await
            .expect("tenant")
    }

    /// Runs the built ecowatch on this world's database, with no inherited store settings.
    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
        command
            .args(args)
            .env("ECOWATCH_CACHE_DIR", self.dir.path().join("cache"))
            .env_remove("ECOWATCH_DB")
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DATABASE_OWNER_URL")
            .env("NO_COLOR", "1");
        match &self.db {
            Db::Sqlite(path) => {
                command.arg("--db").arg(path);
            }
            Db::Postgres { app, owner } => {
                command
                    .env("ECOWATCH_DATABASE_URL", app)
                    .env("ECOWATCH_DATABASE_OWNER_URL", owner);
            }
        }
        command.output().expect("run ecowatch")
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "ecowatch {args:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A new token of tenant `name`, through `ecowatch tokens create`.
    fn token(&self, name: &str, admin: bool) -> String {
        let tenant = self.tenant(name);
        let mut args = vec!["tokens", "create", "--tenant", &tenant, "--name", "test"];
        if admin {
            args.push("--admin");
        }
        let out = self.ok(&args);
        let token = out.trim().to_string();
        assert!(token.starts_with("ecw_") && !token.contains('\n'), "{out}");
        token
    }

    /// Tenant `name` watches a Python project with one deprecated call and rescans it.
    fn watched_repo_with_a_finding(&self, name: &str, repo: &str) {
        let dir = self.dir.path().join(format!("{name}-{repo}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(".python-version"), "3.12\n").expect("write");
        std::fs::write(dir.join("app.py"), DEPRECATED).expect("write");
        let tenant = self.tenant(name);
        let path = dir.to_str().expect("utf-8 path");
        self.ok(&["watch", "add", path, "--name", repo, "--tenant", &tenant]);
        self.ok(&["rescan", "--now", NOW, "--tenant", &tenant]);
    }

    fn subscribe(&self, name: &str, email: &str) -> i64 {
        let tenant = self.tenant(name);
        let out = self.ok(&["subscribe", "--email", email, "--tenant", &tenant]);
        // "subscription ID: ..."
        out.strip_prefix("subscription ")
            .and_then(|rest| rest.split(':').next())
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("subscription id in {out:?}"))
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Reply::from(request.send().await.expect("GET"), path).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> Reply {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Reply::from(request.send().await.expect("POST"), path).await
    }

    async fn finish(self) {
        self.store.close().await;
    }
}

/// What came back, read fully.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    async fn from(response: reqwest::Response, path: &str) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        Reply {
            status,
            headers,
            body,
        }
    }

    fn json(&self) -> Value {
        assert_eq!(
            self.header(header::CONTENT_TYPE.as_str()),
            "application/json",
            "{self:?}"
        );
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// A JSON error answer with `status`, and nothing that looks like internals.
    fn assert_error(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "{self:?}");
        let error = self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message: {}", self.body))
            .to_string();
        for internal in ["SELECT", "sqlx", "panicked", "tenant_id", "postgres"] {
            assert!(!self.body.contains(internal), "{internal} in {}", self.body);
        }
        error
    }
}

/// Queues a delivery on `subscription` and lets it go dead, as the relay would after a 5xx.
async fn dead_delivery(store: &Store, tenant: TenantId, subscription: i64) -> i64 {
    let key = format!("test-{}", fastrand::u64(..));
    let Enqueued::Queued(id) = store
        .enqueue_delivery(
            tenant,
            &NewDelivery {
                subscription_id: subscription,
                delivery_key: key,
                payload: json!({}),
            },
        )
        .await
        .expect("enqueue")
    else {
        panic!("a fresh key is queued");
    };
    let later = Utc::now() + chrono::Duration::minutes(5);
    let claimed = store
        .claim_due_deliveries(tenant, later, later + chrono::Duration::minutes(5), 100)
        .await
        .expect("claim");
    let mine = claimed.iter().find(|c| c.id == id).expect("claimed");
    assert!(
        store
            .finish_delivery(
                tenant,
                id,
                mine.fence,
                &DeliveryOutcome::Dead {
                    error: "550 no such user".into()
                },
            )
            .await
            .expect("finish")
    );
    id
}

async fn delivery_status(store: &Store, tenant: TenantId, id: i64) -> String {
    store
        .list_deliveries(tenant)
        .await
        .expect("deliveries")
        .into_iter()
        .find(|d| d.id == id)
        .map(|d| d.status)
        .expect("delivery exists")
}

fn finding(repo_id: i64, n: usize, severity: &str, title: &str) -> FindingUpsert {
    FindingUpsert {
        repo_id,
        fingerprint: format!("fp-{n}"),
        rule_id: "test-rule".into(),
        severity: severity.into(),
        title: title.into(),
        path: Some("app.py".into()),
        line: Some(n as i64),
        status: FindingStatus::New,
        seen_at: Utc::now(),
        details: json!({ "n": n }),
    }
}

/// Declares `mod <check> { sqlite, postgres }`, running `async fn <check>(&World)` on each.
macro_rules! on_both_backends {
    ($($check:ident),* $(,)?) => {$(
        mod $check {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let world = super::World::sqlite().await;
                super::$check(&world).await;
                world.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(world) = super::World::postgres().await {
                    super::$check(&world).await;
                    world.finish().await;
                }
            }
        }
    )*};
}

on_both_backends!(
    missing_wrong_and_revoked_tokens_get_401,
    tenants_get_the_same_404_for_each_others_objects_as_for_nothing,
    read_tokens_get_403_on_admin_routes_and_admin_requests_are_recorded,
    findings_pages_are_stable_and_filtered,
    unsubscribe_confirms_on_get_and_removes_on_post_idempotently,
    huge_bodies_get_413,
    hostile_stored_strings_stay_inert,
);

async fn missing_wrong_and_revoked_tokens_get_401(w: &World) {
    let token = w.token("a", false);
    assert_eq!(
        w.get("/api/v1/repos", Some(&token)).await.status,
        StatusCode::OK
    );

    let missing = w.get("/api/v1/repos", None).await;
    missing.assert_error(StatusCode::UNAUTHORIZED);
    assert!(
        missing.header("www-authenticate").starts_with("Bearer"),
        "{missing:?}"
    );

    // A well-formed token nobody issued, a token with one character changed, and junk.
    let unissued = format!("ecw_{}", "A".repeat(43));
    let mut altered = token.clone();
    let last = altered.pop().expect("non-empty");
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [
        unissued.as_str(),
        altered.as_str(),
        "ecw_",
        "x",
        &"ecw_y".repeat(500),
    ] {
        let reply = w.get("/api/v1/findings", Some(bad)).await;
        reply.assert_error(StatusCode::UNAUTHORIZED);
        assert!(reply.header("www-authenticate").starts_with("Bearer"));
    }
    let basic = w
        .http
        .get(format!("{}/api/v1/repos", w.base))
        .header(header::AUTHORIZATION, format!("Basic {token}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);

    // `tokens list` shows it used; after `tokens revoke` it is refused.
    let tenant = w.tenant("a");
    let listed = w.ok(&["tokens", "list", "--tenant", &tenant]);
    let fields: Vec<&str> = listed.trim().split('\t').collect();
    assert_eq!(fields.len(), 7, "{listed}");
    assert_eq!(
        (fields[1], fields[2], fields[3]),
        (tenant.as_str(), "test", "read")
    );
    assert_ne!(fields[5], "-", "last used is recorded: {listed}");
    assert_eq!(fields[6], "active");
    assert!(!listed.contains(&token), "tokens are never shown again");

    w.ok(&["tokens", "revoke", fields[0]]);
    w.get("/api/v1/repos", Some(&token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    let listed = w.ok(&["tokens", "list", "--tenant", &tenant]);
    assert!(listed.contains("\trevoked "), "{listed}");
    let again = w.run(&["tokens", "revoke", fields[0]]);
    assert_eq!(again.status.code(), Some(2));

    // On PostgreSQL the service role sees no token row without a tenant or the token's hash.
    if let Db::Postgres { app, .. } = &w.db {
        let pool = sqlx::PgPool::connect(app)
            .await
            .expect("connect as the app role");
        let (visible,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens")
            .fetch_one(&pool)
            .await
            .expect("count");
        assert_eq!(visible, 0, "tokens are hidden by row-level security");
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query("SELECT set_config('app.token_hash', $1, true)")
            .bind("0".repeat(64))
            .execute(&mut *tx)
            .await
            .expect("set");
        let (visible,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens")
            .fetch_one(&mut *tx)
            .await
            .expect("count");
        assert_eq!(visible, 0, "a hash nobody holds shows nothing");
        tx.rollback().await.expect("rollback");
        pool.close().await;
    }
}

async fn tenants_get_the_same_404_for_each_others_objects_as_for_nothing(w: &World) {
    w.watched_repo_with_a_finding("a", "api");
    let a_sub = w.subscribe("a", "alerts@a.example");
    let a = w.tenant_id("a").await;
    let a_dead = dead_delivery(&w.store, a, a_sub).await;
    let a_read = w.token("a", false);
    let a_admin = w.token("a", true);
    let b_admin = w.token("b", true);

    let a_findings = w.get("/api/v1/findings", Some(&a_read)).await.json();
    let a_findings = a_findings["findings"].as_array().expect("array").clone();
    assert_eq!(a_findings.len(), 1, "{a_findings:?}");
    assert_eq!(a_findings[0]["repo"], "api");
    assert_eq!(a_findings[0]["status"], "new");
    let a_finding = a_findings[0]["id"].as_i64().expect("id");
    let mine = w
        .get(&format!("/api/v1/findings/{a_finding}"), Some(&a_read))
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.json()["id"], a_finding);

    // Tenant b: a's finding is exactly as missing as one that never existed.
    let nothing = w.get("/api/v1/findings/999999999", Some(&b_admin)).await;
    nothing.assert_error(StatusCode::NOT_FOUND);
    let foreign = w
        .get(&format!("/api/v1/findings/{a_finding}"), Some(&b_admin))
        .await;
    assert_eq!(
        (foreign.status, &foreign.body),
        (nothing.status, &nothing.body)
    );
    assert_eq!(
        foreign.header("content-type"),
        nothing.header("content-type")
    );
    let junk = w.get("/api/v1/findings/abc", Some(&b_admin)).await;
    assert_eq!((junk.status, &junk.body), (nothing.status, &nothing.body));

    // b's lists hold none of a's repositories, findings or subscriptions.
    let b_lists = [
        ("/api/v1/repos", "repos"),
        ("/api/v1/findings", "findings"),
        ("/api/v1/subscriptions", "subscriptions"),
    ];
    for (path, key) in b_lists {
        let list = w.get(path, Some(&b_admin)).await.json();
        assert_eq!(list[key], json!([]), "{path}: {list}");
    }
    let a_subs = w.get("/api/v1/subscriptions", Some(&a_read)).await.json();
    assert_eq!(a_subs["subscriptions"][0]["id"], a_sub);
    assert_eq!(a_subs["subscriptions"][0]["target"], "alerts@a.example");

    // b's admin cannot redrive a's dead letter: the same 404 as a delivery that never was.
    let none = w
        .post(
            "/api/v1/deliveries/999999999/redrive",
            Some(&b_admin),
            vec![],
        )
        .await;
    none.assert_error(StatusCode::NOT_FOUND);
    let foreign = w
        .post(
            &format!("/api/v1/deliveries/{a_dead}/redrive"),
            Some(&b_admin),
            vec![],
        )
        .await;
    assert_eq!((foreign.status, &foreign.body), (none.status, &none.body));
    assert_eq!(delivery_status(&w.store, a, a_dead).await, "dead");

    // a's admin can; a second redrive finds no dead letter.
    let redriven = w
        .post(
            &format!("/api/v1/deliveries/{a_dead}/redrive"),
            Some(&a_admin),
            vec![],
        )
        .await;
    assert_eq!(redriven.status, StatusCode::OK, "{redriven:?}");
    assert_eq!(delivery_status(&w.store, a, a_dead).await, "pending");
    let twice = w
        .post(
            &format!("/api/v1/deliveries/{a_dead}/redrive"),
            Some(&a_admin),
            vec![],
        )
        .await;
    assert_eq!((twice.status, &twice.body), (none.status, &none.body));

    // Unknown API paths are JSON 404s too.
    w.get("/api/v1/nope", Some(&a_read))
        .await
        .assert_error(StatusCode::NOT_FOUND);
}

async fn read_tokens_get_403_on_admin_routes_and_admin_requests_are_recorded(w: &World) {
    let read = w.token("a", false);
    let admin = w.token("a", true);
    for path in [
        "/api/v1/crawl",
        "/api/v1/rescan",
        "/api/v1/deliveries/1/redrive",
    ] {
        w.post(path, Some(&read), vec![])
            .await
            .assert_error(StatusCode::FORBIDDEN);
        w.post(path, None, vec![])
            .await
            .assert_error(StatusCode::UNAUTHORIZED);
    }
    for schedule in ["crawl", "rescan"] {
        let reply = w
            .post(&format!("/api/v1/{schedule}"), Some(&admin), vec![])
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{reply:?}");
        let body = reply.json();
        assert_eq!(body["schedule"], schedule);
        let at: DateTime<Utc> = body["scheduled_at"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("scheduled_at");
        // The tick the serve loop will claim is there: inserting it again loses.
        assert!(!w.store.insert_tick(schedule, at).await.expect("tick"));
    }
    // GET on a POST-only route is not a way in.
    assert_eq!(
        w.get("/api/v1/crawl", Some(&admin)).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

async fn findings_pages_are_stable_and_filtered(w: &World) {
    w.watched_repo_with_a_finding("a", "api");
    w.watched_repo_with_a_finding("a", "web");
    let a = w.tenant_id("a").await;
    let repos = w.store.list_repos(a).await.expect("repos");
    let api = repos
        .iter()
        .find(|r| r.name.as_deref() == Some("api"))
        .expect("api");
    for n in 0..5 {
        // The rescan's own findings are not `critical` or `medium`.
        let severity = if n % 2 == 0 { "critical" } else { "medium" };
        w.store
            .upsert_finding(a, &finding(api.id, n, severity, &format!("extra {n}")))
            .await
            .expect("finding");
    }
    let token = w.token("a", false);

    let everything = w
        .get("/api/v1/findings?limit=500", Some(&token))
        .await
        .json();
    let all_ids: Vec<i64> = everything["findings"]
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(all_ids.len(), 7);
    assert!(
        all_ids.windows(2).all(|w| w[0] < w[1]),
        "by id: {all_ids:?}"
    );
    assert_eq!(everything["next_after"], Value::Null);

    // Page by 3; a finding added after the first page appears once, at the end.
    let mut seen = Vec::new();
    let mut after: Option<i64> = None;
    let mut pages = 0;
    loop {
        let path = match after {
            Some(id) => format!("/api/v1/findings?limit=3&after={id}"),
            None => "/api/v1/findings?limit=3".to_string(),
        };
        let page = w.get(&path, Some(&token)).await.json();
        seen.extend(
            page["findings"]
                .as_array()
                .expect("array")
                .iter()
                .map(|f| f["id"].as_i64().expect("id")),
        );
        pages += 1;
        if pages == 1 {
            w.store
                .upsert_finding(a, &finding(api.id, 99, "high", "late"))
                .await
                .expect("late finding");
        }
        match page["next_after"].as_i64() {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert_eq!(&seen[..7], &all_ids[..]);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique, seen, "no finding twice");

    let count = |path: &'static str| {
        let token = token.clone();
        async move {
            let reply = w.get(path, Some(&token)).await.json();
            reply["findings"].as_array().expect("array").len()
        }
    };
    assert_eq!(count("/api/v1/findings?severity=critical").await, 3);
    assert_eq!(count("/api/v1/findings?repo=web").await, 1);
    assert_eq!(count("/api/v1/findings?repo=web&severity=medium").await, 0);
    assert_eq!(count("/api/v1/findings?repo=api&severity=medium").await, 2);
    assert_eq!(count("/api/v1/findings?status=fixed").await, 0);
    // The second rescan saw api's finding again: open; everything else is new.
    assert_eq!(count("/api/v1/findings?status=open").await, 1);
    assert_eq!(count("/api/v1/findings?status=new").await, 7);
    assert_eq!(count("/api/v1/findings?repo=nothing").await, 0);
    for bad in [
        "/api/v1/findings?limit=501",
        "/api/v1/findings?limit=0",
        "/api/v1/findings?limit=many",
        "/api/v1/findings?after=-4",
        "/api/v1/findings?status=gone",
        "/api/v1/findings?severity=urgent",
    ] {
        w.get(bad, Some(&token))
            .await
            .assert_error(StatusCode::BAD_REQUEST);
    }
}

async fn unsubscribe_confirms_on_get_and_removes_on_post_idempotently(w: &World) {
    let sub = w.subscribe("a", "leave@a.example");
    let keep = w.subscribe("a", "stay@a.example");
    let a = w.tenant_id("a").await;
    let token = w.keys.token(a, sub);
    let path = format!("/unsubscribe/{token}");
    let ids = || async {
        let subs = w.store.list_subscriptions(a).await.expect("subscriptions");
        subs.into_iter().map(|s| s.id).collect::<Vec<_>>()
    };

    // GET (what link scanners do) only asks.
    let page = w.get(&path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert!(page.body.contains("leave@a.example"), "{}", page.body);
    assert!(
        page.body.contains("<form method=\"post\">"),
        "{}",
        page.body
    );
    assert_html_headers(&page);
    w.get(&path, None).await;
    assert_eq!(ids().await, vec![sub, keep], "GET changed nothing");

    // POST as a mail client does (RFC 8058): removed, 200, no redirect, no cookie.
    let removed = w
        .post(&path, None, b"List-Unsubscribe=One-Click".to_vec())
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{removed:?}");
    assert!(removed.headers.get(header::SET_COOKIE).is_none());
    assert!(removed.headers.get(header::LOCATION).is_none());
    assert_html_headers(&removed);
    assert_eq!(ids().await, vec![keep]);

    // Again, tampered, and genuine-but-unknown: the very same answer.
    let again = w
        .post(&path, None, b"List-Unsubscribe=One-Click".to_vec())
        .await;
    let mut tampered = token.clone();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let tampered = w
        .post(
            &format!("/unsubscribe/{tampered}"),
            None,
            b"List-Unsubscribe=One-Click".to_vec(),
        )
        .await;
    let unknown = w
        .post(
            &format!("/unsubscribe/{}", w.keys.token(a, 999_999_999)),
            None,
            vec![],
        )
        .await;
    let junk = w.post("/unsubscribe/%FF%00", None, vec![]).await;
    for other in [&again, &tampered, &unknown, &junk] {
        assert_eq!(
            (other.status, &other.body, other.header("content-type")),
            (
                removed.status,
                &removed.body,
                removed.header("content-type")
            ),
        );
        assert!(other.headers.get(header::SET_COOKIE).is_none());
    }
    assert_eq!(ids().await, vec![keep]);

    // After removal the GET page is the one an invalid link gets.
    let gone = w.get(&path, None).await;
    let invalid = w.get("/unsubscribe/v1.nope.nope", None).await;
    assert_eq!((gone.status, &gone.body), (invalid.status, &invalid.body));
    assert!(!gone.body.contains("leave@a.example"));
}

fn assert_html_headers(reply: &Reply) {
    let csp = reply.header("content-security-policy");
    assert!(
        csp.starts_with("default-src 'none'; style-src 'unsafe-inline'"),
        "{csp}"
    );
    assert_eq!(reply.header("x-content-type-options"), "nosniff");
    assert_eq!(reply.header("cache-control"), "no-store");
    assert_eq!(reply.header("referrer-policy"), "no-referrer");
}

async fn huge_bodies_get_413(w: &World) {
    let admin = w.token("a", true);
    let sub = w.subscribe("a", "big@a.example");
    let a = w.tenant_id("a").await;
    let huge = vec![b'a'; 100 * 1024];
    let path = format!("/unsubscribe/{}", w.keys.token(a, sub));
    w.post(&path, None, huge.clone())
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        w.store.list_subscriptions(a).await.expect("subs").len(),
        1,
        "a refused request changes nothing"
    );
    w.post("/api/v1/crawl", Some(&admin), huge)
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE);
    // Just under the cap is fine.
    let fits = w.post(&path, None, vec![b'a'; 60 * 1024]).await;
    assert_eq!(fits.status, StatusCode::OK);
}

async fn hostile_stored_strings_stay_inert(w: &World) {
    let a = w.tenant_id("a").await;
    let repo = w
        .store
        .watch_repo(a, "hostile", "https://user:s3cret@example.com/x.git")
        .await
        .expect("repo");
    w.store
        .upsert_finding(a, &finding(repo.id, 1, "high", HOSTILE))
        .await
        .expect("finding");
    let email = w
        .store
        .create_subscription(
            a,
            &NewSubscription {
                channel: Channel::Email,
                target: format!("\"{HOSTILE}\"@a.example"),
                filter: json!({ "repo": HOSTILE, "min_severity": "info", "cadence": "weekly" }),
            },
        )
        .await
        .expect("subscription");
    let hook = w
        .store
        .create_subscription(
            a,
            &NewSubscription {
                channel: Channel::Slack,
                target: "https://hooks.slack.com/services/T000/B000/s3cretpath".into(),
                filter: json!({}),
            },
        )
        .await
        .expect("subscription");

    // The unsubscribe page escapes what it shows.
    let page = w
        .get(&format!("/unsubscribe/{}", w.keys.token(a, email.id)), None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    for raw in ["<script", "<img", "onerror=alert(2)>"] {
        assert!(!page.body.contains(raw), "{raw} in {}", page.body);
    }
    assert!(
        page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        page.body
    );
    let hook_page = w
        .get(&format!("/unsubscribe/{}", w.keys.token(a, hook.id)), None)
        .await;
    assert!(!hook_page.body.contains("s3cret"), "{}", hook_page.body);

    // JSON carries the text as data (application/json, nosniff), and never the secrets.
    let token = w.token("a", false);
    let findings = w.get("/api/v1/findings", Some(&token)).await;
    assert_eq!(findings.header("x-content-type-options"), "nosniff");
    assert_eq!(findings.json()["findings"][0]["title"], HOSTILE);
    let repos = w.get("/api/v1/repos", Some(&token)).await;
    assert_eq!(repos.json()["repos"][0]["url"], "https://example.com/x.git");
    let subs = w.get("/api/v1/subscriptions", Some(&token)).await;
    assert!(!subs.body.contains("s3cret"), "{}", subs.body);
    assert_eq!(
        subs.json()["subscriptions"][1]["target"],
        "https://hooks.slack.com/…"
    );
}

/// The binary refuses bad `tokens` input without touching the API.
#[test]
fn tokens_cli_refuses_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ecowatch.db");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ecowatch"))
            .args(args)
            .arg("--db")
            .arg(&db)
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DB")
            .output()
            .expect("run ecowatch")
    };
    let stderr = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();
    let out = run(&["tokens", "create", "--tenant", "../x"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(&["tokens", "create", "--tenant", "t", "--name", ""]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(&["tokens", "list", "--tenant", "nobody"]);
    assert!(
        stderr(&out).contains("no tenant `nobody`"),
        "{}",
        stderr(&out)
    );
    let out = run(&["tokens", "revoke", "42"]);
    assert!(
        stderr(&out).contains("no active token 42"),
        "{}",
        stderr(&out)
    );
    // Two tokens are different, and only their hashes are stored.
    let first = run(&["tokens", "create", "--tenant", "t"]);
    let second = run(&["tokens", "create", "--tenant", "t", "--admin"]);
    let first = String::from_utf8_lossy(&first.stdout).trim().to_string();
    let second = String::from_utf8_lossy(&second.stdout).trim().to_string();
    assert_ne!(first, second);
    let stored = std::fs::read(&db).expect("db");
    let wal = std::fs::read(Path::new(&format!("{}-wal", db.display()))).unwrap_or_default();
    for token in [&first, &second] {
        let needle = token.as_bytes();
        for bytes in [&stored, &wal] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "token stored in clear"
            );
        }
    }
    let listed = String::from_utf8_lossy(&run(&["tokens", "list"]).stdout).into_owned();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("\tadmin\t")),
        "{listed}"
    );
}
