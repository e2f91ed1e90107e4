//! `ecowatch digest --preview | --send` through the built binary: a weekly subscriber gets one
//! digest email per period over real SMTP on loopback (scripts/services/smtp.sh, announced in
//! ECOWATCH_TEST_SMTP_URL / ECOWATCH_TEST_MAILDIR), and the HTML preview is rendered by headless
//! Chromium (scripts/services/chromium.sh, announced in ECOWATCH_TEST_CHROMIUM) into
//! target/digest-screenshot.png, which is kept as an artifact. Without those services the tests
//! skip loudly, except under `CI=true`, where they fail.

use base64::Engine;
use chrono::{Duration, Utc};
use ecowatch::notify::unsubscribe::UnsubscribeKeys;
use ecowatch::store::{Affected, Notice, NoticeKind, SourceState, Store};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KEYS: &str = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const PUBLIC_URL: &str = "https://ecowatch.example.test";
const DEPRECATED: &str = "import datetime\nnow = datetime.datetime.utcnow()\n";
const HOSTILE: &str = "<script>alert(1)</script>\r\nBcc: x@evil \u{202E}gnp.exe";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn service(vars: &[&str], how: &str) -> Option<Vec<String>> {
    let values: Option<Vec<String>> = vars.iter().map(|v| std::env::var(v).ok()).collect();
    if values.is_none() {
        if in_ci() {
            panic!("CI=true but {vars:?} are not set ({how})");
        }
        eprintln!("SKIPPED: {vars:?} not set ({how})");
    }
    values
}

struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        World {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn db(&self) -> PathBuf {
        self.path("ecowatch.db")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
        command
            .args(args)
            .arg("--db")
            .arg(self.db())
            .current_dir(self.dir.path())
            .env("ECOWATCH_CACHE_DIR", self.path("cache"))
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DB")
            .env_remove("ECOWATCH_SMTP_URL")
            .env_remove("ECOWATCH_SMTP_TLS")
            .env_remove("ECOWATCH_SMTP_FROM")
            .env_remove("ECOWATCH_SMTP_USER")
            .env_remove("ECOWATCH_SMTP_PASSWORD")
            .env_remove("ECOWATCH_PUBLIC_URL")
            .env("ECOWATCH_UNSUBSCRIBE_KEYS", KEYS)
            .env("ECOWATCH_RELAY_BACKOFF_MS", "0")
            .env("NO_COLOR", "1");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run ecowatch")
    }

    fn ok(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "ecowatch {args:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A Python repository using `requests` with `datetime.utcnow()` in `file`.
    fn repo(&self, rel: &str, file: &str) -> PathBuf {
        let dir = self.path(rel);
        let file = dir.join(file);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(dir.join(".python-version"), "3.12\n").expect("write");
        std::fs::write(dir.join("requirements.txt"), "requests==2.32.3\n").expect("write");
        std::fs::write(&file, DEPRECATED).expect("write");
        dir
    }

    /// Two repositories with the same deprecated call (one under a hostile directory name),
    /// a weekly subscriber, a rescan; returns the subscription id.
    fn setup(&self, email: &str) -> i64 {
        let api = self.repo("api", &format!("{HOSTILE}/app.py"));
        let web = self.repo("web", "web.py");
        for (dir, name) in [(&api, "api"), (&web, "web")] {
            self.ok(
                &["watch", "add", dir.to_str().expect("utf-8"), "--name", name],
                0,
            );
        }
        let out = self.ok(&["subscribe", "--email", email], 0);
        let id = out
            .trim()
            .strip_prefix("subscription ")
            .and_then(|r| r.split(':').next())
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("subscription id in {out}"));
        let out = self.ok(&["rescan", "--now", "2026-06-01"], 0);
        assert!(
            out.contains("api: 1 new") && out.contains("web: 1 new"),
            "{out}"
        );
        id
    }

    /// A failing OSV source and a hostile announcement for `requests`, written straight to
    /// the store (what `crawl` would leave behind).
    fn seed_knowledge(&self) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let store = Store::open_sqlite(&self.db(), false).await.expect("store");
            let now = Utc::now();
            store
                .put_source(&SourceState {
                    id: "osv".into(),
                    kind: "osv".into(),
                    last_success_at: Some(now - Duration::days(5)),
                    last_error_at: Some(now - Duration::hours(1)),
                    last_error: Some(format!("HTTP 500 {HOSTILE}")),
                    ..SourceState::default()
                })
                .await
                .expect("source");
            store
                .upsert_notice(&Notice {
                    id: "ANN-requests-1".into(),
                    kind: NoticeKind::Announcement,
                    aliases: vec![],
                    summary: Some(format!("requests 3 drops Python 3.8 {HOSTILE}")),
                    details: None,
                    severity: json!([]),
                    published: Some(now - Duration::hours(2)),
                    modified: now - Duration::hours(2),
                    withdrawn: None,
                    affected: vec![Affected {
                        ecosystem: "PyPI".into(),
                        package: "requests".into(),
                        ranges: json!([]),
                        versions: vec![],
                    }],
                    references: json!([
                        {"type": "WEB", "url": "javascript:alert(1)"},
                        {"type": "WEB", "url": "https://example.test/requests-3"}
                    ]),
                    patterns: vec![],
                    source_id: None,
                    raw: None,
                })
                .await
                .expect("notice");
            store.close().await;
        });
    }

    fn deliveries(&self) -> Vec<String> {
        self.ok(&["deliveries", "list"], 0)
            .lines()
            .map(String::from)
            .collect()
    }
}

fn address(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}@example.test",
        std::process::id(),
        fastrand::u64(..)
    )
}

/// A parsed message: unfolded headers (and the raw header block), and its parts decoded.
struct Mail {
    raw_headers: String,
    headers: Vec<(String, String)>,
    parts: Vec<(String, String)>,
}

impl Mail {
    fn parse(raw: &str) -> Mail {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").expect("headers end");
        let headers = unfold(head);
        let content_type = lookup(&headers, "content-type").expect("content-type");
        assert!(
            content_type.starts_with("multipart/alternative"),
            "{content_type}"
        );
        let boundary = content_type
            .split("boundary=")
            .nth(1)
            .expect("boundary")
            .trim_matches('"')
            .to_string();
        let mut parts = Vec::new();
        for chunk in body.split(&format!("--{boundary}")).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            let (part_head, part_body) = chunk
                .trim_start_matches('\n')
                .split_once("\n\n")
                .expect("part");
            let kind = lookup(&unfold(part_head), "content-type").expect("part type");
            let compact: String = part_body.chars().filter(|c| !c.is_whitespace()).collect();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .expect("base64 body");
            parts.push((kind, String::from_utf8(decoded).expect("utf-8 body")));
        }
        Mail {
            raw_headers: head.to_string(),
            headers,
            parts,
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        lookup(&self.headers, name)
    }
}

fn unfold(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    out
}

fn lookup(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

fn mailbox(maildir: &Path, to: &str) -> Vec<Mail> {
    let mut mails = Vec::new();
    for entry in std::fs::read_dir(maildir).expect("maildir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let mail = Mail::parse(&std::fs::read_to_string(&path).expect("read mail"));
        if mail.header("to").is_some_and(|t| t.contains(to)) {
            mails.push(mail);
        }
    }
    mails
}

/// ecowatch.toml with the SMTP sink under [notify.email] and the public URL under [serve].
fn write_config(w: &World, smtp_url: &str) -> PathBuf {
    let path = w.path("conf/ecowatch.toml");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &path,
        format!(
            "[notify.email]\nsmtp-url = \"{smtp_url}\"\ntls = \"none\"\n\
             from = \"digest@example.test\"\nlist-unsubscribe-mailto = \"unsubscribe@example.test\"\n\n\
             [serve]\npublic-url = \"{PUBLIC_URL}/\"\n"
        ),
    )
    .expect("write config");
    path
}

#[test]
fn weekly_digest_is_sent_once_grouped_with_one_click_unsubscribe() {
    let Some(smtp) = service(
        &["ECOWATCH_TEST_SMTP_URL", "ECOWATCH_TEST_MAILDIR"],
        "run scripts/test, or eval \"$(scripts/services/smtp.sh start)\"",
    ) else {
        return;
    };
    let (smtp_url, maildir) = (&smtp[0], PathBuf::from(&smtp[1]));
    let w = World::new();
    let to = address("weekly");
    let sub_id = w.setup(&to);
    // The weekly subscriber is owed no per-finding email.
    assert!(w.deliveries().is_empty(), "{:?}", w.deliveries());
    w.seed_knowledge();
    let config = write_config(&w, smtp_url);
    let config = config.to_str().expect("utf-8");

    let out = w.ok(&["digest", "--send", "--config", config], 0);
    assert!(
        out.contains(&format!("subscription {sub_id}: digest queued (2 new)")),
        "{out}"
    );
    assert!(out.contains("1 sent, 0 to retry, 0 dead"), "{out}");
    let mails = mailbox(&maildir, &to);
    assert_eq!(mails.len(), 1, "exactly one digest");
    let mail = &mails[0];

    // Headers: one-click unsubscribe with a token that verifies, on one line; nothing injected.
    let list_unsubscribe = mail.header("list-unsubscribe").expect("List-Unsubscribe");
    assert!(
        mail.raw_headers
            .lines()
            .any(|l| l.starts_with("List-Unsubscribe: <https://")),
        "{}",
        mail.raw_headers
    );
    assert_eq!(
        mail.header("list-unsubscribe-post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let prefix = format!("<{PUBLIC_URL}/unsubscribe/");
    assert!(list_unsubscribe.starts_with(&prefix), "{list_unsubscribe}");
    let token = list_unsubscribe[prefix.len()..]
        .split('>')
        .next()
        .expect("token");
    let keys = UnsubscribeKeys::parse(KEYS).expect("keys");
    let (_, verified_sub) = keys.verify(token).expect("the token verifies");
    assert_eq!(verified_sub, sub_id);
    assert!(
        list_unsubscribe.contains(",<mailto:unsubscribe@example.test?subject=unsubscribe%20"),
        "{list_unsubscribe}"
    );
    assert!(
        !mail
            .raw_headers
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc")),
        "{}",
        mail.raw_headers
    );
    let subject = mail.header("subject").expect("subject");
    assert!(
        subject.starts_with("[ecowatch] Weekly digest, week of ") && subject.contains("2 new"),
        "{subject}"
    );
    assert_eq!(mail.header("from").as_deref(), Some("digest@example.test"));

    // Text first, HTML last; grouped across repositories; warnings; announcement; links.
    let kinds: Vec<&str> = mail.parts.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds[0].starts_with("text/plain") && kinds[1].starts_with("text/html"));
    let (text, html) = (&mail.parts[0].1, &mail.parts[1].1);
    for body in [text, html] {
        assert!(body.contains("2 repositories, 2 files"), "{body}");
        assert!(body.contains("OSV data stale since"), "{body}");
        assert!(body.contains("ANN-requests-1"), "{body}");
        assert!(
            body.contains(&format!("{PUBLIC_URL}/unsubscribe/{token}")),
            "{body}"
        );
        assert!(!body.contains('\u{202E}'), "bidi overrides are stripped");
    }
    assert!(text.contains("NEW SINCE YOUR LAST DIGEST"), "{text}");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("href=\"https://example.test/requests-3\""),
        "{html}"
    );

    // Running again in the same week queues nothing and sends nothing.
    let out = w.ok(&["digest", "--send", "--config", config], 0);
    assert!(
        out.contains("already queued") && out.contains("0 sent"),
        "{out}"
    );
    assert_eq!(mailbox(&maildir, &to).len(), 1);

    // Next week, nothing new happened: no digest.
    let next_week = (Utc::now() + Duration::days(8)).to_rfc3339();
    let out = w.ok(
        &["digest", "--send", "--config", config, "--now", &next_week],
        0,
    );
    assert!(out.contains("nothing new, no digest"), "{out}");
    assert_eq!(mailbox(&maildir, &to).len(), 1);
    assert_eq!(w.deliveries().len(), 1);
}

#[test]
fn preview_prints_without_sending_and_config_errors_name_the_key() {
    let w = World::new();
    let to = address("preview");
    let sub_id = w.setup(&to);
    w.seed_knowledge();
    for format in ["text", "markdown", "html"] {
        let out = w.ok(
            &[
                "digest",
                "--preview",
                "--subscription",
                &sub_id.to_string(),
                "--format",
                format,
            ],
            0,
        );
        assert!(out.contains("2 repositories, 2 files"), "{format}: {out}");
        assert!(out.contains("OSV data stale since"), "{format}: {out}");
        // Markup arrives escaped (a backslash in Markdown, entities in HTML).
        if format != "text" {
            let escaped = out
                .match_indices("<script")
                .all(|(i, _)| format == "markdown" && out[..i].ends_with('\\'));
            assert!(escaped, "{format}: {out}");
        }
    }
    assert!(w.deliveries().is_empty(), "preview queues nothing");

    std::fs::write(
        w.path("ecowatch.toml"),
        "[notify.email]\nsmtp-url = \"smtp://127.0.0.1:1\"\nfrom = \"a@b.test\"\ntls = \"plain\"\n",
    )
    .expect("write");
    let out = w.run(&["digest", "--send"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ecowatch.toml` [notify.email] tls: must be"),
        "{stderr}"
    );
    let out = w.run(&["digest", "--preview", "--subscription", "999"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn html_digest_renders_in_headless_chromium() {
    let Some(chromium) = service(
        &["ECOWATCH_TEST_CHROMIUM"],
        "run scripts/test, or eval \"$(scripts/services/chromium.sh)\"",
    ) else {
        return;
    };
    let w = World::new();
    let sub_id = w.setup(&address("shot"));
    w.seed_knowledge();
    let html = w.ok(
        &[
            "digest",
            "--preview",
            "--subscription",
            &sub_id.to_string(),
            "--format",
            "html",
        ],
        0,
    );
    let page = w.path("digest.html");
    std::fs::write(&page, &html).expect("write html");
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).expect("target dir");
    let shot = target.join("digest-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let out = Command::new(&chromium[0])
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", w.path("chromium-profile").display()),
            &format!("--screenshot={}", shot.display()),
            "--window-size=800,1400",
            &format!("file://{}", page.display()),
        ])
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).expect("screenshot exists"),
    ));
    let mut reader = decoder.read_info().expect("png header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("buffer size")];
    let frame = reader.next_frame(&mut pixels).expect("png frame");
    assert_eq!((frame.width, frame.height), (800, 1400));
    let channels = frame.color_type.samples();
    assert!(channels >= 3, "{:?}", frame.color_type);
    let pixels = &pixels[..frame.buffer_size()];
    let mut non_white = 0usize;
    let mut brand = 0usize;
    for px in pixels.chunks_exact(channels) {
        let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
        if r < 245 || g < 245 || b < 245 {
            non_white += 1;
        }
        // The header band, #0b5cad.
        if (r - 0x0b).abs() <= 6 && (g - 0x5c).abs() <= 6 && (b - 0xad).abs() <= 6 {
            brand += 1;
        }
    }
    let total = pixels.len() / channels;
    assert!(
        non_white > total / 20,
        "mostly blank: {non_white} of {total}"
    );
    assert!(brand > 20_000, "the header band is missing: {brand} pixels");
}
