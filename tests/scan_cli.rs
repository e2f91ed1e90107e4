//! `ecowatch scan` driven the way a user runs it: the built binary on repositories written at
//! test time, with the demo rules in `tests/fixtures/repos/demo-feeds` (`--feeds`).

use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const NOW: &str = "2026-06-01";

fn demo_feeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/repos/demo-feeds")
}

fn demo_rules() -> PathBuf {
    demo_feeds().join("rules/demo")
}

/// Runs the binary isolated from the developer's own store: no database variables, and a data
/// directory that does not exist, so no advisories from a local import leak into the results.
fn ecowatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(args)
        .env_remove("ECOWATCH_DB")
        .env_remove("ECOWATCH_DATABASE_URL")
        .env("XDG_DATA_HOME", "/nonexistent/ecowatch-test-data")
        .output()
        .expect("the ecowatch binary runs")
}

fn scan(dir: &Path, extra: &[&str]) -> Output {
    let feeds = demo_feeds();
    let mut args = vec![
        "scan",
        dir.to_str().expect("utf-8 temp path"),
        "--feeds",
        feeds.to_str().expect("utf-8"),
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    ecowatch(&args)
}

fn scan_json(dir: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let out = scan(dir, &args);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "scan printed invalid JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json)
}

fn write(dir: &Path, rel: &str, contents: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
    fs::write(path, contents).expect("write");
}

fn copy_fixture(dir: &Path, fixture: &str, rel: &str) {
    let text = fs::read(demo_rules().join(fixture)).expect("demo fixture exists");
    write(dir, rel, text);
}

/// A repository that trips every demo rule once: utcnow (high), legacy-key (medium, critical
/// after 2026-10-01), engines-node (low), supabase-client (low), old-lodash (critical).
fn sample_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    copy_fixture(d, "utcnow.py", "app/clock.py");
    copy_fixture(d, "legacy-key.env", ".env");
    copy_fixture(d, "supabase-client.ts", "web/client.ts");
    copy_fixture(
        d,
        "old-lodash.fixtures/package-lock.json",
        "package-lock.json",
    );
    write(
        d,
        "package.json",
        "{\n  \"name\": \"demo\",\n  \"engines\": { \"node\": \">=14\" },\n  \"dependencies\": { \"lodash\": \"^4.17.0\" }\n}\n",
    );
    dir
}

fn rules_of(json: &Value) -> BTreeSet<String> {
    json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f["rule"].as_str().expect("rule").to_string())
        .collect()
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn set(items: &[&'static str]) -> BTreeSet<&'static str> {
    items.iter().copied().collect()
}

#[test]
fn json_report_has_exactly_the_contract_keys() {
    let repo = sample_repo();
    let (_, json) = scan_json(repo.path(), &[]);
    assert_eq!(
        keys(&json),
        set(&[
            "schema",
            "tool",
            "target",
            "findings",
            "diagnostics",
            "summary"
        ])
    );
    assert_eq!(json["schema"], 1);
    assert_eq!(keys(&json["tool"]), set(&["name", "version"]));
    assert_eq!(keys(&json["target"]), set(&["path"]));
    let findings = json["findings"].as_array().expect("array");
    assert_eq!(findings.len(), 5, "{json:#}");
    for f in findings {
        assert_eq!(
            keys(f),
            set(&[
                "id",
                "rule",
                "kind",
                "severity",
                "confidence",
                "title",
                "message",
                "package",
                "locations",
                "references",
                "aliases",
                "fix"
            ])
        );
        assert_eq!(f["id"].as_str().expect("id").len(), 20);
        for loc in f["locations"].as_array().expect("locations") {
            assert_eq!(keys(loc), set(&["path", "line", "column", "snippet"]));
            let path = loc["path"].as_str().expect("path");
            assert!(!path.starts_with('/') && !path.contains('\\'), "{path}");
            assert!(loc["line"].as_u64().expect("line") >= 1);
            assert!(loc["column"].as_u64().expect("column") >= 1);
        }
    }
    for d in json["diagnostics"].as_array().expect("diagnostics") {
        let k = keys(d);
        assert!(
            k.is_superset(&set(&["code", "severity", "message", "path"])),
            "{d}"
        );
    }
    let summary = &json["summary"];
    assert_eq!(summary["findings"], 5);
    assert_eq!(summary["rules_loaded"], 5);
    // Sorted: severity first (critical, high, medium, low).
    let severities: Vec<&str> = findings
        .iter()
        .map(|f| f["severity"].as_str().expect("severity"))
        .collect();
    assert_eq!(severities, ["critical", "high", "medium", "low", "low"]);
}

#[test]
fn findings_carry_evidence_captures_timelines_and_packages() {
    let repo = sample_repo();
    let (_, json) = scan_json(repo.path(), &[]);
    let find = |rule: &str| {
        json["findings"]
            .as_array()
            .expect("array")
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule} finding in {json:#}"))
            .clone()
    };
    let utc = find("demo/utcnow");
    assert_eq!(utc["locations"][0]["path"], "app/clock.py");
    assert_eq!(utc["locations"][0]["line"], 4);
    assert_eq!(utc["locations"][0]["column"], 16);
    assert!(
        utc["message"]
            .as_str()
            .expect("message")
            .starts_with("`datetime.utcnow()` returns a naive datetime"),
        "{utc}"
    );
    assert!(
        utc["message"]
            .as_str()
            .expect("m")
            .ends_with("(sunset in 1310 days, 2030-01-01)")
    );
    assert_eq!(utc["fix"], "Use `datetime.now(timezone.utc)`.");

    let key = find("demo/legacy-key");
    let snippet = key["locations"][0]["snippet"].as_str().expect("snippet");
    assert_eq!(
        snippet, "NEXT_PUBLIC_SUPABASE_ANON_KEY=eyJhbGciOi…",
        "token masked"
    );
    assert_eq!(key["severity"], "medium");

    let lodash = find("demo/old-lodash");
    assert_eq!(lodash["package"]["ecosystem"], "npm");
    assert_eq!(lodash["package"]["name"], "lodash");
    assert_eq!(lodash["package"]["version"], "4.17.20");
    assert_eq!(lodash["locations"][0]["path"], "package-lock.json");
    assert_eq!(lodash["locations"][0]["line"], 15);

    let engines = find("demo/engines-node");
    assert_eq!(engines["locations"][0]["path"], "package.json");
    assert_eq!(engines["locations"][0]["line"], 3);
}

#[test]
fn escalation_raises_severity_after_its_date() {
    let repo = sample_repo();
    let (code, json) = scan_json(
        repo.path(),
        &["--select", "demo/legacy-key", "--now", "2026-10-02"],
    );
    assert_eq!(json["findings"][0]["severity"], "critical");
    assert_eq!(code, Some(1));
    assert!(
        json["findings"][0]["message"]
            .as_str()
            .expect("m")
            .ends_with("(sunset in 90 days, 2026-12-31)")
    );
}

#[test]
fn exit_codes_follow_fail_on() {
    let repo = sample_repo();
    let only_high = ["--select", "demo/utcnow"];
    assert_eq!(
        scan(repo.path(), &only_high).status.code(),
        Some(1),
        "default is high"
    );
    let mut args = only_high.to_vec();
    args.extend(["--fail-on", "critical"]);
    assert_eq!(scan(repo.path(), &args).status.code(), Some(0));
    assert_eq!(
        scan(repo.path(), &["--fail-on", "never"]).status.code(),
        Some(0)
    );
    let low_only = ["--select", "demo/engines-node", "--fail-on", "low"];
    assert_eq!(scan(repo.path(), &low_only).status.code(), Some(1));
    let clean = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        scan(clean.path(), &["--fail-on", "info"]).status.code(),
        Some(0)
    );
}

#[test]
fn errors_exit_two() {
    let missing = scan(Path::new("/nonexistent/ecowatch-repo"), &[]);
    assert_eq!(missing.status.code(), Some(2));
    let repo = sample_repo();
    let typo = scan(repo.path(), &["--select", "demo/no-such-rule"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("matches no rule"));

    let broken = tempfile::tempdir().expect("tempdir");
    write(
        broken.path(),
        "rules/demo/x.toml",
        "schema = 1\nid = \"demo/x\"\nbogus = 1\n",
    );
    let out = ecowatch(&[
        "scan",
        repo.path().to_str().expect("utf-8"),
        "--feeds",
        broken.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("x.toml:3:1: unknown field `bogus`"),
        "{stderr}"
    );
}

#[test]
fn select_and_ignore_by_id_namespace_and_tag() {
    let repo = sample_repo();
    let (_, json) = scan_json(repo.path(), &["--select", "tag:python"]);
    assert_eq!(rules_of(&json), BTreeSet::from(["demo/utcnow".to_string()]));
    let (_, json) = scan_json(repo.path(), &["--select", "demo/utcnow,demo/old-lodash"]);
    assert_eq!(rules_of(&json).len(), 2);
    let (_, json) = scan_json(
        repo.path(),
        &["--ignore", "tag:secrets", "--ignore", "demo/utcnow"],
    );
    let rules = rules_of(&json);
    assert!(
        !rules.contains("demo/legacy-key") && !rules.contains("demo/utcnow"),
        "{rules:?}"
    );
    assert_eq!(rules.len(), 3);
    let (_, json) = scan_json(repo.path(), &["--ignore", "demo"]);
    assert!(rules_of(&json).is_empty());
    assert_eq!(json["summary"]["rules_loaded"], 5);
    assert_eq!(json["summary"]["rules_run"], 0);
}

#[test]
fn min_confidence_filters_findings() {
    let repo = sample_repo();
    let (_, json) = scan_json(repo.path(), &["--min-confidence", "high"]);
    assert_eq!(rules_of(&json), BTreeSet::from(["demo/utcnow".to_string()]));
}

#[test]
fn two_runs_print_identical_bytes() {
    let repo = sample_repo();
    let a = scan(repo.path(), &["--format", "json"]);
    let b = scan(repo.path(), &["--format", "json", "--threads", "1"]);
    assert_eq!(a.stdout, b.stdout);
    let text_a = scan(repo.path(), &[]);
    let text_b = scan(repo.path(), &[]);
    assert_eq!(text_a.stdout, text_b.stdout);
    assert!(String::from_utf8_lossy(&text_a.stdout).contains("--> app/clock.py:4:16"));
}

#[test]
fn fingerprints_survive_moving_code_and_separate_repeats() {
    let repo = tempfile::tempdir().expect("tempdir");
    write(
        repo.path(),
        "a.py",
        "x = datetime.utcnow()\ny = datetime.utcnow()\n",
    );
    let (_, first) = scan_json(repo.path(), &["--select", "demo/utcnow"]);
    write(
        repo.path(),
        "a.py",
        "\n\n\nx = datetime.utcnow()\n\ny = datetime.utcnow()\n",
    );
    let (_, moved) = scan_json(repo.path(), &["--select", "demo/utcnow"]);
    let ids = |j: &Value| -> Vec<String> {
        j["findings"]
            .as_array()
            .expect("array")
            .iter()
            .map(|f| f["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(ids(&first).len(), 2);
    assert_ne!(ids(&first)[0], ids(&first)[1]);
    assert_eq!(ids(&first), ids(&moved));
}

#[test]
fn gates_drop_rules_before_any_file_is_read() {
    let repo = tempfile::tempdir().expect("tempdir");
    // The imports gate: same call, only the file importing the package fires.
    copy_fixture(
        repo.path(),
        "supabase-client.fixtures/src/uses.ts",
        "src/uses.ts",
    );
    copy_fixture(
        repo.path(),
        "supabase-client.fixtures/src/other.ts",
        "src/other.ts",
    );
    // The dependency gate: lodash is not a dependency here, so old-lodash never runs.
    let (_, json) = scan_json(repo.path(), &[]);
    let findings = json["findings"].as_array().expect("array");
    assert_eq!(findings.len(), 1, "{json:#}");
    assert_eq!(findings[0]["locations"][0]["path"], "src/uses.ts");
    assert_eq!(json["summary"]["rules_run"], 4, "old-lodash is gated out");
}

#[test]
fn inline_ignores_suppress_and_are_counted() {
    let repo = tempfile::tempdir().expect("tempdir");
    write(
        repo.path(),
        "a.py",
        "# ecowatch-ignore: demo/utcnow -- legacy job, removed in Q3\nx = datetime.utcnow()\ny = datetime.utcnow()\n",
    );
    let (_, json) = scan_json(repo.path(), &[]);
    assert_eq!(json["summary"]["suppressed"], 1);
    assert_eq!(json["findings"].as_array().expect("array").len(), 1);
    assert_eq!(json["findings"][0]["locations"][0]["line"], 3);
}

#[test]
fn hostile_files_become_diagnostics_in_bounded_time() {
    let repo = tempfile::tempdir().expect("tempdir");
    let d = repo.path();
    // 50 MB of minified JavaScript on one line: over the 8 MiB cap, never read.
    let chunk = "var a=function(b){return b&&b.c?b.c(datetime.utcnow()):null};";
    let big: String = chunk.repeat(50 * 1024 * 1024 / chunk.len());
    write(d, "dist/bundle.min.js", &big);
    // 3 MB on one line, under the cap: matched up to the line limit, with a note.
    let long = "x".repeat(3 * 1024 * 1024) + " datetime.utcnow()";
    write(d, "src/long.py", long + "\ny = datetime.utcnow()\n");
    // A line built to make a naive backtracking regex crawl.
    write(d, "src/crawl.py", "a".repeat(200_000) + "!\n");
    write(d, "assets/blob.bin", [0u8, 159, 146, 150, 0, 1, 2]);
    write(d, "src/latin1.py", b"caf\xe9 = datetime.utcnow()\n");
    let started = Instant::now();
    let (code, json) = scan_json(d, &["--fail-on", "never"]);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "scan took {:?}",
        started.elapsed()
    );
    assert_eq!(code, Some(0));
    let diags: Vec<(String, String)> = json["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().expect("code").to_string(),
                d["path"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for expected in [
        ("file-too-large", "dist/bundle.min.js"),
        ("binary-file", "assets/blob.bin"),
        ("invalid-encoding", "src/latin1.py"),
        ("line-truncated", "src/long.py"),
    ] {
        assert!(
            diags.contains(&(expected.0.to_string(), expected.1.to_string())),
            "missing {expected:?} in {diags:?}"
        );
    }
    // The short line after the long one is still matched.
    let lines: Vec<u64> = json["findings"]
        .as_array()
        .expect("array")
        .iter()
        .filter(|f| f["locations"][0]["path"] == "src/long.py")
        .map(|f| f["locations"][0]["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, [2]);
}

#[test]
fn bundled_rules_load_and_scan_from_any_directory() {
    let repo = tempfile::tempdir().expect("tempdir");
    write(repo.path(), "README.md", "nothing to see\n");
    let out = Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(["scan", ".", "--format", "json", "--now", NOW])
        .current_dir(repo.path())
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["target"]["path"], ".");
}

#[test]
fn sarif_output_is_a_sarif_2_1_0_log_with_fingerprints() {
    let repo = sample_repo();
    let out = scan(repo.path(), &["--format", "sarif", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0));
    let log: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "ecowatch");
    let results = run["results"].as_array().expect("results");
    assert!(!results.is_empty());
    let (_, json) = scan_json(repo.path(), &["--fail-on", "never"]);
    let ids: BTreeSet<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    for r in results {
        let fp = r["partialFingerprints"]["ecowatch/v1"]
            .as_str()
            .expect("fingerprint");
        assert!(ids.contains(fp), "SARIF and JSON share fingerprints: {fp}");
        assert!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string());
    }
}

#[test]
fn markdown_output_escapes_scanned_text() {
    let repo = sample_repo();
    write(
        repo.path(),
        "app/evil.py",
        "x = datetime.utcnow()  # <script>alert(1)</script> @everyone\n",
    );
    let out = scan(repo.path(), &["--format", "markdown", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8(out.stdout).expect("utf-8");
    assert!(md.contains("demo/utcnow"), "{md}");
    // Scanned text may appear only inside a code span, where GitHub renders no HTML, links or
    // mentions: an odd number of backticks precedes it on its line.
    for needle in ["<script>", "@everyone"] {
        for line in md.lines().filter(|l| l.contains(needle)) {
            let before = &line[..line.find(needle).unwrap_or(0)];
            assert!(
                before.matches('`').count() % 2 == 1,
                "`{needle}` outside a code span: {line}"
            );
        }
    }
}

#[test]
fn config_ignores_suppress_and_report_unused_and_expired_entries() {
    let repo = sample_repo();
    write(
        repo.path(),
        "ecowatch.toml",
        r#"[scan]
fail-on = "critical"

[[ignore]]
rule = "demo/utcnow"
path = "app/*.py"
reason = "legacy clock module, replaced in Q3"

[[ignore]]
rule = "demo/does-not-fire"
reason = "kept for the next migration"

[[ignore]]
rule = "demo/engines-node"
reason = "expired exception"
until = 2026-01-01
"#,
    );
    let (code, json) = scan_json(repo.path(), &[]);
    let rules = rules_of(&json);
    assert!(!rules.contains("demo/utcnow"), "{rules:?}");
    assert!(
        rules.contains("demo/engines-node"),
        "an expired ignore no longer applies"
    );
    assert!(json["summary"]["suppressed"].as_u64().unwrap_or(0) >= 1);
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"ignore-unused"), "{codes:?}");
    assert!(codes.contains(&"ignore-expired"), "{codes:?}");
    // `[scan] fail-on = "critical"` from the file decides the exit code; the flag overrides it.
    let critical = json["summary"]["critical"].as_u64().unwrap_or(0);
    assert_eq!(code, Some(if critical > 0 { 1 } else { 0 }));
    let (code, _) = scan_json(repo.path(), &["--fail-on", "never"]);
    assert_eq!(code, Some(0));
}

#[test]
fn a_broken_config_is_an_error_naming_file_line_and_key() {
    let repo = sample_repo();
    write(
        repo.path(),
        "ecowatch.toml",
        "[[ignore]]\nrule = \"demo/utcnow\"\n",
    );
    let out = scan(repo.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ecowatch.toml:1"), "{err}");
    assert!(err.contains("reason"), "{err}");
}

#[test]
fn config_exclude_globs_keep_files_out_of_both_passes() {
    let repo = sample_repo();
    write(
        repo.path(),
        "ecowatch.toml",
        "[scan]\nexclude = [\"app/**\"]\n",
    );
    let (_, json) = scan_json(repo.path(), &["--fail-on", "never"]);
    let paths: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["locations"][0]["path"].as_str())
        .collect();
    assert!(!paths.iter().any(|p| p.starts_with("app/")), "{paths:?}");
}

#[test]
fn piped_runs_print_no_progress_or_colour() {
    let repo = sample_repo();
    let out = scan(repo.path(), &["--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.contains(&0x1b), "no ANSI escapes when piped");
}
