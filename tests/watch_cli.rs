//! `ecowatch watch`, `rescan` and `findings` through the built binary, on a temp SQLite file and
//! a temp cache directory. Git repositories are local `file://` ones: no network.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2026-06-01";
const DEPRECATED: &str = "import datetime\nnow = datetime.datetime.utcnow()\n";
const MODERN: &str = "import datetime\nnow = datetime.datetime.now(datetime.UTC)\n";

/// One test's world: a database, a cache and a place for repositories.
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

    fn cache(&self) -> PathBuf {
        self.path("cache")
    }

    /// Runs ecowatch with this world's database and cache, and no inherited store settings.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ecowatch"))
            .args(args)
            .arg("--db")
            .arg(self.path("ecowatch.db"))
            .env("ECOWATCH_CACHE_DIR", self.cache())
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DB")
            .env("NO_COLOR", "1")
            .output()
            .expect("run ecowatch")
    }

    /// Runs and expects exit code `code`; returns stdout.
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

    fn rescan(&self, extra: &[&str]) -> String {
        let mut args = vec!["rescan", "--now", NOW];
        args.extend_from_slice(extra);
        self.ok(&args, 0)
    }

    fn findings(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["findings", "--format", "json"];
        args.extend_from_slice(extra);
        let text = self.ok(&args, 0);
        let parsed: Value = serde_json::from_str(&text).expect("findings JSON");
        parsed.as_array().cloned().expect("a JSON array")
    }

    /// A directory with a Python 3.12 project, `app.py` holding `code`.
    fn python_repo(&self, rel: &str, code: &str) -> PathBuf {
        let dir = self.path(rel);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(".python-version"), "3.12\n").expect("write");
        std::fs::write(dir.join("app.py"), code).expect("write");
        dir
    }

    /// Like [`World::python_repo`], committed to a git repository.
    fn git_repo(&self, rel: &str, code: &str) -> PathBuf {
        let dir = self.python_repo(rel, code);
        git(&dir, &["init", "--quiet", "--initial-branch=main"]);
        commit(&dir, "init");
        dir
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn commit(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "--quiet", "-m", message]);
}

fn file_url(dir: &Path) -> String {
    format!("file://{}", dir.display())
}

fn one<'a>(findings: &'a [Value], repo: &str) -> &'a Value {
    let mine: Vec<&Value> = findings.iter().filter(|f| f["repo"] == repo).collect();
    assert_eq!(mine.len(), 1, "{repo}: {findings:#?}");
    mine[0]
}

#[test]
fn add_list_duplicate_and_remove() {
    let w = World::new();
    let local = w.python_repo("work/service", MODERN);
    let origin = w.git_repo("origin/tool.git", MODERN);

    let out = w.ok(&["watch", "add", local.to_str().expect("utf-8")], 0);
    assert!(out.contains("watching service"), "{out}");
    w.ok(&["watch", "add", &file_url(&origin)], 0);
    assert!(
        w.cache().join("repos/default/tool/app.py").is_file(),
        "a git URL is cloned into the cache"
    );

    let listed = w.ok(&["watch", "list"], 0);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!("service\t{}", local.display()),
            format!("tool\t{}", file_url(&origin)),
        ]
    );

    let dup = w.run(&["watch", "add", &file_url(&origin)]);
    assert_eq!(dup.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&dup.stderr).contains("already watches a repository named `tool`"),
        "{}",
        String::from_utf8_lossy(&dup.stderr)
    );
    let same_path = w.run(&[
        "watch",
        "add",
        local.to_str().expect("utf-8"),
        "--name",
        "x",
    ]);
    assert_eq!(same_path.status.code(), Some(2), "the same path twice");

    w.ok(&["watch", "remove", "tool"], 0);
    assert!(!w.cache().join("repos/default/tool").exists());
    assert_eq!(
        w.ok(&["watch", "list"], 0),
        format!("service\t{}\n", local.display())
    );
    let missing = w.run(&["watch", "remove", "tool"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no watched repository `tool`"));
}

#[test]
fn bad_sources_and_names_are_clear_errors() {
    let w = World::new();
    let file = w.path("plain.txt");
    std::fs::write(&file, "x").expect("write");
    for (args, needle) in [
        (
            vec!["watch", "add", "/nonexistent/dir"],
            "is not a directory",
        ),
        (
            vec!["watch", "add", file.to_str().expect("utf-8")],
            "is not a directory",
        ),
        (
            vec![
                "watch",
                "add",
                w.path("").to_str().expect("utf-8"),
                "--name",
                "a/b",
            ],
            "not a valid name",
        ),
        (
            vec!["watch", "list", "--tenant", "../x"],
            "not a valid name",
        ),
    ] {
        let out = w.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn clone_failures_never_print_credentials() {
    let w = World::new();
    let url = format!(
        "file://bob:hunter2@localhost{}",
        w.path("missing.git").display()
    );
    let out = w.run(&["watch", "add", &url]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(!all.contains("hunter2"), "{all}");
    assert!(!all.contains("bob"), "{all}");
    assert!(w.ok(&["watch", "list"], 0).is_empty(), "nothing stored");
}

#[test]
fn rescan_moves_findings_through_new_open_fixed_and_new_again() {
    let w = World::new();
    let local = w.python_repo("service", DEPRECATED);
    let origin = w.git_repo("origin/tool", DEPRECATED);
    w.ok(&["watch", "add", local.to_str().expect("utf-8")], 0);
    w.ok(&["watch", "add", &file_url(&origin)], 0);

    let first = w.rescan(&[]);
    assert_eq!(
        first,
        "service: 1 new, 0 open, 0 fixed\ntool: 1 new, 0 open, 0 fixed\n"
    );
    let seen = w.findings(&[]);
    assert_eq!(seen.len(), 2);
    for f in &seen {
        assert_eq!(f["status"], "new");
        assert_eq!(f["rule"], "python/datetime-utcnow");
        assert_eq!(f["path"], "app.py");
        assert_eq!(f["line"], 2);
        assert_eq!(f["first_seen"], f["last_seen"]);
    }
    let first_seen = one(&seen, "tool")["first_seen"].clone();

    assert_eq!(
        w.rescan(&[]),
        "service: 0 new, 1 open, 0 fixed\ntool: 0 new, 1 open, 0 fixed\n"
    );
    let again = w.findings(&["--repo", "tool"]);
    let tool = one(&again, "tool");
    assert_eq!(tool["status"], "open");
    assert_eq!(tool["first_seen"], first_seen, "first_seen is kept");
    assert_ne!(tool["last_seen"], first_seen, "last_seen moves");

    // Fix both: the local file in place, the git repository by a commit the rescan fetches.
    std::fs::write(local.join("app.py"), MODERN).expect("write");
    std::fs::write(origin.join("app.py"), MODERN).expect("write");
    commit(&origin, "fix");
    assert_eq!(
        w.rescan(&[]),
        "service: 0 new, 0 open, 1 fixed\ntool: 0 new, 0 open, 1 fixed\n"
    );
    assert_eq!(w.findings(&["--status", "fixed"]).len(), 2);
    assert!(w.findings(&["--status", "open"]).is_empty());

    // A fixed finding that comes back is new again, with its original first_seen.
    std::fs::write(origin.join("app.py"), DEPRECATED).expect("write");
    commit(&origin, "regress");
    assert_eq!(
        w.rescan(&["--repo", "tool"]),
        "tool: 1 new, 0 open, 0 fixed\n"
    );
    let back = w.findings(&["--repo", "tool"]);
    assert_eq!(one(&back, "tool")["status"], "new");
    assert_eq!(one(&back, "tool")["first_seen"], first_seen);
    let service = w.findings(&["--repo", "service"]);
    assert_eq!(
        one(&service, "service")["status"],
        "fixed",
        "--repo scans only that repository"
    );

    let text = w.ok(&["findings", "--status", "new"], 0);
    assert!(
        text.starts_with("new    low      tool python/datetime-utcnow app.py:2"),
        "{text}"
    );
}

#[test]
fn a_failing_repository_is_reported_and_the_others_still_run() {
    let w = World::new();
    let gone = w.python_repo("gone", DEPRECATED);
    let fine = w.python_repo("fine", DEPRECATED);
    w.ok(&["watch", "add", gone.to_str().expect("utf-8")], 0);
    w.ok(&["watch", "add", fine.to_str().expect("utf-8")], 0);
    std::fs::remove_dir_all(&gone).expect("rm");

    let out = w.run(&["rescan", "--now", NOW]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, "fine: 1 new, 0 open, 0 fixed\n");
    assert!(
        stderr.contains("gone: failed:") && stderr.contains("no longer a directory"),
        "{stderr}"
    );

    let unknown = w.run(&["rescan", "--repo", "nope", "--now", NOW]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no watched repository `nope`"));
}

#[test]
fn tenants_do_not_see_or_touch_each_others_findings() {
    let w = World::new();
    let repo = w.python_repo("shared", DEPRECATED);
    let path = repo.to_str().expect("utf-8");
    w.ok(&["watch", "add", path, "--tenant", "a"], 0);
    w.rescan(&["--tenant", "a"]);
    let a_before = w.findings(&["--tenant", "a"]);
    assert_eq!(one(&a_before, "shared")["status"], "new");

    // Tenant b watches the same directory under the same name, fixes it and rescans twice.
    w.ok(&["watch", "add", path, "--tenant", "b"], 0);
    assert_eq!(
        w.rescan(&["--tenant", "b"]),
        "shared: 1 new, 0 open, 0 fixed\n"
    );
    std::fs::write(repo.join("app.py"), MODERN).expect("write");
    assert_eq!(
        w.rescan(&["--tenant", "b"]),
        "shared: 0 new, 0 open, 1 fixed\n"
    );

    assert_eq!(w.findings(&["--tenant", "a"]), a_before, "a is untouched");
    assert_eq!(
        one(&w.findings(&["--tenant", "b"]), "shared")["status"],
        "fixed"
    );
    assert!(w.findings(&["--tenant", "c"]).is_empty());
    w.ok(&["watch", "remove", "shared", "--tenant", "b"], 0);
    assert_eq!(w.findings(&["--tenant", "a"]), a_before);
}
