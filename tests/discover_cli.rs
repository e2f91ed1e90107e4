//! `ecowatch crawl --source github --for REPO` finding the source repositories of the packages
//! a repository uses, driven as a user runs it: the built binary against one loopback server
//! that answers like npm (`/{name}/latest`), PyPI's JSON API, crates.io and GitHub (REST with
//! ETags, 304s and `Link` pagination; GraphQL discussions), with metadata in the spellings
//! real packages use, and hostile or useless metadata beside it.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const FANCY_CHANGELOG: &str = "# Changelog\n\n## [2.4.0] - 2025-01-10\n\n### Deprecated\n\
    - `fancylib.old_connect()` is deprecated and will be removed in 3.0. Use `fancylib.connect()` instead.\n\n\
    ## [2.0.0] - 2024-06-01\n\n### Fixed\n- A crash on start.\n";
const WIDGETS_HISTORY: &str = "History\n=======\n\n2.0.0 (2025-03-01)\n------------------\n\n\
    * ``widgets.legacyRender()`` is deprecated, use ``widgets.render()`` instead.\n";
const TINY_CHANGELOG: &str = "# Changelog\n\n## 0.3.0\n\n### Deprecated\n- `tinycrate::old_api()` is deprecated, use `tinycrate::api()` instead.\n";

#[derive(Default)]
struct ServerState {
    /// Path (with query, if any) → (body, `Link` header).
    routes: HashMap<String, (String, Option<String>)>,
    /// (method, path and query, status) of every request.
    seen: Vec<(String, String, u16)>,
}

type Shared = Arc<Mutex<ServerState>>;

struct Fake {
    url: String,
    state: Shared,
}

impl Fake {
    fn start() -> Fake {
        let state = Arc::new(Mutex::new(ServerState::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::clone(&state);
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: String| {
                let state = Arc::clone(&shared);
                async move { answer(&state, &method, &uri, &headers, &body) }
            },
        );
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

    fn route(&self, path: &str, body: impl Into<String>) {
        self.with(|s| s.routes.insert(path.to_string(), (body.into(), None)));
    }

    fn seen(&self) -> Vec<(String, String, u16)> {
        self.with(|s| s.seen.clone())
    }
}

fn etag_of(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

fn answer(state: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &str) -> Response {
    let target = uri
        .path_and_query()
        .map_or(uri.path().to_string(), |p| p.as_str().to_string());
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let (status, response) = if uri.path() == "/github/graphql" {
        (200, graphql(body))
    } else if let Some((text, link)) = s.routes.get(&target).cloned() {
        if target.starts_with("/github/") {
            let raw = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())
                == Some("application/vnd.github.raw");
            let is_listing = target.contains("/contents/") && !raw;
            assert!(
                is_listing || raw || !target.contains("/contents/"),
                "contents are listed as JSON or fetched raw: {target}"
            );
            let etag = etag_of(&text);
            let rate = |b: axum::http::response::Builder| {
                b.header("x-ratelimit-limit", "5000")
                    .header("x-ratelimit-remaining", "4990")
                    .header(
                        "x-ratelimit-reset",
                        (chrono::Utc::now().timestamp() + 3600).to_string(),
                    )
                    .header("x-ratelimit-resource", "core")
                    .header(header::ETAG, etag.clone())
            };
            if headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                == Some(&etag)
            {
                (
                    304,
                    rate(Response::builder().status(304))
                        .body(Body::empty())
                        .expect("response"),
                )
            } else {
                let mut builder = rate(Response::builder().status(200));
                if let Some(link) = link {
                    builder = builder.header(header::LINK, link);
                }
                (200, builder.body(Body::from(text)).expect("response"))
            }
        } else {
            (
                200,
                Response::builder()
                    .status(200)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(text))
                    .expect("response"),
            )
        }
    } else {
        (
            404,
            Response::builder()
                .status(404)
                .body(Body::from(r#"{"message":"Not Found"}"#))
                .expect("response"),
        )
    };
    s.seen.push((method.to_string(), target, status));
    response
}

/// Discussions: none in any repository, per project (`$owner`/`$name`) or batched by alias.
fn graphql(body: &str) -> Response {
    let request: Value = serde_json::from_str(body).expect("GraphQL request is JSON");
    let rate = json!({"cost": 1, "limit": 5000, "remaining": 4990,
        "resetAt": chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp() + 3600, 0).unwrap().to_rfc3339()});
    let data = if request["variables"].get("owner").is_some() {
        json!({"rateLimit": rate, "repository": {"discussions": {
            "pageInfo": {"hasNextPage": false, "endCursor": null}, "nodes": []}}})
    } else {
        let query = request["query"].as_str().unwrap_or_default();
        let alias = regex::Regex::new(r"(r\d+): repository\(").expect("regex");
        let mut data = serde_json::Map::new();
        for field in alias.captures_iter(query) {
            data.insert(field[1].to_string(), json!({"discussions": {"nodes": []}}));
        }
        assert!(!data.is_empty(), "a batched query without aliases: {query}");
        data.insert("rateLimit".into(), rate);
        Value::Object(data)
    };
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-ratelimit-resource", "graphql")
        .body(Body::from(json!({"data": data}).to_string()))
        .expect("response")
}

fn release(tag: &str, body: &str) -> Value {
    json!({"tag_name": tag, "name": tag, "body": body, "draft": false, "prerelease": false,
           "html_url": format!("https://github.com/acme/widgets/releases/tag/{tag}"),
           "published_at": "2025-01-01T00:00:00Z"})
}

/// npm, PyPI and crates.io metadata in the spellings packages use, and the GitHub they point at.
fn fake_world() -> Fake {
    let fake = Fake::start();
    let url = fake.url.clone();
    // npm: an object `repository`, a GitLab shorthand, hostile strings, garbage, a 404 (ghost).
    fake.route("/npm/@acme%2fwidgets/latest", json!({"name": "@acme/widgets", "version": "2.1.0",
        "repository": {"type": "git", "url": "git+https://github.com/Acme/Widgets.git", "directory": "packages/widgets"}}).to_string());
    fake.route(
        "/npm/gl-lib/latest",
        json!({"name": "gl-lib", "version": "1.0.0", "repository": "gitlab:someone/gl-lib"})
            .to_string(),
    );
    fake.route(
        "/npm/evil-a/latest",
        json!({"name": "evil-a", "version": "1.0.0", "repository": "../../x"}).to_string(),
    );
    fake.route(
        "/npm/evil-b/latest",
        json!({"name": "evil-b", "version": "1.0.0",
        "repository": format!("https://github.com/{}", "a/".repeat(2500))})
        .to_string(),
    );
    fake.route(
        "/npm/evil-c/latest",
        json!({"name": "evil-c", "version": "1.0.0", "repository": "git+https://github.com/../../x"})
            .to_string(),
    );
    fake.route(
        "/npm/evil-d/latest",
        json!({"name": "evil-d", "version": "1.0.0",
        "repository": {"type": "git", "url": "javascript:alert(1)//github.com/evil/d"},
        "homepage": "https://gitlab.com/evil/d"})
        .to_string(),
    );
    fake.route(
        "/npm/junk/latest",
        json!({"name": "junk", "version": "1.0.0", "repository": [1, {"url": 2}]}).to_string(),
    );
    // PyPI: a source key that wins over the homepage, with a subdirectory; a package without links.
    fake.route("/pypi/pypi/fancylib/json", json!({"info": {"name": "fancylib", "version": "2.5.0",
        "home_page": "https://fancylib.example",
        "project_urls": {"Homepage": "https://fancylib.example", "Source Code": "https://github.com/Fancy-Org/FancyLib/tree/main/src"}},
        "releases": {}}).to_string());
    fake.route("/pypi/pypi/nolink/json", json!({"info": {"name": "nolink", "version": "1.0.0", "project_urls": null, "home_page": ""}}).to_string());
    // crates.io: a `.git` repository URL.
    fake.route(
        "/crates/api/v1/crates/tinycrate",
        json!({"crate": {"id": "tinycrate", "name": "tinycrate",
        "repository": "https://github.com/tiny/tinycrate.git"}, "versions": []})
        .to_string(),
    );

    // GitHub: acme/widgets has two pages of releases and a HISTORY.rst.
    fake.with(|s| {
        s.routes.insert(
            "/github/repos/acme/widgets/releases?per_page=100".into(),
            (json!([release("v2.1.0", "* feat: faster\n")]).to_string(),
             Some(format!("<{url}/github/repositories/7/releases?per_page=100&page=2>; rel=\"next\", <{url}/github/repositories/7/releases?per_page=100&page=2>; rel=\"last\""))),
        );
        s.routes.insert(
            "/github/repositories/7/releases?per_page=100&page=2".into(),
            (json!([release("v1.5.0", "## Changes\n* `widgets.oldMount()` is deprecated, use `widgets.mount()` instead\n")]).to_string(), None),
        );
        // A hostile `Link` to another host is never followed (the token would go with it).
        s.routes.insert(
            "/github/repos/tiny/tinycrate/releases?per_page=100".into(),
            ("[]".into(), Some("<http://evil.invalid/steal?page=2>; rel=\"next\"".into())),
        );
    });
    fake.route(
        "/github/repos/acme/widgets/contents/",
        json!([
        {"name": "README.md", "path": "README.md", "type": "file"},
        {"name": "HISTORY.rst", "path": "HISTORY.rst", "type": "file"},
        {"name": "src", "path": "src", "type": "dir"}])
        .to_string(),
    );
    fake.route(
        "/github/repos/acme/widgets/contents/HISTORY.rst",
        WIDGETS_HISTORY,
    );
    fake.route(
        "/github/repos/fancy-org/fancylib/releases?per_page=100",
        "[]",
    );
    fake.route(
        "/github/repos/fancy-org/fancylib/contents/",
        json!([
        {"name": "CHANGES.md", "path": "CHANGES.md", "type": "file"},
        {"name": "NEWS.pdf", "path": "NEWS.pdf", "type": "file"}])
        .to_string(),
    );
    fake.route(
        "/github/repos/fancy-org/fancylib/contents/CHANGES.md",
        FANCY_CHANGELOG,
    );
    // tiny/tinycrate keeps its changelog in docs/.
    fake.route(
        "/github/repos/tiny/tinycrate/contents/",
        json!([
        {"name": "Cargo.toml", "path": "Cargo.toml", "type": "file"},
        {"name": "docs", "path": "docs", "type": "dir"}])
        .to_string(),
    );
    fake.route(
        "/github/repos/tiny/tinycrate/contents/docs",
        json!([
        {"name": "index.md", "path": "docs/index.md", "type": "file"},
        {"name": "changelog.md", "path": "docs/changelog.md", "type": "file"}])
        .to_string(),
    );
    fake.route(
        "/github/repos/tiny/tinycrate/contents/docs/changelog.md",
        TINY_CHANGELOG,
    );
    fake
}

/// A repository using one package of each registry, plus packages whose metadata leads nowhere.
fn repository(root: &Path) -> PathBuf {
    let dir = root.join("app");
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(
        dir.join("package.json"),
        json!({"name": "app", "version": "1.0.0", "dependencies": {
        "@acme/widgets": "2.1.0", "gl-lib": "1.0.0", "evil-a": "1.0.0", "evil-b": "1.0.0", "evil-c": "1.0.0", "evil-d": "1.0.0",
        "junk": "1.0.0", "ghost": "1.0.0"}})
        .to_string(),
    )
    .expect("write");
    fs::write(
        dir.join("requirements.txt"),
        "fancylib==2.5.0\nnolink==1.0.0\n",
    )
    .expect("write");
    fs::write(dir.join("Cargo.toml"), "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ntinycrate = \"0.3\"\n").expect("write");
    fs::write(dir.join("Cargo.lock"), "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"tinycrate\",\n]\n\n[[package]]\nname = \"tinycrate\"\nversion = \"0.3.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"0000000000000000000000000000000000000000000000000000000000000000\"\n").expect("write");
    fs::write(
        dir.join("app.py"),
        "import fancylib\n\nclient = fancylib.old_connect(\"db\")\n",
    )
    .expect("write");
    fs::write(
        dir.join("other.py"),
        "import json\n\nfancylib = json\nfancylib.old_connect(\"db\")\n",
    )
    .expect("write");
    dir
}

struct Setup {
    dir: tempfile::TempDir,
    repo: PathBuf,
    /// An ecowatch.toml passed to `crawl --config` naming the npm registry in `[sources]`
    /// (the environment then names none).
    config: Option<PathBuf>,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let feeds = dir.path().join("feeds");
        // An empty rules/ keeps watch.toml out of the rules `scan` loads.
        fs::create_dir_all(feeds.join("rules")).expect("feeds dir");
        fs::write(feeds.join("watch.toml"), "# nothing watched by name\n").expect("watch.toml");
        let repo = repository(dir.path());
        Setup {
            dir,
            repo,
            config: None,
        }
    }

    /// A repository using only `packages` (npm), the npm registry named in ecowatch.toml.
    fn npm_only(fake: &Fake, packages: &[&str]) -> Setup {
        let mut setup = Setup::new();
        let repo = setup.path("npm-app");
        fs::create_dir_all(&repo).expect("mkdir");
        let deps: serde_json::Map<String, Value> = packages
            .iter()
            .map(|p| (p.to_string(), json!("1.0.0")))
            .collect();
        fs::write(
            repo.join("package.json"),
            json!({"name": "npm-app", "version": "1.0.0", "dependencies": deps}).to_string(),
        )
        .expect("write");
        let config = setup.path("ecowatch.toml");
        fs::write(
            &config,
            format!("[sources]\nnpm-registry-url = \"{}/npm\"\n", fake.url),
        )
        .expect("write");
        setup.repo = repo;
        setup.config = Some(config);
        setup
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ecowatch(&self, fake: &Fake, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ecowatch"))
            .args(args)
            .arg("--db")
            .arg(self.path("ecowatch.db"))
            .arg("--feeds")
            .arg(self.path("feeds"))
            .env("HOME", self.path("home"))
            .env_remove("XDG_DATA_HOME")
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DB")
            .envs(
                self.config
                    .is_none()
                    .then(|| ("ECOWATCH_NPM_REGISTRY_URL", format!("{}/npm", fake.url))),
            )
            .env_remove(if self.config.is_some() {
                "ECOWATCH_NPM_REGISTRY_URL"
            } else {
                "ECOWATCH_UNUSED"
            })
            .env("ECOWATCH_PYPI_URL", format!("{}/pypi", fake.url))
            .env("ECOWATCH_CRATES_IO_URL", format!("{}/crates", fake.url))
            .env("ECOWATCH_GITHUB_API_URL", format!("{}/github", fake.url))
            .env_remove("ECOWATCH_GITHUB_GRAPHQL_URL")
            .env("ECOWATCH_GITHUB_TOKEN", "ghp_test_discover_secret")
            .env("ECOWATCH_HTTP_TIMEOUT_MS", "5000")
            .env("ECOWATCH_HTTP_BACKOFF_MS", "5")
            .env("ECOWATCH_HTTP_MAX_ATTEMPTS", "2")
            .output()
            .expect("run ecowatch")
    }

    fn crawl(&self, fake: &Fake) -> (String, String) {
        let mut args = vec![
            "crawl",
            "--source",
            "github",
            "--for",
            self.repo.to_str().expect("utf-8"),
        ];
        if let Some(config) = &self.config {
            args.extend(["--config", config.to_str().expect("utf-8")]);
        }
        let out = self.ecowatch(fake, &args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "exit {:?}\nstdout: {stdout}\nstderr: {stderr}",
            out.status.code()
        );
        assert!(
            !stdout.contains("ghp_test") && !stderr.contains("ghp_test"),
            "the token leaked"
        );
        (stdout, stderr)
    }

    fn scan(&self, fake: &Fake) -> Value {
        let out = self.ecowatch(
            fake,
            &[
                "scan",
                self.repo.to_str().expect("utf-8"),
                "--format",
                "json",
            ],
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "scan printed invalid JSON ({e}); stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

fn notices(
    db: &Path,
    ecosystem: ecowatch::Ecosystem,
    package: &str,
) -> Vec<ecowatch::store::Notice> {
    let db = db.to_path_buf();
    let package = package.to_string();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async move {
            let store = ecowatch::store::Store::open_sqlite(&db, false)
                .await
                .expect("open store");
            let found = store
                .notices_for_packages(&[(ecosystem, package)])
                .await
                .expect("notices");
            store.close().await;
            found
        })
}

fn cites(notices: &[ecowatch::store::Notice], url: &str, identifier: &str) -> bool {
    notices.iter().any(|n| {
        n.references.to_string().contains(url)
            && n.patterns.iter().any(|p| p.pattern.contains(identifier))
    })
}

#[test]
fn packages_in_use_lead_to_their_repositories_changelogs_and_releases() {
    let fake = fake_world();
    let setup = Setup::new();
    let (stdout, _) = setup.crawl(&fake);
    assert!(
        stdout.contains("discover: 11 packages, 11 registry requests, 3 projects, 0 errors"),
        "{stdout}"
    );
    assert!(stdout.contains("github: 3 projects"), "{stdout}");
    let seen = fake.seen();
    let paths: Vec<&str> = seen.iter().map(|(_, p, _)| p.as_str()).collect();
    // Hostile, foreign and useless metadata named no project: nothing asked of GitHub for it.
    for path in &paths {
        if path.starts_with("/github/repos/") {
            assert!(
                [
                    "/github/repos/acme/widgets/",
                    "/github/repos/fancy-org/fancylib/",
                    "/github/repos/tiny/tinycrate/"
                ]
                .iter()
                .any(|p| path.starts_with(p)),
                "{path}"
            );
        }
    }
    assert!(paths.contains(&"/npm/ghost/latest"), "{paths:?}");
    // The first crawl read the second page of releases; the foreign `Link` was not followed.
    assert!(
        paths.contains(&"/github/repositories/7/releases?per_page=100&page=2"),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| p.contains("steal")), "{paths:?}");
    // docs/ was listed only for the project whose root had no changelog.
    assert!(paths.contains(&"/github/repos/tiny/tinycrate/contents/docs"));
    assert!(!paths.contains(&"/github/repos/fancy-org/fancylib/contents/docs"));

    let db = setup.path("ecowatch.db");
    let fancy = notices(&db, ecowatch::Ecosystem::PyPI, "fancylib");
    assert!(
        cites(
            &fancy,
            "https://github.com/fancy-org/fancylib/blob/HEAD/CHANGES.md",
            "fancylib.old_connect"
        ),
        "{fancy:#?}"
    );
    let widgets = notices(&db, ecowatch::Ecosystem::Npm, "@acme/widgets");
    assert!(
        cites(
            &widgets,
            "https://github.com/acme/widgets/releases/tag/v1.5.0",
            "widgets.oldMount"
        ),
        "the second page of releases was read: {widgets:#?}"
    );
    assert!(
        cites(
            &widgets,
            "https://github.com/acme/widgets/blob/HEAD/HISTORY.rst",
            "widgets.legacyRender"
        ),
        "{widgets:#?}"
    );
    let tiny = notices(&db, ecowatch::Ecosystem::CratesIo, "tinycrate");
    assert!(
        cites(
            &tiny,
            "https://github.com/tiny/tinycrate/blob/HEAD/docs/changelog.md",
            "old_api"
        ),
        "{tiny:#?}"
    );

    // The scan reports the identifier where the package is imported, citing the changelog.
    let report = setup.scan(&fake);
    let derived: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "deprecation" && f["package"]["name"] == "fancylib")
        .collect();
    assert_eq!(derived.len(), 1, "{report:#}");
    assert_eq!(derived[0]["locations"][0]["path"], "app.py");
    assert_eq!(derived[0]["locations"][0]["line"], 3);
    assert_eq!(
        derived[0]["references"][0],
        "https://github.com/fancy-org/fancylib/blob/HEAD/CHANGES.md"
    );

    // Second crawl: no registry is asked again within the week, and GitHub answers only 304s
    // (plus one batched discussions probe); older release pages are not read again.
    fake.with(|s| s.seen.clear());
    let (stdout, _) = setup.crawl(&fake);
    assert!(
        stdout.contains("discover: 11 packages, 0 registry requests, 3 projects, 0 errors"),
        "{stdout}"
    );
    let seen = fake.seen();
    assert!(
        !seen.iter().any(|(_, p, _)| !p.starts_with("/github/")),
        "registries were asked again: {seen:?}"
    );
    let rest: Vec<_> = seen.iter().filter(|(m, _, _)| m == "GET").collect();
    assert!(!rest.is_empty());
    assert!(rest.iter().all(|(_, _, status)| *status == 304), "{rest:?}");
    assert!(
        !rest
            .iter()
            .any(|(_, p, _)| p.contains("page=2") || p.ends_with("/docs")),
        "{rest:?}"
    );
    let graphql = seen.iter().filter(|(m, _, _)| m == "POST").count();
    assert_eq!(graphql, 1, "one batched discussions probe: {seen:?}");
}

/// Runs `f` against the crawl's store.
fn with_store<R>(db: &Path, f: impl AsyncFnOnce(&ecowatch::store::Store) -> R) -> R {
    let db = db.to_path_buf();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async move {
            let store = ecowatch::store::Store::open_sqlite(&db, false)
                .await
                .expect("open store");
            let out = f(&store).await;
            store.close().await;
            out
        })
}

#[test]
fn first_crawl_reads_release_pages_up_to_the_cap_and_stale_repositories_are_asked_again() {
    let fake = Fake::start();
    let url = fake.url.clone();
    fake.route(
        "/npm/pager/latest",
        json!({"name": "pager", "version": "1.0.0", "repository": "github:Big/Pager"}).to_string(),
    );
    // Twelve pages of releases, chained by `Link: rel="next"`; the repository has no listing (404).
    fake.with(|s| {
        for page in 1..=12 {
            let path = if page == 1 {
                "/github/repos/big/pager/releases?per_page=100".to_string()
            } else {
                format!("/github/repositories/9/releases?per_page=100&page={page}")
            };
            let next = (page < 12).then(|| {
                format!(
                    "<{url}/github/repositories/9/releases?per_page=100&page={}>; rel=\"next\", \
                     <{url}/github/repositories/9/releases?per_page=100&page=12>; rel=\"last\"",
                    page + 1
                )
            });
            let tag = format!("v{page}.0.0");
            let body = json!([{"tag_name": tag, "name": tag, "draft": false, "prerelease": false,
                "body": format!("### Deprecated\n* `pager.oldCall{page}()` is deprecated, use `pager.newCall{page}()` instead\n"),
                "html_url": format!("https://github.com/big/pager/releases/tag/{tag}"),
                "published_at": "2025-01-01T00:00:00Z"}]);
            s.routes.insert(path, (body.to_string(), next));
        }
    });
    let setup = Setup::npm_only(&fake, &["pager"]);
    let (stdout, _) = setup.crawl(&fake);
    assert!(
        stdout.contains("discover: 1 packages, 1 registry requests, 1 projects, 0 errors"),
        "the npm registry named in ecowatch.toml was asked: {stdout}"
    );
    let seen = fake.seen();
    let asked = |page: usize| {
        seen.iter().any(|(_, p, _)| {
            p == &format!("/github/repositories/9/releases?per_page=100&page={page}")
        })
    };
    for page in 2..=10 {
        assert!(asked(page), "page {page} was read: {seen:?}");
    }
    assert!(!asked(11) && !asked(12), "ten pages at most: {seen:?}");
    let db = setup.path("ecowatch.db");
    let pager = notices(&db, ecowatch::Ecosystem::Npm, "pager");
    assert!(cites(
        &pager,
        "https://github.com/big/pager/releases/tag/v10.0.0",
        "pager.oldCall10"
    ));
    assert!(!cites(
        &pager,
        "https://github.com/big/pager/releases/tag/v11.0.0",
        "pager.oldCall11"
    ));

    // A week later the registry is asked again, once; releases stay one conditional request.
    with_store(&db, async |store| {
        let known = store
            .get_package_repo("npm", "pager")
            .await
            .expect("read")
            .expect("remembered");
        assert_eq!(known.github.as_deref(), Some("big/pager"));
        let stale = ecowatch::store::PackageRepo {
            github: known.github,
            discovered_at: known.discovered_at - chrono::TimeDelta::days(8),
        };
        store
            .put_package_repo("npm", "pager", &stale)
            .await
            .expect("write");
    });
    fake.with(|s| s.seen.clear());
    let (stdout, _) = setup.crawl(&fake);
    assert!(
        stdout.contains("discover: 1 packages, 1 registry requests, 1 projects, 0 errors"),
        "{stdout}"
    );
    let seen = fake.seen();
    let registry: Vec<_> = seen
        .iter()
        .filter(|(_, p, _)| p.starts_with("/npm/"))
        .collect();
    assert_eq!(registry.len(), 1, "{seen:?}");
    assert!(
        !seen.iter().any(|(_, p, _)| p.contains("&page=")),
        "older pages are read on the first crawl only: {seen:?}"
    );
}

#[test]
fn a_registry_that_fails_is_reported_and_the_rest_still_crawled() {
    let fake = Fake::start();
    fake.route(
        "/npm/good/latest",
        json!({"name": "good", "version": "1.0.0", "repository": "https://github.com/good/good"})
            .to_string(),
    );
    fake.route("/npm/broken/latest", "{\"name\": \"broken\", \"repos");
    fake.route("/github/repos/good/good/releases?per_page=100", "[]");
    let setup = Setup::npm_only(&fake, &["good", "broken"]);
    let mut args = vec![
        "crawl",
        "--source",
        "github",
        "--for",
        setup.repo.to_str().expect("utf-8"),
    ];
    let config = setup.config.clone().expect("config");
    args.extend(["--config", config.to_str().expect("utf-8")]);
    let out = setup.ecowatch(&fake, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("discover: 2 packages, 2 registry requests, 1 projects, 1 errors"),
        "{stdout}"
    );
    assert!(stderr.contains("error: discover: npm broken"), "{stderr}");
    assert!(
        fake.seen()
            .iter()
            .any(|(_, p, _)| p == "/github/repos/good/good/releases?per_page=100"),
        "the package that answered is still crawled"
    );
}
