//! `ecowatch crawl --source pages` through the built binary against a loopback vendor site:
//! entries of a changelog page become notices, a second crawl is a 304, redirects are not
//! followed, and without ECOWATCH_ALLOW_PRIVATE_URLS a loopback page is refused by the SSRF
//! guard before any request.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ecowatch::Ecosystem;
use ecowatch::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const PAGE: &str = r#"<!doctype html><html><head><title>Changelog</title>
<script>window.evil = 1</script></head><body><main>
<article id="legacy-keys">
  <h2>Legacy API keys are deprecated</h2>
  <time datetime="2025-06-02">June 2, 2025</time>
  <p>Stop using <code>SUPABASE_ANON_KEY</code>; no action necessary until at least 1st November 2025.</p>
  <p><img src=x onerror="alert(1)"> <a href="javascript:alert(1)">details</a></p>
</article>
<article id="dashboard"><h2>A faster dashboard</h2><p>Shipped.</p></article>
</main></body></html>"#;
const ETAG: &str = "\"v1\"";

#[derive(Default)]
struct Seen {
    requests: Vec<(String, Option<String>)>,
}

type Shared = Arc<Mutex<Seen>>;

async fn changelog(State(seen): State<Shared>, headers: HeaderMap) -> Response {
    let inm = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    seen.lock()
        .unwrap()
        .requests
        .push(("/changelog".into(), inm.clone()));
    if inm.as_deref() == Some(ETAG) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [(header::ETAG, ETAG), (header::CONTENT_TYPE, "text/html")],
        PAGE,
    )
        .into_response()
}

async fn moved(State(seen): State<Shared>) -> Response {
    seen.lock().unwrap().requests.push(("/moved".into(), None));
    (StatusCode::FOUND, [(header::LOCATION, "/changelog")]).into_response()
}

struct Site {
    url: String,
    seen: Shared,
    _runtime: tokio::runtime::Runtime,
}

impl Site {
    fn start() -> Site {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let seen: Shared = Arc::default();
        let app = Router::new()
            .route("/changelog", get(changelog))
            .route("/moved", get(moved))
            .with_state(seen.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await });
        Site {
            url: format!("http://{addr}"),
            seen,
            _runtime: runtime,
        }
    }

    fn requests(&self) -> Vec<(String, Option<String>)> {
        self.seen.lock().unwrap().requests.clone()
    }
}

fn write_feeds(dir: &Path, urls: &[String]) -> PathBuf {
    let feeds = dir.join("feeds");
    std::fs::create_dir_all(&feeds).unwrap();
    let mut text = String::new();
    for url in urls {
        text.push_str(&format!(
            "[[page]]\nurl = \"{url}\"\npackages = [\"npm:@supabase/supabase-js\"]\n\n"
        ));
    }
    std::fs::write(feeds.join("watch.toml"), text).unwrap();
    feeds
}

fn crawl(dir: &Path, feeds: &Path, allow_private: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
    command
        .args(["crawl", "--source", "pages", "--feeds"])
        .arg(feeds)
        .arg("--db")
        .arg(dir.join("ecowatch.db"))
        .env("ECOWATCH_ALLOW_HTTP_URLS", "1")
        .env("ECOWATCH_HTTP_TIMEOUT_MS", "5000")
        .env_remove("ECOWATCH_DATABASE_URL")
        .env_remove("ECOWATCH_DB");
    if allow_private {
        command.env("ECOWATCH_ALLOW_PRIVATE_URLS", "1");
    } else {
        command.env_remove("ECOWATCH_ALLOW_PRIVATE_URLS");
    }
    command.output().expect("the ecowatch binary runs")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn notices(db: &Path) -> Vec<ecowatch::store::Notice> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::open_sqlite(db, false).await.unwrap();
        let found = store
            .notices_for_packages(&[(Ecosystem::Npm, "@supabase/supabase-js".into())])
            .await
            .unwrap();
        store.close().await;
        found
    })
}

#[test]
fn a_vendor_changelog_page_becomes_notices_and_an_unchanged_page_is_a_304() {
    let site = Site::start();
    let dir = tempfile::tempdir().unwrap();
    let feeds = write_feeds(dir.path(), &[format!("{}/changelog", site.url)]);
    let out = crawl(dir.path(), &feeds, true);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("pages: 1 requests, 1 new, 0 updated"),
        "{stdout}"
    );

    let found = notices(&dir.path().join("ecowatch.db"));
    assert_eq!(found.len(), 1, "only the deprecation entry: {found:#?}");
    let n = &found[0];
    assert_eq!(n.kind.as_str(), "deprecation");
    assert_eq!(
        n.references[0]["url"],
        format!("{}/changelog#legacy-keys", site.url)
    );
    assert!(n.patterns.iter().any(|p| p.pattern == "SUPABASE_ANON_KEY"));
    let everything = format!("{n:?}");
    assert!(!everything.contains("onerror") && !everything.contains("window.evil"));
    assert!(
        everything.contains("2025-11-01"),
        "the timeline date: {everything}"
    );

    // Nothing changed upstream: a conditional request, a 304, nothing rewritten.
    let out = crawl(dir.path(), &feeds, true);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0 new, 0 updated, 1 unchanged"), "{stdout}");
    let requests = site.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].1.as_deref(), Some(ETAG));
}

#[test]
fn redirects_are_not_followed_and_private_addresses_are_refused_before_any_request() {
    let site = Site::start();
    let dir = tempfile::tempdir().unwrap();
    let feeds = write_feeds(dir.path(), &[format!("{}/moved", site.url)]);
    let out = crawl(dir.path(), &feeds, true);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("redirects are not followed"),
        "{}",
        text(&out)
    );
    assert_eq!(site.requests().len(), 1, "the Location was not fetched");

    let dir = tempfile::tempdir().unwrap();
    let feeds = write_feeds(dir.path(), &[format!("{}/changelog", site.url)]);
    let out = crawl(dir.path(), &feeds, false);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("loopback"),
        "{}",
        text(&out)
    );
    assert_eq!(site.requests().len(), 1, "no request to a refused address");
    // The refusal is recorded in the page's crawl state.
    let out = Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(["sources", "--format", "json", "--db"])
        .arg(dir.path().join("ecowatch.db"))
        .env_remove("ECOWATCH_DATABASE_URL")
        .env_remove("ECOWATCH_DB")
        .output()
        .unwrap();
    let sources = String::from_utf8_lossy(&out.stdout);
    assert!(
        sources.contains("vendor-page") && sources.contains("loopback"),
        "{sources}"
    );
}
