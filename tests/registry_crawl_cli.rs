//! `ecowatch crawl --source registries|endoflife`, `scan` and `sources` driven as a user runs
//! them: the built binary against one loopback server that answers like npm (abbreviated
//! metadata), PyPI's JSON API, crates.io, Packagist's p2 metadata, the Go module proxy, RubyGems
//! and endoflife.date's v1 API, with payloads written from their public documentation.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/registry/repo")
}

#[derive(Debug, Clone)]
enum Fault {
    Status(u16),
    Sleep(Duration),
    Truncate,
}

#[derive(Default)]
struct ServerState {
    /// Path → body (200, JSON unless it ends in `.mod`).
    routes: HashMap<String, String>,
    faults: HashMap<String, Fault>,
    /// (path, Accept header) of every request.
    seen: Vec<(String, String)>,
}

type Shared = Arc<Mutex<ServerState>>;

struct Fake {
    url: String,
    state: Shared,
}

fn routes() -> HashMap<String, String> {
    let mut r = HashMap::new();
    r.insert(
        "/npm/lodash".into(),
        json!({
            "name": "lodash",
            "modified": "2024-06-01T00:00:00.000Z",
            "dist-tags": {"latest": "4.17.21"},
            "versions": {
                "4.17.20": {"name": "lodash", "version": "4.17.20",
                    "deprecated": "Prototype pollution: upgrade to 4.17.21",
                    "dist": {"shasum": "x", "tarball": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz"}},
                "4.17.21": {"name": "lodash", "version": "4.17.21",
                    "dist": {"shasum": "y", "tarball": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz"}}
            }
        })
        .to_string(),
    );
    r.insert(
        "/pypi/pypi/demo-lib/json".into(),
        json!({
            "info": {"name": "demo-lib", "version": "1.1.0", "yanked": false, "yanked_reason": null},
            "releases": {
                "1.0.0": [
                    {"filename": "demo_lib-1.0.0.tar.gz", "yanked": true, "yanked_reason": "Wrong license metadata"},
                    {"filename": "demo_lib-1.0.0-py3-none-any.whl", "yanked": true, "yanked_reason": "Wrong license metadata"}
                ],
                "1.1.0": [{"filename": "demo_lib-1.1.0.tar.gz", "yanked": false, "yanked_reason": null}]
            },
            "urls": [], "vulnerabilities": []
        })
        .to_string(),
    );
    r.insert(
        "/crates/api/v1/crates/demo-crate".into(),
        json!({
            "crate": {"id": "demo-crate", "name": "demo-crate", "max_version": "0.3.1"},
            "versions": [
                {"id": 2, "crate": "demo-crate", "num": "0.3.1", "yanked": false, "yank_message": null},
                {"id": 1, "crate": "demo-crate", "num": "0.3.0", "yanked": true, "yank_message": "unsound Send impl"}
            ],
            "keywords": [], "categories": []
        })
        .to_string(),
    );
    r.insert(
        "/packagist/p2/swiftmailer/swiftmailer.json".into(),
        json!({
            "packages": {"swiftmailer/swiftmailer": [
                {"name": "swiftmailer/swiftmailer", "version": "v6.3.0", "version_normalized": "6.3.0.0",
                 "abandoned": "symfony/mailer"},
                {"version": "v6.2.7", "version_normalized": "6.2.7.0"}
            ]},
            "minified": "composer/2.0"
        })
        .to_string(),
    );
    r.insert(
        "/go/example.com/!mod/@latest".into(),
        json!({"Version": "v1.3.0", "Time": "2024-05-01T00:00:00Z"}).to_string(),
    );
    r.insert(
        "/go/example.com/!mod/@v/v1.3.0.mod".into(),
        "// Deprecated: use example.com/Mod/v2 instead.\nmodule example.com/Mod\n\ngo 1.21\n\n\
         retract [v1.1.0, v1.1.3] // data race in the pool\nretract v1.0.0 // published by mistake\n"
            .into(),
    );
    r.insert(
        "/rubygems/api/v1/versions/nokogiri.json".into(),
        json!([
            {"number": "1.14.2", "platform": "ruby", "prerelease": false, "created_at": "2023-02-13T00:00:00.000Z"},
            {"number": "1.14.0", "platform": "ruby", "prerelease": false, "created_at": "2023-01-12T00:00:00.000Z"}
        ])
        .to_string(),
    );
    r.insert(
        "/eol/api/v1/products/python".into(),
        json!({
            "schema_version": "1.2.0",
            "result": {"name": "python", "label": "Python", "category": "lang",
                "links": {"html": "https://endoflife.date/python"},
                "releases": [
                    {"name": "3.13", "label": "3.13", "releaseDate": "2024-10-07", "isEol": false,
                     "eolFrom": "2099-10-31", "isMaintained": true, "latest": {"name": "3.13.9", "date": "2026-10-14", "link": null}},
                    {"name": "3.8", "label": "3.8", "releaseDate": "2019-10-14", "isEol": true,
                     "eolFrom": "2024-10-07", "isMaintained": false, "latest": {"name": "3.8.20", "date": "2024-09-06", "link": null}}
                ]}
        })
        .to_string(),
    );
    r
}

impl Fake {
    fn start() -> Fake {
        let state = Arc::new(Mutex::new(ServerState {
            routes: routes(),
            ..ServerState::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let app = Router::new()
            .fallback(answer)
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
        Fake { url, state }
    }

    fn with<R>(&self, f: impl FnOnce(&mut ServerState) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

fn response(status: u16, body: Vec<u8>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("response")
}

async fn answer(State(state): State<Shared>, headers: HeaderMap, uri: Uri) -> Response {
    let path = uri.path().to_string();
    let (body, fault) = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        s.seen.push((path.clone(), accept));
        (s.routes.get(&path).cloned(), s.faults.get(&path).cloned())
    };
    let Some(body) = body else {
        return response(404, br#"{"error":"Not found"}"#.to_vec());
    };
    match fault {
        Some(Fault::Status(code)) => return response(code, b"upstream trouble".to_vec()),
        Some(Fault::Sleep(pause)) => tokio::time::sleep(pause).await,
        Some(Fault::Truncate) => {
            return response(200, body.as_bytes()[..body.len() / 2].to_vec());
        }
        None => {}
    }
    response(200, body.into_bytes())
}

struct Env {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("ecowatch.db");
        Env { _dir: dir, db }
    }

    fn command(&self, server: &Fake, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
        command
            .args(args)
            .arg("--db")
            .arg(&self.db)
            .env("ECOWATCH_NPM_REGISTRY_URL", format!("{}/npm", server.url))
            .env("ECOWATCH_PYPI_URL", format!("{}/pypi", server.url))
            .env("ECOWATCH_CRATES_IO_URL", format!("{}/crates", server.url))
            .env(
                "ECOWATCH_PACKAGIST_URL",
                format!("{}/packagist", server.url),
            )
            .env("ECOWATCH_GOPROXY_URL", format!("{}/go", server.url))
            .env("ECOWATCH_RUBYGEMS_URL", format!("{}/rubygems", server.url))
            .env("ECOWATCH_ENDOFLIFE_URL", format!("{}/eol", server.url))
            .env("ECOWATCH_HTTP_TIMEOUT_MS", "1000")
            .env("ECOWATCH_HTTP_BACKOFF_MS", "10")
            .env("ECOWATCH_HTTP_MAX_ATTEMPTS", "2")
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DB");
        command.output().expect("the ecowatch binary runs")
    }

    fn crawl(&self, server: &Fake, source: &str) -> Output {
        let repo = repo();
        let repo = repo.to_str().expect("utf-8 path");
        self.command(server, &["crawl", "--source", source, "--for", repo])
    }

    fn scan_json(&self, server: &Fake) -> Value {
        let repo = repo();
        let repo = repo.to_str().expect("utf-8 path");
        let out = self.command(
            server,
            &["scan", repo, "--format", "json", "--fail-on", "never"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice(&out.stdout).expect("scan JSON")
    }

    fn sources_json(&self, server: &Fake) -> Value {
        let out = self.command(server, &["sources", "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice(&out.stdout).expect("sources JSON")
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

fn messages(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["kind"].as_str().unwrap_or("").to_string(),
                f["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn find<'a>(found: &'a [(String, String, String)], rule: &str) -> &'a (String, String, String) {
    found
        .iter()
        .find(|(r, _, _)| r == rule)
        .unwrap_or_else(|| panic!("no finding {rule} in {found:#?}"))
}

fn source<'a>(sources: &'a Value, id: &str) -> &'a Value {
    sources["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no source {id} in {sources:#}"))
}

#[test]
fn registry_flags_and_end_of_life_become_findings_with_the_registry_words() {
    let server = Fake::start();
    let env = Env::new();
    let out = env.crawl(&server, "registries");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("npm: "), "{stdout}");
    assert!(stdout.contains("rubygems: "), "{stdout}");
    let out = env.crawl(&server, "endoflife");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // npm was asked for its abbreviated metadata.
    let npm_accept = server.with(|s| {
        s.seen
            .iter()
            .find(|(p, _)| p == "/npm/lodash")
            .map(|(_, a)| a.clone())
    });
    assert_eq!(
        npm_accept.as_deref(),
        Some("application/vnd.npm.install-v1+json")
    );

    let report = env.scan_json(&server);
    let found = messages(&report);
    let (_, kind, message) = find(&found, "npm-deprecated:lodash@4.17.20");
    assert_eq!(kind, "deprecation");
    assert_eq!(
        message,
        "lodash 4.17.20 is deprecated on npm: Prototype pollution: upgrade to 4.17.21"
    );
    let (_, kind, message) = find(&found, "pypi-yanked:demo-lib@1.0.0");
    assert_eq!(kind, "yanked");
    assert_eq!(
        message,
        "demo-lib 1.0.0 was yanked from PyPI: Wrong license metadata"
    );
    let (_, _, message) = find(&found, "crates-yanked:demo-crate@0.3.0");
    assert_eq!(
        message,
        "demo-crate 0.3.0 was yanked from crates.io: unsound Send impl"
    );
    let (_, kind, message) = find(&found, "packagist-abandoned:swiftmailer/swiftmailer");
    assert_eq!(kind, "unmaintained");
    assert_eq!(
        message,
        "swiftmailer/swiftmailer is abandoned on Packagist; use symfony/mailer instead"
    );
    let (_, kind, message) = find(&found, "go-retracted:example.com/Mod@[v1.1.0,v1.1.3]");
    assert_eq!(kind, "yanked");
    assert_eq!(
        message,
        "example.com/Mod versions v1.1.0 to v1.1.3 were retracted: data race in the pool"
    );
    let (_, kind, message) = find(&found, "go-deprecated:example.com/Mod");
    assert_eq!(kind, "deprecation");
    assert_eq!(
        message,
        "example.com/Mod is deprecated: use example.com/Mod/v2 instead."
    );
    assert!(
        !found
            .iter()
            .any(|(r, _, _)| r == "go-retracted:example.com/Mod@v1.0.0"),
        "v1.1.2 is not v1.0.0: {found:#?}"
    );
    let (_, _, message) = find(&found, "rubygems-yanked:nokogiri@1.14.1");
    assert_eq!(message, "nokogiri 1.14.1 was yanked from RubyGems");
    let eol = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "eol:python@3.8")
        .unwrap_or_else(|| panic!("no EOL finding in {found:#?}"));
    assert_eq!(
        eol["message"],
        "Python 3.8 reached end of life on 2024-10-07"
    );
    assert_eq!(eol["kind"], "eol");
    assert_eq!(eol["severity"], "high");
    assert_eq!(eol["locations"][0]["path"], ".python-version");
    assert!(!found.iter().any(|(r, _, _)| r == "eol:python@3.13"));

    // A second crawl with nothing changed upstream rewrites nothing.
    let out = env.crawl(&server, "registries");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().all(|l| l.contains(" 0 new, 0 updated")),
        "{stdout}"
    );

    // Un-deprecated upstream: the notice is withdrawn and the scan stops reporting it.
    server.with(|s| {
        let mut doc: Value = serde_json::from_str(&s.routes["/npm/lodash"]).expect("json");
        doc["versions"]["4.17.20"]
            .as_object_mut()
            .expect("object")
            .remove("deprecated");
        s.routes.insert("/npm/lodash".into(), doc.to_string());
    });
    let out = env.crawl(&server, "npm");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 new, 1 updated"),
        "{}",
        text(&out)
    );
    let found = messages(&env.scan_json(&server));
    assert!(
        !found
            .iter()
            .any(|(r, _, _)| r.starts_with("npm-deprecated:")),
        "{found:#?}"
    );

    let sources = env.sources_json(&server);
    for id in [
        "npm",
        "pypi",
        "crates",
        "packagist",
        "go",
        "rubygems",
        "endoflife",
    ] {
        let s = source(&sources, id);
        assert!(s["last_success_at"].is_string(), "{id}: {s:#}");
        assert!(s["last_error"].is_null(), "{id}: {s:#}");
    }
}

#[test]
fn one_failing_registry_records_its_error_and_the_others_go_on() {
    for (fault, path, expected) in [
        (Fault::Status(503), "/pypi/pypi/demo-lib/json", "HTTP 503"),
        (
            Fault::Sleep(Duration::from_secs(3)),
            "/pypi/pypi/demo-lib/json",
            "no complete response",
        ),
        (
            Fault::Truncate,
            "/pypi/pypi/demo-lib/json",
            "not the JSON expected",
        ),
    ] {
        let server = Fake::start();
        server.with(|s| s.faults.insert(path.to_string(), fault.clone()));
        let env = Env::new();
        let out = env.crawl(&server, "registries");
        assert_eq!(out.status.code(), Some(2), "{fault:?}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error: pypi: demo-lib:"), "{stderr}");

        let sources = env.sources_json(&server);
        let pypi = source(&sources, "pypi");
        assert!(pypi["last_success_at"].is_null(), "{pypi:#}");
        assert!(pypi["last_error_at"].is_string(), "{pypi:#}");
        let error = pypi["last_error"].as_str().expect("last_error");
        assert!(error.contains(expected), "{fault:?}: {error}");
        for id in ["npm", "crates", "packagist", "go", "rubygems"] {
            assert!(
                source(&sources, id)["last_success_at"].is_string(),
                "{fault:?}: {id} should have run: {sources:#}"
            );
        }
        // What the healthy registries said still reaches the scan.
        let found = messages(&env.scan_json(&server));
        find(&found, "npm-deprecated:lodash@4.17.20");
        assert!(!found.iter().any(|(r, _, _)| r.starts_with("pypi-")));

        // The text view shows both columns.
        let out = env.command(&server, &["sources"]);
        let shown = String::from_utf8_lossy(&out.stdout);
        let line = shown
            .lines()
            .find(|l| l.starts_with("pypi"))
            .unwrap_or_else(|| panic!("{shown}"));
        assert!(line.contains("never"), "{line}");
        assert!(line.contains(expected), "{line}");
    }
}

/// `scan --refresh`: the one-shot path for someone who has set nothing up. It crawls every
/// source for the repository first (into a store it creates), keeps the scan's stdout clean
/// JSON, reports sources that failed (OSV and GitHub answer 404 here) and still scans with what
/// the others brought.
#[test]
fn scan_refresh_crawls_then_scans_with_clean_json_output() {
    let server = Fake::start();
    let env = Env::new();
    assert!(!env.db.exists());
    let repo = repo();
    let repo = repo.to_str().expect("utf-8 path");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
    command
        .args([
            "scan",
            repo,
            "--refresh",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--db",
        ])
        .arg(&env.db)
        .env("ECOWATCH_NPM_REGISTRY_URL", format!("{}/npm", server.url))
        .env("ECOWATCH_PYPI_URL", format!("{}/pypi", server.url))
        .env("ECOWATCH_CRATES_IO_URL", format!("{}/crates", server.url))
        .env(
            "ECOWATCH_PACKAGIST_URL",
            format!("{}/packagist", server.url),
        )
        .env("ECOWATCH_GOPROXY_URL", format!("{}/go", server.url))
        .env("ECOWATCH_RUBYGEMS_URL", format!("{}/rubygems", server.url))
        .env("ECOWATCH_ENDOFLIFE_URL", format!("{}/eol", server.url))
        .env("ECOWATCH_OSV_URL", format!("{}/osv", server.url))
        .env("ECOWATCH_GITHUB_API_URL", format!("{}/github", server.url))
        .env(
            "ECOWATCH_GITHUB_GRAPHQL_URL",
            format!("{}/github/graphql", server.url),
        )
        .env("ECOWATCH_HTTP_TIMEOUT_MS", "1000")
        .env("ECOWATCH_HTTP_BACKOFF_MS", "10")
        .env("ECOWATCH_HTTP_MAX_ATTEMPTS", "2")
        .env_remove("ECOWATCH_GITHUB_TOKEN")
        .env_remove("ECOWATCH_DATABASE_URL")
        .env_remove("ECOWATCH_DB");
    let out = command.output().expect("the ecowatch binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(stderr.contains("refreshing knowledge for"), "{stderr}");
    // The crawl's summary lines went to stderr; stdout is the scan's JSON alone.
    assert!(stderr.contains("npm: "), "{stderr}");
    assert!(stderr.contains("parts of the refresh failed"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is the scan JSON");
    let found = messages(&report);
    let (_, kind, _) = find(&found, "npm-deprecated:lodash@4.17.20");
    assert_eq!(kind, "deprecation");
    assert!(env.db.exists(), "the refresh created the store");
}
