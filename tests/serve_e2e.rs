//! The whole service end to end, the way it runs in production: three `ecowatch serve`
//! replicas on one real PostgreSQL, a loopback GitHub (REST + GraphQL) and OSV, and a real SMTP
//! server. The crawl schedule learns a deprecation from a GitHub Discussion, the rescan
//! schedule finds its identifier in two tenants' repositories, and the relay schedule mails
//! each subscriber once. One replica is killed with SIGKILL while it holds a tick's lease.
//!
//! Needs `ECOWATCH_TEST_POSTGRES_URL` / `ECOWATCH_TEST_POSTGRES_OWNER_URL`
//! (scripts/services/postgres.sh) and `ECOWATCH_TEST_SMTP_URL` / `ECOWATCH_TEST_MAILDIR`
//! (scripts/services/smtp.sh). Without them the test skips loudly, except under `CI=true`,
//! where it fails. The database and the mail server are shared with other tests: tenants,
//! schedule ids, the GitHub project, the package, the token and the addresses are unique.

mod common;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::post;
use base64::Engine;
use ecowatch::store::{Store, StoreConfig, TickRecord};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---- services: PostgreSQL and SMTP, or skip (fail under CI)

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// (app URL, owner URL, SMTP URL, mail directory), or `None` (skipping) outside CI.
fn services() -> Option<(String, String, String, PathBuf)> {
    match (
        var("ECOWATCH_TEST_POSTGRES_URL"),
        var("ECOWATCH_TEST_POSTGRES_OWNER_URL"),
        var("ECOWATCH_TEST_SMTP_URL"),
        var("ECOWATCH_TEST_MAILDIR"),
    ) {
        (Some(app), Some(owner), Some(smtp), Some(maildir)) => {
            Some((app, owner, smtp, PathBuf::from(maildir)))
        }
        _ if in_ci() => panic!(
            "CI=true but ECOWATCH_TEST_POSTGRES_URL / ECOWATCH_TEST_POSTGRES_OWNER_URL / \
             ECOWATCH_TEST_SMTP_URL / ECOWATCH_TEST_MAILDIR are unset (./scripts/test starts them)"
        ),
        _ => {
            eprintln!(
                "SKIPPED: the serve end-to-end test needs PostgreSQL and SMTP (run ./scripts/test, \
                 or eval \"$(scripts/services/postgres.sh start)\"; eval \"$(scripts/services/smtp.sh start)\")"
            );
            None
        }
    }
}

/// Polls `check` every 100 ms until it gives a value; panics with `context()` after `limit`.
fn wait_for<T>(
    limit: Duration,
    context: impl Fn() -> String,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            started.elapsed() < limit,
            "gave up waiting after {limit:?}:\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---- the loopback upstream: GitHub REST + GraphQL, OSV, and 404 for every registry

#[derive(Default)]
struct UpstreamState {
    /// "owner/repo" → discussions, newest-updated first.
    discussions: BTreeMap<String, Vec<Value>>,
    /// Every request, as "METHOD route".
    seen: Vec<String>,
}

type Shared = Arc<Mutex<UpstreamState>>;

struct Upstream {
    url: String,
    state: Shared,
}

impl Upstream {
    fn start() -> Upstream {
        let state = Arc::new(Mutex::new(UpstreamState::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/graphql", post(graphql))
            .route("/v1/querybatch", post(osv_querybatch))
            .fallback(rest)
            .with_state(Arc::clone(&state));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        Upstream { url, state }
    }

    fn seen(&self) -> Vec<String> {
        self.state.lock().unwrap().seen.clone()
    }

    fn count(&self, route: &str) -> usize {
        self.seen().iter().filter(|s| *s == route).count()
    }
}

fn rate_headers(builder: axum::http::response::Builder) -> axum::http::response::Builder {
    let reset = chrono::Utc::now().timestamp() + 3600;
    builder
        .header("x-ratelimit-limit", "5000")
        .header("x-ratelimit-remaining", "4990")
        .header("x-ratelimit-used", "10")
        .header("x-ratelimit-reset", reset.to_string())
}

fn json_response(status: u16, value: &Value) -> Response {
    rate_headers(Response::builder().status(status))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(value.to_string()))
        .unwrap()
}

fn rate_limit() -> Value {
    let reset = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp() + 3600, 0)
        .unwrap()
        .to_rfc3339();
    json!({"cost": 1, "limit": 5000, "remaining": 4990, "resetAt": reset})
}

/// GitHub GraphQL: one repository's discussions page (variables `owner`, `name`, `first`,
/// `after`), or the batched probe (`r0: repository(owner: $o0, name: $n0) { discussions(first:
/// N ...) { nodes ... } }`), where an unknown repository is `null` plus a `NOT_FOUND` error.
async fn graphql(State(state): State<Shared>, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).unwrap();
    let vars = &request["variables"];
    let mut s = state.lock().unwrap();
    if let Some(owner) = vars.get("owner").and_then(Value::as_str) {
        let repo = format!("{owner}/{}", vars["name"].as_str().unwrap_or_default());
        s.seen.push(format!("POST graphql discussions {repo}"));
        let all = s.discussions.get(&repo).cloned().unwrap_or_default();
        let first = vars["first"].as_u64().unwrap_or(0) as usize;
        let start: usize = vars["after"]
            .as_str()
            .and_then(|c| c.strip_prefix("cursor:"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let end = (start + first).min(all.len());
        let nodes = all
            .get(start..end)
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        return json_response(
            200,
            &json!({"data": {"rateLimit": rate_limit(), "repository": {"discussions": {
                "pageInfo": {"hasNextPage": end < all.len(), "endCursor": format!("cursor:{end}")},
                "nodes": nodes}}}}),
        );
    }
    s.seen.push("POST graphql probe".into());
    let query = request["query"].as_str().unwrap_or_default();
    let alias = regex::Regex::new(
        r"(r\d+): repository\(owner: \$(\w+), name: \$(\w+)\) \{\s*discussions\(first: (\d+)",
    )
    .unwrap();
    let mut data = serde_json::Map::new();
    let mut errors = Vec::new();
    for field in alias.captures_iter(query) {
        let repo = format!(
            "{}/{}",
            vars[&field[2]].as_str().unwrap_or_default(),
            vars[&field[3]].as_str().unwrap_or_default()
        );
        let first: usize = field[4].parse().unwrap();
        match s.discussions.get(&repo) {
            Some(all) => {
                let nodes: Vec<Value> = all.iter().take(first).cloned().collect();
                data.insert(
                    field[1].to_string(),
                    json!({"discussions": {"nodes": nodes}}),
                );
            }
            None => {
                data.insert(field[1].to_string(), Value::Null);
                errors.push(json!({"type": "NOT_FOUND", "path": [&field[1]],
                                   "message": format!("Could not resolve to a Repository with the name '{repo}'.")}));
            }
        }
    }
    data.insert("rateLimit".into(), rate_limit());
    let mut answer = json!({ "data": data });
    if !errors.is_empty() {
        answer["errors"] = Value::Array(errors);
    }
    json_response(200, &answer)
}

/// OSV: no vulnerability for any query.
async fn osv_querybatch(State(state): State<Shared>, body: String) -> Response {
    state
        .lock()
        .unwrap()
        .seen
        .push("POST osv querybatch".into());
    let request: Value = serde_json::from_str(&body).unwrap_or_default();
    let n = request["queries"].as_array().map_or(0, Vec::len);
    json_response(200, &json!({"results": vec![json!({}); n]}))
}

/// GitHub Releases: none, with an ETag, and 304 for a conditional request carrying it. Every
/// other GET (changelog contents, registries, endoflife.date) is a 404.
async fn rest(
    State(state): State<Shared>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_string();
    let mut s = state.lock().unwrap();
    if path.starts_with("/repos/") && path.ends_with("/releases") {
        const ETAG: &str = "\"no-releases\"";
        let conditional = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            == Some(ETAG);
        s.seen.push(format!("GET releases{}", path));
        if conditional {
            return rate_headers(Response::builder().status(304))
                .header(header::ETAG, ETAG)
                .body(Body::empty())
                .unwrap();
        }
        return rate_headers(Response::builder().status(200))
            .header(header::ETAG, ETAG)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("[]"))
            .unwrap();
    }
    s.seen.push(format!("{method} other {path}"));
    json_response(404, &json!({"message": "Not Found"}))
}

const KEYS_BODY: &str = "We're changing how API keys work.\n\n\
    The `anon` and `service_role` JWT keys are being deprecated in favour of publishable and \
    secret keys. If your code reads `SUPABASE_ANON_KEY` from the environment, switch to \
    `SUPABASE_PUBLISHABLE_KEY`.\n\n\
    No action necessary until at least 1st November 2025. Legacy keys will be removed by the end of 2026.\n";

fn discussion(
    number: i64,
    title: &str,
    body: &str,
    category: &str,
    labels: &[&str],
    url: &str,
) -> Value {
    json!({
        "id": format!("D_kwDOB{number:05}"),
        "number": number,
        "title": title,
        "body": body,
        "url": url,
        "createdAt": "2025-06-01T00:00:00Z",
        "updatedAt": "2025-06-02T10:00:00Z",
        "category": {"name": category},
        "labels": {"nodes": labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()},
    })
}

// ---- the mail server's directory

/// One accepted message: its headers and its parts, decoded.
struct Mail {
    to: String,
    message_id: String,
    text: String,
}

fn read_mail(raw: &str) -> Mail {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap();
    let unfolded = head.replace("\n ", " ").replace("\n\t", " ");
    let header = |name: &str| {
        unfolded
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let content_type = header("content-type");
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .unwrap()
        .trim_matches('"')
        .to_string();
    let mut text = String::new();
    for chunk in body.split(&format!("--{boundary}")).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let (_, part) = chunk.trim_start_matches('\n').split_once("\n\n").unwrap();
        let compact: String = part.chars().filter(|c| !c.is_whitespace()).collect();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .unwrap();
        text.push_str(&String::from_utf8(decoded).unwrap());
        text.push('\n');
    }
    Mail {
        to: header("to"),
        message_id: header("message-id"),
        text,
    }
}

/// The messages the server accepted for `to`.
fn mailbox(maildir: &Path, to: &str) -> Vec<Mail> {
    std::fs::read_dir(maildir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|raw| read_mail(&raw))
        .filter(|m| m.to.contains(to))
        .collect()
}

// ---- the processes

struct World {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl World {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
        cmd.current_dir(self.dir.path())
            .env_remove("ECOWATCH_DB")
            .env_remove("ECOWATCH_SMTP_USER")
            .env_remove("ECOWATCH_SMTP_PASSWORD")
            .env_remove("ECOWATCH_GITHUB_GRAPHQL_URL")
            .env_remove(ecowatch::serve::jobs::ENV_TEST_JOB_DELAY_MS)
            .env("ECOWATCH_CACHE_DIR", self.path("cache"))
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ecowatch {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A repository depending on `package` (locked) whose code reads the deprecated env name.
    fn repo(&self, name: &str, package: &str) -> PathBuf {
        let dir = self.path(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("package.json"),
            json!({"name": name, "version": "1.0.0", "dependencies": {package: "^2.40.0"}})
                .to_string(),
        )
        .unwrap();
        std::fs::write(
            dir.join("package-lock.json"),
            json!({"name": name, "version": "1.0.0", "lockfileVersion": 3, "requires": true,
                   "packages": {
                       "": {"name": name, "version": "1.0.0", "dependencies": {package: "^2.40.0"}},
                       format!("node_modules/{package}"): {"version": "2.45.0"}}})
            .to_string(),
        )
        .unwrap();
        std::fs::write(
            dir.join("src/db.js"),
            format!(
                "import {{ createClient }} from \"{package}\";\n\n\
                 export const db = createClient(process.env.APP_URL, process.env.SUPABASE_ANON_KEY);\n"
            ),
        )
        .unwrap();
        dir
    }

    fn serve(&self, config: &Path, log: &str, env: &[(&str, &str)]) -> Replica {
        let log = self.path(log);
        let child = self
            .command()
            .args(["serve", "--config"])
            .arg(config)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Replica {
            child: Some(child),
            log,
        }
    }
}

struct Replica {
    child: Option<Child>,
    log: PathBuf,
}

impl Replica {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        assert!(
            Command::new("kill")
                .args([signal, &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "serve did not exit:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `SCHEDULE@TIME` of every `serve: tick SCHEDULE@TIME: started` line.
fn started_ticks(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.strip_prefix("serve: tick "))
        .filter_map(|l| l.strip_suffix(": started"))
        .map(str::to_string)
        .collect()
}

/// Reads the shared database as the service does (the app role).
struct Db {
    runtime: tokio::runtime::Runtime,
    store: Store,
    app_url: String,
}

impl Db {
    fn open(app: &str) -> Db {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = runtime
            .block_on(Store::connect(&StoreConfig::Postgres {
                url: app.into(),
                owner_url: None,
            }))
            .unwrap();
        Db {
            runtime,
            store,
            app_url: app.into(),
        }
    }

    fn ticks(&self, schedule: &str) -> Vec<TickRecord> {
        self.runtime
            .block_on(self.store.list_ticks(schedule))
            .unwrap()
    }

    /// The tenant's findings as (rule, status), read inside its row-level-security context.
    fn findings(&self, tenant: &str) -> Vec<(String, String)> {
        self.runtime.block_on(async {
            let pool = sqlx::PgPool::connect(&self.app_url).await.unwrap();
            let mut tx = pool.begin().await.unwrap();
            let (id,): (i64,) = sqlx::query_as("SELECT id FROM tenants WHERE name = $1")
                .bind(tenant)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .unwrap();
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT rule_id, status FROM findings WHERE tenant_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
            tx.commit().await.unwrap();
            pool.close().await;
            rows
        })
    }
}

fn config_text(prefix: &str, tenants: &[&str], feeds: &Path) -> String {
    format!(
        "[schedule]\nid-prefix = \"{prefix}-\"\ncrawl = \"*/3 * * * * *\"\n\
         rescan = \"*/2 * * * * *\"\nrelay = \"* * * * * *\"\ndigest = \"off\"\n\
         timezone = \"UTC\"\nmax-backfill = 0\njitter-secs = 0\nlease-secs = 3\n\n\
         [serve]\nlisten = \"127.0.0.1:0\"\ngrace-secs = 20\ntenants = [{}]\nfeeds = \"{}\"\n",
        tenants
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", "),
        feeds.display()
    )
}

#[test]
fn three_replicas_crawl_rescan_and_mail_each_subscriber_once_through_a_kill() {
    let Some((app, owner, smtp_url, maildir)) = services() else {
        return;
    };
    let upstream = Upstream::start();
    let id = common::unique("e2e");
    let project = format!("{id}/sdk");
    let package = format!("@{id}/sdk");
    let discussion_url = format!("https://github.com/{project}/discussions/7");
    upstream.state.lock().unwrap().discussions.insert(
        project.clone(),
        vec![
            discussion(
                8,
                "How do I paginate?",
                "It is slow.",
                "Q&A",
                &[],
                &format!("https://github.com/{project}/discussions/8"),
            ),
            discussion(
                7,
                "Upcoming changes to API keys",
                KEYS_BODY,
                "Changelog",
                &["breaking-change"],
                &discussion_url,
            ),
        ],
    );

    let token = format!("ghp_{id}");
    let mut env: Vec<(String, String)> = vec![
        ("ECOWATCH_DATABASE_URL".into(), app.clone()),
        ("ECOWATCH_DATABASE_OWNER_URL".into(), owner.clone()),
        ("ECOWATCH_GITHUB_API_URL".into(), upstream.url.clone()),
        ("ECOWATCH_GITHUB_TOKEN".into(), token.clone()),
        ("ECOWATCH_OSV_URL".into(), upstream.url.clone()),
        ("ECOWATCH_ENDOFLIFE_URL".into(), upstream.url.clone()),
        ("ECOWATCH_HTTP_BACKOFF_MS".into(), "5".into()),
        ("ECOWATCH_HTTP_MAX_ATTEMPTS".into(), "2".into()),
        ("ECOWATCH_SMTP_URL".into(), smtp_url),
        ("ECOWATCH_SMTP_TLS".into(), "none".into()),
        ("ECOWATCH_SMTP_FROM".into(), "ecowatch@example.test".into()),
        ("ECOWATCH_RELAY_BACKOFF_MS".into(), "0".into()),
    ];
    for registry in [
        "ECOWATCH_NPM_REGISTRY_URL",
        "ECOWATCH_PYPI_URL",
        "ECOWATCH_CRATES_IO_URL",
        "ECOWATCH_PACKAGIST_URL",
        "ECOWATCH_GOPROXY_URL",
        "ECOWATCH_RUBYGEMS_URL",
    ] {
        env.push((registry.into(), upstream.url.clone()));
    }
    let world = World {
        dir: tempfile::tempdir().unwrap(),
        env,
    };
    std::fs::create_dir_all(world.path("feeds")).unwrap();
    std::fs::write(
        world.path("feeds/watch.toml"),
        format!("[[watch]]\ngithub = \"{project}\"\npackages = [\"npm:{package}\"]\n"),
    )
    .unwrap();

    // Two tenants, each watching a repository that uses the identifier; A has two subscribers.
    let (tenant_a, tenant_b) = (common::unique("alpha-"), common::unique("beta-"));
    let (repo_a, repo_b) = (format!("billing{id}"), format!("storefront{id}"));
    let address = |who: &str| format!("{who}-{id}@example.test");
    let (ann, bob, cat) = (address("ann"), address("bob"), address("cat"));
    for (tenant, repo, subscribers) in [
        (&tenant_a, &repo_a, vec![&ann, &bob]),
        (&tenant_b, &repo_b, vec![&cat]),
    ] {
        let dir = world.repo(repo, &package);
        world.ok(&[
            "watch",
            "add",
            dir.to_str().unwrap(),
            "--name",
            repo,
            "--tenant",
            tenant,
        ]);
        for email in subscribers {
            world.ok(&[
                "subscribe",
                "--email",
                email,
                "--cadence",
                "immediate",
                "--tenant",
                tenant,
            ]);
        }
    }

    let prefix = common::unique("e");
    let config = world.path("ecowatch.toml");
    std::fs::write(
        &config,
        config_text(&prefix, &[&tenant_a, &tenant_b], &world.path("feeds")),
    )
    .unwrap();
    // Replica 0 sleeps far longer than the test at the start of every job, so every tick it
    // claims is held, mid-run and heartbeating, when it is killed. It starts alone, so it wins
    // the first ticks whatever the other replicas' polling phases are.
    let slow = [(ecowatch::serve::jobs::ENV_TEST_JOB_DELAY_MS, "600000")];
    let mut replicas = vec![world.serve(&config, "replica0.log", &slow)];
    let logs = |replicas: &[Replica]| {
        replicas
            .iter()
            .enumerate()
            .map(|(i, r)| format!("--- replica {i}:\n{}", r.log()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    wait_for(
        Duration::from_secs(30),
        || logs(&replicas),
        || (!started_ticks(&replicas[0].log()).is_empty()).then_some(()),
    );
    replicas.push(world.serve(&config, "replica1.log", &[]));
    replicas.push(world.serve(&config, "replica2.log", &[]));
    // The survivors run alongside the holder until one of them has crawled: the takeover of a
    // held crawl tick then cannot race the first crawl that learns the discussion.
    wait_for(
        Duration::from_secs(30),
        || logs(&replicas),
        || {
            replicas[1..]
                .iter()
                .any(|r| {
                    r.log()
                        .lines()
                        .any(|l| l.contains("-crawl@") && l.contains(": finished"))
                })
                .then_some(())
        },
    );
    replicas[0].signal("-KILL");
    replicas[0].wait(Duration::from_secs(10));
    let killed_log = replicas[0].log();
    let killed: BTreeSet<String> = started_ticks(&killed_log).into_iter().collect();
    assert!(!killed.is_empty(), "{killed_log}");
    assert!(!killed_log.contains(": finished"), "{killed_log}");

    // The announcement was crawled, found in both repositories, and mailed to all three.
    let db = Db::open(&app);
    let mentions_discussion = |to: &str| {
        mailbox(&maildir, to)
            .iter()
            .filter(|m| m.text.contains(&discussion_url))
            .count()
    };
    wait_for(
        Duration::from_secs(40),
        || logs(&replicas),
        || {
            [&ann, &bob, &cat]
                .iter()
                .all(|to| mentions_discussion(to) >= 1)
                .then_some(())
        },
    );
    // Other replicas finished every tick the killed one held, once its lease ran out.
    wait_for(
        Duration::from_secs(20),
        || logs(&replicas),
        || {
            killed
                .iter()
                .all(|tick| {
                    replicas[1..]
                        .iter()
                        .any(|r| r.log().contains(&format!("serve: tick {tick}: finished")))
                })
                .then_some(())
        },
    );
    // A few more ticks of every schedule: nothing more may arrive.
    let finished = |job: &str| {
        db.ticks(&format!("{prefix}-{job}"))
            .iter()
            .filter(|t| t.status == "finished")
            .count()
    };
    let (crawls, relays) = (finished("crawl"), finished("relay"));
    wait_for(
        Duration::from_secs(30),
        || logs(&replicas),
        || (finished("crawl") >= crawls + 2 && finished("relay") >= relays + 3).then_some(()),
    );

    for replica in &replicas[1..] {
        replica.signal("-TERM");
    }
    for replica in &mut replicas[1..] {
        let status = replica.wait(Duration::from_secs(60));
        assert!(status.success(), "{status:?}:\n{}", replica.log());
    }

    // Ticks: one row per (schedule, time), all finished, each started by one replica (the
    // killed one's again by the replica that took it over), none failed.
    let survivors: Vec<String> = replicas[1..]
        .iter()
        .flat_map(|r| started_ticks(&r.log()))
        .collect();
    for tick in &killed {
        assert!(
            survivors.contains(tick),
            "{tick}, held by the killed replica, was taken over"
        );
    }
    let mut started = survivors;
    let mut rows = 0;
    for job in ["crawl", "rescan", "relay"] {
        let schedule = format!("{prefix}-{job}");
        let ticks = db.ticks(&schedule);
        assert!(!ticks.is_empty(), "{job}: no ticks");
        let times: BTreeSet<_> = ticks.iter().map(|t| t.scheduled_at).collect();
        assert_eq!(times.len(), ticks.len(), "{job}: a tick recorded twice");
        for tick in &ticks {
            assert_eq!(
                tick.status,
                "finished",
                "{job}: {tick:?}\n{}",
                logs(&replicas)
            );
        }
        rows += ticks.len();
    }
    let total = started.len();
    started.sort();
    started.dedup();
    assert_eq!(
        total,
        started.len(),
        "a tick started twice on the survivors"
    );
    assert_eq!(
        started.len(),
        rows,
        "every tick row was started by a survivor"
    );

    // The upstream saw each crawl tick once, not once per replica; the killed replica's
    // crawl (if it was one) made no request.
    let crawl_ticks = finished("crawl");
    let releases = upstream.count(&format!("GET releases/repos/{project}/releases"));
    assert_eq!(releases, crawl_ticks, "{:#?}", upstream.seen());
    assert_eq!(
        upstream.count("POST osv querybatch"),
        crawl_ticks,
        "{:#?}",
        upstream.seen()
    );
    assert_eq!(
        upstream.count(&format!("POST graphql discussions {project}")),
        1,
        "the discussions were read once; later crawls stop at the watermark"
    );

    // Mail: one per (subscriber, new finding), nothing across tenants, the discussion quoted.
    for (tenant, own, other, subscribers) in [
        (&tenant_a, &repo_a, &repo_b, vec![&ann, &bob]),
        (&tenant_b, &repo_b, &repo_a, vec![&cat]),
    ] {
        let findings = db.findings(tenant);
        let derived = findings
            .iter()
            .filter(|(rule, _)| rule.contains(&project))
            .count();
        assert_eq!(derived, 1, "{tenant}: {findings:?}");
        for to in subscribers {
            let mails = mailbox(&maildir, to);
            assert_eq!(mails.len(), findings.len(), "{to}: one mail per finding");
            let ids: BTreeSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
            assert_eq!(ids.len(), mails.len(), "{to}: a finding mailed twice");
            assert_eq!(mentions_discussion(to), 1, "{to}");
            for mail in &mails {
                assert!(mail.text.contains(own.as_str()), "{}", mail.text);
                assert!(
                    !mail.text.contains(other.as_str()),
                    "tenancy: {}",
                    mail.text
                );
            }
            let quoted = mails
                .iter()
                .find(|m| m.text.contains(&discussion_url))
                .unwrap();
            assert!(quoted.text.contains("SUPABASE_ANON_KEY"), "{}", quoted.text);
            assert!(quoted.text.contains("src/db.js:3"), "{}", quoted.text);
        }
    }
    // The token never reached a log.
    for replica in &replicas {
        assert!(!replica.log().contains(&token));
    }
}
