//! `[sources]` in ecowatch.toml and PyPI's project status (PEP 792), driven as a user runs them:
//! the built binary against loopback servers that answer like npm, PyPI (JSON API and Simple
//! API) and GitHub, reachable only through the file (the `ECOWATCH_*_URL` variables removed),
//! or through a variable that must win over the file.

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

/// Every variable that could point a source somewhere else, or carry a token.
const SOURCE_VARS: &[&str] = &[
    "ECOWATCH_GITHUB_TOKEN",
    "ECOWATCH_GITHUB_API_URL",
    "ECOWATCH_GITHUB_GRAPHQL_URL",
    "ECOWATCH_OSV_URL",
    "ECOWATCH_NPM_REGISTRY_URL",
    "ECOWATCH_PYPI_URL",
    "ECOWATCH_CRATES_IO_URL",
    "ECOWATCH_PACKAGIST_URL",
    "ECOWATCH_GOPROXY_URL",
    "ECOWATCH_RUBYGEMS_URL",
    "ECOWATCH_ENDOFLIFE_URL",
    "ECOWATCH_DATABASE_URL",
    "ECOWATCH_DB",
];

const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";

#[derive(Default)]
struct ServerState {
    /// Path → JSON body (200); anything else is a 404.
    routes: HashMap<String, String>,
    /// (path, Accept, Authorization) of every request.
    seen: Vec<(String, String, String)>,
}

type Shared = Arc<Mutex<ServerState>>;

struct Fake {
    url: String,
    state: Shared,
}

impl Fake {
    fn start(routes: HashMap<String, String>) -> Fake {
        let state = Arc::new(Mutex::new(ServerState {
            routes,
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
                .worker_threads(1)
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

    fn hits(&self, path: &str) -> usize {
        self.with(|s| s.seen.iter().filter(|(p, _, _)| p == path).count())
    }
}

async fn answer(State(state): State<Shared>, headers: HeaderMap, uri: Uri) -> Response {
    let path = uri.path().to_string();
    let value = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let body = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.seen.push((
            path.clone(),
            value(header::ACCEPT),
            value(header::AUTHORIZATION),
        ));
        s.routes.get(&path).cloned()
    };
    let (status, body) = match body {
        Some(body) => (200, body),
        None => (404, r#"{"message":"Not Found"}"#.to_string()),
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("response")
}

fn npm_route(message: &str) -> (String, String) {
    (
        "/npm/lodash".into(),
        json!({
            "name": "lodash",
            "modified": "2024-06-01T00:00:00.000Z",
            "dist-tags": {"latest": "4.17.21"},
            "versions": {
                "4.17.20": {"name": "lodash", "version": "4.17.20", "deprecated": message,
                    "dist": {"shasum": "x", "tarball": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz"}},
                "4.17.21": {"name": "lodash", "version": "4.17.21",
                    "dist": {"shasum": "y", "tarball": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz"}}
            }
        })
        .to_string(),
    )
}

fn pypi_routes(status: Option<(&str, &str)>) -> Vec<(String, String)> {
    let mut simple = json!({
        "meta": {"api-version": "1.4"},
        "name": "demo-lib",
        "versions": ["1.0.0"],
        "files": [{"filename": "demo_lib-1.0.0.tar.gz",
                   "url": "https://files.example/demo_lib-1.0.0.tar.gz",
                   "hashes": {"sha256": "00"}}]
    });
    if let Some((status, reason)) = status {
        simple["project-status"] = json!({"status": status, "reason": reason});
    }
    vec![
        (
            "/pypi/pypi/demo-lib/json".into(),
            json!({
                "info": {"name": "demo-lib", "version": "1.0.0", "yanked": false},
                "releases": {"1.0.0": [{"filename": "demo_lib-1.0.0.tar.gz", "yanked": false}]},
                "urls": [], "vulnerabilities": []
            })
            .to_string(),
        ),
        ("/pypi/simple/demo-lib/".into(), simple.to_string()),
    ]
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).expect("repo dir");
        std::fs::write(
            repo.join("package.json"),
            r#"{"name":"app","version":"1.0.0","dependencies":{"lodash":"^4.17.20"}}"#,
        )
        .expect("package.json");
        std::fs::write(
            repo.join("package-lock.json"),
            json!({
                "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
                "packages": {
                    "": {"name": "app", "version": "1.0.0", "dependencies": {"lodash": "^4.17.20"}},
                    "node_modules/lodash": {"version": "4.17.20"}
                }
            })
            .to_string(),
        )
        .expect("package-lock.json");
        std::fs::write(repo.join("requirements.txt"), "demo-lib==1.0.0\n").expect("reqs");
        Setup { dir }
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Writes `ecowatch.toml` (outside the repository, in the commands' working directory) and
    /// returns its path.
    fn config(&self, text: &str) -> PathBuf {
        self.config_named("ecowatch.toml", text)
    }

    fn config_named(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("config file");
        path
    }

    /// Runs ecowatch in the setup's directory with no source variable set, then `env`.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
        command
            .current_dir(self.dir.path())
            .args(args)
            .arg("--db")
            .arg(self.dir.path().join("ecowatch.db"))
            .env("ECOWATCH_HTTP_TIMEOUT_MS", "2000")
            .env("ECOWATCH_HTTP_BACKOFF_MS", "10")
            .env("ECOWATCH_HTTP_MAX_ATTEMPTS", "1");
        for var in SOURCE_VARS {
            command.env_remove(var);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("the ecowatch binary runs")
    }

    fn crawl(&self, source: &str, config: Option<&Path>, env: &[(&str, &str)]) -> Output {
        let repo = self.repo();
        let mut args = vec!["crawl", "--source", source, "--for", path(&repo)];
        if let Some(config) = config {
            args.extend(["--config", path(config)]);
        }
        self.run(&args, env)
    }

    fn scan(&self, format: &str) -> Output {
        let repo = self.repo();
        self.run(
            &[
                "scan",
                path(&repo),
                "--format",
                format,
                "--fail-on",
                "never",
            ],
            &[],
        )
    }

    fn findings(&self) -> Vec<Value> {
        let out = self.scan("json");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let report: Value = serde_json::from_slice(&out.stdout).expect("scan JSON");
        report["findings"].as_array().expect("findings").clone()
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn finding<'a>(findings: &'a [Value], rule: &str) -> Option<&'a Value> {
    findings.iter().find(|f| f["rule"] == rule)
}

#[test]
fn the_file_points_crawl_at_a_registry_and_the_variable_wins_over_it() {
    let first = Fake::start([npm_route("Prototype pollution: from the file's registry")].into());
    let second = Fake::start(
        [npm_route(
            "Prototype pollution: from the variable's registry",
        )]
        .into(),
    );
    let setup = Setup::new();
    let config = setup.config(&format!(
        "[sources]\nnpm-registry-url = \"{}/npm\"\n",
        first.url
    ));

    let out = setup.crawl("npm", Some(&config), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(first.hits("/npm/lodash"), 1);
    let findings = setup.findings();
    let found = finding(&findings, "npm-deprecated:lodash@4.17.20").expect("npm finding");
    assert!(
        found["message"]
            .as_str()
            .unwrap_or("")
            .contains("from the file's registry"),
        "{found:#}"
    );

    // `sources` says which URL each source uses and where it came from.
    let out = setup.run(
        &["sources", "--format", "json", "--config", path(&config)],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let sources: Value = serde_json::from_slice(&out.stdout).expect("sources JSON");
    let npm = sources["configured"]
        .as_array()
        .expect("configured")
        .iter()
        .find(|c| c["key"] == "npm-registry-url")
        .expect("npm row");
    assert_eq!(npm["url"], format!("{}/npm", first.url));
    assert!(
        npm["from"]
            .as_str()
            .unwrap_or("")
            .contains("[sources] npm-registry-url"),
        "{npm:#}"
    );

    // The variable wins over the file.
    let variable = format!("{}/npm", second.url);
    let out = setup.crawl(
        "npm",
        Some(&config),
        &[("ECOWATCH_NPM_REGISTRY_URL", &variable)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(second.hits("/npm/lodash"), 1);
    assert_eq!(
        first.hits("/npm/lodash"),
        1,
        "the file's registry was asked"
    );
    let findings = setup.findings();
    let found = finding(&findings, "npm-deprecated:lodash@4.17.20").expect("npm finding");
    assert!(
        found["message"]
            .as_str()
            .unwrap_or("")
            .contains("from the variable's registry"),
        "{found:#}"
    );

    // Without --config, ./ecowatch.toml is read (the commands run in the setup's directory).
    let out = setup.crawl("npm", None, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(first.hits("/npm/lodash"), 2);
}

#[test]
fn mistakes_in_the_file_stop_the_crawl_naming_the_key_and_file() {
    let setup = Setup::new();
    for (table, key, words) in [
        (
            "npm-url = \"http://127.0.0.1:9/npm\"",
            "npm-url",
            "unknown key",
        ),
        ("osv-url = \"api.osv.dev\"", "osv-url", "http(s) URL"),
        (
            "github-token-env = \"ghp_not a name\"",
            "github-token-env",
            "NAME",
        ),
    ] {
        let config = setup.config(&format!("[sources]\n{table}\n"));
        let out = setup.crawl("npm", Some(&config), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            stderr.contains(&format!("[sources] {key}")) && stderr.contains(path(&config)),
            "{key}: {stderr}"
        );
        assert!(stderr.contains(words), "{key}: {stderr}");
        assert!(!stderr.contains("ghp_not"), "{stderr}");
        // `sources` reads the same table the same way.
        let out = setup.run(&["sources", "--config", path(&config)], &[]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    }
}

#[test]
fn the_token_comes_from_the_variable_the_file_names_and_never_shows() {
    const SECRET: &str = "ghp_sourcesconfigtestsecret0123456789";
    let github = Fake::start(HashMap::new());
    let setup = Setup::new();
    let feeds = setup.dir.path().join("feeds");
    std::fs::create_dir_all(&feeds).expect("feeds");
    std::fs::write(
        feeds.join("watch.toml"),
        "[[watch]]\ngithub = \"acme/widgets\"\npackages = [\"npm:widgets\"]\n",
    )
    .expect("watch.toml");
    let config = setup.config(&format!(
        "[sources]\ngithub-api-url = \"{}/api\"\ngithub-token-env = \"ECOWATCH_TEST_NAMED_TOKEN\"\n",
        github.url
    ));

    // The named variable is not set: a warning that says so, and no token is sent.
    let args = [
        "crawl",
        "--source",
        "github",
        "--feeds",
        path(&feeds),
        "--config",
        path(&config),
    ];
    let out = setup.run(&args, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("github-token-env names ECOWATCH_TEST_NAMED_TOKEN, which is not set"),
        "{}",
        text(&out)
    );
    let sent = github.with(|s| s.seen.clone());
    assert!(!sent.is_empty(), "GitHub was not asked: {}", text(&out));
    assert!(sent.iter().all(|(_, _, auth)| auth.is_empty()), "{sent:?}");

    // Set: GitHub gets it as a bearer token, and no output shows it.
    github.with(|s| s.seen.clear());
    let out = setup.run(&args, &[("ECOWATCH_TEST_NAMED_TOKEN", SECRET)]);
    let sent = github.with(|s| s.seen.clone());
    assert!(
        sent.iter()
            .any(|(_, _, auth)| auth == &format!("Bearer {SECRET}")),
        "{sent:?}\n{}",
        text(&out)
    );
    assert!(!text(&out).contains(SECRET), "{}", text(&out));
    assert!(!text(&out).contains("which is not set"), "{}", text(&out));
    let out = setup.run(
        &["sources", "--config", path(&config)],
        &[("ECOWATCH_TEST_NAMED_TOKEN", SECRET)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(SECRET), "{}", text(&out));
}

/// PEP 792: an archived project on PyPI becomes a finding that quotes the reason; active again,
/// the notice is withdrawn; a hostile reason stays inert.
#[test]
fn pypi_project_status_is_reported_and_withdrawn() {
    let pypi = Fake::start(
        pypi_routes(Some((
            "archived",
            "Superseded by demo-lib2; no further fixes",
        )))
        .into_iter()
        .collect(),
    );
    let setup = Setup::new();
    let config = setup.config(&format!("[sources]\npypi-url = \"{}/pypi\"\n", pypi.url));

    let out = setup.crawl("pypi", Some(&config), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let accept = pypi.with(|s| {
        s.seen
            .iter()
            .find(|(p, _, _)| p == "/pypi/simple/demo-lib/")
            .map(|(_, a, _)| a.clone())
    });
    assert_eq!(accept.as_deref(), Some(SIMPLE_JSON));
    let findings = setup.findings();
    let found = finding(&findings, "pypi-status:demo-lib").expect("status finding");
    assert_eq!(found["kind"], "unmaintained");
    assert_eq!(
        found["message"],
        "demo-lib is archived on PyPI (no further releases are expected): \
         Superseded by demo-lib2; no further fixes"
    );

    // A hostile reason: control characters, header injection, markup and sheer length.
    let hostile = format!(
        "<script>alert(1)</script>\r\nX-Injected: yes\u{1b}[31m {}",
        "padding ".repeat(200)
    );
    pypi.with(|s| {
        s.routes
            .extend(pypi_routes(Some(("quarantined", &hostile))))
    });
    let out = setup.crawl("pypi", Some(&config), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let findings = setup.findings();
    let found = finding(&findings, "pypi-status:demo-lib").expect("status finding");
    let message = found["message"].as_str().unwrap_or("");
    assert_eq!(found["kind"], "advisory");
    assert_eq!(found["severity"], "high");
    assert!(
        message.starts_with("demo-lib is quarantined on PyPI"),
        "{message}"
    );
    assert!(!message.contains(['\r', '\n', '\u{1b}']), "{message:?}");
    assert!(message.chars().count() < 700, "{}", message.len());
    let out = setup.scan("text");
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
    let out = setup.scan("markdown");
    let markdown = String::from_utf8_lossy(&out.stdout);
    assert!(markdown.contains("quarantined on PyPI"), "{markdown}");
    assert!(!markdown.contains("<script>"), "{markdown}");

    // Active again: the notice is withdrawn and the scan is silent about it.
    pypi.with(|s| s.routes.extend(pypi_routes(Some(("active", "")))));
    let out = setup.crawl("pypi", Some(&config), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 new, 1 updated"),
        "{}",
        text(&out)
    );
    let findings = setup.findings();
    assert!(
        !findings
            .iter()
            .any(|f| f["rule"].as_str().unwrap_or("").starts_with("pypi-")),
        "{findings:#?}"
    );
}

/// `[sources]` naming every source's URL, all on `fake` (unknown paths answer 404 there).
fn every_source_on(fake: &Fake) -> String {
    let u = &fake.url;
    format!(
        "[sources]\ngithub-api-url = \"{u}/github\"\nosv-url = \"{u}/osv\"\n\
         npm-registry-url = \"{u}/npm\"\npypi-url = \"{u}/pypi\"\ncrates-io-url = \"{u}/crates\"\n\
         packagist-url = \"{u}/packagist\"\ngoproxy-url = \"{u}/go\"\n\
         rubygems-url = \"{u}/rubygems\"\nendoflife-url = \"{u}/eol\"\n"
    )
}

/// `scan --refresh --config FILE`: the child crawl reads the same file.
#[test]
fn scan_refresh_passes_its_config_to_the_crawl() {
    let fake = Fake::start([npm_route("Prototype pollution: upgrade")].into());
    let setup = Setup::new();
    // Not ./ecowatch.toml: only the pass-through can bring it to the crawl.
    let config = setup.config_named("sources.toml", &every_source_on(&fake));
    let repo = setup.repo();
    let out = setup.run(
        &[
            "scan",
            path(&repo),
            "--refresh",
            "--config",
            path(&config),
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(fake.hits("/npm/lodash"), 1, "{}", text(&out));
    assert!(fake.hits("/osv/v1/querybatch") >= 1, "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("scan JSON");
    let findings = report["findings"].as_array().expect("findings");
    assert!(finding(findings, "npm-deprecated:lodash@4.17.20").is_some());
}

/// `serve --config FILE`: the crawl schedule asks the registries the file names.
#[test]
fn serve_crawls_the_sources_its_config_names() {
    let fake = Fake::start([npm_route("Prototype pollution: upgrade")].into());
    let setup = Setup::new();
    let repo = setup.repo();
    let out = setup.run(&["watch", "add", path(&repo)], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let config = setup.config(&format!(
        "[schedule]\ncrawl = \"* * * * * *\"\nrescan = \"off\"\nrelay = \"off\"\n\
         digest = \"off\"\njitter-secs = 0\n\n[serve]\nlisten = \"127.0.0.1:0\"\ngrace-secs = 0\n\n{}",
        every_source_on(&fake)
    ));
    let log = setup.dir.path().join("serve.log");
    let log_file = std::fs::File::create(&log).expect("log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
    command
        .current_dir(setup.dir.path())
        .args(["serve", "--config", path(&config), "--db"])
        .arg(setup.dir.path().join("ecowatch.db"))
        .env("ECOWATCH_HTTP_TIMEOUT_MS", "2000")
        .env("ECOWATCH_HTTP_MAX_ATTEMPTS", "1")
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file);
    for var in SOURCE_VARS {
        command.env_remove(var);
    }
    let mut child = command.spawn().expect("serve starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while fake.hits("/npm/lodash") == 0 && std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "serve exited with {status:?}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        fake.hits("/npm/lodash") >= 1,
        "the crawl schedule never asked the configured registry:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}
