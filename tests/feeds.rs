//! `feeds lint` and `feeds test` over the repository's own `feeds/` (they must pass for every
//! rule that exists) and over broken feeds written at test time (they must fail, and say
//! where).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ecowatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(args)
        .output()
        .expect("the ecowatch binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn repo_feeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds")
}

fn demo_feeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/repos/demo-feeds")
}

fn write(dir: &Path, rel: &str, contents: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
    fs::write(path, contents).expect("write");
}

const GOOD_RULE: &str = r#"schema = 1
id = "demo/shout"
title = "Shouting"
message = "`$WORD` is shouted"
kind = "idiom"
severity = "low"
note = "Say it quietly."
references = ["https://example.com/shout"]

[[match]]
kind = "regex"
pattern = '''\b(?P<WORD>HELLO)\b'''
"#;

const GOOD_FIXTURE: &str =
    "# ruleid: demo/shout\nsay(\"HELLO\")\n# ok: demo/shout\nsay(\"hello\")\n";

fn feeds_with(rule: &str, fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "rules/demo/shout.toml", rule);
    write(dir.path(), "rules/demo/shout.py", fixture);
    dir
}

#[test]
fn the_repository_feeds_lint_clean() {
    let out = ecowatch(&["feeds", "lint", repo_feeds().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn the_repository_feeds_pass_their_fixtures() {
    let out = ecowatch(&["feeds", "test", repo_feeds().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn the_demo_feeds_lint_clean_and_pass_their_fixtures() {
    let dir = demo_feeds();
    let dir = dir.to_str().expect("utf-8");
    let lint = ecowatch(&["feeds", "lint", dir]);
    assert_eq!(lint.status.code(), Some(0), "{}", stdout(&lint));
    let test = ecowatch(&["feeds", "test", dir, "--now", "2026-06-01"]);
    assert_eq!(test.status.code(), Some(0), "{}", stdout(&test));
    let text = stdout(&test);
    for rule in [
        "demo/utcnow",
        "demo/legacy-key",
        "demo/engines-node",
        "demo/old-lodash",
    ] {
        assert!(text.contains(&format!("ok    {rule}")), "{text}");
    }
}

#[test]
fn a_good_rule_passes_both() {
    let dir = feeds_with(GOOD_RULE, GOOD_FIXTURE);
    let path = dir.path().to_str().expect("utf-8");
    assert_eq!(ecowatch(&["feeds", "lint", path]).status.code(), Some(0));
    assert_eq!(ecowatch(&["feeds", "test", path]).status.code(), Some(0));
}

#[test]
fn lint_names_file_line_column_and_the_unknown_key() {
    let rule = GOOD_RULE.replace("kind = \"idiom\"\n", "kind = \"idiom\"\ncolour = \"red\"\n");
    let dir = feeds_with(&rule, GOOD_FIXTURE);
    let out = ecowatch(&["feeds", "lint", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("shout.toml:6:1: unknown field `colour`"),
        "lint output:\n{text}"
    );
}

#[test]
fn lint_refuses_unknown_keys_inside_a_matcher_and_foreign_matcher_keys() {
    let rule = GOOD_RULE.replace("kind = \"regex\"\n", "kind = \"regex\"\npaterns = 'x'\n");
    let dir = feeds_with(&rule, GOOD_FIXTURE);
    let text = stdout(&ecowatch(&[
        "feeds",
        "lint",
        dir.path().to_str().expect("utf-8"),
    ]));
    assert!(
        text.contains("shout.toml:12:1: unknown field `paterns`"),
        "{text}"
    );

    let rule = GOOD_RULE.replace(
        "kind = \"regex\"\n",
        "kind = \"regex\"\nclaims = { iss = 'x' }\n",
    );
    let dir = feeds_with(&rule, GOOD_FIXTURE);
    let text = stdout(&ecowatch(&[
        "feeds",
        "lint",
        dir.path().to_str().expect("utf-8"),
    ]));
    assert!(
        text.contains("shout.toml:12:10: key `match.claims` is not used by a `regex` matcher"),
        "{text}"
    );
}

#[test]
fn lint_checks_ids_regexes_ranges_dates_severities_and_references() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "id = \"demo/shout\"",
            "id = \"demo/other\"",
            "must equal the file's path",
        ),
        (r"\b(?P<WORD>HELLO)\b", r"(unclosed", "invalid regex"),
        (
            r"\b(?P<WORD>HELLO)\b",
            r"\w{1000}\w{1000}\w{1000}",
            "invalid regex",
        ),
        (
            "severity = \"low\"",
            "severity = \"warning\"",
            "unknown variant `warning`",
        ),
        (
            "https://example.com/shout",
            "http://example.com/shout",
            "not an https URL",
        ),
        (
            "[[match]]",
            "[when]\ndependencies = [{ ecosystem = \"PyPI\", name = \"x\", version = \">=>2\" }]\n\n[[match]]",
            "not a valid PyPI range",
        ),
        (
            "[[match]]",
            "[when]\nruntimes = [{ runtime = \"npm\", version = \">=1\" }]\n\n[[match]]",
            "is not a runtime",
        ),
        (
            "[[match]]",
            "[timeline]\nsunset = 2026-02-30\n\n[[match]]",
            "invalid date",
        ),
        (
            "kind = \"regex\"",
            "kind = \"semgrep\"",
            "`semgrep` is not one of",
        ),
        ("schema = 1", "schema = 2", "reads rule schema 1, not 2"),
    ];
    for (from, to, expected) in cases {
        let rule = GOOD_RULE.replacen(from, to, 1);
        assert_ne!(rule, GOOD_RULE, "case {to} did not apply");
        let dir = feeds_with(&rule, GOOD_FIXTURE);
        let out = ecowatch(&["feeds", "lint", dir.path().to_str().expect("utf-8")]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "case {to}:\n{text}");
        assert!(
            text.contains(expected),
            "case {to}: expected `{expected}` in:\n{text}"
        );
        assert!(
            text.contains("shout.toml:"),
            "case {to}: no file:line:col in:\n{text}"
        );
    }
}

#[test]
fn lint_wants_both_annotations_and_refuses_orphans() {
    let dir = feeds_with(GOOD_RULE, "# ruleid: demo/shout\nsay(\"HELLO\")\n");
    write(dir.path(), "rules/demo/renamed.py", "x\n");
    let text = stdout(&ecowatch(&[
        "feeds",
        "lint",
        dir.path().to_str().expect("utf-8"),
    ]));
    assert!(
        text.contains("has no `ok: demo/shout` fixture annotation"),
        "{text}"
    );
    assert!(text.contains("renamed.py:1:1: not a rule"), "{text}");
}

#[test]
fn a_broken_fixture_fails_feeds_test_with_expected_vs_got() {
    let fixture = "# ruleid: demo/shout\nsay(\"hello\")\n# ok: demo/shout\nsay(\"HELLO\")\n";
    let dir = feeds_with(GOOD_RULE, fixture);
    let out = ecowatch(&["feeds", "test", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("FAIL  demo/shout"), "{text}");
    assert!(text.contains("expected lines: 2"), "{text}");
    assert!(text.contains("got lines:      4"), "{text}");
    assert!(text.contains("(on `ok` lines: 4)"), "{text}");
}

#[test]
fn a_rule_with_an_error_fails_feeds_test_too() {
    let rule = GOOD_RULE.replace("pattern", "patern");
    let dir = feeds_with(&rule, GOOD_FIXTURE);
    let out = ecowatch(&["feeds", "test", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}

#[test]
fn a_missing_feeds_directory_is_an_error() {
    let out = ecowatch(&["feeds", "lint", "/nonexistent/ecowatch-feeds"]);
    assert_eq!(out.status.code(), Some(2));
}
