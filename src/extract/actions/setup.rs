//! Runtime pins in the inputs of setup actions: `actions/setup-node` with `node-version: 18`,
//! `actions/setup-python` with `python-version: '3.11'`, and the go, ruby and php equivalents.
//!
//! A version that is exactly `${{ matrix.KEY }}` is resolved from the job's
//! `strategy.matrix.KEY` list and its `include` entries, one pin per value, each at the line the
//! value is written on. Other expressions are kept as unsupported skips. `*-version-file` inputs
//! are ignored: the file they name is read by its own extractor.

use super::yaml_tree::{Node, Value};
use crate::dependency::{Dependency, SkipReason};
use crate::ecosystem::Ecosystem;
use crate::extract::ManifestFile;
use regex::Regex;
use std::sync::LazyLock;

/// (action, input, runtime ecosystem, runtime name)
const SETUP_ACTIONS: &[(&str, &str, Ecosystem, &str)] = &[
    (
        "actions/setup-node",
        "node-version",
        Ecosystem::NodeJs,
        "node",
    ),
    (
        "actions/setup-python",
        "python-version",
        Ecosystem::Python,
        "python",
    ),
    (
        "actions/setup-go",
        "go-version",
        Ecosystem::GoToolchain,
        "go",
    ),
    ("ruby/setup-ruby", "ruby-version", Ecosystem::Ruby, "ruby"),
    (
        "shivammathur/setup-php",
        "php-version",
        Ecosystem::Php,
        "php",
    ),
];

static MATRIX_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}$").expect("matrix pattern is valid")
});

/// The runtime pins of one step that uses `action` (an `owner/repo` name) with inputs `with`.
pub fn setup_pins(
    file: &ManifestFile<'_>,
    action: &str,
    with: Option<&Node>,
    matrix: Option<&Node>,
) -> Vec<Dependency> {
    let Some(&(_, input, ecosystem, runtime)) = SETUP_ACTIONS.iter().find(|(a, ..)| *a == action)
    else {
        return Vec::new();
    };
    let Some(value) = with.and_then(|w| w.get(input)) else {
        return Vec::new();
    };
    let pin = |line: u32| file.dep(ecosystem, runtime, line).direct(true);
    let Some(text) = value.text(file.text) else {
        return match value.value {
            Value::Null | Value::Bool(_) => Vec::new(),
            _ => vec![pin(value.line).skip(
                SkipReason::Unsupported,
                format!("`{input}` is not a version string"),
            )],
        };
    };
    let text = text.trim();
    if let Some(key) = MATRIX_KEY.captures(text).and_then(|c| c.get(1)) {
        return matrix_pins(file, matrix, key.as_str(), text, value.line, &pin);
    }
    if text.contains("${{") {
        return vec![pin(value.line).skip(
            SkipReason::Unsupported,
            format!("`{input}: {text}` is an expression ecowatch cannot resolve"),
        )];
    }
    // setup-python and setup-go accept several versions, one per line of a `|` block, whose
    // node starts at its first line.
    text.lines()
        .zip(value.line..)
        .map(|(version, line)| (version.trim(), line))
        .filter(|(version, _)| !version.is_empty())
        .map(|(version, line)| pin(line).locked(version))
        .collect()
}

/// One pin per value of `matrix.KEY` (the list itself and its `include` entries).
fn matrix_pins(
    file: &ManifestFile<'_>,
    matrix: Option<&Node>,
    key: &str,
    expression: &str,
    line: u32,
    pin: &dyn Fn(u32) -> Dependency,
) -> Vec<Dependency> {
    let mut values: Vec<&Node> = Vec::new();
    if let Some(listed) = matrix.and_then(|m| m.get(key)) {
        match &listed.value {
            Value::Seq(items) => values.extend(items),
            _ => values.push(listed),
        }
    }
    let included = matrix
        .and_then(|m| m.get("include"))
        .map(Node::items)
        .unwrap_or_default();
    values.extend(included.iter().filter_map(|entry| entry.get(key)));

    let mut pins = Vec::new();
    for node in values {
        match node.text(file.text) {
            Some(version) if !version.contains("${{") && !version.trim().is_empty() => {
                pins.push(pin(node.line).locked(version.trim()));
            }
            _ => pins.push(pin(node.line).skip(
                SkipReason::Unsupported,
                format!("`matrix.{key}` holds a value that is not a version"),
            )),
        }
    }
    if pins.is_empty() {
        pins.push(pin(line).skip(
            SkipReason::Unsupported,
            format!("`{expression}` names no list in `strategy.matrix`"),
        ));
    }
    pins
}
