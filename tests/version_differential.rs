//! Differential tests: ecowatch's npm and PEP 440 answers against the reference
//! implementations (node's `semver`, Python's `packaging`), whose answers are committed as
//! tables under `tests/fixtures/versions/` by `scripts/gen-version-fixtures`.
//!
//! Every row must agree, except rows on a narrow allow-list with the reason written next to it.
//! Today no row needs one: each `check` passes `no_known_disagreements`.

use ecowatch::version::{Range, Scheme, Version};
use std::cmp::Ordering;
use std::path::PathBuf;

struct Row {
    line: usize,
    fields: Vec<String>,
}

fn table(name: &str) -> Vec<Row> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/versions")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows: Vec<Row> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#'))
        .map(|(i, line)| Row {
            line: i + 1,
            fields: line.split('\t').map(str::to_string).collect(),
        })
        .collect();
    assert!(rows.len() > 1000, "{name} has only {} rows", rows.len());
    for row in &rows {
        assert_eq!(
            row.fields.len(),
            3,
            "{name}:{} is not three columns",
            row.line
        );
    }
    rows
}

/// `true`, `false` or `error`, as the tables spell them.
fn contains_answer(scheme: Scheme, version: &str, range: &str) -> &'static str {
    let range = match Range::parse(scheme, range) {
        Ok(range) => range,
        Err(_) => return "error",
    };
    match Version::parse(scheme, version) {
        Ok(version) if range.contains(&version) => "true",
        Ok(_) => "false",
        Err(_) => "error",
    }
}

fn order_answer(scheme: Scheme, a: &str, b: &str) -> String {
    match (Version::parse(scheme, a), Version::parse(scheme, b)) {
        (Ok(a), Ok(b)) => match a.compare(&b) {
            Some(Ordering::Less) => "-1".into(),
            Some(Ordering::Equal) => "0".into(),
            Some(Ordering::Greater) => "1".into(),
            None => "incomparable".into(),
        },
        (Err(e), _) | (_, Err(e)) => format!("error: {e}"),
    }
}

/// Runs a table, prints agree/total, and fails listing the disagreements not allowed.
fn check(name: &str, answer: impl Fn(&str, &str) -> String, allowed: impl Fn(&Row, &str) -> bool) {
    let rows = table(name);
    let mut agree = 0;
    let mut allowed_count = 0;
    let mut failures = Vec::new();
    for row in &rows {
        let (a, b, expected) = (&row.fields[0], &row.fields[1], &row.fields[2]);
        let got = answer(a, b);
        if &got == expected {
            agree += 1;
        } else if allowed(row, &got) {
            allowed_count += 1;
        } else {
            failures.push(format!(
                "{name}:{}: {a:?} {b:?}: reference {expected}, ecowatch {got}",
                row.line
            ));
        }
    }
    println!(
        "{name}: {agree} / {} agree with the reference ({allowed_count} allow-listed, {} unexplained)",
        rows.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The allow-list for a table with no known disagreement with its reference.
fn no_known_disagreements(_: &Row, _: &str) -> bool {
    false
}

#[test]
fn npm_satisfies_agrees_with_node_semver() {
    check(
        "npm-satisfies.tsv",
        |v, r| contains_answer(Scheme::Npm, v, r).to_string(),
        no_known_disagreements,
    );
}

#[test]
fn npm_order_agrees_with_node_semver() {
    check(
        "npm-order.tsv",
        |a, b| order_answer(Scheme::Npm, a, b),
        no_known_disagreements,
    );
}

#[test]
fn pep440_contains_agrees_with_packaging() {
    check(
        "pep440-contains.tsv",
        |v, r| contains_answer(Scheme::Pep440, v, r).to_string(),
        no_known_disagreements,
    );
}

#[test]
fn pep440_order_agrees_with_packaging() {
    check(
        "pep440-order.tsv",
        |a, b| order_answer(Scheme::Pep440, a, b),
        no_known_disagreements,
    );
}
