//! `ecowatch crawl --source github` driven as a user runs it: the built binary against a fake
//! GitHub on loopback that speaks the REST (`/repos/{o}/{r}/releases`, `/repos/{o}/{r}/contents/
//! {path}` with ETags and 304s) and GraphQL (`repository.discussions` with `pageInfo`, `nodes`
//! and `rateLimit`) shapes of GitHub's public docs, with faults injected per test: primary and
//! secondary limits, `RATE_LIMITED` in a 200, 5xx, truncated JSON, and a kill between pages.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::{get, post};
use ecowatch::Ecosystem;
use ecowatch::store::{Notice, Store};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "ghp_test_0123456789secretTOKEN";
const SUPABASE: &str = "supabase/supabase";
const KEYS_DISCUSSION_URL: &str = "https://github.com/orgs/supabase/discussions/29260";

#[derive(Debug, Clone)]
enum Fault {
    Status(u16),
    /// 403 with `x-ratelimit-remaining: 0` and this reset (epoch seconds).
    Primary(i64),
    /// 403 "secondary rate limit" with budget left, with or without `retry-after`.
    Secondary(Option<u64>),
    /// GraphQL only: HTTP 200 with `errors: [{type: RATE_LIMITED}]` and budget left.
    RateLimited200,
    /// 200 with the first half of the body.
    Truncate,
}

#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    route: String,
    after: Option<String>,
    status: u16,
    authorization: Option<String>,
}

#[derive(Default)]
struct GitHubState {
    /// repo → discussions, newest-updated first.
    discussions: BTreeMap<String, Vec<Value>>,
    releases: BTreeMap<String, Vec<Value>>,
    changelogs: BTreeMap<String, String>,
    faults: VecDeque<Fault>,
    /// Faults for REST requests only (taken before `faults`).
    rest_faults: VecDeque<Fault>,
    /// A GraphQL request for the page after this cursor hangs (the test kills the client).
    hang_after: Option<String>,
    hung: Option<Arc<AtomicBool>>,
    seen: Vec<Seen>,
    core_points: u64,
    graphql_points: u64,
    not_modified: u64,
}

type Shared = Arc<Mutex<GitHubState>>;

struct FakeGitHub {
    url: String,
    state: Shared,
}

impl FakeGitHub {
    fn start() -> FakeGitHub {
        let state = Arc::new(Mutex::new(GitHubState::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let app = Router::new()
            .route("/graphql", post(graphql))
            .route("/repos/{owner}/{repo}/releases", get(releases))
            .route("/repos/{owner}/{repo}/contents/{*path}", get(contents))
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
        FakeGitHub { url, state }
    }

    fn with<R>(&self, f: impl FnOnce(&mut GitHubState) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn seen(&self) -> Vec<Seen> {
        self.with(|s| s.seen.clone())
    }

    fn reset_counters(&self) {
        self.with(|s| {
            s.seen.clear();
            s.core_points = 0;
            s.graphql_points = 0;
            s.not_modified = 0;
        });
    }

    fn points(&self) -> (u64, u64, u64) {
        self.with(|s| (s.core_points, s.graphql_points, s.not_modified))
    }

    fn fault(&self, fault: Fault) {
        self.with(|s| s.faults.push_back(fault));
    }
}

fn reset_in(secs: i64) -> i64 {
    chrono::Utc::now().timestamp() + secs
}

fn rate_headers(
    builder: axum::http::response::Builder,
    resource: &str,
) -> axum::http::response::Builder {
    builder
        .header("x-ratelimit-limit", "5000")
        .header("x-ratelimit-remaining", "4990")
        .header("x-ratelimit-used", "10")
        .header("x-ratelimit-reset", reset_in(3600).to_string())
        .header("x-ratelimit-resource", resource)
}

/// The fault's response, if one is queued and applies to this route.
fn faulted(state: &mut GitHubState, graphql: bool, body: &Value) -> Option<Response> {
    if !graphql && !state.rest_faults.is_empty() {
        let fault = state.rest_faults.pop_front()?;
        state.faults.push_front(fault);
    }
    let applies = match state.faults.front()? {
        Fault::RateLimited200 => graphql,
        _ => true,
    };
    if !applies {
        return None;
    }
    let fault = state.faults.pop_front()?;
    let json_response = |status: u16, value: Value| {
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(value.to_string()))
            .expect("response")
    };
    Some(match fault {
        Fault::Status(code) => json_response(code, json!({"message": "Server Error"})),
        Fault::Primary(reset) => Response::builder()
            .status(403)
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-used", "5000")
            .header("x-ratelimit-reset", reset.to_string())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"message": "API rate limit exceeded for user ID 1.",
                       "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})
                .to_string(),
            ))
            .expect("response"),
        Fault::Secondary(retry_after) => {
            let mut builder = rate_headers(Response::builder().status(403), "core");
            if let Some(secs) = retry_after {
                builder = builder.header("retry-after", secs.to_string());
            }
            builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                           "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"})
                    .to_string(),
                ))
                .expect("response")
        }
        Fault::RateLimited200 => rate_headers(Response::builder().status(200), "graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]})
                    .to_string(),
            ))
            .expect("response"),
        Fault::Truncate => {
            let text = body.to_string();
            let half = text[..text.len() / 2].to_string();
            rate_headers(Response::builder().status(200), if graphql { "graphql" } else { "core" })
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(half))
                .expect("response")
        }
    })
}

fn record(
    state: &mut GitHubState,
    headers: &HeaderMap,
    route: String,
    after: Option<String>,
    status: u16,
) {
    state.seen.push(Seen {
        at: Instant::now(),
        route,
        after,
        status,
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
}

async fn graphql(State(state): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).expect("GraphQL request is JSON");
    let vars = &request["variables"];
    if vars.get("owner").is_none() {
        return batched_graphql(&state, &headers, &request);
    }
    let repo = format!(
        "{}/{}",
        vars["owner"].as_str().unwrap_or_default(),
        vars["name"].as_str().unwrap_or_default()
    );
    let first = vars["first"].as_u64().unwrap_or(0) as usize;
    assert!(
        (1..=100).contains(&first),
        "every connection needs first ≤ 100"
    );
    assert!(
        request["query"]
            .as_str()
            .unwrap_or_default()
            .contains("orderBy: {field: UPDATED_AT, direction: DESC}"),
        "newest-updated first"
    );
    let after = vars["after"].as_str().map(str::to_string);
    let hang = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        if after.is_some() && s.hang_after == after {
            record(&mut s, &headers, "graphql".into(), after.clone(), 0);
            s.hung.clone()
        } else {
            None
        }
    };
    if let Some(flag) = hang {
        flag.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(120)).await;
    }
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let all = s.discussions.get(&repo).cloned().unwrap_or_default();
    let start: usize = after
        .as_deref()
        .and_then(|c| c.strip_prefix("cursor:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let end = (start + first).min(all.len());
    let nodes: Vec<Value> = all
        .get(start..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let answer = json!({
        "data": {
            "rateLimit": {"cost": 1, "limit": 5000, "remaining": 4990,
                          "resetAt": chrono::DateTime::from_timestamp(reset_in(3600), 0).unwrap().to_rfc3339()},
            "repository": {
                "discussions": {
                    "pageInfo": {"hasNextPage": end < all.len(), "endCursor": format!("cursor:{end}")},
                    "nodes": nodes,
                }
            }
        }
    });
    if let Some(response) = faulted(&mut s, true, &answer) {
        let status = response.status().as_u16();
        record(&mut s, &headers, "graphql".into(), after, status);
        return response;
    }
    s.graphql_points += 1;
    record(&mut s, &headers, "graphql".into(), after, 200);
    rate_headers(Response::builder().status(200), "graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(answer.to_string()))
        .expect("response")
}

/// Many repositories in one query, one alias each (`r0: repository(owner: $o0, name: $n0)
/// { discussions(first: 1, ...) { nodes { updatedAt } } }`), as GraphQL aliases work: an unknown
/// repository is `null` under its alias plus a `NOT_FOUND` error whose path names the alias.
fn batched_graphql(state: &Shared, headers: &HeaderMap, request: &Value) -> Response {
    let query = request["query"].as_str().unwrap_or_default();
    let vars = &request["variables"];
    let alias = regex::Regex::new(
        r"(r\d+): repository\(owner: \$(\w+), name: \$(\w+)\) \{\s*discussions\(first: (\d+), orderBy: \{field: UPDATED_AT, direction: DESC\}\)",
    )
    .expect("regex");
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let mut data = serde_json::Map::new();
    let mut errors = Vec::new();
    for field in alias.captures_iter(query) {
        let repo = format!(
            "{}/{}",
            vars[&field[2]].as_str().expect("owner variable"),
            vars[&field[3]].as_str().expect("name variable")
        );
        for var in [&field[2], &field[3]] {
            assert!(
                query.contains(&format!("${var}: String!")),
                "${var} is not declared: {query}"
            );
        }
        let first: usize = field[4].parse().expect("first");
        assert!(
            (1..=100).contains(&first),
            "every connection needs first ≤ 100"
        );
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
    assert!(!data.is_empty(), "a batched query without aliases: {query}");
    data.insert(
        "rateLimit".into(),
        json!({"cost": 1, "limit": 5000, "remaining": 4990,
               "resetAt": chrono::DateTime::from_timestamp(reset_in(3600), 0).unwrap().to_rfc3339()}),
    );
    let mut answer = json!({"data": data});
    if !errors.is_empty() {
        answer["errors"] = Value::Array(errors);
    }
    if let Some(response) = faulted(&mut s, true, &answer) {
        let status = response.status().as_u16();
        record(&mut s, headers, "graphql".into(), None, status);
        return response;
    }
    s.graphql_points += 1;
    record(&mut s, headers, "graphql".into(), None, 200);
    rate_headers(Response::builder().status(200), "graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(answer.to_string()))
        .expect("response")
}

/// A strong ETag over the content, as GitHub sends.
fn etag_of(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

fn conditional(
    state: &mut GitHubState,
    headers: &HeaderMap,
    route: String,
    body: Option<String>,
    content_type: &str,
) -> Response {
    let Some(body) = body else {
        record(state, headers, route, None, 404);
        return Response::builder()
            .status(404)
            .body(Body::from(r#"{"message":"Not Found"}"#))
            .expect("response");
    };
    let json_body: Value = serde_json::from_str(&body).unwrap_or(Value::String(body.clone()));
    if let Some(response) = faulted(state, false, &json_body) {
        let status = response.status().as_u16();
        record(state, headers, route, None, status);
        return response;
    }
    let etag = etag_of(&body);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        state.not_modified += 1;
        record(state, headers, route, None, 304);
        return rate_headers(Response::builder().status(304), "core")
            .header(header::ETAG, etag)
            .body(Body::empty())
            .expect("response");
    }
    state.core_points += 1;
    record(state, headers, route, None, 200);
    rate_headers(Response::builder().status(200), "core")
        .header(header::ETAG, etag)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("response")
}

async fn releases(
    State(state): State<Shared>,
    UrlPath((owner, repo)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let key = format!("{owner}/{repo}");
    let body = Some(Value::Array(s.releases.get(&key).cloned().unwrap_or_default()).to_string());
    conditional(
        &mut s,
        &headers,
        format!("releases {key}"),
        body,
        "application/json; charset=utf-8",
    )
}

async fn contents(
    State(state): State<Shared>,
    UrlPath((owner, repo, path)): UrlPath<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    assert_eq!(
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()),
        Some("application/vnd.github.raw"),
        "changelog files are fetched raw"
    );
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let key = format!("{owner}/{repo}");
    let body = s.changelogs.get(&format!("{key}/{path}")).cloned();
    conditional(
        &mut s,
        &headers,
        format!("contents {key}/{path}"),
        body,
        "text/plain; charset=utf-8",
    )
}

// ---- payloads, written from GitHub's docs

fn discussion(
    number: i64,
    title: &str,
    body: &str,
    updated: &str,
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
        "createdAt": "2025-01-01T00:00:00Z",
        "updatedAt": updated,
        "category": {"name": category},
        "labels": {"nodes": labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()},
    })
}

const KEYS_BODY: &str = "We're changing how API keys work in Supabase.\n\n\
    The `anon` and `service_role` JWT keys are being deprecated in favour of publishable and \
    secret keys. If your code reads `SUPABASE_ANON_KEY` from the environment, switch to \
    `SUPABASE_PUBLISHABLE_KEY`.\n\n\
    No action necessary until at least 1st November 2025. Legacy keys will be removed by the end of 2026.\n";

fn supabase_github() -> FakeGitHub {
    let github = FakeGitHub::start();
    github.with(|s| {
        s.discussions.insert(
            SUPABASE.into(),
            vec![
                discussion(29300, "How do I paginate with range()?", "It is slow.", "2025-06-03T10:00:00Z", "Q&A", &[], "https://github.com/orgs/supabase/discussions/29300"),
                discussion(29260, "Upcoming changes to Supabase API Keys", KEYS_BODY, "2025-06-02T10:00:00Z", "Changelog", &["breaking-change"], KEYS_DISCUSSION_URL),
                discussion(29100, "Deprecation\r\nBcc: x@evil <script>alert(1)</script>", "<img src=x onerror=alert(1)> is gone", "2025-06-01T10:00:00Z", "Announcements", &[], "javascript:alert(1)"),
            ],
        );
        s.releases.insert(
            SUPABASE.into(),
            vec![
                json!({"url": "https://api.github.com/repos/supabase/supabase/releases/2", "html_url": "https://github.com/supabase/supabase/releases/tag/v2.0.0",
                       "id": 2, "tag_name": "v2.0.0", "target_commitish": "main", "name": "v2.0.0",
                       "body": "## What's Changed\n* `auth.session()` is deprecated, use `auth.getSession()` instead\n* feat: faster realtime\n",
                       "draft": false, "prerelease": false, "created_at": "2025-05-01T00:00:00Z", "published_at": "2025-05-01T00:00:00Z"}),
                json!({"url": "https://api.github.com/repos/supabase/supabase/releases/1", "html_url": "https://github.com/supabase/supabase/releases/tag/v1.9.0",
                       "id": 1, "tag_name": "v1.9.0", "target_commitish": "main", "name": "v1.9.0", "body": "* fix: typo\n",
                       "draft": false, "prerelease": false, "created_at": "2025-04-01T00:00:00Z", "published_at": "2025-04-01T00:00:00Z"}),
            ],
        );
        s.changelogs.insert(
            format!("{SUPABASE}/CHANGELOG.md"),
            "# Changelog\n\n## [2.1.0] - 2025-06-01\n- Removed `signIn()`, use `signInWithPassword()`\n\n## [2.0.1]\n- Fixed a crash\n".into(),
        );
    });
    github
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(watch: &str) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("feeds")).expect("feeds dir");
        std::fs::write(dir.path().join("feeds/watch.toml"), watch).expect("watch.toml");
        Setup { dir }
    }

    fn supabase() -> Setup {
        Setup::new(&format!(
            "[[watch]]\ngithub = \"{SUPABASE}\"\npackages = [\"npm:@supabase/supabase-js\", \"pypi:supabase\"]\nchangelog = \"CHANGELOG.md\"\n"
        ))
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("ecowatch.db")
    }

    fn command(&self, github: &FakeGitHub) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
        cmd.args(["crawl", "--source", "github", "--feeds"])
            .arg(self.dir.path().join("feeds"))
            .arg("--db")
            .arg(self.db())
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DB")
            .env("ECOWATCH_GITHUB_API_URL", &github.url)
            .env_remove("ECOWATCH_GITHUB_GRAPHQL_URL")
            .env("ECOWATCH_GITHUB_TOKEN", TOKEN)
            .env("ECOWATCH_GITHUB_SECONDARY_WAIT_MS", "20")
            .env("ECOWATCH_GITHUB_MAX_RESET_WAIT_SECS", "5")
            .env("ECOWATCH_HTTP_BACKOFF_MS", "5")
            .env("ECOWATCH_HTTP_MAX_ATTEMPTS", "3")
            .env("ECOWATCH_HTTP_TIMEOUT_MS", "20000");
        cmd
    }

    fn crawl(&self, github: &FakeGitHub) -> Output {
        let out = self.command(github).output().expect("run ecowatch");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(TOKEN), "the token leaked: {all}");
        out
    }

    fn notices(&self) -> Vec<Notice> {
        let db = self.db();
        runtime().block_on(async move {
            let store = Store::open_sqlite(&db, false).await.expect("open store");
            let mut notices = store
                .notices_for_packages(&[(Ecosystem::Npm, "@supabase/supabase-js".into())])
                .await
                .expect("notices");
            notices.sort_by(|a, b| a.id.cmp(&b.id));
            store.close().await;
            notices
        })
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_ok(out: &Output) {
    let (stdout, stderr) = text(out);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status.code()
    );
}

/// What a notice says, without the times a run stamps.
fn content(notices: &[Notice]) -> Vec<String> {
    notices
        .iter()
        .map(|n| {
            format!(
                "{} {} {:?} {:?} {} {:?} {:?}",
                n.id,
                n.kind.as_str(),
                n.summary,
                n.details,
                n.references,
                n.affected
                    .iter()
                    .map(|a| format!("{}:{}", a.ecosystem, a.package))
                    .collect::<Vec<_>>(),
                n.patterns
                    .iter()
                    .map(|p| p.pattern.clone())
                    .collect::<Vec<_>>()
            )
        })
        .collect()
}

#[test]
fn an_announcement_deprecating_an_env_name_becomes_a_notice_with_the_discussion_url() {
    let github = supabase_github();
    let setup = Setup::supabase();
    let out = setup.crawl(&github);
    assert_ok(&out);
    let (stdout, _) = text(&out);
    assert!(stdout.starts_with("github: 1 projects, 3 requests, 0 not modified (304), 3 GitHub points (core 2, graphql 1), 6 new, 0 updated"), "{stdout}");
    let notices = setup.notices();
    let keys = notices
        .iter()
        .find(|n| n.id == "github-discussion:supabase/supabase#29260")
        .expect("the keys announcement");
    assert_eq!(keys.kind.as_str(), "deprecation");
    assert_eq!(
        keys.summary.as_deref(),
        Some("Upcoming changes to Supabase API Keys")
    );
    assert_eq!(
        keys.references,
        json!([{"type": "DISCUSSION", "url": KEYS_DISCUSSION_URL}])
    );
    let details = keys.details.as_deref().unwrap_or_default();
    assert!(
        details.contains("- 2025-11-01: No action necessary until at least 1st November 2025."),
        "{details}"
    );
    assert!(details.contains("- 2026-12-31: "), "{details}");
    let patterns: Vec<&str> = keys.patterns.iter().map(|p| p.pattern.as_str()).collect();
    assert!(patterns.contains(&"SUPABASE_ANON_KEY"), "{patterns:?}");
    assert!(
        keys.patterns
            .iter()
            .all(|p| p.provenance == KEYS_DISCUSSION_URL)
    );
    let affected: Vec<String> = keys
        .affected
        .iter()
        .map(|a| format!("{}:{}", a.ecosystem, a.package))
        .collect();
    assert_eq!(affected, ["npm:@supabase/supabase-js", "PyPI:supabase"]);
    // The Q&A question is no notice; the hostile one stays text, on one line, with a safe URL.
    assert!(!notices.iter().any(|n| n.id.ends_with("#29300")));
    let hostile = notices
        .iter()
        .find(|n| n.id.ends_with("#29100"))
        .expect("hostile announcement");
    let summary = hostile.summary.as_deref().unwrap_or_default();
    assert!(
        !summary.contains('\r') && !summary.contains('\n'),
        "{summary:?}"
    );
    assert_eq!(
        hostile.references[0]["url"],
        "https://github.com/supabase/supabase/discussions/29100"
    );
    // Release notes and the changelog file, read by the changelog parser: one notice per
    // published package (the npm one is read here), citing where it was learned.
    let cites = |n: &&ecowatch::store::Notice, url: &str| n.references[0]["url"] == url;
    let release: Vec<_> = notices
        .iter()
        .filter(|n| {
            cites(
                n,
                "https://github.com/supabase/supabase/releases/tag/v2.0.0",
            )
        })
        .collect();
    assert_eq!(release.len(), 1, "{release:#?}");
    assert!(release.iter().all(|n| n.kind.as_str() == "deprecation"));
    assert!(!notices.iter().any(|n| cites(
        &n,
        "https://github.com/supabase/supabase/releases/tag/v1.9.0"
    )));
    let changelog: Vec<_> = notices
        .iter()
        .filter(|n| {
            cites(
                n,
                "https://github.com/supabase/supabase/blob/HEAD/CHANGELOG.md",
            )
        })
        .collect();
    assert_eq!(changelog.len(), 1, "{changelog:#?}");
    assert!(changelog.iter().all(|n| n.kind.as_str() == "removal"));
    // Every request carried the token as a bearer.
    assert!(
        github
            .seen()
            .iter()
            .all(|s| s.authorization.as_deref() == Some(&format!("Bearer {TOKEN}") as &str))
    );
}

#[test]
fn a_second_run_with_nothing_changed_gets_304s_and_spends_no_core_budget() {
    let github = supabase_github();
    let setup = Setup::supabase();
    assert_ok(&setup.crawl(&github));
    let first = content(&setup.notices());
    github.reset_counters();
    let out = setup.crawl(&github);
    assert_ok(&out);
    let (core, graphql, not_modified) = github.points();
    assert_eq!(
        (core, not_modified),
        (0, 2),
        "releases and changelog answered 304"
    );
    assert_eq!(
        graphql, 1,
        "one batched probe: the newest discussion is the watermark, so no page is read"
    );
    let (stdout, _) = text(&out);
    assert!(stdout.contains("3 requests, 2 not modified (304), 1 GitHub points (core 0, graphql 1), 0 new, 0 updated"), "{stdout}");
    assert_eq!(content(&setup.notices()), first);
}

#[test]
fn a_spent_budget_stops_every_process_until_the_reset() {
    let github = supabase_github();
    let setup = Setup::supabase();
    github.fault(Fault::Primary(reset_in(3600)));
    let out = setup.crawl(&github);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("rate limit for this token is used up until"),
        "{stderr}"
    );
    assert_eq!(github.seen().len(), 1, "nothing after the 403");
    // A second process on the same store sends nothing at all before the reset.
    let out = setup.crawl(&github);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("used up until"), "{stderr}");
    assert_eq!(github.seen().len(), 1, "the second process sent a request");
}

#[test]
fn a_short_primary_reset_is_waited_out() {
    let github = supabase_github();
    let setup = Setup::supabase();
    github.fault(Fault::Primary(reset_in(1)));
    let out = setup.crawl(&github);
    assert_ok(&out);
    let seen = github.seen();
    assert_eq!(seen[0].status, 403);
    assert_eq!(seen.len(), 4);
    assert_eq!(setup.notices().len(), 4);
}

#[test]
fn secondary_limits_wait_retry_after_or_the_minimum_and_then_succeed() {
    let github = supabase_github();
    let setup = Setup::supabase();
    github.fault(Fault::Secondary(Some(1)));
    assert_ok(&setup.crawl(&github));
    let seen = github.seen();
    assert_eq!(seen[0].status, 403);
    assert!(
        seen[1].at - seen[0].at >= Duration::from_secs(1),
        "retry-after: 1 was not honoured"
    );
    assert_eq!(setup.notices().len(), 4);

    let github = supabase_github();
    let setup = Setup::supabase();
    github.fault(Fault::Secondary(None));
    github.fault(Fault::Secondary(None));
    assert_ok(&setup.crawl(&github));
    let statuses: Vec<u16> = github.seen().iter().map(|s| s.status).collect();
    assert_eq!(statuses, [403, 403, 200, 200, 200]);
    assert!(github.seen()[1].at - github.seen()[0].at >= Duration::from_millis(20));
}

#[test]
fn a_secondary_limit_that_never_lifts_stops_the_source() {
    let github = supabase_github();
    let setup = Setup::supabase();
    for _ in 0..6 {
        github.fault(Fault::Secondary(None));
    }
    let out = setup.crawl(&github);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("secondary rate limit held"), "{stderr}");
    assert_eq!(github.seen().len(), 6);
}

#[test]
fn rate_limited_in_a_200_is_a_limit_not_data() {
    let github = supabase_github();
    let setup = Setup::supabase();
    github.fault(Fault::RateLimited200);
    assert_ok(&setup.crawl(&github));
    let graphql: Vec<u16> = github
        .seen()
        .iter()
        .filter(|s| s.route == "graphql")
        .map(|s| s.status)
        .collect();
    assert_eq!(
        graphql,
        [200, 200],
        "asked again after the RATE_LIMITED answer"
    );
    assert_eq!(setup.notices().len(), 4);
}

#[test]
fn server_errors_are_retried_and_persistent_ones_reported_without_losing_the_rest() {
    let github = supabase_github();
    let setup = Setup::supabase();
    github.fault(Fault::Status(502));
    assert_ok(&setup.crawl(&github));
    assert_eq!(setup.notices().len(), 4);

    let github = supabase_github();
    let setup = Setup::supabase();
    // Discussions fine; the releases request fails all 3 attempts.
    github.with(|s| {
        s.discussions.get_mut(SUPABASE).unwrap().truncate(2);
        s.rest_faults
            .extend([Fault::Status(500), Fault::Status(500), Fault::Status(500)]);
    });
    let out = setup.crawl(&github);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("HTTP 500"), "{stderr}");
    // The later parts still ran: the changelog notice is stored.
    assert!(setup.notices().iter().any(|n| {
        n.references[0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("CHANGELOG.md"))
    }));
    // The next run completes everything.
    assert_ok(&setup.crawl(&github));
    assert_eq!(setup.notices().len(), 3);
}

#[test]
fn truncated_json_stores_nothing_partial_and_the_next_run_completes() {
    let github = supabase_github();
    let setup = Setup::supabase();
    github.fault(Fault::Truncate);
    let out = setup.crawl(&github);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("not the JSON expected"), "{stderr}");
    assert!(
        !setup
            .notices()
            .iter()
            .any(|n| n.id.starts_with("github-discussion:"))
    );
    assert_ok(&setup.crawl(&github));
    assert_eq!(setup.notices().len(), 4);
}

fn many_discussions(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let number = 10_000 - i as i64;
            let updated = chrono::DateTime::from_timestamp(1_750_000_000 - (i as i64) * 60, 0)
                .unwrap()
                .to_rfc3339();
            discussion(
                number,
                &format!("Deprecating `legacy_call_{number}`"),
                "It will be removed by the end of 2026.",
                &updated,
                "Announcements",
                &[],
                &format!("https://github.com/orgs/supabase/discussions/{number}"),
            )
        })
        .collect()
}

#[test]
fn a_kill_between_pages_resumes_with_no_gaps_and_no_duplicates() {
    let github = FakeGitHub::start();
    let hung = Arc::new(AtomicBool::new(false));
    github.with(|s| {
        s.discussions.insert(SUPABASE.into(), many_discussions(250));
        s.changelogs
            .insert(format!("{SUPABASE}/CHANGELOG.md"), "# Changelog\n".into());
        s.hang_after = Some("cursor:200".into());
        s.hung = Some(Arc::clone(&hung));
    });
    let setup = Setup::supabase();
    let mut child = setup
        .command(&github)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while !hung.load(Ordering::SeqCst) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "page 3 never requested"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert_eq!(
        setup.notices().len(),
        200,
        "pages 1 and 2 stored before the kill"
    );

    github.with(|s| s.hang_after = None);
    github.reset_counters();
    assert_ok(&setup.crawl(&github));
    let afters: Vec<Option<String>> = github
        .seen()
        .iter()
        .filter(|s| s.route == "graphql")
        .map(|s| s.after.clone())
        .collect();
    assert_eq!(
        afters,
        [Some("cursor:200".to_string())],
        "resumed at page 3, not page 1"
    );
    let notices = setup.notices();
    assert_eq!(notices.len(), 250);
    let mut ids: Vec<&str> = notices.iter().map(|n| n.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 250);

    // Two discussions change: the next run reads page 1 only and stops at the watermark.
    github.with(|s| {
        let list = s.discussions.get_mut(SUPABASE).unwrap();
        let mut moved = list.remove(120);
        moved["updatedAt"] = json!("2025-07-01T00:00:00Z");
        moved["title"] = json!("Deprecating `legacy_call` (updated)");
        list.insert(0, moved);
    });
    github.reset_counters();
    let out = setup.crawl(&github);
    assert_ok(&out);
    let afters: Vec<Option<String>> = github
        .seen()
        .iter()
        .filter(|s| s.route == "graphql")
        .map(|s| s.after.clone())
        .collect();
    assert_eq!(afters, [None, None], "the batched probe, then page 1 only");
    assert!(
        text(&out).0.contains("0 new, 1 updated"),
        "{}",
        text(&out).0
    );
}

#[test]
fn a_throttled_run_stores_what_an_unthrottled_run_stores() {
    let calm = supabase_github();
    let calm_setup = Setup::supabase();
    calm.with(|s| {
        s.discussions
            .get_mut(SUPABASE)
            .unwrap()
            .extend(many_discussions(150))
    });
    assert_ok(&calm_setup.crawl(&calm));

    let busy = supabase_github();
    let busy_setup = Setup::supabase();
    busy.with(|s| {
        s.discussions
            .get_mut(SUPABASE)
            .unwrap()
            .extend(many_discussions(150))
    });
    for fault in [
        Fault::RateLimited200,
        Fault::Secondary(None),
        Fault::Status(503),
        Fault::Primary(reset_in(1)),
        Fault::Secondary(Some(0)),
    ] {
        busy.fault(fault);
    }
    assert_ok(&busy_setup.crawl(&busy));
    assert_eq!(
        busy.seen().len(),
        calm.seen().len() + 5,
        "each fault was met once and retried"
    );
    assert!(busy.with(|s| s.faults.is_empty()));
    let calm_notices = content(&calm_setup.notices());
    assert_eq!(calm_notices.len(), 154);
    assert_eq!(content(&busy_setup.notices()), calm_notices);
}

#[test]
fn a_missing_watch_list_entry_key_is_a_clear_error() {
    let github = supabase_github();
    let setup = Setup::new("[[watch]]\ngithub = \"supabase\"\n");
    let out = setup.crawl(&github);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("key `github`"), "{stderr}");
    assert!(github.seen().is_empty());
}

#[test]
fn one_batched_probe_finds_the_one_project_whose_discussions_changed() {
    let github = supabase_github();
    github.with(|s| {
        s.discussions
            .insert("acme/widgets".into(), many_discussions(3));
    });
    let setup = Setup::new(&format!(
        "[[watch]]\ngithub = \"{SUPABASE}\"\npackages = [\"npm:@supabase/supabase-js\"]\n\n\
         [[watch]]\ngithub = \"acme/widgets\"\npackages = [\"npm:@supabase/supabase-js\"]\n"
    ));
    assert_ok(&setup.crawl(&github));
    let before = setup.notices().len();
    github.with(|s| {
        let list = s.discussions.get_mut("acme/widgets").unwrap();
        list[0]["updatedAt"] = json!("2026-01-01T00:00:00Z");
        list[0]["title"] = json!("Deprecating `widgets_v1` (revised)");
    });
    github.reset_counters();
    let out = setup.crawl(&github);
    assert_ok(&out);
    let graphql: Vec<(Option<String>, u16)> = github
        .seen()
        .iter()
        .filter(|s| s.route == "graphql")
        .map(|s| (s.after.clone(), s.status))
        .collect();
    assert_eq!(
        graphql,
        [(None, 200), (None, 200)],
        "one probe for both projects, then one page of the changed one"
    );
    assert_eq!(github.points().1, 2);
    assert!(
        text(&out).0.contains("0 new, 1 updated"),
        "{}",
        text(&out).0
    );
    assert_eq!(setup.notices().len(), before);
}
