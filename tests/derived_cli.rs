//! Changelog knowledge driven the way a user drives it: `ecowatch notices parse` prints what a
//! changelog yields (the JSON contract), `notices parse --store` keeps it, and `ecowatch scan`
//! finds the deprecated identifier only where the package is imported at an affected version.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const URL: &str = "https://github.com/example/supabase-py/blob/main/CHANGELOG.md";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/changelog")
        .join(name)
}

/// The binary with an environment that names no database and no home, so only `--db` counts.
fn ecowatch(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(args)
        .env_remove("ECOWATCH_DB")
        .env_remove("ECOWATCH_DATABASE_URL")
        .env_remove("ECOWATCH_DATABASE_OWNER_URL")
        .env_remove("XDG_DATA_HOME")
        .env("HOME", home)
        .output()
        .expect("the ecowatch binary runs")
}

fn parse_json(file: &Path, package: &str, extra: &[&str], home: &Path) -> Vec<Value> {
    let mut args = vec![
        "notices",
        "parse",
        file.to_str().expect("utf-8"),
        "--package",
        package,
    ];
    args.extend_from_slice(extra);
    let out = ecowatch(&args, home);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("notices parse prints JSON");
    json.as_array().expect("a JSON array").clone()
}

fn find<'a>(items: &'a [Value], identifier: &str) -> &'a Value {
    items
        .iter()
        .find(|i| {
            i["identifiers"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == identifier))
        })
        .unwrap_or_else(|| panic!("no notice names `{identifier}`: {items:#?}"))
}

#[test]
fn parse_prints_the_json_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    let items = parse_json(
        &fixture("keepachangelog.md"),
        "PyPI:supabase",
        &["--url", URL],
        dir.path(),
    );
    let dep = find(&items, "supabase.auth.api.foo");
    assert_eq!(dep["kind"], "deprecation");
    assert_eq!(dep["package"], "PyPI:supabase");
    assert_eq!(dep["introduced"], "2.4.0");
    assert!(dep.get("versions").is_none());
    assert_eq!(dep["replacement"], "supabase.auth.admin.foo");
    assert!(dep["confidence"].as_f64().is_some_and(|c| c > 0.8));
    assert_eq!(
        dep["summary"],
        "`supabase.auth.api.foo()` is deprecated and will be removed in 3.0."
    );
    let env = find(&items, "SUPABASE_LEGACY_JWT");
    assert_eq!(env["replacement"], "SUPABASE_JWT_SECRET");
    let generic = items
        .iter()
        .find(|i| i["ignored_identifiers"] == serde_json::json!(["get"]))
        .expect("the `get()` entry is kept, its identifier is not a pattern");
    assert_eq!(generic["identifiers"], serde_json::json!([]));
    let removal = find(&items, "supabase.auth.session");
    assert_eq!(removal["kind"], "removal");
    assert_eq!(removal["versions"], "<2.0.0");
    assert_eq!(removal["replacement"], "supabase.auth.get_session");
    let security = items
        .iter()
        .find(|i| i["kind"] == "advisory")
        .expect("a security entry");
    assert_eq!(security["versions"], "<2.4.0");
    assert_eq!(security["aliases"], serde_json::json!(["CVE-2024-99999"]));
    // Unreleased and "Added"/"Fixed" entries give nothing.
    assert_eq!(items.len(), 5, "{items:#?}");
}

#[test]
fn parse_reads_rst_release_notes_github_bodies_and_misfiled_removals() {
    let dir = tempfile::tempdir().expect("temp dir");
    let django = parse_json(&fixture("django-4.1.txt"), "PyPI:Django", &[], dir.path());
    let coords = find(&django, "django.contrib.gis.geoip2.GeoIP2.coords");
    assert_eq!(coords["kind"], "deprecation");
    assert_eq!(coords["introduced"], "4.1");
    assert_eq!(
        coords["replacement"],
        "django.contrib.gis.geoip2.GeoIP2.lon_lat"
    );
    assert_eq!(coords["date"], "2022-08-03");
    assert_eq!(find(&django, "CSRF_COOKIE_MASKED")["kind"], "deprecation");
    let widget = find(&django, "django.contrib.postgres.forms.ranges.RangeWidget");
    assert_eq!(widget["kind"], "removal");
    assert_eq!(widget["versions"], "<4.1");
    let breaking = find(&django, "BaseDatabaseFeatures.has_case_insensitive_like");
    assert_eq!(breaking["category"], "breaking");

    let release = parse_json(
        &fixture("github-release.md"),
        "npm:@example/js-client",
        &["--tag", "v2.0.0"],
        dir.path(),
    );
    let legacy = find(&release, "legacyMode");
    assert_eq!(
        legacy["kind"], "removal",
        "\"Drop\" under \"Breaking changes\""
    );
    assert_eq!(
        find(&release, "auth.onAuthStateChange")["category"],
        "breaking"
    );
    assert_eq!(legacy["versions"], "<2.0.0");
    let set_auth = find(&release, "auth.setAuth");
    assert_eq!(set_auth["introduced"], "2.0.0");
    assert_eq!(set_auth["replacement"], "auth.setSession");
    assert!(
        release
            .iter()
            .all(|i| i["identifiers"] != serde_json::json!(["--dry-run"]))
    );

    let misfiled = parse_json(
        &fixture("removals-under-deprecated.md"),
        "PyPI:requests-toolbelt",
        &[],
        dir.path(),
    );
    let dump = find(&misfiled, "requests_toolbelt.utils.dump.dump_all_legacy");
    assert_eq!(dump["kind"], "removal", "the verb wins over the heading");
    assert_eq!(find(&misfiled, "--insecure-legacy")["kind"], "removal");
    let encoder = find(&misfiled, "MultipartEncoder.to_string");
    assert_eq!(encoder["kind"], "deprecation");
    assert_eq!(encoder["replacement"], "MultipartEncoder.read");
    let older = find(&misfiled, "dump_all_legacy");
    assert_eq!(older["introduced"], "2.1.0");
    assert_eq!(older["replacement"], "dump_all");
}

#[test]
fn parse_refuses_bad_packages_and_survives_hostile_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = fixture("keepachangelog.md");
    for bad in ["supabase", "nosuch:pkg", "python:3.12", "npm:"] {
        let out = ecowatch(
            &["notices", "parse", file.to_str().unwrap(), "--package", bad],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(2), "--package {bad}");
    }
    let hostile = dir.path().join("CHANGELOG.md");
    let mut text = String::from("## 1.0.0\n- `a.b_c` is deprecated \u{1b}[2J\u{0}\n");
    text.push_str(&"#".repeat(200_000));
    text.push('\n');
    text.push_str(&format!("- {}\n", "x".repeat(2_000_000)));
    fs::write(&hostile, text).expect("write");
    let items = parse_json(&hostile, "npm:x", &[], dir.path());
    assert_eq!(items.len(), 1);
    assert!(!items[0]["summary"].as_str().unwrap().contains('\u{1b}'));
}

/// A tiny Python repository: `requirements.txt` pins supabase, `app.py` holds `code`.
fn repo(root: &Path, name: &str, version: &str, code: &str) -> PathBuf {
    let dir = root.join(name);
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(
        dir.join("requirements.txt"),
        format!("requests==2.32.3\nsupabase=={version}\n"),
    )
    .expect("write");
    fs::write(dir.join("app.py"), code).expect("write");
    dir
}

fn scan(repo: &Path, db: &Path, home: &Path, feeds: &Path) -> Value {
    let out = ecowatch(
        &[
            "scan",
            repo.to_str().unwrap(),
            "--format",
            "json",
            "--db",
            db.to_str().unwrap(),
            "--feeds",
            feeds.to_str().unwrap(),
        ],
        home,
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "scan printed invalid JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn derived(report: &Value) -> Vec<&Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "deprecation" || f["kind"] == "removal")
        .collect()
}

#[test]
fn stored_changelog_knowledge_is_found_only_where_the_package_is_imported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    let db = dir.path().join("ecowatch.db");
    let feeds = dir.path().join("feeds");
    fs::create_dir_all(&feeds).expect("mkdir");
    let out = ecowatch(
        &[
            "notices",
            "parse",
            fixture("keepachangelog.md").to_str().unwrap(),
            "--package",
            "PyPI:supabase",
            "--url",
            URL,
            "--store",
            "--db",
            db.to_str().unwrap(),
        ],
        &home,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("stored 5 new"));

    let code = "from supabase import create_client\n\nclient = create_client(URL, KEY)\nsupabase = client\nsession = supabase.auth.api.foo(token)\nother = supabase.auth.api.foobar\n";
    let using = repo(dir.path(), "using", "2.5.0", code);
    let report = scan(&using, &db, &home, &feeds);
    let found = derived(&report);
    assert_eq!(found.len(), 1, "{report:#}");
    let f = found[0];
    assert_eq!(f["kind"], "deprecation");
    assert_eq!(f["locations"][0]["path"], "app.py");
    assert_eq!(f["locations"][0]["line"], 5);
    assert_eq!(f["references"][0], URL);
    assert_eq!(f["confidence"], "high");
    assert_eq!(f["package"]["name"], "supabase");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("\"`supabase.auth.api.foo()` is deprecated and will be removed in 3.0.\""),
        "{message}"
    );
    assert_eq!(f["fix"], "Use `supabase.auth.admin.foo` instead.");

    // The same identifier in a file that does not import supabase says nothing.
    let unimported = repo(
        dir.path(),
        "unimported",
        "2.5.0",
        "import requests\n\nsupabase = requests.Session()\nsupabase.auth.api.foo(token)\n",
    );
    let report = scan(&unimported, &db, &home, &feeds);
    assert!(derived(&report).is_empty(), "{report:#}");

    // Below the deprecation's version there is nothing to migrate yet; the security entry is
    // an "upgrade recommended" advisory at the pin.
    let older = repo(dir.path(), "older", "2.3.0", code);
    let report = scan(&older, &db, &home, &feeds);
    assert!(derived(&report).is_empty(), "{report:#}");
    let advisories: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "advisory")
        .collect();
    assert_eq!(advisories.len(), 1, "{report:#}");
    assert!(
        advisories[0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Upgrade recommended")
    );
    assert_eq!(advisories[0]["locations"][0]["path"], "requirements.txt");
}
