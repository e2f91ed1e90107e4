//! Advisories driven the way a user drives them: `ecowatch notices import` of OSV JSON (a
//! directory tree and an `all.zip`), PyPA YAML and RustSec Markdown into a temporary `--db`,
//! then `ecowatch scan --db` of a repository with a Cargo.lock, a package-lock.json, a
//! requirements.txt and a poetry.lock (`tests/fixtures/advisories/`).

use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisories")
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("ecowatch.db")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `notices import PATH --db DB`: (exit code, stdout, stderr).
    fn import(&self, path: &Path) -> (i32, String, String) {
        let db = self.db();
        let out = ecowatch(
            &[
                "notices",
                "import",
                path.to_str().expect("utf-8"),
                "--db",
                db.to_str().expect("utf-8"),
            ],
            &self.home(),
        );
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    fn scan_json(&self, repo: &Path, extra: &[&str]) -> (i32, Value) {
        let empty_feeds = self.path("feeds");
        fs::create_dir_all(&empty_feeds).expect("mkdir");
        let mut args = vec![
            "scan",
            repo.to_str().expect("utf-8"),
            "--format",
            "json",
            "--feeds",
            empty_feeds.to_str().expect("utf-8"),
        ];
        args.extend_from_slice(extra);
        let out = ecowatch(&args, &self.home());
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "scan printed invalid JSON ({e}); stderr: {}",
                text(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), json)
    }
}

/// Writes a zip holding `entries` (name, bytes), as OSV.dev's `all.zip` holds records.
fn write_zip(path: &Path, entries: &[(&str, Vec<u8>)]) {
    let file = fs::File::create(path).expect("create zip");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.add_directory("nested/", options).expect("dir entry");
    for (name, bytes) in entries {
        zip.start_file(*name, options).expect("start entry");
        zip.write_all(bytes).expect("write entry");
    }
    zip.finish().expect("finish zip");
}

fn osv_zip(env: &Env) -> PathBuf {
    let src = fixtures().join("zip-entries");
    let mut entries = Vec::new();
    for name in ["GHSA-34jh-p97f-mpxf.json", "GHSA-9wx4-h78v-vm56.json"] {
        entries.push((name, fs::read(src.join(name)).expect("fixture")));
    }
    entries.push(("README.txt", b"not a record".to_vec()));
    let path = env.path("PyPI-all.zip");
    write_zip(&path, &entries);
    path
}

fn summary(new: usize, updated: usize, unchanged: usize, errors: usize, path: &Path) -> String {
    format!(
        "imported {new} new, {updated} updated, {unchanged} unchanged, {errors} errors from {}\n",
        path.display()
    )
}

/// Imports every fixture source into `env`'s database, checking each summary line.
fn import_everything(env: &Env) {
    let osv = fixtures().join("osv");
    let zip = osv_zip(env);
    let pypa = fixtures().join("pypa");
    let rustsec = fixtures().join("rustsec");
    for (path, new) in [(&osv, 9), (&zip, 2), (&pypa, 1), (&rustsec, 6)] {
        let (code, out, err) = env.import(path);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (0, summary(new, 0, 0, 0, path).as_str(), ""),
            "importing {}",
            path.display()
        );
    }
}

/// (rule, ecosystem, name, version, path) of every advisory finding.
fn advisory_rows(report: &Value) -> BTreeSet<(String, String, String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "advisory" || f["kind"] == "unmaintained")
        .map(|f| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                s(&f["rule"]),
                s(&f["package"]["ecosystem"]),
                s(&f["package"]["name"]),
                s(&f["package"]["version"]),
                s(&f["locations"][0]["path"]),
            )
        })
        .collect()
}

fn finding<'a>(report: &'a Value, rule: &str, name: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule && f["package"]["name"] == name)
        .unwrap_or_else(|| panic!("no {rule} finding for {name}"))
}

#[test]
fn import_is_idempotent_and_follows_modified() {
    let env = Env::new();
    import_everything(&env);

    // The same records again change nothing, whatever the container.
    let osv = fixtures().join("osv");
    let (code, out, _) = env.import(&osv);
    assert_eq!((code, out), (0, summary(0, 0, 9, 0, &osv)));
    let zip = osv_zip(&env);
    assert_eq!(env.import(&zip).1, summary(0, 0, 2, 0, &zip));
    let md = fixtures().join("rustsec/crates/time/RUSTSEC-2020-0071.md");
    assert_eq!(env.import(&md).1, summary(0, 0, 1, 0, &md));

    // A newer `modified` replaces the record; an older one does not.
    let original = fs::read_to_string(
        osv.join("github-reviewed/2022/01/GHSA-29mw-wpgm-hmr9/GHSA-29mw-wpgm-hmr9.json"),
    )
    .expect("fixture");
    let newer = original
        .replace("2024-02-26T18:12:41.532Z", "2024-09-01T00:00:00Z")
        .replace(
            "Regular Expression Denial of Service (ReDoS) in lodash",
            "ReDoS in lodash (revised)",
        );
    assert_ne!(newer, original);
    let file = env.path("GHSA-29mw-wpgm-hmr9.json");
    fs::write(&file, &newer).expect("write");
    assert_eq!(env.import(&file).1, summary(0, 1, 0, 0, &file));
    assert_eq!(env.import(&file).1, summary(0, 0, 1, 0, &file));
    fs::write(&file, &original).expect("write");
    assert_eq!(
        env.import(&file).1,
        summary(0, 0, 1, 0, &file),
        "an older copy does not replace a newer one"
    );

    let (_, report) = env.scan_json(
        &fixtures().join("repo"),
        &["--db", env.db().to_str().expect("utf-8")],
    );
    assert_eq!(
        finding(&report, "GHSA-29mw-wpgm-hmr9", "lodash")["title"],
        "ReDoS in lodash (revised)"
    );
}

#[test]
fn scan_reports_exactly_the_affected_locked_versions() {
    let env = Env::new();
    import_everything(&env);
    let (code, report) = env.scan_json(
        &fixtures().join("repo"),
        &["--db", env.db().to_str().expect("utf-8")],
    );
    let row = |rule: &str, eco: &str, name: &str, version: &str, path: &str| {
        (
            rule.to_string(),
            eco.to_string(),
            name.to_string(),
            version.to_string(),
            path.to_string(),
        )
    };
    let expected: BTreeSet<_> = [
        // last_affected is inclusive; the nested tiny-lib 1.3.1 is past it.
        row(
            "ECOWATCH-TEST-0002",
            "npm",
            "tiny-lib",
            "1.3.0",
            "package-lock.json",
        ),
        // A `versions` list matches by PEP 440 equality: 3.2.0 is the listed 3.2.
        row(
            "ECOWATCH-TEST-0003",
            "PyPI",
            "django",
            "3.2.0",
            "poetry.lock",
        ),
        // A prerelease of the fixed version is before it.
        row(
            "ECOWATCH-TEST-0004",
            "npm",
            "next-thing",
            "2.0.0-rc.1",
            "package-lock.json",
        ),
        row(
            "GHSA-29mw-wpgm-hmr9",
            "npm",
            "lodash",
            "4.17.20",
            "package-lock.json",
        ),
        row(
            "GHSA-35jh-r3h4-6jhm",
            "npm",
            "lodash",
            "4.17.20",
            "package-lock.json",
        ),
        // From the zip; urllib3 2.2.2 equals `fixed` and gives nothing.
        row(
            "GHSA-9wx4-h78v-vm56",
            "PyPI",
            "requests",
            "2.31.0",
            "requirements.txt",
        ),
        // PYSEC (YAML) and GHSA (JSON) are one problem: one finding.
        row(
            "PYSEC-2021-66",
            "PyPI",
            "jinja2",
            "2.11.2",
            "requirements.txt",
        ),
        row(
            "RUSTSEC-2020-0071",
            "crates.io",
            "time",
            "0.1.45",
            "Cargo.lock",
        ),
        row(
            "RUSTSEC-2020-0159",
            "crates.io",
            "chrono",
            "0.4.19",
            "Cargo.lock",
        ),
        row(
            "RUSTSEC-2021-0124",
            "crates.io",
            "tokio",
            "1.12.0",
            "Cargo.lock",
        ),
        row(
            "RUSTSEC-2021-0139",
            "crates.io",
            "ansi_term",
            "0.12.1",
            "Cargo.lock",
        ),
        row(
            "RUSTSEC-2022-0090",
            "crates.io",
            "libsqlite3-sys",
            "0.24.2",
            "Cargo.lock",
        ),
        row(
            "RUSTSEC-2023-0071",
            "crates.io",
            "rsa",
            "0.9.6",
            "Cargo.lock",
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(advisory_rows(&report), expected);
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(expected.len()),
        "nothing else is reported: {report:#}"
    );
    assert_eq!(report["diagnostics"], Value::Array(vec![]), "{report:#}");
    assert_eq!(code, 1, "two findings are high or critical");

    let jinja = finding(&report, "PYSEC-2021-66", "jinja2");
    assert_eq!(
        jinja["aliases"],
        serde_json::json!(["CVE-2020-28493", "GHSA-g3rq-g295-4j3m"])
    );
    assert_eq!(jinja["kind"], "advisory");
    assert_eq!(jinja["severity"], "medium", "the GHSA's CVSS 5.3");
    assert_eq!(jinja["fix"], "upgrade to 2.11.3");
    assert_eq!(jinja["locations"][0]["line"], 2);
    assert_eq!(jinja["locations"][0]["snippet"], "jinja2==2.11.2");
    assert!(
        jinja["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("`jinja2` 2.11.2 is affected by PYSEC-2021-66: ")),
        "{jinja}"
    );

    let time = finding(&report, "RUSTSEC-2020-0071", "time");
    assert_eq!(
        time["aliases"],
        serde_json::json!(["CVE-2020-26235", "GHSA-wcg3-cvx6-7396"])
    );
    assert_eq!(time["title"], "Potential segfault in the time crate");
    assert_eq!(time["fix"], "upgrade to 0.2.23");
    assert_eq!(time["locations"][0]["line"], 63);
    assert_eq!(
        time["references"][0],
        "https://rustsec.org/advisories/RUSTSEC-2020-0071.html"
    );

    let lodash = finding(&report, "GHSA-35jh-r3h4-6jhm", "lodash");
    assert_eq!(lodash["severity"], "high", "CVSS 7.2");
    assert_eq!(
        lodash["references"][0], "https://nvd.nist.gov/vuln/detail/CVE-2021-23337",
        "advisory links first"
    );
    assert_eq!(
        finding(&report, "ECOWATCH-TEST-0004", "next-thing")["severity"],
        "critical"
    );
    let tiny = finding(&report, "ECOWATCH-TEST-0002", "tiny-lib");
    assert_eq!(tiny["severity"], "high", "the database's own label");
    assert_eq!(tiny["fix"], "no fixed version published");
    let ansi = finding(&report, "RUSTSEC-2021-0139", "ansi_term");
    assert_eq!(ansi["kind"], "unmaintained");
    assert_eq!(ansi["severity"], "low");
    let rsa = finding(&report, "RUSTSEC-2023-0071", "rsa");
    assert_eq!(rsa["fix"], "no fixed version published");

    // Fingerprints are stable across runs.
    let (_, again) = env.scan_json(
        &fixtures().join("repo"),
        &["--db", env.db().to_str().expect("utf-8")],
    );
    assert_eq!(again["findings"], report["findings"]);
}

/// ecowatch agrees with cargo-audit row by row on the RustSec fixtures (see the table's header
/// for how it was reasoned and how to regenerate it with a real cargo-audit).
#[test]
fn crates_findings_agree_with_cargo_audit() {
    let table = fs::read_to_string(fixtures().join("cargo-audit/expected.tsv")).expect("table");
    let expected: BTreeSet<(String, String, String, String)> = table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "{l}");
            let kind = match cols[3] {
                "vulnerability" => "advisory",
                "unmaintained" => "unmaintained",
                other => panic!("unknown row kind {other}"),
            };
            (
                cols[0].to_string(),
                cols[1].to_string(),
                cols[2].to_string(),
                kind.to_string(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 6);

    let env = Env::new();
    let (code, _, err) = env.import(&fixtures().join("rustsec"));
    assert_eq!(code, 0, "{err}");
    let (_, report) = env.scan_json(
        &fixtures().join("repo"),
        &["--db", env.db().to_str().expect("utf-8")],
    );
    let actual: BTreeSet<(String, String, String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["package"]["ecosystem"] == "crates.io")
        .map(|f| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                s(&f["rule"]),
                s(&f["package"]["name"]),
                s(&f["package"]["version"]),
                s(&f["kind"]),
            )
        })
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn malformed_records_are_diagnostics_and_the_import_goes_on() {
    let env = Env::new();
    let dir = env.path("dump");
    fs::create_dir_all(dir.join("pypa")).expect("mkdir");
    fs::write(dir.join("broken.json"), "{\"id\": \"GHSA-trun\", ").expect("write");
    fs::write(
        dir.join("no-modified.json"),
        r#"{"id": "GHSA-nomo-dified", "affected": []}"#,
    )
    .expect("write");
    fs::write(
        dir.join("pypa/PYSEC-0000-1.yaml"),
        "id: PYSEC-0000-1\nmodified: 2021-01-01T00:00:00Z\naffected:\n- ranges:\n  - type: WRONG\n",
    )
    .expect("write");
    fs::write(dir.join("pypa/PYSEC-0000-2.yaml"), "id: [unclosed\n").expect("write");
    fs::write(
        dir.join("RUSTSEC-0000-0001.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-0000-0001\"\npackage = \"x\"\ndate = \"2020-01-01\"\n\
         [versions]\npatched = [\"~> 1\"]\n```\n",
    )
    .expect("write");
    fs::copy(
        fixtures().join("zip-entries/GHSA-9wx4-h78v-vm56.json"),
        dir.join("good.json"),
    )
    .expect("copy");
    write_zip(
        &dir.join("all.zip"),
        &[
            (
                "GHSA-34jh-p97f-mpxf.json",
                fs::read(fixtures().join("zip-entries/GHSA-34jh-p97f-mpxf.json")).expect("fixture"),
            ),
            ("GHSA-bad0-bad0-bad0.json", b"[1, 2]".to_vec()),
        ],
    );
    fs::write(dir.join("not-a.zip"), "PK but not really").expect("write");

    let (code, out, err) = env.import(&dir);
    assert_eq!(code, 1, "some records failed: {err}");
    assert_eq!(out, summary(2, 0, 0, 7, &dir));
    for needle in [
        "broken.json: JSON syntax error",
        "no-modified.json: record `GHSA-nomo-dified`: missing field `modified`",
        "PYSEC-0000-1.yaml: record `PYSEC-0000-1`",
        "PYSEC-0000-2.yaml: YAML syntax error",
        "RUSTSEC-0000-0001.md: record `RUSTSEC-0000-0001`: `~> 1` is not a Cargo version requirement",
        "all.zip!/GHSA-bad0-bad0-bad0.json: an OSV record is a JSON object",
        "not-a.zip: zip syntax error",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert_eq!(err.lines().count(), 7, "one line per bad record:\n{err}");
    assert!(
        err.lines().all(|l| l.starts_with("error[osv-invalid] ")),
        "{err}"
    );

    // Nothing to read at all is an error, and no database is left behind.
    let env = Env::new();
    let (code, out, err) = env.import(&env.path("missing"));
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(err.contains("cannot read"), "{err}");
    assert!(!env.db().exists());
}

#[test]
fn scan_never_creates_a_database_and_reports_an_unusable_one() {
    let env = Env::new();
    let repo = fixtures().join("repo");
    // No database anywhere: no advisories, no noise, no file created.
    let (code, report) = env.scan_json(&repo, &[]);
    assert_eq!(code, 0);
    assert_eq!(report["findings"], Value::Array(vec![]));
    assert_eq!(report["diagnostics"], Value::Array(vec![]));
    assert!(!env.home().join(".local/share/ecowatch").exists());

    // A named database that does not exist is a warning, and is not created either.
    let missing = env.path("missing.db");
    let (code, report) = env.scan_json(&repo, &["--db", missing.to_str().expect("utf-8")]);
    assert_eq!(code, 0);
    assert_eq!(report["diagnostics"][0]["code"], "advisories-unavailable");
    assert!(!missing.exists());

    // A file that is not a database is a warning, and the scan still runs.
    let garbage = env.path("garbage.db");
    fs::write(&garbage, "this is not sqlite").expect("write");
    let (code, report) = env.scan_json(&repo, &["--db", garbage.to_str().expect("utf-8")]);
    assert_eq!(code, 0);
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["code"], "advisories-unavailable");
    assert!(
        diagnostic["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot open the database")),
        "{diagnostic}"
    );

    // The default database is read when it exists.
    let default_db = env.home().join(".local/share/ecowatch/ecowatch.db");
    fs::create_dir_all(default_db.parent().expect("parent")).expect("mkdir");
    let out = ecowatch(
        &[
            "notices",
            "import",
            fixtures().join("rustsec").to_str().expect("utf-8"),
        ],
        &env.home(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(default_db.exists());
    let (_, report) = env.scan_json(&repo, &[]);
    assert_eq!(advisory_rows(&report).len(), 6, "{report:#}");
}
