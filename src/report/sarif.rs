//! Renders a [`ScanReport`] as SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
//!
//! One run; `tool.driver.rules` holds each rule once (sorted by id, so `ruleIndex` is stable);
//! each result carries `partialFingerprints["ecowatch/v1"]` = the finding id, so an alert
//! survives code moving around exactly as the JSON and the store do. Output is deterministic:
//! structs serialize in declaration order and every list is sorted.
//!
//! GitHub refuses a whole upload when any result lacks a location
//! (`locationFromSarifResult: expected at least one location`) or has a location without an
//! artifact (`expected artifact location`). A package-level finding with no location of its own
//! therefore points at [`SarifOptions::fallback_uri`]: the scan engine should give package
//! findings the manifest or lockfile line that declares the package, and pass the manifest as
//! the fallback when it has one. The default fallback is `ecowatch.toml` at the root, as a
//! region-less file location (a file-level alert). Not verified against GitHub here (no
//! network): whether it accepts a location for a file absent from the commit is unknown, so
//! the engine should prefer real manifest locations.

use crate::finding::{Confidence, Finding, Kind, ScanReport, Severity};
use crate::report::terminal::plain_text;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const SARIF_VERSION: &str = "2.1.0";
/// The key of ecowatch's fingerprint in `partialFingerprints`; bump on a fingerprint change.
pub const FINGERPRINT_KEY: &str = "ecowatch/v1";
/// The project's page, from Cargo.toml's `repository`; `informationUri` is left out while empty.
pub const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");
const SRCROOT: &str = "%SRCROOT%";

/// How to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SarifOptions {
    /// Relative path used as the location of findings that have none (see the module docs).
    pub fallback_uri: String,
}

impl Default for SarifOptions {
    fn default() -> Self {
        SarifOptions {
            fallback_uri: crate::config::FILE_NAME.to_string(),
        }
    }
}

/// Writes the SARIF log as pretty JSON with a trailing newline.
pub fn write(report: &ScanReport, out: &mut dyn Write, opts: &SarifOptions) -> io::Result<()> {
    let log = build(report, opts);
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// The SARIF log as a JSON value (for tests and for embedding).
pub fn to_value(report: &ScanReport, opts: &SarifOptions) -> serde_json::Value {
    serde_json::to_value(build(report, opts)).unwrap_or(serde_json::Value::Null)
}

fn build<'a>(report: &'a ScanReport, opts: &'a SarifOptions) -> Log<'a> {
    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

    // One rule per id, described by its most severe finding (findings are sorted that way).
    let mut by_rule: BTreeMap<&str, &Finding> = BTreeMap::new();
    for finding in &findings {
        by_rule.entry(finding.rule.as_str()).or_insert(finding);
    }
    let index: BTreeMap<&str, usize> = by_rule.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let rules = by_rule.values().map(|f| rule(f)).collect();
    let results = findings
        .iter()
        .map(|f| result(f, index.get(f.rule.as_str()).copied().unwrap_or(0), opts))
        .collect();

    Log {
        schema: SARIF_SCHEMA,
        version: SARIF_VERSION,
        runs: vec![Run {
            tool: SarifTool {
                driver: Driver {
                    name: &report.tool.name,
                    version: &report.tool.version,
                    semantic_version: &report.tool.version,
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            original_uri_base_ids: BTreeMap::from([(
                SRCROOT,
                OriginalUriBase {
                    uri: "./",
                    description: Message {
                        text: "The scanned directory".to_string(),
                    },
                },
            )]),
            column_kind: "unicodeCodePoints",
            results,
        }],
    }
}

fn rule(f: &Finding) -> Rule<'_> {
    let short = first_line(&f.title);
    let full = if f.message.trim().is_empty() {
        short.clone()
    } else {
        f.message.trim().to_string()
    };
    let help = f.fix.as_deref().map(|fix| Help {
        text: plain_text(fix, usize::MAX).join("\n"),
        markdown: fix.to_string(),
    });
    let mut tags = vec![kind_tag(f.kind).to_string()];
    if is_security(f.kind) {
        tags.push("security".to_string());
    }
    if let Some(p) = &f.package {
        tags.push(p.ecosystem.as_str().to_string());
    }
    Rule {
        id: &f.rule,
        name: rule_name(&f.rule),
        short_description: Message { text: short },
        full_description: Message { text: full },
        help,
        help_uri: f
            .references
            .first()
            .filter(|u| is_http(u))
            .map(String::as_str),
        default_configuration: Configuration {
            level: level(f.severity),
        },
        properties: RuleProperties {
            tags,
            precision: precision(f.confidence),
            security_severity: is_security(f.kind)
                .then(|| security_severity(f.severity))
                .flatten(),
        },
    }
}

fn result<'a>(f: &'a Finding, rule_index: usize, opts: &'a SarifOptions) -> SarifResult<'a> {
    let mut locations: Vec<SarifLocation> = f
        .locations
        .iter()
        .map(|l| SarifLocation {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: encode_uri_path(&l.path),
                    uri_base_id: SRCROOT,
                },
                region: (l.line > 0).then(|| Region {
                    start_line: l.line,
                    start_column: (l.column > 0).then_some(l.column),
                    snippet: (!l.snippet.is_empty()).then(|| Snippet {
                        text: l.snippet.clone(),
                    }),
                }),
            },
        })
        .collect();
    if locations.is_empty() {
        locations.push(SarifLocation {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: encode_uri_path(&opts.fallback_uri),
                    uri_base_id: SRCROOT,
                },
                region: None,
            },
        });
    }
    let message = if f.message.trim().is_empty() {
        f.title.clone()
    } else {
        f.message.clone()
    };
    SarifResult {
        rule_id: &f.rule,
        rule_index,
        level: level(f.severity),
        message: Message { text: message },
        locations,
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, f.id.as_str())]),
        properties: ResultProperties {
            severity: f.severity.as_str(),
            confidence: f.confidence.as_str(),
            kind: kind_tag(f.kind),
            package: f.package.as_ref().map(|p| PackageProperty {
                ecosystem: p.ecosystem.as_str(),
                name: &p.name,
                version: p.version.as_deref(),
            }),
            aliases: &f.aliases,
        },
    }
}

/// critical/high → error, medium → warning, low/info → note.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `precision` values.
fn precision(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// Kinds GitHub should rank as security alerts (it reads `security-severity` only with the
/// `security` tag).
fn is_security(kind: Kind) -> bool {
    matches!(kind, Kind::Advisory)
}

/// GitHub's buckets: over 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("2.0"),
        Severity::Info => None,
    }
}

fn kind_tag(kind: Kind) -> &'static str {
    match kind {
        Kind::Advisory => "advisory",
        Kind::Deprecation => "deprecation",
        Kind::Removal => "removal",
        Kind::Announcement => "announcement",
        Kind::Yanked => "yanked",
        Kind::Unmaintained => "unmaintained",
        Kind::Eol => "eol",
        Kind::Idiom => "idiom",
    }
}

/// `python/datetime-utcnow` → `PythonDatetimeUtcnow`: SARIF's `name` is an identifier.
fn rule_name(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

fn is_http(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(char::is_whitespace)
}

/// A relative path as a URI reference: unreserved characters and `/` stay, the rest is
/// percent-encoded (spaces, `%`, `#`, `?`, non-ASCII), so viewers resolve it against `%SRCROOT%`.
fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.trim_start_matches("./").bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'/' | b'-' | b'.' | b'_' | b'~' | b'+' | b'@' | b'=' | b','
            )
        {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    if out.is_empty() { ".".to_string() } else { out }
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: SarifTool<'a>,
    original_uri_base_ids: BTreeMap<&'static str, OriginalUriBase>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct OriginalUriBase {
    uri: &'static str,
    description: Message,
}

#[derive(Serialize)]
struct SarifTool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'a str,
    version: &'a str,
    semantic_version: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    information_uri: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: String,
    short_description: Message,
    full_description: Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<Help>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    precision: &'static str,
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: Vec<SarifLocation>,
    partial_fingerprints: BTreeMap<&'static str, &'a str>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    severity: &'static str,
    confidence: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<PackageProperty<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    aliases: &'a [String],
}

#[derive(Serialize)]
struct PackageProperty<'a> {
    ecosystem: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<Snippet>,
}

#[derive(Serialize)]
struct Snippet {
    text: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::terminal::tests::sample_report;
    use serde_json::Value;

    fn sarif() -> Value {
        to_value(&sample_report(), &SarifOptions::default())
    }

    #[test]
    fn header_run_and_driver() {
        let v = sarif();
        assert_eq!(v["$schema"], SARIF_SCHEMA);
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["runs"].as_array().unwrap().len(), 1);
        let driver = &v["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "ecowatch");
        assert_eq!(driver["version"], "0.1.0");
        if INFORMATION_URI.is_empty() {
            assert!(driver.get("informationUri").is_none());
        } else {
            assert_eq!(driver["informationUri"], INFORMATION_URI);
        }
        assert_eq!(v["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"], "./");
        let ids: Vec<&str> = driver["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["GHSA-aaaa-bbbb-cccc", "python/datetime-utcnow"]);
    }

    #[test]
    fn rules_carry_descriptions_help_and_properties() {
        let v = sarif();
        let rules = &v["runs"][0]["tool"]["driver"]["rules"];
        let advisory = &rules[0];
        assert_eq!(advisory["name"], "GHSAAaaaBbbbCccc");
        assert_eq!(advisory["defaultConfiguration"]["level"], "error");
        assert_eq!(advisory["properties"]["security-severity"], "8.0");
        assert_eq!(
            advisory["properties"]["tags"],
            serde_json::json!(["advisory", "security", "npm"])
        );
        assert_eq!(advisory["properties"]["precision"], "medium");
        assert_eq!(
            advisory["helpUri"],
            "https://github.com/advisories/GHSA-aaaa-bbbb-cccc"
        );
        let utcnow = &rules[1];
        assert_eq!(utcnow["name"], "PythonDatetimeUtcnow");
        assert_eq!(
            utcnow["shortDescription"]["text"],
            "`datetime.utcnow()` is deprecated"
        );
        assert_eq!(utcnow["defaultConfiguration"]["level"], "note");
        assert!(utcnow["properties"].get("security-severity").is_none());
        assert!(
            utcnow["help"]["markdown"]
                .as_str()
                .unwrap()
                .starts_with("Use `datetime.now(UTC)`")
        );
        assert_eq!(
            utcnow["help"]["text"],
            "Use datetime.now(UTC) instead.\nSee the docs (https://docs.python.org). …"
        );
    }

    #[test]
    fn results_point_at_rules_locations_and_fingerprints() {
        let v = sarif();
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        let first = &results[0];
        assert_eq!(first["ruleId"], "GHSA-aaaa-bbbb-cccc");
        assert_eq!(first["ruleIndex"], 0);
        assert_eq!(first["level"], "error");
        assert_eq!(first["partialFingerprints"]["ecowatch/v1"], "a1b2c3");
        let loc = &first["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "package-lock.json");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(loc["region"]["startLine"], 12);
        assert_eq!(loc["region"]["startColumn"], 5);
        assert_eq!(first["properties"]["package"]["name"], "lodash");
        for (i, result) in results.iter().enumerate().skip(1) {
            assert_eq!(result["ruleIndex"], 1, "result {i}");
            assert_eq!(result["level"], "note");
        }
    }

    #[test]
    fn finding_without_location_uses_the_fallback() {
        let mut report = sample_report();
        report.findings[0].locations.clear();
        let opts = SarifOptions {
            fallback_uri: "package.json".into(),
        };
        let v = to_value(&report, &opts);
        let loc = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "package.json");
        assert!(loc.get("region").is_none());
        let v = to_value(&report, &SarifOptions::default());
        assert_eq!(
            v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "ecowatch.toml"
        );
    }

    #[test]
    fn output_is_deterministic_whatever_the_input_order() {
        let report = sample_report();
        let mut reversed = report.clone();
        reversed.findings.reverse();
        let render = |r: &ScanReport| {
            let mut out = Vec::new();
            write(r, &mut out, &SarifOptions::default()).unwrap();
            out
        };
        assert_eq!(render(&report), render(&reversed));
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(encode_uri_path("src/my file#1.py"), "src/my%20file%231.py");
        assert_eq!(encode_uri_path("./a/é.py"), "a/%C3%A9.py");
        assert_eq!(encode_uri_path(""), ".");
    }

    #[test]
    fn empty_report_is_still_a_valid_log() {
        let mut report = sample_report();
        report.findings.clear();
        let v = to_value(&report, &SarifOptions::default());
        assert_eq!(v["runs"][0]["results"], serde_json::json!([]));
        assert_eq!(
            v["runs"][0]["tool"]["driver"]["rules"],
            serde_json::json!([])
        );
    }

    mod schema_validation {
        use super::*;

        const SCHEMA: &str = include_str!("../../tests/fixtures/sarif/sarif-schema-2.1.0.json");

        /// The published rtm.5 schema has a `language` pattern (on `run` and on `toolComponent`),
        /// `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`, whose stray `]` ECMA-262 reads as a
        /// literal but Rust's regex engines refuse, so the validator would reject the schema
        /// itself. Escaping it keeps the ECMA meaning; the committed file stays as published.
        const LANGUAGE_PATTERN: &str = r#"[a-zA-Z]{2}]?$""#;
        const LANGUAGE_PATTERN_ESCAPED: &str = r#"[a-zA-Z]{2}\\]?$""#;

        fn errors(instance: &Value) -> Vec<String> {
            assert_eq!(SCHEMA.matches(LANGUAGE_PATTERN).count(), 2);
            let text = SCHEMA.replace(LANGUAGE_PATTERN, LANGUAGE_PATTERN_ESCAPED);
            let schema: Value = serde_json::from_str(&text).unwrap();
            let validator = jsonschema::draft4::options()
                .should_validate_formats(true)
                .build(&schema)
                .unwrap();
            validator
                .iter_errors(instance)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect()
        }

        #[test]
        fn sample_report_validates() {
            let errors = errors(&sarif());
            assert!(errors.is_empty(), "{errors:#?}");
        }

        #[test]
        fn empty_and_locationless_reports_validate() {
            let mut report = sample_report();
            report.findings[0].locations.clear();
            report.findings[1].fix = None;
            report.findings[1].references.clear();
            assert_eq!(
                errors(&to_value(&report, &SarifOptions::default())),
                Vec::<String>::new()
            );
            report.findings.clear();
            assert_eq!(
                errors(&to_value(&report, &SarifOptions::default())),
                Vec::<String>::new()
            );
        }

        #[test]
        fn the_schema_catches_a_broken_log() {
            let mut v = sarif();
            v["version"] = Value::from("2.0.0");
            v["runs"][0]["results"][0]["level"] = Value::from("fatal");
            assert_eq!(errors(&v).len(), 2, "{:?}", errors(&v));
        }
    }
}
