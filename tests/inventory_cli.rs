//! `ecowatch inventory` driven the way a user runs it: the built binary on real directories,
//! checking exit codes, the JSON contract and the diagnostics for hostile repositories.

use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn ecowatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecowatch"))
        .args(args)
        .output()
        .expect("the ecowatch binary runs")
}

fn inventory_json(dir: &Path) -> Value {
    let out = ecowatch(&[
        "inventory",
        dir.to_str().expect("utf-8 temp path"),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("inventory prints valid JSON")
}

fn write(dir: &Path, rel: &str, contents: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
    fs::write(path, contents).expect("write fixture");
}

fn deps_in<'a>(inv: &'a Value, path: &str) -> Vec<&'a Value> {
    inv["dependencies"]
        .as_array()
        .expect("dependencies array")
        .iter()
        .filter(|d| d["source"]["path"] == path)
        .collect()
}

fn diagnostic_codes_for(inv: &Value, path: &str) -> Vec<String> {
    inv["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .filter(|d| d["path"] == path)
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

const PACKAGE_JSON: &str = r#"{
  "name": "app",
  "dependencies": {
    "left-pad": "^1.3.0"
  }
}
"#;

#[test]
fn json_contract_has_exactly_the_documented_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "package.json", PACKAGE_JSON);
    let inv = inventory_json(dir.path());
    let keys: Vec<&str> = inv
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "top-level keys: {keys:?}");
    assert_eq!(inv["schema"], 1);
    assert_eq!(
        inv["target"]["path"],
        dir.path().to_str().expect("utf-8 temp path")
    );
    let dep = deps_in(&inv, "package.json")
        .into_iter()
        .find(|d| d["name"] == "left-pad")
        .expect("left-pad is listed");
    let mut dep_keys: Vec<&str> = dep
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    dep_keys.sort_unstable();
    assert_eq!(
        dep_keys,
        [
            "dev",
            "direct",
            "ecosystem",
            "name",
            "optional",
            "requirement",
            "skipped",
            "source",
            "version"
        ]
    );
    assert_eq!(dep["ecosystem"], "npm");
    assert_eq!(dep["requirement"], "^1.3.0");
    assert_eq!(dep["direct"], true);
    assert_eq!(dep["source"]["line"], 4);
}

#[test]
fn symlink_to_a_file_outside_the_repository_is_refused_with_a_diagnostic() {
    let outside = tempfile::tempdir().expect("tempdir");
    write(outside.path(), "package.json", PACKAGE_JSON);
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(
        outside.path().join("package.json"),
        dir.path().join("package.json"),
    )
    .expect("symlink");
    let inv = inventory_json(dir.path());
    assert!(
        deps_in(&inv, "package.json").is_empty(),
        "nothing read through the link"
    );
    assert_eq!(
        diagnostic_codes_for(&inv, "package.json"),
        ["symlink-outside-root"]
    );
}

#[test]
fn symlink_inside_the_repository_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "real/package.json", PACKAGE_JSON);
    fs::create_dir_all(dir.path().join("app")).expect("mkdir");
    std::os::unix::fs::symlink("../real/package.json", dir.path().join("app/package.json"))
        .expect("symlink");
    let inv = inventory_json(dir.path());
    assert_eq!(deps_in(&inv, "app/package.json").len(), 1);
    assert_eq!(deps_in(&inv, "real/package.json").len(), 1);
}

#[test]
fn symlink_loops_and_directory_links_do_not_hang_or_escape() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "package.json", PACKAGE_JSON);
    // A file link pointing at itself, and a directory link back to the root.
    std::os::unix::fs::symlink("requirements.txt", dir.path().join("requirements.txt"))
        .expect("symlink");
    std::os::unix::fs::symlink("..", dir.path().join("loop")).expect("symlink");
    std::os::unix::fs::symlink("/", dir.path().join("root")).expect("symlink");
    let inv = inventory_json(dir.path());
    assert_eq!(
        diagnostic_codes_for(&inv, "requirements.txt"),
        ["unresolvable-path"]
    );
    let paths: Vec<&str> = inv["dependencies"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|d| d["source"]["path"].as_str())
        .collect();
    assert!(paths.iter().all(|p| *p == "package.json"), "{paths:?}");
}

#[test]
fn a_one_gigabyte_lockfile_is_skipped_without_reading_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = fs::File::create(dir.path().join("package-lock.json")).expect("create");
    file.set_len(1 << 30).expect("sparse 1 GiB file");
    let inv = inventory_json(dir.path());
    assert_eq!(
        diagnostic_codes_for(&inv, "package-lock.json"),
        ["file-too-large"]
    );
}

#[test]
fn a_fifo_named_like_a_manifest_does_not_hang_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new("mkfifo")
        .arg(dir.path().join("package.json"))
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let inv = inventory_json(dir.path());
    assert_eq!(
        diagnostic_codes_for(&inv, "package.json"),
        ["not-a-regular-file"]
    );
}

#[test]
fn bad_encodings_and_broken_syntax_become_diagnostics_and_the_run_continues() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "package.json", PACKAGE_JSON);
    write(
        dir.path(),
        "a/requirements.txt",
        b"requests==2.31.0\n\xff\xfe broken\n",
    );
    write(
        dir.path(),
        "b/package.json",
        b"{\"dependencies\": {\"x\": \0}}",
    );
    write(
        dir.path(),
        "c/package-lock.json",
        "[".repeat(10_000) + &"]".repeat(10_000),
    );
    write(
        dir.path(),
        "d/package-lock.json",
        "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/a\": {\n",
    );
    let mut bomb = String::from("lockfileVersion: '9.0'\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    write(dir.path(), "e/pnpm-lock.yaml", bomb);
    let inv = inventory_json(dir.path());
    assert_eq!(
        deps_in(&inv, "package.json").len(),
        1,
        "the good file is still read"
    );
    assert_eq!(
        diagnostic_codes_for(&inv, "a/requirements.txt"),
        ["invalid-encoding"]
    );
    assert_eq!(
        diagnostic_codes_for(&inv, "b/package.json"),
        ["binary-file"]
    );
    assert_eq!(
        diagnostic_codes_for(&inv, "c/package-lock.json"),
        ["parse-error"]
    );
    assert_eq!(
        diagnostic_codes_for(&inv, "d/package-lock.json"),
        ["parse-error"]
    );
    assert_eq!(
        diagnostic_codes_for(&inv, "e/pnpm-lock.yaml"),
        ["parse-error"]
    );
    let truncated = inv["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .find(|d| d["path"] == "d/package-lock.json")
        .expect("diagnostic");
    assert!(truncated["line"].as_u64().is_some(), "{truncated}");
}

#[test]
fn utf16_manifest_with_a_bom_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(PACKAGE_JSON.encode_utf16().flat_map(u16::to_le_bytes));
    write(dir.path(), "package.json", bytes);
    let inv = inventory_json(dir.path());
    assert_eq!(deps_in(&inv, "package.json").len(), 1);
}

#[test]
fn vendored_and_gitignored_directories_are_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "package.json", PACKAGE_JSON);
    for skipped in [
        "node_modules/x/package.json",
        "vendor/y/package.json",
        ".venv/lib/package.json",
        ".git/package.json",
        "build/package.json",
    ] {
        write(dir.path(), skipped, PACKAGE_JSON);
    }
    write(dir.path(), ".gitignore", "build/\n");
    let inv = inventory_json(dir.path());
    let paths: Vec<&str> = inv["dependencies"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|d| d["source"]["path"].as_str())
        .collect();
    assert_eq!(paths, ["package.json"]);
}

#[test]
fn output_is_deterministic_across_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..20 {
        write(dir.path(), &format!("p{i}/package.json"), PACKAGE_JSON);
    }
    let a = ecowatch(&[
        "inventory",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    let b = ecowatch(&[
        "inventory",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn text_output_groups_by_file_and_totals_per_ecosystem() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "package.json", PACKAGE_JSON);
    let out = ecowatch(&["inventory", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("package.json (1 entry)"), "{text}");
    assert!(text.contains("left-pad"), "{text}");
    assert!(text.contains("npm 1"), "{text}");
}

#[test]
fn a_missing_directory_is_an_error_with_exit_code_2() {
    let out = ecowatch(&["inventory", "/definitely/not/here"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/definitely/not/here"), "{err}");
}

#[test]
fn output_file_receives_the_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "package.json", PACKAGE_JSON);
    let out_file = dir.path().join("inventory.json");
    let out = ecowatch(&[
        "inventory",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "json",
        "--output",
        out_file.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let inv: Value = serde_json::from_slice(&fs::read(out_file).expect("read")).expect("json");
    assert_eq!(inv["schema"], 1);
}

#[test]
fn every_lockfile_format_is_read_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "bun.lock",
        "{\n  \"lockfileVersion\": 1,\n  \"workspaces\": {\n    \"\": {\n      \"name\": \"app\",\n      \"dependencies\": {\n        \"left-pad\": \"^1.3.0\",\n      },\n    },\n  },\n  \"packages\": {\n    \"left-pad\": [\"left-pad@1.3.0\", \"\", {}, \"sha512-x\"],\n  },\n}\n",
    );
    let inv = inventory_json(dir.path());
    let bun = deps_in(&inv, "bun.lock");
    assert_eq!(bun.len(), 1, "{inv}");
    assert_eq!(bun[0]["version"], "1.3.0");
}
