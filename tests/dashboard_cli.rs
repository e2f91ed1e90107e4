//! `ecowatch dashboard sync` through the built binary against a loopback GitHub (axum in this
//! process) that implements the issues endpoints with GitHub's answer shapes.

use axum::Json;
use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{patch, post};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const NOW: &str = "2026-06-01";
const TOKEN: &str = "ghp_dashboardTestToken123";
const ONE: &str = "import datetime\nnow = datetime.datetime.utcnow()\n";
const TWO: &str =
    "import datetime\nnow = datetime.datetime.utcnow()\nthen = datetime.datetime.utcnow()\n";
/// A directory and file name a hostile contributor could commit: a mention, HTML, an issue
/// reference and a right-to-left override.
const HOSTILE_DIR: &str = "@everyone <script>alert(1)<\u{2f}script>";
const HOSTILE_FILE: &str = "#1\u{202E}yp.py";

#[derive(Default)]
struct GitHub {
    issues: BTreeMap<i64, String>,
    next: i64,
    /// (method, path, Authorization header) of every request.
    log: Vec<(String, String, String)>,
}

type Shared = Arc<Mutex<GitHub>>;

fn auth(headers: &HeaderMap) -> String {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn issue_json(owner: &str, repo: &str, number: i64, body: &str) -> Value {
    json!({
        "id": 1000 + number,
        "number": number,
        "title": "ecowatch dashboard",
        "state": "open",
        "body": body,
        "html_url": format!("https://github.com/{owner}/{repo}/issues/{number}"),
    })
}

async fn create(
    State(state): State<Shared>,
    UrlPath((owner, repo)): UrlPath<(String, String)>,
    headers: HeaderMap,
    Json(request): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut gh = state.lock().unwrap();
    gh.log.push((
        "POST".into(),
        format!("/repos/{owner}/{repo}/issues"),
        auth(&headers),
    ));
    gh.next += 1;
    let number = gh.next;
    let body = request["body"].as_str().unwrap_or_default().to_string();
    assert_eq!(request["title"], "ecowatch dashboard");
    gh.issues.insert(number, body.clone());
    (
        StatusCode::CREATED,
        Json(issue_json(&owner, &repo, number, &body)),
    )
}

async fn edit(
    State(state): State<Shared>,
    UrlPath((owner, repo, number)): UrlPath<(String, String, i64)>,
    headers: HeaderMap,
    Json(request): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut gh = state.lock().unwrap();
    gh.log.push((
        "PATCH".into(),
        format!("/repos/{owner}/{repo}/issues/{number}"),
        auth(&headers),
    ));
    let body = request["body"].as_str().unwrap_or_default().to_string();
    match gh.issues.get_mut(&number) {
        Some(stored) => {
            *stored = body.clone();
            (
                StatusCode::OK,
                Json(issue_json(&owner, &repo, number, &body)),
            )
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com"})),
        ),
    }
}

async fn show(
    State(state): State<Shared>,
    UrlPath((owner, repo, number)): UrlPath<(String, String, i64)>,
) -> (StatusCode, Json<Value>) {
    let gh = state.lock().unwrap();
    match gh.issues.get(&number) {
        Some(body) => (
            StatusCode::OK,
            Json(issue_json(&owner, &repo, number, body)),
        ),
        None => (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))),
    }
}

fn github() -> (String, Shared) {
    let state: Shared = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = Router::new()
        .route("/repos/{owner}/{repo}/issues", post(create))
        .route(
            "/repos/{owner}/{repo}/issues/{number}",
            patch(edit).get(show),
        )
        .with_state(Arc::clone(&state));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    (url, state)
}

struct World {
    dir: tempfile::TempDir,
    api: String,
}

impl World {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ecowatch"))
            .args(args)
            .arg("--db")
            .arg(self.path("ecowatch.db"))
            .env("ECOWATCH_CACHE_DIR", self.path("cache"))
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DB")
            .env("ECOWATCH_GITHUB_TOKEN", TOKEN)
            .env("ECOWATCH_GITHUB_API_URL", &self.api)
            .env("NO_COLOR", "1")
            .output()
            .expect("run ecowatch")
    }

    fn ok(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(
            !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
            "the token was printed"
        );
        stdout
    }

    fn write(&self, code: &str) -> PathBuf {
        let repo = self.path("svc");
        let file = repo.join(HOSTILE_DIR).join(HOSTILE_FILE);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(repo.join(".python-version"), "3.12\n").unwrap();
        std::fs::write(file, code).unwrap();
        repo
    }

    fn rescan(&self) {
        self.ok(&["rescan", "--now", NOW], 0);
    }

    fn sync(&self) -> String {
        self.ok(
            &["dashboard", "sync", "--repo", "svc", "--github", "acme/svc"],
            0,
        )
    }
}

fn world() -> (World, Shared) {
    let (api, state) = github();
    let world = World {
        dir: tempfile::tempdir().expect("tempdir"),
        api,
    };
    let repo = world.write(ONE);
    world.ok(
        &["watch", "add", repo.to_str().unwrap(), "--name", "svc"],
        0,
    );
    world.rescan();
    (world, state)
}

fn requests(state: &Shared) -> Vec<(String, String, String)> {
    state.lock().unwrap().log.clone()
}

fn issue(state: &Shared, number: i64) -> String {
    state.lock().unwrap().issues[&number].clone()
}

#[test]
fn one_issue_is_created_then_edited_in_place_as_findings_change() {
    let (world, gh) = world();

    let out = world.sync();
    assert!(out.contains("created issue #1"), "{out}");
    let log = requests(&gh);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].0, "POST");
    assert_eq!(log[0].1, "/repos/acme/svc/issues");
    assert_eq!(log[0].2, format!("Bearer {TOKEN}"));
    let body = issue(&gh, 1);
    assert!(body.contains("**1** open finding"), "{body}");
    assert!(!body.contains("Fixed since last update"), "{body}");

    // Hostile path text arrives inert.
    assert!(!body.contains("@everyone"), "{body}");
    assert!(body.contains("@\u{200D}everyone"), "{body}");
    assert!(
        !body.contains("<script") && !body.contains("</script"),
        "{body}"
    );
    assert!(!body.contains("#1"), "{body}");
    assert!(!body.contains('\u{202E}'), "{body}");

    // Nothing changed: nothing is sent.
    let out = world.sync();
    assert!(out.contains("issue #1 unchanged"), "{out}");
    assert_eq!(requests(&gh).len(), 1);

    // A new finding: the same issue is edited.
    world.write(TWO);
    world.rescan();
    let out = world.sync();
    assert!(out.contains("updated issue #1"), "{out}");
    let log = requests(&gh);
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(
        (log[1].0.as_str(), log[1].1.as_str()),
        ("PATCH", "/repos/acme/svc/issues/1")
    );
    assert_eq!(log[1].2, format!("Bearer {TOKEN}"));
    assert_eq!(gh.lock().unwrap().issues.len(), 1, "never a second issue");
    assert!(issue(&gh, 1).contains("**2** open findings"));

    // One is fixed: it moves to the fixed section, and stays there while nothing changes.
    world.write(ONE);
    world.rescan();
    let out = world.sync();
    assert!(out.contains("updated issue #1"), "{out}");
    let body = issue(&gh, 1);
    assert!(body.contains("**1** open finding"), "{body}");
    let fixed = body.find("## Fixed since last update (1)").expect(&body);
    assert!(
        body[fixed..].contains(":3"),
        "the fixed one was on line 3: {body}"
    );
    let out = world.sync();
    assert!(out.contains("unchanged"), "{out}");
    assert_eq!(requests(&gh).len(), 3);

    // Someone deleted the issue: the next change creates a new one.
    gh.lock().unwrap().issues.clear();
    world.write(TWO);
    world.rescan();
    let out = world.sync();
    assert!(
        out.contains("the stored issue was gone; created issue #2"),
        "{out}"
    );
    let log = requests(&gh);
    let methods: Vec<&str> = log[3..].iter().map(|r| r.0.as_str()).collect();
    assert_eq!(methods, ["PATCH", "POST"], "{log:?}");
    assert!(issue(&gh, 2).contains("**2** open findings"));
    let out = world.sync();
    assert!(out.contains("issue #2 unchanged"), "{out}");
}

#[test]
fn dry_run_prints_the_body_and_sends_nothing() {
    let (world, gh) = world();
    let out = world.ok(
        &[
            "dashboard",
            "sync",
            "--repo",
            "svc",
            "--github",
            "acme/svc",
            "--dry-run",
        ],
        0,
    );
    assert!(out.contains("<!-- ecowatch-dashboard -->"), "{out}");
    assert!(out.contains("**1** open finding"), "{out}");
    assert!(requests(&gh).is_empty());
    // Nothing was stored: a real sync still creates the issue.
    assert!(world.sync().contains("created issue #1"));
}

#[test]
fn a_repository_without_a_github_home_or_token_is_an_error() {
    let (world, gh) = world();
    let out = world.run(&["dashboard", "sync", "--repo", "svc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--github OWNER/REPO"));

    let out = Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(["dashboard", "sync", "--repo", "svc", "--github", "acme/svc"])
        .arg("--db")
        .arg(world.path("ecowatch.db"))
        .env_remove("ECOWATCH_GITHUB_TOKEN")
        .env_remove("ECOWATCH_DATABASE_URL")
        .env("ECOWATCH_GITHUB_API_URL", &world.api)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ECOWATCH_GITHUB_TOKEN is not set"));

    let out = world.run(&[
        "dashboard",
        "sync",
        "--repo",
        "svc",
        "--github",
        "acme/../x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(requests(&gh).is_empty());
}

/// The dashboard over a GitHub that fails: the sync reports it, exits 2, and stores nothing, so
/// the next sync tries again.
#[test]
fn a_github_error_is_reported_and_retried_next_time() {
    let (world, gh) = world();
    let broken = World {
        dir: tempfile::tempdir().unwrap(),
        api: "http://127.0.0.1:9".into(),
    };
    let db = world.path("ecowatch.db");
    let out = Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(["dashboard", "sync", "--repo", "svc", "--github", "acme/svc"])
        .arg("--db")
        .arg(&db)
        .env_remove("ECOWATCH_DATABASE_URL")
        .env("ECOWATCH_GITHUB_TOKEN", TOKEN)
        .env("ECOWATCH_GITHUB_API_URL", &broken.api)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("svc: failed"), "{stderr}");
    assert!(!stderr.contains(TOKEN));
    assert!(world.sync().contains("created issue #1"));
    assert_eq!(requests(&gh).len(), 1);
    let _ = Path::new(&broken.api);
}
