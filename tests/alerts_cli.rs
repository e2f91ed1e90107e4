//! `ecowatch subscribe`, `rescan` (the outbox) and `deliveries send|list|redrive` through the
//! built binary, against a real SMTP server on loopback: `scripts/services/smtp.sh` (aiosmtpd,
//! one file per accepted message; recipients `tempfail…` get 451, `reject…` get 550), which
//! `scripts/test` starts and announces in ECOWATCH_TEST_SMTP_URL and ECOWATCH_TEST_MAILDIR.
//! Without them the tests skip loudly, except under `CI=true`, where they fail.
//!
//! Every test has its own database and recipient addresses, so they share the one server.

use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2026-06-01";
const DEPRECATED: &str = "import datetime\nnow = datetime.datetime.utcnow()\n";
const TWO_DEPRECATED: &str = "import datetime\nnow = datetime.datetime.utcnow()\nthen = datetime.datetime.utcfromtimestamp(0)\n";

/// The loopback SMTP server, or `None` (skipping) outside CI.
fn smtp() -> Option<(String, PathBuf)> {
    let url = std::env::var("ECOWATCH_TEST_SMTP_URL").ok();
    let dir = std::env::var("ECOWATCH_TEST_MAILDIR").ok();
    match (url, dir) {
        (Some(url), Some(dir)) => Some((url, PathBuf::from(dir))),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "CI=true but ECOWATCH_TEST_SMTP_URL/ECOWATCH_TEST_MAILDIR are not set (run scripts/test)"
            )
        }
        _ => {
            eprintln!(
                "SKIPPED: no SMTP server (run scripts/test, or eval \"$(scripts/services/smtp.sh start)\")"
            );
            None
        }
    }
}

struct World {
    dir: tempfile::TempDir,
    smtp_url: String,
    maildir: PathBuf,
}

impl World {
    fn new() -> Option<World> {
        let (smtp_url, maildir) = smtp()?;
        Some(World {
            dir: tempfile::tempdir().expect("tempdir"),
            smtp_url,
            maildir,
        })
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run_with(&self, args: &[&str], smtp_url: &str) -> Output {
        self.command(args, smtp_url).output().expect("run ecowatch")
    }

    fn command(&self, args: &[&str], smtp_url: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
        command
            .args(args)
            .arg("--db")
            .arg(self.path("ecowatch.db"))
            .env("ECOWATCH_CACHE_DIR", self.path("cache"))
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DB")
            .env("ECOWATCH_SMTP_URL", smtp_url)
            .env("ECOWATCH_SMTP_TLS", "none")
            .env("ECOWATCH_SMTP_FROM", "ecowatch@example.test")
            .env_remove("ECOWATCH_SMTP_USER")
            .env_remove("ECOWATCH_SMTP_PASSWORD")
            .env("ECOWATCH_RELAY_BACKOFF_MS", "0")
            .env("NO_COLOR", "1");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &self.smtp_url)
    }

    fn ok(&self, args: &[&str], code: i32) -> String {
        check(self.run(args), args, code)
    }

    fn repo(&self, rel: &str, file: &str, code: &str) -> PathBuf {
        let dir = self.path(rel);
        let file = dir.join(file);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(dir.join(".python-version"), "3.12\n").expect("write");
        std::fs::write(&file, code).expect("write");
        dir
    }

    fn watch(&self, dir: &Path, name: &str) {
        self.ok(
            &["watch", "add", dir.to_str().expect("utf-8"), "--name", name],
            0,
        );
    }

    fn subscribe(&self, email: &str) {
        self.ok(
            &["subscribe", "--email", email, "--cadence", "immediate"],
            0,
        );
    }

    fn rescan(&self) -> String {
        self.ok(&["rescan", "--now", NOW], 0)
    }

    /// `deliveries list` rows: (id, status, attempts, last error).
    fn deliveries(&self, dead: bool) -> Vec<(String, String, i64, String)> {
        let mut args = vec!["deliveries", "list"];
        if dead {
            args.push("--dead");
        }
        self.ok(&args, 0)
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

    /// The messages the server accepted for `to`.
    fn mailbox(&self, to: &str) -> Vec<Mail> {
        let mut mails = Vec::new();
        for entry in std::fs::read_dir(&self.maildir).expect("maildir") {
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

/// Unique per test run, so tests sharing the server never read each other's mail.
fn address(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}@example.test",
        std::process::id(),
        fastrand::u64(..)
    )
}

/// A parsed message: unfolded headers, and its MIME parts as (content type, decoded body).
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
            let part_headers = unfold(part_head);
            let kind = lookup(&part_headers, "content-type").expect("part type");
            assert_eq!(
                lookup(&part_headers, "content-transfer-encoding").as_deref(),
                Some("base64")
            );
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

#[test]
fn new_findings_are_emailed_once_with_escaped_text() {
    let Some(w) = World::new() else { return };
    // A hostile directory name: markup and a header injection attempt in the finding's path.
    let hostile_dir = "<script>alert(1)<b>\r\nBcc: x@evil";
    let repo = w.repo("repo", &format!("{hostile_dir}/app.py"), TWO_DEPRECATED);
    w.watch(&repo, "api");
    let to = address("dev");
    w.subscribe(&to);
    let listed = w.ok(&["subscriptions"], 0);
    assert!(
        listed.contains(&to) && listed.contains("cadence: immediate"),
        "{listed}"
    );

    let out = w.rescan();
    assert!(out.contains("api: 2 new"), "{out}");
    let sent = w.ok(&["deliveries", "send"], 0);
    assert!(sent.starts_with("2 sent, 0 to retry, 0 dead"), "{sent}");

    let mails = w.mailbox(&to);
    assert_eq!(mails.len(), 2, "one email per new finding");
    let mut ids = Vec::new();
    for mail in &mails {
        assert!(
            !mail
                .raw_headers
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc")),
            "{}",
            mail.raw_headers
        );
        let subject = mail.header("subject").expect("subject");
        assert!(subject.starts_with("[ecowatch] api "), "{subject}");
        assert_eq!(
            mail.header("from").as_deref(),
            Some("ecowatch@example.test")
        );
        let id = mail.header("message-id").expect("message-id");
        assert!(id.starts_with('<') && id.ends_with("@ecowatch>"), "{id}");
        ids.push(id);
        let kinds: Vec<&str> = mail.parts.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds.len(), 2);
        assert!(
            kinds[0].starts_with("text/plain") && kinds[1].starts_with("text/html"),
            "{kinds:?}"
        );
        let (_, text) = &mail.parts[0];
        let (_, html) = &mail.parts[1];
        assert!(
            text.contains("<script>alert(1)<b>"),
            "plain text keeps the text: {text}"
        );
        assert!(
            !html.contains("<script>") && !html.contains("<b>\r"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;b&gt;"), "{html}");
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2, "one Message-ID per delivery");

    // Rescanning and sending again delivers nothing new.
    let out = w.rescan();
    assert!(out.contains("api: 0 new, 2 open"), "{out}");
    let sent = w.ok(&["deliveries", "send"], 0);
    assert!(sent.starts_with("0 sent"), "{sent}");
    assert_eq!(w.mailbox(&to).len(), 2);

    // Fixed, then back: same key, so not emailed twice.
    std::fs::write(repo.join(hostile_dir).join("app.py"), "import datetime\n").expect("fix");
    assert!(w.rescan().contains("2 fixed"));
    std::fs::write(repo.join(hostile_dir).join("app.py"), TWO_DEPRECATED).expect("regress");
    assert!(w.rescan().contains("api: 2 new"));
    w.ok(&["deliveries", "send"], 0);
    assert_eq!(
        w.mailbox(&to).len(),
        2,
        "the same finding is never emailed twice"
    );
    let all = w.deliveries(false);
    assert_eq!(all.len(), 2);
    assert!(
        all.iter()
            .all(|(_, status, attempts, _)| status == "sent" && *attempts == 1),
        "{all:?}"
    );
}

#[test]
fn filters_pick_repository_and_severity_and_unsubscribe_stops_mail() {
    let Some(w) = World::new() else { return };
    w.watch(&w.repo("one", "app.py", DEPRECATED), "one");
    w.watch(&w.repo("two", "app.py", DEPRECATED), "two");
    let only_two = address("two");
    let critical = address("critical");
    let gone = address("gone");
    w.ok(
        &[
            "subscribe",
            "--email",
            &only_two,
            "--repo",
            "two",
            "--cadence",
            "immediate",
        ],
        0,
    );
    w.ok(
        &[
            "subscribe",
            "--email",
            &critical,
            "--min-severity",
            "critical",
            "--cadence",
            "immediate",
        ],
        0,
    );
    let out = w.ok(
        &["subscribe", "--email", &gone, "--cadence", "immediate"],
        0,
    );
    let id = out
        .trim()
        .strip_prefix("subscription ")
        .and_then(|r| r.split(':').next())
        .expect("id")
        .to_string();
    w.ok(&["unsubscribe", &id], 0);
    w.rescan();
    w.ok(&["deliveries", "send"], 0);
    assert_eq!(w.mailbox(&only_two).len(), 1);
    assert!(w.mailbox(&critical).is_empty());
    assert!(w.mailbox(&gone).is_empty());
}

#[test]
fn bad_subscriptions_are_refused() {
    let Some(w) = World::new() else { return };
    for (email, extra) in [
        ("dev@example.test\r\nBcc: x@evil", vec![]),
        ("a@b@c", vec![]),
        ("dev@example.test", vec!["--min-severity", "urgent"]),
        ("dev@example.test", vec!["--repo", "nope"]),
    ] {
        let mut args = vec!["subscribe", "--email", email];
        args.extend(extra);
        check(w.run(&args), &args, 2);
    }
    check(w.run(&["unsubscribe", "999"]), &["unsubscribe"], 2);
    check(w.run(&["deliveries", "redrive", "999"]), &["redrive"], 2);
}

#[test]
fn tempfail_retries_and_reject_goes_dead_until_redriven() {
    let Some(w) = World::new() else { return };
    w.watch(&w.repo("repo", "app.py", DEPRECATED), "api");
    let temp = address("tempfail");
    let reject = address("reject");
    w.subscribe(&temp);
    w.subscribe(&reject);
    w.rescan();
    let out = check(w.run(&["deliveries", "send"]), &["send"], 2);
    assert!(out.starts_with("0 sent, 1 to retry, 1 dead"), "{out}");
    let rows = w.deliveries(false);
    let by_status = |s: &str| rows.iter().find(|r| r.1 == s).cloned().expect(s);
    let pending = by_status("pending");
    assert_eq!(pending.2, 1);
    assert!(pending.3.contains("451"), "{pending:?}");
    let dead = w.deliveries(true);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].2, 1);
    assert!(dead[0].3.contains("550"), "{dead:?}");

    // Backoff is 0 here: the second send retries the 451 at once; the dead one stays dead.
    let out = w.ok(&["deliveries", "send"], 0);
    assert!(out.starts_with("0 sent, 1 to retry, 0 dead"), "{out}");
    let rows = w.deliveries(false);
    assert_eq!(rows.iter().find(|r| r.1 == "pending").map(|r| r.2), Some(2));

    // Out of attempts: the third 451 makes it a dead letter.
    let out = w
        .command(&["deliveries", "send"], &w.smtp_url)
        .env("ECOWATCH_RELAY_MAX_ATTEMPTS", "3")
        .output()
        .expect("run");
    let out = check(out, &["send"], 2);
    assert!(out.starts_with("0 sent, 0 to retry, 1 dead"), "{out}");
    let gave_up = w.deliveries(true);
    let gave_up = gave_up
        .iter()
        .find(|r| r.3.contains("451"))
        .expect("gave up");
    assert_eq!(gave_up.2, 3);
    assert!(
        gave_up.3.contains("gave up after 3 attempts"),
        "{gave_up:?}"
    );

    // Redrive: due again, attempted again (and rejected again).
    w.ok(&["deliveries", "redrive", &dead[0].0], 0);
    assert!(w.deliveries(true).iter().all(|r| r.0 != dead[0].0));
    let out = check(w.run(&["deliveries", "send"]), &["send"], 2);
    assert!(out.contains("1 dead"), "{out}");
    let redriven = w.deliveries(true);
    let redriven = redriven
        .iter()
        .find(|r| r.0 == dead[0].0)
        .expect("dead again");
    assert_eq!(redriven.2, 2, "attempted again after the redrive");
    assert!(redriven.3.contains("550"), "{redriven:?}");
}

#[test]
fn a_down_server_loses_nothing() {
    let Some(w) = World::new() else { return };
    w.watch(&w.repo("repo", "app.py", DEPRECATED), "api");
    let to = address("patient");
    w.subscribe(&to);
    w.rescan();
    // A port nobody listens on: the server is down.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        format!("smtp://127.0.0.1:{port}")
    };
    let out = check(w.run_with(&["deliveries", "send"], &closed), &["send"], 0);
    assert!(out.starts_with("0 sent, 1 to retry, 0 dead"), "{out}");
    let rows = w.deliveries(false);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].1.as_str(), rows[0].2), ("pending", 1));
    assert_ne!(rows[0].3, "-", "the error is recorded");
    assert!(w.mailbox(&to).is_empty());
    // The server is back.
    let out = w.ok(&["deliveries", "send"], 0);
    assert!(out.starts_with("1 sent"), "{out}");
    assert_eq!(w.mailbox(&to).len(), 1);
    assert_eq!(w.deliveries(false)[0].1, "sent");
}

/// Webhook-only installations have no SMTP settings: `send` still runs, and says email waits.
#[test]
fn send_without_smtp_settings_says_email_waits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(["deliveries", "send", "--db"])
        .arg(dir.path().join("db"))
        .env_remove("ECOWATCH_SMTP_URL")
        .env_remove("ECOWATCH_DATABASE_URL")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ECOWATCH_SMTP_URL"));
}

#[test]
fn bad_smtp_settings_are_still_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(["deliveries", "send", "--db"])
        .arg(dir.path().join("db"))
        .env("ECOWATCH_SMTP_URL", "smtp://127.0.0.1:1")
        .env("ECOWATCH_SMTP_TLS", "plain")
        .env_remove("ECOWATCH_DATABASE_URL")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ECOWATCH_SMTP_TLS"));
}
