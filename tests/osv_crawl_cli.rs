//! `ecowatch crawl --source osv` driven as a user runs it: the built binary against a real HTTP
//! server on loopback that speaks OSV's API (`POST /v1/querybatch`, `GET /v1/vulns/{id}`) and
//! serves records written from OSV's public schema, with faults injected per test. Stored rows
//! are read back through the store API.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::{get, post};
use ecowatch::store::{SourceState, Store};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LODASH_COMMAND_INJECTION: &str = "GHSA-35jh-r3h4-6jhm";
const LODASH_REDOS: &str = "GHSA-29mw-wpgm-hmr9";
const JINJA2_REDOS: &str = "PYSEC-2021-66";
const SMALLVEC_OVERFLOW: &str = "RUSTSEC-2021-0003";
const ALL_IDS: [&str; 4] = [
    LODASH_COMMAND_INJECTION,
    LODASH_REDOS,
    JINJA2_REDOS,
    SMALLVEC_OVERFLOW,
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv/crawl")
}

/// What the fake OSV does instead of answering normally, once per request.
#[derive(Debug, Clone)]
enum Fault {
    Status(u16),
    /// 429 with `Retry-After: <secs>`.
    RateLimited(u64),
    /// Sleeps this long before answering normally.
    Sleep(Duration),
    /// Answers 200 with the first half of the body (Content-Length matching what is sent).
    Truncate,
}

#[derive(Default)]
struct OsvState {
    records: BTreeMap<String, Value>,
    /// (ecosystem, name) → ids, in the order they are listed.
    packages: BTreeMap<(String, String), Vec<String>>,
    /// Ids per page before a `next_page_token`.
    page_size: usize,
    batch_faults: VecDeque<Fault>,
    vuln_faults: HashMap<String, VecDeque<Fault>>,
    /// Slows every vulns/{id} answer, so concurrent requests overlap.
    vuln_delay: Duration,
    batch_requests: Vec<Instant>,
    batch_bodies: Vec<Value>,
    vuln_requests: Vec<String>,
    user_agents: Vec<String>,
    in_flight: usize,
    max_in_flight: usize,
}

type Shared = Arc<Mutex<OsvState>>;

/// The fake OSV.dev on 127.0.0.1, on its own thread and runtime.
struct FakeOsv {
    url: String,
    state: Shared,
}

impl FakeOsv {
    fn start() -> FakeOsv {
        let mut state = OsvState {
            page_size: 1000,
            ..OsvState::default()
        };
        for id in ALL_IDS {
            let text = std::fs::read_to_string(fixtures().join(format!("records/{id}.json")))
                .expect("fixture record");
            let record: Value = serde_json::from_str(&text).expect("fixture record is JSON");
            for affected in record["affected"].as_array().expect("affected") {
                let key = (
                    affected["package"]["ecosystem"]
                        .as_str()
                        .expect("eco")
                        .to_string(),
                    affected["package"]["name"]
                        .as_str()
                        .expect("name")
                        .to_string(),
                );
                state.packages.entry(key).or_default().push(id.to_string());
            }
            state.records.insert(id.to_string(), record);
        }
        let state = Arc::new(Mutex::new(state));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let app = Router::new()
            .route("/v1/querybatch", post(querybatch))
            .route("/v1/vulns/{id}", get(vuln))
            .with_state(Arc::clone(&state));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, app).await.expect("serve");
            });
        });
        FakeOsv { url, state }
    }

    fn with<R>(&self, f: impl FnOnce(&mut OsvState) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn set_modified(&self, id: &str, modified: &str) {
        self.with(|s| s.records.get_mut(id).expect("known id")["modified"] = json!(modified));
    }

    fn vuln_requests(&self) -> Vec<String> {
        self.with(|s| s.vuln_requests.clone())
    }

    fn batch_count(&self) -> usize {
        self.with(|s| s.batch_requests.len())
    }

    fn reset_counters(&self) {
        self.with(|s| {
            s.batch_requests.clear();
            s.batch_bodies.clear();
            s.vuln_requests.clear();
            s.max_in_flight = 0;
        });
    }
}

/// Counts a request in flight for as long as its handler runs (also when it is cancelled).
struct InFlight(Shared);

impl InFlight {
    fn enter(state: &Shared, headers: &HeaderMap) -> InFlight {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        let agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        s.user_agents.push(agent);
        InFlight(Arc::clone(state))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).in_flight -= 1;
    }
}

fn json_response(status: u16, body: Vec<u8>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("response")
}

/// Applies `fault` if there is one; `Some` is the answer to send instead of the real one.
async fn apply(fault: Option<Fault>, real: &[u8]) -> Option<Response> {
    match fault? {
        Fault::Status(code) => Some(json_response(
            code,
            br#"{"code":13,"message":"internal error"}"#.to_vec(),
        )),
        Fault::RateLimited(secs) => Some(
            Response::builder()
                .status(429)
                .header(header::RETRY_AFTER, secs.to_string())
                .body(Body::from("rate limited"))
                .expect("response"),
        ),
        Fault::Sleep(pause) => {
            tokio::time::sleep(pause).await;
            None
        }
        Fault::Truncate => Some(json_response(200, real[..real.len() / 2].to_vec())),
    }
}

async fn querybatch(State(state): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let _in_flight = InFlight::enter(&state, &headers);
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return json_response(400, br#"{"code":3,"message":"bad JSON"}"#.to_vec());
    };
    let (answer, fault) = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.batch_requests.push(Instant::now());
        s.batch_bodies.push(request.clone());
        let queries = request["queries"].as_array().cloned().unwrap_or_default();
        let results: Vec<Value> = queries
            .iter()
            .map(|q| {
                let key = (
                    q["package"]["ecosystem"].as_str().unwrap_or("").to_string(),
                    q["package"]["name"].as_str().unwrap_or("").to_string(),
                );
                let ids = s.packages.get(&key).cloned().unwrap_or_default();
                let start: usize = q["page_token"]
                    .as_str()
                    .and_then(|t| t.strip_prefix("offset-"))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let page: Vec<Value> = ids
                    .iter()
                    .skip(start)
                    .take(s.page_size)
                    .map(|id| json!({"id": id, "modified": s.records[id]["modified"]}))
                    .collect();
                let mut result = serde_json::Map::new();
                if !page.is_empty() {
                    result.insert("vulns".into(), Value::Array(page));
                }
                if start + s.page_size < ids.len() {
                    result.insert(
                        "next_page_token".into(),
                        json!(format!("offset-{}", start + s.page_size)),
                    );
                }
                Value::Object(result)
            })
            .collect();
        let answer = serde_json::to_vec(&json!({ "results": results })).expect("json");
        (answer, s.batch_faults.pop_front())
    };
    if let Some(response) = apply(fault, &answer).await {
        return response;
    }
    json_response(200, answer)
}

async fn vuln(
    State(state): State<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let _in_flight = InFlight::enter(&state, &headers);
    let (record, fault, delay) = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.vuln_requests.push(id.clone());
        let fault = s.vuln_faults.get_mut(&id).and_then(VecDeque::pop_front);
        (s.records.get(&id).cloned(), fault, s.vuln_delay)
    };
    tokio::time::sleep(delay).await;
    let Some(record) = record else {
        return json_response(404, br#"{"code":5,"message":"Bug not found."}"#.to_vec());
    };
    let body = serde_json::to_vec_pretty(&record).expect("json");
    if let Some(response) = apply(fault, &body).await {
        return response;
    }
    json_response(200, body)
}

/// A temporary database and the crawl command pointed at the fake server.
struct Crawl {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Crawl {
    fn new() -> Crawl {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("ecowatch.db");
        Crawl { _dir: dir, db }
    }

    fn run(&self, server: &FakeOsv, env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
        command
            .args(["crawl", "--source", "osv", "--for"])
            .arg(fixtures().join("repo"))
            .arg("--db")
            .arg(&self.db)
            .env("ECOWATCH_OSV_URL", &server.url)
            .env("ECOWATCH_HTTP_TIMEOUT_MS", "2000")
            .env("ECOWATCH_HTTP_BACKOFF_MS", "10")
            .env("ECOWATCH_HTTP_MAX_ATTEMPTS", "3")
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DB");
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("the ecowatch binary runs")
    }

    fn stored(&self) -> (BTreeMap<String, String>, Option<SourceState>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let store = Store::open_sqlite(&self.db, false)
                .await
                .expect("open store");
            let mut notices = BTreeMap::new();
            for id in ALL_IDS {
                if let Some(notice) = store.get_notice(id).await.expect("get_notice") {
                    notices.insert(id.to_string(), notice.modified.to_rfc3339());
                }
            }
            let state = store.get_source("osv").await.expect("get_source");
            store.close().await;
            (notices, state)
        })
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[test]
fn first_crawl_stores_every_match_and_a_second_fetches_nothing() {
    let server = FakeOsv::start();
    let crawl = Crawl::new();
    let out = crawl.run(&server, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("osv: 5 requests, 4 new, 0 updated, 0 unchanged, 0 errors in "),
        "{}",
        text(&out)
    );
    assert!(
        out.stderr.is_empty(),
        "no progress when piped: {}",
        text(&out)
    );

    // One batch with the three locked packages, versions included.
    let body = server.with(|s| s.batch_bodies[0].clone());
    let mut queries: Vec<String> = body["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .map(|q| {
            format!(
                "{} {} {}",
                q["package"]["ecosystem"].as_str().unwrap_or("?"),
                q["package"]["name"].as_str().unwrap_or("?"),
                q["version"].as_str().unwrap_or("*")
            )
        })
        .collect();
    queries.sort();
    assert!(
        queries.contains(&"npm lodash 4.17.20".to_string()),
        "{queries:?}"
    );
    assert!(
        queries.contains(&"crates.io smallvec 1.6.0".to_string()),
        "{queries:?}"
    );
    assert!(
        queries.iter().any(|q| q.starts_with("PyPI jinja2 ")),
        "{queries:?}"
    );
    let agents = server.with(|s| s.user_agents.clone());
    assert!(
        agents
            .iter()
            .all(|a| a.starts_with("ecowatch/") && a.contains("+https://")),
        "{agents:?}"
    );

    let (notices, state) = crawl.stored();
    assert_eq!(notices.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut ids = ALL_IDS.to_vec();
        ids.sort();
        ids
    });
    let state = state.expect("crawl state recorded");
    assert!(state.last_success_at.is_some());
    assert_eq!(state.last_error, None);
    assert_eq!(
        state.watermark.map(|w| w.to_rfc3339()).as_deref(),
        Some("2024-02-16T08:17:48+00:00"),
        "watermark is the newest modified seen"
    );
    assert_eq!(
        state.url.as_deref(),
        Some(format!("{}/", server.url).as_str())
    );

    server.reset_counters();
    let again = crawl.run(&server, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(server.vuln_requests(), Vec::<String>::new());
    assert_eq!(server.batch_count(), 1);
    assert!(
        String::from_utf8_lossy(&again.stdout)
            .contains("osv: 1 requests, 0 new, 0 updated, 4 unchanged, 0 errors"),
        "{}",
        text(&again)
    );
}

#[test]
fn a_changed_modified_refetches_only_that_record() {
    let server = FakeOsv::start();
    let crawl = Crawl::new();
    assert_eq!(crawl.run(&server, &[]).status.code(), Some(0));
    server.reset_counters();
    server.set_modified(SMALLVEC_OVERFLOW, "2025-01-02T03:04:05Z");

    let out = crawl.run(&server, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(server.vuln_requests(), [SMALLVEC_OVERFLOW]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 new, 1 updated, 3 unchanged"),
        "{}",
        text(&out)
    );
    let (notices, state) = crawl.stored();
    assert_eq!(notices[SMALLVEC_OVERFLOW], "2025-01-02T03:04:05+00:00");
    assert_eq!(
        state.and_then(|s| s.watermark).map(|w| w.to_rfc3339()),
        Some("2025-01-02T03:04:05+00:00".to_string())
    );
}

#[test]
fn server_errors_are_retried_then_the_crawl_succeeds() {
    let server = FakeOsv::start();
    server.with(|s| {
        s.batch_faults = VecDeque::from([Fault::Status(500), Fault::Status(502)]);
        s.vuln_faults
            .insert(JINJA2_REDOS.into(), VecDeque::from([Fault::Status(503)]));
    });
    let crawl = Crawl::new();
    let out = crawl.run(&server, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(server.batch_count(), 3, "two failures and a success");
    let jinja_fetches = server
        .vuln_requests()
        .iter()
        .filter(|id| *id == JINJA2_REDOS)
        .count();
    assert_eq!(jinja_fetches, 2);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("osv: 8 requests, 4 new"),
        "{}",
        text(&out)
    );
    assert_eq!(crawl.stored().0.len(), 4);
}

#[test]
fn a_timeout_is_retried_then_reported_and_stored_data_stays() {
    let server = FakeOsv::start();
    let crawl = Crawl::new();
    assert_eq!(crawl.run(&server, &[]).status.code(), Some(0));
    let (before, state_before) = crawl.stored();
    let first_success = state_before.and_then(|s| s.last_success_at);
    server.reset_counters();
    server.with(|s| {
        s.batch_faults = VecDeque::from(vec![Fault::Sleep(Duration::from_secs(3)); 2]);
    });

    let out = crawl.run(
        &server,
        &[
            ("ECOWATCH_HTTP_TIMEOUT_MS", "300"),
            ("ECOWATCH_HTTP_MAX_ATTEMPTS", "2"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("gave up after 2 attempts") && stderr.contains("no complete response"),
        "{}",
        text(&out)
    );
    assert_eq!(server.batch_count(), 2, "retried once");
    assert_eq!(server.vuln_requests(), Vec::<String>::new());

    let (after, state) = crawl.stored();
    assert_eq!(after, before, "stored notices are untouched");
    let state = state.expect("state");
    assert!(state.last_error_at.is_some());
    assert!(
        state
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("querybatch")),
        "{:?}",
        state.last_error
    );
    assert_eq!(state.last_success_at, first_success);
}

#[test]
fn a_truncated_record_is_an_error_and_nothing_of_it_is_written() {
    let server = FakeOsv::start();
    server.with(|s| {
        s.vuln_faults
            .insert(LODASH_REDOS.into(), VecDeque::from([Fault::Truncate]));
    });
    let crawl = Crawl::new();
    let out = crawl.run(&server, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("error: {LODASH_REDOS}: ")),
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 new, 0 updated, 0 unchanged, 1 errors")
    );
    let (notices, state) = crawl.stored();
    assert_eq!(notices.len(), 3);
    assert!(!notices.contains_key(LODASH_REDOS));
    let state = state.expect("state");
    assert!(state.last_success_at.is_none());
    assert!(
        state
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains(LODASH_REDOS))
    );

    // The next crawl fetches just the one that failed.
    server.reset_counters();
    let out = crawl.run(&server, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(server.vuln_requests(), [LODASH_REDOS]);
    assert_eq!(crawl.stored().0.len(), 4);
}

#[test]
fn a_truncated_batch_answer_stores_nothing() {
    let server = FakeOsv::start();
    server.with(|s| s.batch_faults = VecDeque::from([Fault::Truncate]));
    let crawl = Crawl::new();
    let out = crawl.run(&server, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not the JSON expected"),
        "{}",
        text(&out)
    );
    assert_eq!(server.batch_count(), 1, "malformed JSON is not retried");
    assert_eq!(server.vuln_requests(), Vec::<String>::new());
    let (notices, state) = crawl.stored();
    assert!(notices.is_empty());
    assert!(state.is_some_and(|s| s.last_error.is_some() && s.watermark.is_none()));
}

#[test]
fn rate_limit_waits_for_retry_after() {
    let server = FakeOsv::start();
    server.with(|s| s.batch_faults = VecDeque::from([Fault::RateLimited(1)]));
    let crawl = Crawl::new();
    let out = crawl.run(&server, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let times = server.with(|s| s.batch_requests.clone());
    assert_eq!(times.len(), 2);
    let waited = times[1] - times[0];
    assert!(
        waited >= Duration::from_millis(950),
        "retried after {waited:?}, not after Retry-After: 1"
    );
    assert_eq!(crawl.stored().0.len(), 4);
}

#[test]
fn a_retry_after_beyond_the_limit_is_not_waited_for() {
    let server = FakeOsv::start();
    server.with(|s| s.batch_faults = VecDeque::from([Fault::RateLimited(3600)]));
    let crawl = Crawl::new();
    let started = Instant::now();
    let out = crawl.run(&server, &[("ECOWATCH_HTTP_MAX_RETRY_AFTER_SECS", "5")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 429"));
    assert_eq!(server.batch_count(), 1);
}

#[test]
fn pages_are_followed_with_next_page_token() {
    let server = FakeOsv::start();
    server.with(|s| s.page_size = 1);
    let crawl = Crawl::new();
    let out = crawl.run(&server, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let bodies = server.with(|s| s.batch_bodies.clone());
    assert_eq!(bodies.len(), 2, "lodash has a second page");
    assert_eq!(
        bodies[1]["queries"],
        json!([{"package": {"ecosystem": "npm", "name": "lodash"}, "version": "4.17.20", "page_token": "offset-1"}])
    );
    assert_eq!(
        sorted(server.vuln_requests()),
        sorted(ALL_IDS.iter().map(|s| s.to_string()).collect())
    );
    assert_eq!(crawl.stored().0.len(), 4);
}

#[test]
fn in_flight_requests_per_host_stay_within_the_limit() {
    for limit in [1usize, 2] {
        let server = FakeOsv::start();
        server.with(|s| s.vuln_delay = Duration::from_millis(150));
        let crawl = Crawl::new();
        let out = crawl.run(&server, &[("ECOWATCH_HTTP_PER_HOST", &limit.to_string())]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let max = server.with(|s| s.max_in_flight);
        assert_eq!(
            max, limit,
            "max concurrent requests with a limit of {limit}"
        );
        assert_eq!(crawl.stored().0.len(), 4);
    }
}

#[test]
fn an_unknown_record_is_an_error_for_that_id_only() {
    let server = FakeOsv::start();
    server.with(|s| {
        s.packages
            .get_mut(&("crates.io".to_string(), "smallvec".to_string()))
            .expect("smallvec")
            .push("RUSTSEC-2099-0001".into());
        s.records.insert(
            "RUSTSEC-2099-0001".into(),
            json!({"id": "RUSTSEC-2099-0001", "modified": "2025-01-01T00:00:00Z"}),
        );
    });
    // Listed by querybatch, but vulns/{id} answers 404 (a permanent error: not retried).
    server.with(|s| {
        s.vuln_faults.insert(
            "RUSTSEC-2099-0001".into(),
            VecDeque::from([Fault::Status(404)]),
        );
    });
    let crawl = Crawl::new();
    let out = crawl.run(&server, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RUSTSEC-2099-0001"));
    let fetches = server
        .vuln_requests()
        .iter()
        .filter(|id| id.as_str() == "RUSTSEC-2099-0001")
        .count();
    assert_eq!(fetches, 1, "404 is not retried");
    assert_eq!(crawl.stored().0.len(), 4);
}

#[test]
fn crawl_needs_a_repository_and_a_valid_url() {
    let crawl = Crawl::new();
    let out = Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(["crawl", "--source", "osv", "--db"])
        .arg(&crawl.db)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ecowatch watch add"),
        "{}",
        text(&out)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(["crawl", "--source", "osv", "--for", "."])
        .arg("--db")
        .arg(&crawl.db)
        .env("ECOWATCH_OSV_URL", "file:///etc/passwd")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid OSV API URL"));
}

#[test]
fn a_record_past_the_size_cap_is_refused_without_retrying() {
    let server = FakeOsv::start();
    server.with(|s| {
        let record = s.records.get_mut(JINJA2_REDOS).expect("jinja2");
        record["details"] = json!("x".repeat(64 * 1024));
    });
    let crawl = Crawl::new();
    let out = crawl.run(&server, &[("ECOWATCH_HTTP_MAX_BODY_BYTES", "16384")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("larger than 16384 bytes"),
        "{}",
        text(&out)
    );
    let fetches = server
        .vuln_requests()
        .iter()
        .filter(|id| *id == JINJA2_REDOS)
        .count();
    assert_eq!(fetches, 1, "an oversized body is permanent");
    let (notices, _) = crawl.stored();
    assert_eq!(notices.len(), 3);
    assert!(!notices.contains_key(JINJA2_REDOS));
}

#[test]
fn a_server_that_is_not_there_is_retried_then_reported() {
    // Bind and drop: the port is (almost certainly) closed for the run.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let gone = FakeOsv {
        url: format!("http://127.0.0.1:{port}"),
        state: Arc::new(Mutex::new(OsvState::default())),
    };
    let crawl = Crawl::new();
    let out = crawl.run(&gone, &[("ECOWATCH_HTTP_MAX_ATTEMPTS", "2")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("gave up after 2 attempts") && stderr.contains("the connection failed"),
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("osv: 2 requests, 0 new, 0 updated, 0 unchanged, 1 errors"),
        "{}",
        text(&out)
    );
    let (notices, state) = crawl.stored();
    assert!(notices.is_empty());
    assert!(state.is_some_and(|s| s.last_error_at.is_some() && s.last_success_at.is_none()));
}

#[test]
fn without_for_the_crawl_covers_the_watched_repositories() {
    let server = FakeOsv::start();
    let crawl = Crawl::new();
    let watch = Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(["watch", "--db"])
        .arg(&crawl.db)
        .arg("add")
        .arg(fixtures().join("repo"))
        .args(["--name", "fixture"])
        .env_remove("ECOWATCH_DATABASE_URL")
        .env_remove("ECOWATCH_DB")
        .output()
        .expect("runs");
    assert_eq!(watch.status.code(), Some(0), "{}", text(&watch));
    let out = Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(["crawl", "--source", "osv", "--db"])
        .arg(&crawl.db)
        .env("ECOWATCH_OSV_URL", &server.url)
        .env("ECOWATCH_HTTP_BACKOFF_MS", "10")
        .env_remove("ECOWATCH_DATABASE_URL")
        .env_remove("ECOWATCH_DB")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("4 new"),
        "{}",
        text(&out)
    );
    let (notices, _) = crawl.stored();
    assert_eq!(notices.len(), 4, "{notices:?}");
}
