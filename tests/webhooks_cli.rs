//! Webhook subscriptions (`subscribe --webhook URL --kind slack|discord|json`) and their
//! delivery by `deliveries send`, through the built binary, against a loopback receiver:
//! tests/support/webhook_receiver.py (Python's http.server), which logs every request and
//! verifies Standard Webhooks signatures with Python's hmac, independently of our signing code.
//!
//! The 410 test also needs the SMTP sink (`scripts/services/smtp.sh`, announced in
//! ECOWATCH_TEST_SMTP_URL / ECOWATCH_TEST_MAILDIR); without it that test skips loudly, except
//! under `CI=true`, where it fails.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const NOW: &str = "2026-06-01";
const DEPRECATED: &str = "import datetime\nnow = datetime.datetime.utcnow()\n";
const TWO_DEPRECATED: &str = "import datetime\nnow = datetime.datetime.utcnow()\nthen = datetime.datetime.utcfromtimestamp(0)\n";
/// A directory name carrying every kind of hostile text a finding's location can hold.
const HOSTILE_DIR: &str = "<script>alert(1)</script><img src=x onerror=alert(1)>[x](javascript:alert(1)) \u{202e}gpj.exe @everyone @here <!channel>\r\nBcc: x@evil";

/// The loopback receiver, killed when dropped.
struct Receiver {
    child: Child,
    port: u16,
    log: PathBuf,
    secret: PathBuf,
    mode: PathBuf,
}

impl Receiver {
    fn start(dir: &Path) -> Receiver {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/webhook_receiver.py");
        let log = dir.join("requests.jsonl");
        let secret = dir.join("secret.txt");
        let mode = dir.join("mode.txt");
        let mut child = Command::new("python3")
            .arg(script)
            .args([&log, &secret, &mode])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tests/support/webhook_receiver.py");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("port line");
        let port = first.trim().parse().expect("port");
        Receiver {
            child,
            port,
            log,
            secret,
            mode,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request so far, in arrival order.
    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line"))
            .collect()
    }

    fn requests_to(&self, path: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["path"] == path)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct World {
    dir: tempfile::TempDir,
    receiver: Receiver,
    smtp: Option<(String, PathBuf)>,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let receiver = Receiver::start(dir.path());
        World {
            dir,
            receiver,
            smtp: None,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `ecowatch ARGS` with this world's database, loopback receivers allowed, no SMTP unless
    /// the world has the sink, and no backoff.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
        command
            .args(args)
            .arg("--db")
            .arg(self.path("ecowatch.db"))
            .env("ECOWATCH_CACHE_DIR", self.path("cache"))
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DB")
            .env_remove("ECOWATCH_SMTP_URL")
            .env_remove("ECOWATCH_SMTP_USER")
            .env_remove("ECOWATCH_SMTP_PASSWORD")
            .env_remove("ECOWATCH_WEBHOOK_TIMEOUT_MS")
            .env("ECOWATCH_ALLOW_PRIVATE_URLS", "1")
            .env("ECOWATCH_ALLOW_HTTP_URLS", "1")
            .env("ECOWATCH_RELAY_BACKOFF_MS", "0")
            .env("NO_COLOR", "1");
        if let Some((url, _)) = &self.smtp {
            command
                .env("ECOWATCH_SMTP_URL", url)
                .env("ECOWATCH_SMTP_TLS", "none")
                .env("ECOWATCH_SMTP_FROM", "ecowatch@example.test");
        }
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run ecowatch")
    }

    fn ok(&self, args: &[&str], code: i32) -> String {
        check(self.run(args), args, code)
    }

    /// A watched repository `name` with `code` at `file`, for `tenant`.
    fn watch(&self, name: &str, file: &str, code: &str, tenant: &str) -> PathBuf {
        let dir = self.path(&format!("repos/{tenant}/{name}"));
        let file = dir.join(file);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(dir.join(".python-version"), "3.12\n").expect("write");
        std::fs::write(&file, code).expect("write");
        self.ok(
            &[
                "watch",
                "add",
                dir.to_str().expect("utf-8"),
                "--name",
                name,
                "--tenant",
                tenant,
            ],
            0,
        );
        dir
    }

    fn rescan(&self, tenant: &str) -> String {
        self.ok(&["rescan", "--now", NOW, "--tenant", tenant], 0)
    }

    /// Subscribes a webhook; returns (subscription id, signing secret for json).
    fn subscribe(&self, path: &str, kind: &str, tenant: &str) -> (String, Option<String>) {
        let url = self.receiver.url(path);
        let out = self.ok(
            &[
                "subscribe",
                "--webhook",
                &url,
                "--kind",
                kind,
                "--cadence",
                "immediate",
                "--tenant",
                tenant,
            ],
            0,
        );
        let id = out
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("subscription "))
            .and_then(|r| r.split(':').next())
            .expect("id")
            .to_string();
        let secret = out
            .lines()
            .find(|l| l.starts_with("whsec_"))
            .map(str::to_string);
        (id, secret)
    }

    fn send(&self, code: i32) -> String {
        self.ok(&["deliveries", "send"], code)
    }

    /// `deliveries list` rows: (id, status, attempts, last error).
    fn deliveries(&self, tenant: &str) -> Vec<(String, String, i64, String)> {
        self.ok(&["deliveries", "list", "--tenant", tenant], 0)
            .lines()
            .map(|line| {
                let cols: Vec<&str> = line.splitn(4, '\t').collect();
                assert_eq!(cols.len(), 4, "{line}");
                (
                    cols[0].to_string(),
                    cols[1].to_string(),
                    cols[2].parse().expect("attempts"),
                    cols[3].to_string(),
                )
            })
            .collect()
    }
}

fn check(out: Output, args: &[&str], code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "ecowatch {args:?}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn body(request: &Value) -> Value {
    serde_json::from_str(request["body"].as_str().expect("body")).expect("JSON body")
}

#[test]
fn json_webhooks_are_signed_and_keep_their_id_across_retries() {
    let w = World::new();
    w.watch("api", "app.py", DEPRECATED, "default");
    let (_, secret) = w.subscribe("/fail-once", "json", "default");
    let secret = secret.expect("the signing secret is printed once");
    assert!(secret.starts_with("whsec_"), "{secret}");
    std::fs::write(&w.receiver.secret, &secret).expect("hand the secret to the receiver");
    let listed = w.ok(&["subscriptions"], 0);
    assert!(listed.contains("/fail-once"), "{listed}");
    assert!(!listed.contains(&secret[6..]), "the secret is never listed");

    assert!(w.rescan("default").contains("api: 1 new"));
    let out = w.send(0);
    assert!(out.starts_with("0 sent, 1 to retry, 0 dead"), "{out}");
    let out = w.send(0);
    assert!(out.starts_with("1 sent, 0 to retry, 0 dead"), "{out}");
    assert!(w.send(0).starts_with("0 sent"));

    let requests = w.receiver.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    for request in &requests {
        assert_eq!(
            request["verified"], true,
            "signature checked by Python: {request}"
        );
        assert_eq!(request["headers"]["content-type"], "application/json");
        let id = request["headers"]["webhook-id"]
            .as_str()
            .expect("webhook-id");
        assert!(id.starts_with("finding:"), "{id}");
        let signature = request["headers"]["webhook-signature"]
            .as_str()
            .expect("sig");
        assert!(signature.starts_with("v1,"), "{signature}");
        let event = body(request);
        assert_eq!(event["type"], "ecowatch.finding");
        assert_eq!(event["data"]["repo"], "api");
        assert_eq!(event["data"]["path"], "app.py");
    }
    assert_eq!(
        requests[0]["headers"]["webhook-id"], requests[1]["headers"]["webhook-id"],
        "the retry carries the same webhook-id"
    );
    let rows = w.deliveries("default");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].1.as_str(), rows[0].2), ("sent", 2));

    // A wrong secret fails the receiver's check: the verification is real.
    std::fs::write(
        &w.receiver.secret,
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    )
    .expect("write");
    // (Another file name: a finding's key is per subscription and fingerprint.)
    w.watch("web", "web.py", DEPRECATED, "default");
    assert!(w.rescan("default").contains("web: 1 new"));
    w.send(0);
    w.send(0);
    let last = w.receiver.requests().pop().expect("request");
    assert_eq!(last["verified"], false);
}

#[test]
fn a_failing_webhook_goes_dead_and_redrive_delivers_it() {
    let w = World::new();
    w.watch("api", "app.py", DEPRECATED, "default");
    let (_, secret) = w.subscribe("/switch", "json", "default");
    std::fs::write(&w.receiver.secret, secret.expect("secret")).expect("write");
    std::fs::write(&w.receiver.mode, "fail").expect("write");
    w.rescan("default");
    let run = |code: i32| {
        let out = w
            .command(&["deliveries", "send"])
            .env("ECOWATCH_RELAY_MAX_ATTEMPTS", "3")
            .output()
            .expect("run");
        check(out, &["deliveries", "send"], code)
    };
    assert!(run(0).starts_with("0 sent, 1 to retry"));
    assert!(run(0).starts_with("0 sent, 1 to retry"));
    let out = run(2);
    assert!(out.starts_with("0 sent, 0 to retry, 1 dead"), "{out}");
    let rows = w.deliveries("default");
    assert_eq!(rows[0].1, "dead");
    assert!(
        rows[0].3.contains("gave up after 3 attempts") && rows[0].3.contains("HTTP 500"),
        "{rows:?}"
    );

    std::fs::write(&w.receiver.mode, "ok").expect("write");
    w.ok(&["deliveries", "redrive", &rows[0].0], 0);
    let out = run(0);
    assert!(out.starts_with("1 sent"), "{out}");
    let requests = w.receiver.requests();
    assert_eq!(requests.len(), 4);
    let ids: Vec<&Value> = requests
        .iter()
        .map(|r| &r["headers"]["webhook-id"])
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one webhook-id: {ids:?}"
    );
    assert!(requests.iter().all(|r| r["verified"] == true));
    assert_eq!(w.deliveries("default")[0].1, "sent");
}

#[test]
fn redirects_archived_slack_channels_and_timeouts_are_told_apart() {
    let w = World::new();
    w.watch("api", "app.py", DEPRECATED, "default");
    let (_, secret) = w.subscribe("/redirect", "json", "default");
    std::fs::write(&w.receiver.secret, secret.expect("secret")).expect("write");
    w.subscribe("/slack-archived", "slack", "default");
    w.subscribe("/hang", "discord", "default");
    w.rescan("default");
    let out = w
        .command(&["deliveries", "send"])
        .env("ECOWATCH_WEBHOOK_TIMEOUT_MS", "300")
        .output()
        .expect("run");
    let out = check(out, &["send"], 2);
    assert!(out.starts_with("0 sent, 1 to retry, 2 dead"), "{out}");
    let rows = w.deliveries("default");
    let error_of = |needle: &str| {
        rows.iter()
            .find(|r| r.3.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in {rows:?}"))
            .clone()
    };
    assert_eq!(error_of("HTTP 302: redirects are not followed").1, "dead");
    assert_eq!(error_of("Slack says channel_is_archived").1, "dead");
    assert_eq!(error_of("no answer within").1, "pending");
    // The redirect was not followed: nothing ever asked for /ok.
    let paths: Vec<String> = w
        .receiver
        .requests()
        .iter()
        .map(|r| r["path"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(!paths.iter().any(|p| p.starts_with("/ok")), "{paths:?}");
    assert_eq!(w.receiver.requests_to("/redirect").len(), 1);
    // No error message carries the webhook's full URL.
    for row in &rows {
        assert!(!row.3.contains("127.0.0.1"), "{row:?}");
    }
}

#[test]
fn hostile_text_arrives_inert_in_every_channel_and_send_covers_all_tenants() {
    let w = World::new();
    w.watch(
        "api",
        &format!("{HOSTILE_DIR}/app.py"),
        DEPRECATED,
        "default",
    );
    w.watch("shop", "app.py", DEPRECATED, "acme");
    let (_, secret) = w.subscribe("/ok?json", "json", "default");
    std::fs::write(&w.receiver.secret, secret.expect("secret")).expect("write");
    w.subscribe("/ok?slack", "slack", "default");
    w.subscribe("/ok?discord", "discord", "default");
    w.subscribe("/ok?acme", "slack", "acme");
    w.rescan("default");
    w.rescan("acme");
    // No SMTP settings at all, no --tenant: every tenant's webhooks go.
    let out = w.run(&["deliveries", "send"]);
    let stdout = check(out, &["send"], 0);
    assert!(stdout.starts_with("4 sent, 0 to retry, 0 dead"), "{stdout}");

    let slack = w.receiver.requests_to("/ok?slack");
    assert_eq!(slack.len(), 1);
    let text = body(&slack[0])["text"].as_str().expect("text").to_string();
    assert!(
        text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{text}"
    );
    assert!(
        text.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{text}"
    );
    assert!(text.contains("&lt;!channel&gt;"), "{text}");
    assert_eq!(body(&slack[0])["unfurl_links"], false);

    let discord = w.receiver.requests_to("/ok?discord");
    assert_eq!(discord.len(), 1);
    let message = body(&discord[0]);
    assert_eq!(
        message["allowed_mentions"],
        serde_json::json!({"parse": []})
    );
    let content = message["content"].as_str().expect("content").to_string();
    assert!(content.chars().count() <= 2000);
    assert!(
        content.contains(r"\[x\]\(javascript\:alert\(1\)\)"),
        "{content}"
    );
    assert!(content.contains(r"\<script\>"), "{content}");

    assert!(!text.contains('<'), "slack: {text}");
    assert!(
        content
            .match_indices('<')
            .all(|(i, _)| content[..i].ends_with('\\')),
        "discord: every < is escaped: {content}"
    );
    for (channel, text) in [("slack", &text), ("discord", &content)] {
        assert!(
            !text.contains('\u{202e}'),
            "{channel}: bidi override kept: {text}"
        );
        assert!(!text.contains('\r'), "{channel}: {text}");
        assert!(!text.contains("\nBcc"), "{channel}: {text}");
        assert!(
            !text.contains("@everyone") && !text.contains("@here"),
            "{channel}: {text}"
        );
        assert!(text.contains("gpj.exe"), "{channel}: {text}");
    }

    // JSON carries the text as data (escaped by JSON itself), signed.
    let json = w.receiver.requests_to("/ok?json");
    assert_eq!(json.len(), 1);
    assert_eq!(json[0]["verified"], true);
    let path = body(&json[0])["data"]["path"]
        .as_str()
        .expect("path")
        .to_string();
    assert!(path.starts_with("<script>alert(1)</script>"), "{path}");

    // The other tenant's alert went to its own webhook.
    let acme = w.receiver.requests_to("/ok?acme");
    assert_eq!(acme.len(), 1);
    assert!(
        body(&acme[0])["text"]
            .as_str()
            .expect("text")
            .contains("shop")
    );
    assert!(w.send(0).starts_with("0 sent"));
}

#[test]
fn private_and_plain_http_urls_are_refused_unless_allowed() {
    let w = World::new();
    for (url, allow_http, needle) in [
        (
            "http://127.0.0.1:9/hook",
            "1",
            "ECOWATCH_ALLOW_PRIVATE_URLS",
        ),
        ("http://2130706433/hook", "1", "loopback"),
        ("http://[::ffff:10.0.0.1]/hook", "1", "private address"),
        ("http://169.254.169.254/latest", "1", "metadata"),
        ("http://127.0.0.1:9/hook", "0", "ECOWATCH_ALLOW_HTTP_URLS"),
        ("https://user@8.8.8.8/hook", "1", "user name or password"),
        ("file:///etc/passwd", "1", "https"),
    ] {
        let out = w
            .command(&["subscribe", "--webhook", url, "--kind", "json"])
            .env_remove("ECOWATCH_ALLOW_PRIVATE_URLS")
            .env("ECOWATCH_ALLOW_HTTP_URLS", allow_http)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--webhook refused"), "{url}: {stderr}");
        assert!(stderr.contains(needle), "{url}: {stderr}");
        assert!(!stderr.contains("/hook"), "no URL path in errors: {stderr}");
    }
    // --kind is required with --webhook.
    check(
        w.run(&["subscribe", "--webhook", "https://8.8.8.8/"]),
        &["subscribe"],
        2,
    );
    assert!(w.ok(&["subscriptions"], 0).is_empty());

    // Allowed when saved, refused again when sent without the opt-in.
    w.watch("api", "app.py", DEPRECATED, "default");
    w.subscribe("/ok", "slack", "default");
    let listed = w.ok(&["subscriptions"], 0);
    assert!(
        listed.contains(&format!("http://127.0.0.1:{}/…", w.receiver.port)),
        "{listed}"
    );
    assert!(!listed.contains("/ok"), "Slack paths are secrets: {listed}");
    w.rescan("default");
    let out = w
        .command(&["deliveries", "send"])
        .env_remove("ECOWATCH_ALLOW_PRIVATE_URLS")
        .output()
        .expect("run");
    let out = check(out, &["send"], 2);
    assert!(out.contains("1 dead"), "{out}");
    assert!(w.deliveries("default")[0].3.contains("refused"));
    assert!(w.receiver.requests().is_empty());
}

#[test]
fn gone_disables_the_subscription_and_tells_the_tenant_once() {
    let Some(smtp) = smtp() else { return };
    let mut w = World::new();
    w.smtp = Some(smtp);
    let to = format!(
        "owner-{}-{}@example.test",
        std::process::id(),
        fastrand::u64(..)
    );
    let repo = w.watch("api", "app.py", TWO_DEPRECATED, "default");
    w.ok(&["subscribe", "--email", &to, "--cadence", "immediate"], 0);
    let (gone_id, secret) = w.subscribe("/gone", "json", "default");
    std::fs::write(&w.receiver.secret, secret.expect("secret")).expect("write");
    assert!(w.rescan("default").contains("api: 2 new"));

    let out = w.send(2);
    assert!(out.contains("1 subscription(s) disabled"), "{out}");
    assert_eq!(
        w.receiver.requests_to("/gone").len(),
        1,
        "never sent to again"
    );
    let rows = w.deliveries("default");
    let dead: Vec<_> = rows.iter().filter(|r| r.1 == "dead").collect();
    assert_eq!(dead.len(), 2, "{rows:?}");
    assert!(
        dead.iter()
            .all(|r| r.3.contains("endpoint gone (HTTP 410)")),
        "{rows:?}"
    );
    let listed = w.ok(&["subscriptions"], 0);
    let line = listed
        .lines()
        .find(|l| l.starts_with(&format!("{gone_id}\t")))
        .expect("listed");
    assert!(line.contains("DISABLED") && line.contains("410"), "{line}");

    // The notice was queued in the same transaction; the next run sends it.
    assert!(w.send(0).starts_with("1 sent"));
    // New findings later: the disabled endpoint is not called, the tenant not told again.
    std::fs::write(repo.join("more.py"), DEPRECATED).expect("write");
    w.rescan("default");
    let out = w.send(0);
    assert!(out.starts_with("1 sent"), "{out}");
    assert!(w.send(0).starts_with("0 sent"));
    assert_eq!(w.receiver.requests_to("/gone").len(), 1);

    let mails = mailbox(&w, &to);
    let notices: Vec<&String> = mails.iter().filter(|m| m.contains("disabled")).collect();
    assert_eq!(notices.len(), 1, "exactly one notice");
    assert_eq!(mails.len(), 4, "3 alerts and 1 notice");
    assert!(
        !notices[0].contains("/gone"),
        "the URL path stays out of the mail"
    );
}

/// The loopback SMTP server, or `None` (skipping) outside CI.
fn smtp() -> Option<(String, PathBuf)> {
    let url = std::env::var("ECOWATCH_TEST_SMTP_URL").ok();
    let dir = std::env::var("ECOWATCH_TEST_MAILDIR").ok();
    match (url, dir) {
        (Some(url), Some(dir)) => Some((url, PathBuf::from(dir))),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but ECOWATCH_TEST_SMTP_URL/ECOWATCH_TEST_MAILDIR are not set")
        }
        _ => {
            eprintln!("SKIPPED: no SMTP server (run scripts/test)");
            None
        }
    }
}

/// The raw messages the sink accepted for `to` (headers and base64 parts decoded enough to
/// search: the subject is in the headers).
fn mailbox(w: &World, to: &str) -> Vec<String> {
    let (_, maildir) = w.smtp.as_ref().expect("smtp");
    let mut mails = Vec::new();
    for entry in std::fs::read_dir(maildir).expect("maildir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let raw = std::fs::read_to_string(&path).expect("read mail");
        let head = raw
            .split("\r\n\r\n")
            .next()
            .unwrap_or(&raw)
            .replace("\r\n", "\n");
        if head
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("to:") && l.contains(to))
        {
            mails.push(head);
        }
    }
    mails
}
