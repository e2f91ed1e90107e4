//! The deployment recipe in `deploy/` is code a user runs: these tests check that each file
//! still agrees with the binary it deploys, so a renamed flag or variable breaks CI, not a
//! production host at 3am.
//!
//! What runs here: the unit through `systemd-analyze verify` (with `ExecStart` pointed at the
//! built binary), every `ecowatch …` command of the crontab and the Dockerfile's `CMD` through
//! the real argument parser (`… --help` must succeed), the cron expressions through the same
//! parser `serve` uses, the compose file through a YAML parser, and every `ECOWATCH_*` variable
//! the recipe and README name against the variables the source reads. What cannot run here:
//! `docker build` (no Docker daemon and no registry on this machine) — the Dockerfile is
//! checked statically instead.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ecowatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ecowatch"))
}

/// `ecowatch ARGS --help` parses ARGS with the real parser and exits 0 only when every
/// subcommand and flag exists (clap validates what comes before `--help`).
fn assert_command_parses(origin: &str, args: &[String]) {
    let mut full: Vec<String> = args.to_vec();
    full.push("--help".to_owned());
    let out = ecowatch()
        .args(&full)
        .env_remove("ECOWATCH_DATABASE_URL")
        .output()
        .expect("run ecowatch");
    assert!(
        out.status.success(),
        "{origin}: `ecowatch {}` is not a valid command line: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Words of a shell command, without redirections (`>/dev/null`, `2>&1`).
fn words_without_redirections(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .filter(|w| !w.contains('>') && !w.contains('<'))
        .map(str::to_owned)
        .collect()
}

/// The `ecowatch …` invocations of a crontab, each with its cron expression.
fn crontab_commands(text: &str) -> Vec<(String, Vec<String>)> {
    let mut commands = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        // `NAME=value` lines set the environment.
        if fields.len() == 1 && fields[0].contains('=') {
            continue;
        }
        assert!(fields.len() > 5, "crontab line has no command: {line}");
        let expression = fields[..5].join(" ");
        let command = fields[5..].join(" ");
        for part in command.split("&&") {
            let words = words_without_redirections(part);
            if words.first().map(String::as_str) == Some("ecowatch") {
                commands.push((expression.clone(), words[1..].to_vec()));
            }
        }
    }
    commands
}

#[test]
fn every_crontab_command_and_schedule_is_accepted() {
    let text = read("deploy/crontab");
    let commands = crontab_commands(&text);
    let subcommands: Vec<&str> = commands
        .iter()
        .filter_map(|(_, args)| args.first().map(String::as_str))
        .collect();
    // The recipe promises the daemon's whole loop without a daemon.
    for needed in ["crawl", "rescan", "digest", "deliveries"] {
        assert!(
            subcommands.contains(&needed),
            "deploy/crontab no longer runs `ecowatch {needed}`: {subcommands:?}"
        );
    }
    for (expression, args) in &commands {
        ecowatch::serve::config::parse_cron(expression).unwrap_or_else(|e| {
            panic!("deploy/crontab: `{expression}` is not a cron expression: {e}")
        });
        assert_command_parses("deploy/crontab", args);
    }
}

#[test]
fn a_crontab_with_a_misspelled_command_is_caught() {
    // The check above must be able to fail: a renamed subcommand is refused by the parser.
    let commands = crontab_commands("0 * * * * ecowatch rescna >/dev/null\n");
    assert_eq!(commands.len(), 1);
    let mut args = commands[0].1.clone();
    args.push("--help".to_owned());
    let out = ecowatch().args(&args).output().expect("run ecowatch");
    assert!(
        !out.status.success(),
        "a misspelled subcommand was accepted"
    );
}

/// The JSON-array form of a Dockerfile instruction (`CMD ["a", "b"]`).
fn exec_form(dockerfile: &str, instruction: &str) -> Vec<String> {
    let prefix = format!("{instruction} ");
    let line = dockerfile
        .lines()
        .rfind(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("deploy/Dockerfile has no {instruction}"));
    serde_json::from_str(line[prefix.len()..].trim())
        .unwrap_or_else(|e| panic!("deploy/Dockerfile {instruction} is not exec form: {e}"))
}

#[test]
fn dockerfile_is_multi_stage_runs_unprivileged_and_its_cmd_parses() {
    let text = read("deploy/Dockerfile");
    let stages: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert!(stages.len() >= 2, "not a multi-stage build: {stages:?}");

    // The build stage's toolchain must be new enough for Cargo.toml's rust-version.
    let builder = stages[0];
    let tag = builder
        .strip_prefix("FROM rust:")
        .and_then(|rest| rest.split(['-', ' ']).next())
        .unwrap_or_else(|| panic!("first stage is not a rust image: {builder}"));
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).expect("Cargo.toml");
    let needed = manifest["package"]["rust-version"]
        .as_str()
        .expect("rust-version");
    let as_pair = |v: &str| -> (u32, u32) {
        let mut parts = v
            .split('.')
            .map(|p| p.parse::<u32>().expect("numeric version"));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    };
    assert!(
        as_pair(tag) >= as_pair(needed),
        "Dockerfile builds with rust {tag}, Cargo.toml needs {needed}"
    );

    // The last USER before the end runs the binary: never root.
    let user = text
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("deploy/Dockerfile sets no USER: the service would run as root");
    let uid = user["USER ".len()..].split(':').next().unwrap_or("").trim();
    assert!(
        uid != "0" && uid != "root" && !uid.is_empty(),
        "the image runs as {uid}"
    );

    let entrypoint = exec_form(&text, "ENTRYPOINT");
    assert_eq!(
        entrypoint.last().map(String::as_str),
        Some("/usr/local/bin/ecowatch")
    );
    let cmd = exec_form(&text, "CMD");
    assert_command_parses("deploy/Dockerfile CMD", &cmd);

    // Every file the image copies from the build context exists.
    for line in text
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let source = line.split_whitespace().nth(1).expect("COPY source");
        assert!(
            root().join(source).exists(),
            "deploy/Dockerfile copies {source}, which does not exist"
        );
    }
}

#[test]
fn compose_runs_three_replicas_as_an_unprivileged_role_on_postgres() {
    let text = read("deploy/compose.yaml");
    let compose: serde_json::Value =
        serde_saphyr::from_str(&text).expect("deploy/compose.yaml is not valid YAML");
    let services = compose["services"].as_object().expect("services");
    let replicas: Vec<&serde_json::Value> = services
        .iter()
        .filter(|(name, _)| name.starts_with("ecowatch"))
        .map(|(_, service)| service)
        .collect();
    assert_eq!(replicas.len(), 3, "the recipe promises three replicas");
    let image = services["postgres"]["image"]
        .as_str()
        .expect("postgres image");
    assert!(image.starts_with("postgres:"), "{image}");

    for replica in replicas {
        // The merge key (`<<: *ecowatch`) must have brought the shared settings in.
        let env = &replica["environment"];
        let app = env["ECOWATCH_DATABASE_URL"].as_str().expect("database url");
        let owner = env["ECOWATCH_DATABASE_OWNER_URL"]
            .as_str()
            .expect("owner url");
        let user_of = |url: &str| {
            url.strip_prefix("postgres://")
                .and_then(|rest| rest.split(':').next())
                .map(str::to_owned)
                .expect("postgres:// url with a user")
        };
        assert_ne!(
            user_of(app),
            user_of(owner),
            "replicas must not connect as the schema owner (row-level security)"
        );
        assert_eq!(
            replica["depends_on"]["postgres"]["condition"].as_str(),
            Some("service_healthy")
        );
        let dockerfile = replica["build"]["dockerfile"].as_str().expect("dockerfile");
        assert!(root().join(dockerfile).exists(), "{dockerfile}");
    }

    // The init script that creates the app role exists and creates the role the replicas use.
    let init = read("deploy/postgres-init.sql");
    assert!(
        init.contains("ecowatch_app"),
        "postgres-init.sql does not create ecowatch_app"
    );
    let mounted = services["postgres"]["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .filter_map(|v| v.as_str())
        .any(|v| v.starts_with("./postgres-init.sql:"));
    assert!(
        mounted,
        "postgres-init.sql is not mounted into the init directory"
    );
}

#[test]
fn systemd_unit_verifies_against_the_built_binary() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "systemd-analyze is missing under CI (Debian package systemd)"
        );
        eprintln!("SKIPPED: systemd-analyze is not installed");
        return;
    };
    assert!(probe.status.success());

    let text = read("deploy/ecowatch.service");
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/ecowatch"));
    let args: Vec<String> = words.map(str::to_owned).collect();
    assert_command_parses("deploy/ecowatch.service ExecStart", &args);

    // verify needs the binary to exist: point ExecStart at the one cargo built. The unit
    // name must end in .service for systemd to accept it.
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = dir.path().join("ecowatch.service");
    let built = env!("CARGO_BIN_EXE_ecowatch");
    std::fs::write(&unit, text.replace("/usr/local/bin/ecowatch", built)).expect("write unit");
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
        .expect("run systemd-analyze");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Lines about other units on the host (or no running systemd) are not ours.
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("ecowatch.service"))
        .collect();
    assert!(
        ours.is_empty(),
        "systemd-analyze verify found problems in deploy/ecowatch.service:\n{}",
        ours.join("\n")
    );
}

/// Every `ECOWATCH_*` name in `text`, without prefixes written as `ECOWATCH_SMTP_*`.
fn variables_named(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find("ECOWATCH_") {
        let start = from + at;
        let end = start
            + bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
                .count();
        let name = &text[start..end];
        if !name.ends_with('_') && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
        from = end.max(start + 1);
    }
    names
}

fn source_text(dir: &Path, into: &mut String) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            source_text(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push_str(&std::fs::read_to_string(&path).expect("read source"));
        }
    }
}

#[test]
fn every_variable_the_recipe_names_is_read_by_the_binary() {
    let mut source = String::new();
    source_text(&root().join("src"), &mut source);
    let documents = [
        "deploy/crontab",
        "deploy/ecowatch.service",
        "deploy/Dockerfile",
        "deploy/compose.yaml",
        "deploy/ecowatch.toml.example",
        "README.md",
    ];
    for document in documents {
        for name in variables_named(&read(document)) {
            // Test-only knobs are named in the README's testing section.
            if name.starts_with("ECOWATCH_TEST_") {
                continue;
            }
            assert!(
                source.contains(&format!("\"{name}\"")),
                "{document} names {name}, which ecowatch never reads"
            );
        }
    }
}

#[test]
fn the_variable_scanner_finds_names_and_skips_prefixes() {
    assert_eq!(
        variables_named("set ECOWATCH_DB=x and ECOWATCH_SMTP_* or ECOWATCH_DB again"),
        vec!["ECOWATCH_DB".to_owned()]
    );
}
