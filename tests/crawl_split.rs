//! A crawl tick split between `serve` replicas on one PostgreSQL: one part per source, each
//! claimed by one replica under a lease, none run twice, and the tick's replica combines the
//! parts' summaries. The store's contract for parts is checked directly; the split end to end
//! through three built `ecowatch serve` binaries against a loopback OSV/registry server.
//!
//! Needs `ECOWATCH_TEST_POSTGRES_URL` / `ECOWATCH_TEST_POSTGRES_OWNER_URL`
//! (scripts/services/postgres.sh); without them the tests skip loudly, except under `CI=true`,
//! where they fail. The database is shared: every test uses its own schedule ids and tenant.

mod common;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Method, Uri, header};
use axum::response::Response;
use chrono::{Duration as Span, Utc};
use ecowatch::store::{ClaimedPart, PartStatus, Store, StoreConfig};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn open_store(app: &str, owner: &str) -> Store {
    Store::open(&StoreConfig::Postgres {
        url: app.into(),
        owner_url: Some(owner.into()),
    })
    .await
    .unwrap()
}

/// A running tick of a fresh schedule: its id.
async fn running_tick(store: &Store, schedule: &str) -> i64 {
    store
        .ensure_schedule(schedule, "0 0 1 1 *", "UTC")
        .await
        .unwrap();
    store
        .claim_new_tick(
            schedule,
            Utc::now(),
            "tick-holder",
            Utc::now() + Span::seconds(60),
        )
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_get_the_same_part_and_stale_tokens_are_refused() {
    let Some((app, owner)) = common::postgres_urls("crawl parts") else {
        return;
    };
    let store = open_store(&app, &owner).await;
    let schedule = common::unique("parts-");
    let tick = running_tick(&store, &schedule).await;
    let names = ["osv", "npm", "pypi", "crates", "github", "pages"];
    store.insert_crawl_parts(tick, &names).await.unwrap();

    // Twenty claimers at once for six parts: six win, each a different part.
    let now = Utc::now();
    let claims = (0..20).map(|i| {
        let (store, schedule) = (store.clone(), schedule.clone());
        tokio::spawn(async move {
            store
                .claim_crawl_part(
                    &schedule,
                    &format!("token{i}"),
                    &format!("worker{i}"),
                    now,
                    now + Span::seconds(60),
                )
                .await
                .unwrap()
        })
    });
    let mut won: Vec<ClaimedPart> = Vec::new();
    for claim in claims {
        won.extend(claim.await.unwrap());
    }
    let parts: BTreeSet<&str> = won.iter().map(|p| p.part.as_str()).collect();
    assert_eq!(won.len(), names.len(), "{won:?}");
    assert_eq!(parts, names.into_iter().collect());

    // A stale token cannot finish (or extend) a part; its holder can.
    let held = &won[0];
    let stale = ClaimedPart {
        token: "token-of-nobody".into(),
        ..held.clone()
    };
    assert!(
        !store
            .finish_crawl_part(&stale, PartStatus::Done, "x")
            .await
            .unwrap()
    );
    assert!(
        !store
            .extend_crawl_part(&stale, Utc::now() + Span::seconds(60))
            .await
            .unwrap()
    );
    assert!(
        store
            .finish_crawl_part(held, PartStatus::Done, "done once")
            .await
            .unwrap()
    );
    // Done is final, even for the holder.
    assert!(
        !store
            .finish_crawl_part(held, PartStatus::Failed, "again")
            .await
            .unwrap()
    );

    // Inserting the parts again (a tick taken over) keeps the done one done.
    store.insert_crawl_parts(tick, &names).await.unwrap();
    let listed = store.list_crawl_parts(tick).await.unwrap();
    assert_eq!(listed.len(), names.len());
    let done: Vec<_> = listed.iter().filter(|p| p.status == "done").collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].part, held.part);
    assert_eq!(done[0].summary.as_deref(), Some("done once"));
    assert!(listed.iter().all(|p| p.claims == 1), "{listed:?}");
    store.close().await;
}

#[tokio::test]
async fn a_part_whose_lease_expired_is_claimed_again_and_its_old_holder_is_fenced() {
    let Some((app, owner)) = common::postgres_urls("crawl parts") else {
        return;
    };
    let store = open_store(&app, &owner).await;
    let schedule = common::unique("expire-");
    let tick = running_tick(&store, &schedule).await;
    store.insert_crawl_parts(tick, &["osv"]).await.unwrap();
    let now = Utc::now();
    let old = store
        .claim_crawl_part(&schedule, "old", "dead", now, now - Span::seconds(1))
        .await
        .unwrap()
        .unwrap();
    let live = now + Span::seconds(60);
    let new = store
        .claim_crawl_part(&schedule, "new", "alive", now, live)
        .await
        .unwrap()
        .expect("an expired lease is claimable");
    assert_eq!(new.id, old.id);
    assert_eq!(
        store
            .claim_crawl_part(&schedule, "third", "other", now, live)
            .await
            .unwrap(),
        None,
        "a live lease is not"
    );
    assert!(
        !store
            .finish_crawl_part(&old, PartStatus::Done, "late")
            .await
            .unwrap()
    );
    assert!(
        store
            .finish_crawl_part(&new, PartStatus::Done, "osv: fine")
            .await
            .unwrap()
    );
    let parts = store.list_crawl_parts(tick).await.unwrap();
    assert_eq!(
        (
            parts[0].status.as_str(),
            parts[0].worker.as_deref(),
            parts[0].claims
        ),
        ("done", Some("alive"), 2)
    );

    // Parts of a tick that is not running (finished, or given back) are nobody's to claim.
    let other = common::unique("idle-");
    store
        .ensure_schedule(&other, "0 0 1 1 *", "UTC")
        .await
        .unwrap();
    assert!(store.insert_tick(&other, Utc::now()).await.unwrap());
    let pending_tick = store.list_ticks(&other).await.unwrap()[0].id;
    store
        .insert_crawl_parts(pending_tick, &["osv"])
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_crawl_part(&other, "t", "w", now, live)
            .await
            .unwrap(),
        None
    );
    store.close().await;
}

// ---- end to end: three replicas, one crawl tick

/// What the loopback OSV/registry server saw.
#[derive(Default)]
struct Seen {
    /// Every query of every `POST /osv/v1/querybatch`, as JSON text.
    osv_queries: Vec<String>,
    /// Every other request: "METHOD PATH".
    requests: Vec<String>,
}

type Shared = Arc<Mutex<Seen>>;

/// One loopback server for OSV and every registry: OSV knows no vulnerabilities, registries
/// know no packages (404, which the crawlers record as "not found").
struct Fake {
    url: String,
    seen: Shared,
}

impl Fake {
    fn start() -> Fake {
        let seen = Shared::default();
        let app = Router::new().fallback(answer).with_state(seen.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
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
        Fake { url, seen }
    }

    fn seen<R>(&self, f: impl FnOnce(&Seen) -> R) -> R {
        f(&self.seen.lock().unwrap())
    }
}

fn json(status: u16, body: String) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap()
}

async fn answer(State(seen): State<Shared>, method: Method, uri: Uri, body: Bytes) -> Response {
    let path = uri.path().to_string();
    if method == Method::POST && path == "/osv/v1/querybatch" {
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let queries = request["queries"].as_array().cloned().unwrap_or_default();
        seen.lock()
            .unwrap()
            .osv_queries
            .extend(queries.iter().map(Value::to_string));
        let results = vec!["{}"; queries.len()].join(",");
        return json(200, format!("{{\"results\":[{results}]}}"));
    }
    seen.lock()
        .unwrap()
        .requests
        .push(format!("{method} {path}"));
    json(404, r#"{"error":"Not found"}"#.into())
}

struct Replica {
    child: Child,
    log: PathBuf,
}

impl Replica {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(started.elapsed() < limit, "gave up waiting after {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ecowatch(dir: &Path, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
    cmd.current_dir(dir)
        .env_remove("ECOWATCH_DB")
        .env_remove("ECOWATCH_SMTP_URL")
        .env_remove("ECOWATCH_GITHUB_TOKEN")
        .env("ECOWATCH_CACHE_DIR", dir.join("cache"))
        .envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// `serve: crawl part NAME#TICK: started` lines of a log, as "NAME#TICK".
fn started_parts(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.strip_prefix("serve: crawl part "))
        .filter_map(|l| l.strip_suffix(": started"))
        .map(str::to_string)
        .collect()
}

#[test]
fn three_replicas_split_one_crawl_tick_and_run_each_part_once() {
    let Some((app, owner)) = common::postgres_urls("crawl parts") else {
        return;
    };
    let fake = Fake::start();
    let dir = tempfile::tempdir().unwrap();
    let (prefix, tenant) = (common::unique("c"), common::unique("split-"));
    let mut env: Vec<(String, String)> = vec![
        ("ECOWATCH_DATABASE_URL".into(), app.clone()),
        ("ECOWATCH_DATABASE_OWNER_URL".into(), owner.clone()),
        ("ECOWATCH_OSV_URL".into(), format!("{}/osv", fake.url)),
        ("ECOWATCH_HTTP_TIMEOUT_MS".into(), "3000".into()),
        ("ECOWATCH_HTTP_BACKOFF_MS".into(), "10".into()),
        ("ECOWATCH_HTTP_MAX_ATTEMPTS".into(), "2".into()),
    ];
    for (var, path) in [
        ("ECOWATCH_NPM_REGISTRY_URL", "npm"),
        ("ECOWATCH_PYPI_URL", "pypi"),
        ("ECOWATCH_CRATES_IO_URL", "crates"),
        ("ECOWATCH_PACKAGIST_URL", "packagist"),
        ("ECOWATCH_GOPROXY_URL", "go"),
        ("ECOWATCH_RUBYGEMS_URL", "rubygems"),
        ("ECOWATCH_ENDOFLIFE_URL", "eol"),
        ("ECOWATCH_GITHUB_API_URL", "github"),
        ("ECOWATCH_GITHUB_GRAPHQL_URL", "github/graphql"),
    ] {
        env.push((var.into(), format!("{}/{path}", fake.url)));
    }

    // A watched repository with two PyPI dependencies, named for this run: what registries
    // say about a package is shared knowledge, remembered across runs on the shared database.
    let packages = [common::unique("splita"), common::unique("splitb")];
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("requirements.txt"),
        format!("{}==2.10\n{}==2.19.0\n", packages[0], packages[1]),
    )
    .unwrap();
    let out = ecowatch(dir.path(), &env)
        .args(["watch", "add"])
        .arg(&repo)
        .args(["--name", "app", "--tenant", &tenant])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // One crawl tick, far enough ahead for every replica to be up when it comes due.
    let at = Utc::now() + Span::seconds(12);
    let cron = at.format("%S %M %H %d %m *").to_string();
    let config = dir.path().join("ecowatch.toml");
    std::fs::write(
        &config,
        format!(
            "[schedule]\nid-prefix = \"{prefix}-\"\ncrawl = \"{cron}\"\nrescan = \"off\"\n\
             relay = \"off\"\ndigest = \"off\"\ntimezone = \"UTC\"\nmax-backfill = 0\n\
             jitter-secs = 0\nlease-secs = 10\n\n[serve]\nlisten = \"127.0.0.1:0\"\n\
             grace-secs = 20\ntenants = [\"{tenant}\"]\nfeeds = \"{feeds}\"\n",
            // No watch.toml there: no GitHub projects and no vendor pages, so nothing leaves
            // loopback.
            feeds = dir.path().join("feeds").display()
        ),
    )
    .unwrap();
    // Every part takes a while, so the other replicas' polls find parts left to claim.
    let delay = (
        ecowatch::serve::jobs::ENV_TEST_JOB_DELAY_MS.to_string(),
        "1500".to_string(),
    );
    let replicas: Vec<Replica> = (0..3)
        .map(|i| {
            let log = dir.path().join(format!("replica{i}.log"));
            let child = ecowatch(dir.path(), &env)
                .envs([delay.clone()])
                .args(["serve", "--config"])
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(File::create(&log).unwrap())
                .spawn()
                .unwrap();
            Replica { child, log }
        })
        .collect();
    for replica in &replicas {
        wait_for(Duration::from_secs(60), || {
            replica.log().contains("listening on").then_some(())
        });
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = runtime
        .block_on(Store::connect(&StoreConfig::Postgres {
            url: app.clone(),
            owner_url: None,
        }))
        .unwrap();
    let schedule = format!("{prefix}-crawl");
    let tick = wait_for(Duration::from_secs(120), || {
        let ticks = runtime.block_on(store.list_ticks(&schedule)).unwrap();
        ticks
            .into_iter()
            .find(|t| t.status != "running" && t.status != "pending")
    });
    let logs: Vec<String> = replicas.iter().map(Replica::log).collect();
    let all_logs = logs.join("\n---\n");
    assert_eq!(tick.status, "finished", "{:?}\n{all_logs}", tick.last_error);
    assert_eq!(
        runtime.block_on(store.list_ticks(&schedule)).unwrap().len(),
        1
    );

    // Every part done exactly once, by more than one replica.
    let parts = runtime.block_on(store.list_crawl_parts(tick.id)).unwrap();
    let names: Vec<&str> = parts.iter().map(|p| p.part.as_str()).collect();
    assert_eq!(names, ecowatch::serve::jobs::crawl_part_names());
    for part in &parts {
        assert_eq!(
            (part.status.as_str(), part.claims),
            ("done", 1),
            "{part:?}\n{all_logs}"
        );
    }
    let pids: Vec<String> = replicas
        .iter()
        .map(|r| format!(":{}", r.child.id()))
        .collect();
    let workers: BTreeSet<usize> = parts
        .iter()
        .map(|p| {
            let worker = p.worker.as_deref().unwrap_or("");
            pids.iter()
                .position(|pid| worker.ends_with(pid.as_str()))
                .unwrap_or_else(|| panic!("{worker} is none of the replicas"))
        })
        .collect();
    assert!(workers.len() >= 2, "one replica ran every part: {parts:?}");
    let mut started: Vec<String> = logs.iter().flat_map(|l| started_parts(l)).collect();
    let total = started.len();
    started.sort();
    started.dedup();
    assert_eq!(total, started.len(), "a part started twice:\n{all_logs}");
    assert_eq!(total, parts.len(), "{all_logs}");

    // The sources saw each question once: no part ran twice, and none overlapped another.
    let queries = fake.seen(|s| s.osv_queries.clone());
    assert_eq!(queries.len(), 2, "{queries:?}");
    assert_eq!(queries.iter().collect::<BTreeSet<_>>().len(), 2);
    for package in &packages {
        assert!(
            queries.iter().any(|q| q.contains(package.as_str())),
            "{queries:?}"
        );
    }
    let requests = fake.seen(|s| s.requests.clone());
    for package in &packages {
        // Two parts ask PyPI about each package, once each: the pypi part for its status, the
        // github part for its source repository.
        let asked = requests
            .iter()
            .filter(|r| **r == format!("GET /pypi/pypi/{package}/json"))
            .count();
        assert_eq!(asked, 2, "{package}: {requests:?}");
    }
    assert!(
        requests.iter().all(|r| !r.contains("/github")),
        "{requests:?}"
    );

    // One replica finished the tick, with one line combining every part's summary.
    let finished: Vec<&String> = logs
        .iter()
        .filter(|l| l.contains(&format!("serve: tick {schedule}@")) && l.contains(": finished in"))
        .collect();
    assert_eq!(finished.len(), 1, "{all_logs}");
    let line = finished[0]
        .lines()
        .find(|l| l.contains(": finished in"))
        .unwrap();
    eprintln!("{line}");
    for name in ecowatch::serve::jobs::crawl_part_names() {
        assert!(
            line.contains(&format!("{name}: ")),
            "{name} missing: {line}"
        );
    }
    assert!(line.contains("osv: 1 requests"), "{line}");

    for replica in &replicas {
        let _ = Command::new("kill")
            .args(["-TERM", &replica.child.id().to_string()])
            .status();
    }
    runtime.block_on(store.close());
}
