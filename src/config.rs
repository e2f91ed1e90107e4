//! `ecowatch.toml`: read with spans into [`RawConfig`], then validated into [`Config`], so
//! every mistake names the file, line, column and key instead of failing later in a scan.
//!
//! Only `[scan]` and `[[ignore]]` mean something today. The tables later issues fill in
//! (`[store]`, `[sources.*]`, `[notify.*]`, `[schedule]`) are accepted and kept opaque so a
//! file written for a newer ecowatch still loads; any other top-level key is an error.
//!
//! ```toml
//! [scan]
//! fail-on = "high"            # info | low | medium | high | critical
//! min-confidence = "medium"   # low | medium | high
//! select = ["python", "supabase/legacy-api-key"]   # rule ids or namespaces; empty = all
//! ignore = ["tailwind/play-cdn"]
//! exclude = ["vendor/**", "**/*.min.js"]
//!
//! [[ignore]]
//! rule = "python/datetime-utcnow"     # or: advisory = "GHSA-xxxx-xxxx-xxxx"
//! path = "legacy/**"                  # optional glob over the finding's paths
//! package = "requests"                # optional package name
//! reason = "legacy module, removed in Q3"   # required
//! until = 2026-03-01                  # optional: stops applying after this date
//! ```

use crate::finding::{Confidence, Severity};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The file name looked for at the repository root.
pub const FILE_NAME: &str = "ecowatch.toml";

/// Top-level tables reserved for later features: accepted, kept as written, not yet read.
pub const RESERVED_TABLES: &[&str] = &["store", "sources", "notify", "schedule", "serve"];

/// The file as written, with spans for error messages.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub scan: Option<RawScan>,
    #[serde(default)]
    pub ignore: Vec<Spanned<RawIgnore>>,
    #[serde(default)]
    pub store: Option<toml::Value>,
    #[serde(default)]
    pub sources: Option<toml::Value>,
    #[serde(default)]
    pub notify: Option<toml::Value>,
    #[serde(default)]
    pub schedule: Option<toml::Value>,
    #[serde(default)]
    pub serve: Option<toml::Value>,
}

/// `[scan]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawScan {
    pub fail_on: Option<Severity>,
    pub min_confidence: Option<Confidence>,
    #[serde(default)]
    pub select: Vec<Spanned<String>>,
    #[serde(default)]
    pub ignore: Vec<Spanned<String>>,
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
}

/// One `[[ignore]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIgnore {
    pub rule: Option<Spanned<String>>,
    pub advisory: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    pub package: Option<Spanned<String>>,
    pub reason: Option<Spanned<String>>,
    pub until: Option<Spanned<toml::value::Datetime>>,
}

/// A validated configuration. `Config::default()` is what a repository without a file gets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    /// The file this came from, when there was one.
    pub path: Option<PathBuf>,
    pub scan: ScanConfig,
    pub ignores: Vec<IgnoreEntry>,
    /// Reserved tables (see [`RESERVED_TABLES`]) exactly as written, for later features.
    pub reserved: BTreeMap<String, toml::Value>,
}

/// `[scan]`, validated. CLI flags override these fields (the caller merges).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanConfig {
    pub fail_on: Option<Severity>,
    pub min_confidence: Option<Confidence>,
    /// Rule ids or namespaces to run; empty means every rule.
    pub select: Vec<String>,
    /// Rule ids or namespaces never to run; wins over `select`.
    pub ignore: Vec<String>,
    /// Globs (relative to the scanned root, forward slashes) of files not to scan; each one compiles.
    pub exclude: Vec<String>,
}

impl ScanConfig {
    /// Whether a rule runs under `select`/`ignore`. An entry names a rule exactly, or a
    /// namespace (`python` or `python/`) covering every rule under it.
    pub fn selects(&self, rule: &str) -> bool {
        let listed = |entries: &[String]| entries.iter().any(|e| rule_in(rule, e));
        (self.select.is_empty() || listed(&self.select)) && !listed(&self.ignore)
    }
}

fn rule_in(rule: &str, entry: &str) -> bool {
    let entry = entry.trim_end_matches('/');
    rule == entry
        || rule
            .strip_prefix(entry)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// What an `[[ignore]]` entry names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IgnoreTarget {
    Rule(String),
    Advisory(String),
}

impl IgnoreTarget {
    pub fn id(&self) -> &str {
        match self {
            IgnoreTarget::Rule(id) | IgnoreTarget::Advisory(id) => id,
        }
    }
}

/// One validated `[[ignore]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreEntry {
    pub target: IgnoreTarget,
    /// A glob over the finding's location paths; it compiles (checked at load).
    pub path: Option<String>,
    pub package: Option<String>,
    pub reason: String,
    /// Last day the entry applies (inclusive).
    pub until: Option<NaiveDate>,
    /// Where the entry is written, for diagnostics: the config file as given, and its line.
    pub origin: String,
    pub line: u32,
}

/// A configuration that cannot be used. Fatal: the scan stops with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {}{message}", path.display(), key.as_deref().map(|k| format!("`{k}`: ")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        /// The offending key as a dotted path (`ignore[1].reason`), when known.
        key: Option<String>,
        message: String,
    },
}

impl Config {
    /// Loads `explicit` when given (it must exist), else `<root>/ecowatch.toml` when present,
    /// else the defaults.
    pub fn discover(root: &Path, explicit: Option<&Path>) -> Result<Config, ConfigError> {
        if let Some(path) = explicit {
            return Config::load(path);
        }
        let path = root.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Reads and validates one file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parses and validates `text`; `path` only names the file in errors and diagnostics.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            invalid(path, text, span, None, e.message().to_string())
        })?;
        Validator { path, text }.config(raw)
    }
}

fn invalid(
    path: &Path,
    text: &str,
    span: Range<usize>,
    key: Option<String>,
    message: String,
) -> ConfigError {
    let (line, column) = line_column(text, span.start);
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        column,
        key,
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset; offsets past the end clamp.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Validator<'_> {
    fn err(&self, span: Range<usize>, key: String, message: impl Into<String>) -> ConfigError {
        invalid(self.path, self.text, span, Some(key), message.into())
    }

    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let scan = match raw.scan {
            Some(scan) => self.scan(scan)?,
            None => ScanConfig::default(),
        };
        let ignores = raw
            .ignore
            .into_iter()
            .enumerate()
            .map(|(i, entry)| self.ignore(i, entry))
            .collect::<Result<Vec<_>, _>>()?;
        let mut reserved = BTreeMap::new();
        for (name, value) in [
            ("store", raw.store),
            ("sources", raw.sources),
            ("notify", raw.notify),
            ("schedule", raw.schedule),
            ("serve", raw.serve),
        ] {
            if let Some(value) = value {
                reserved.insert(name.to_string(), value);
            }
        }
        Ok(Config {
            path: Some(self.path.to_path_buf()),
            scan,
            ignores,
            reserved,
        })
    }

    fn scan(&self, raw: RawScan) -> Result<ScanConfig, ConfigError> {
        let ids = |list: Vec<Spanned<String>>, key: &str| {
            list.into_iter()
                .enumerate()
                .map(|(i, s)| {
                    let span = s.span();
                    let id = s.into_inner().trim().to_string();
                    if id.is_empty() {
                        Err(self.err(span, format!("scan.{key}[{i}]"), "is empty"))
                    } else {
                        Ok(id)
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let select = ids(raw.select, "select")?;
        let ignore = ids(raw.ignore, "ignore")?;
        let mut exclude = Vec::new();
        for (i, glob) in raw.exclude.into_iter().enumerate() {
            let span = glob.span();
            let glob = glob.into_inner();
            check_glob(&glob).map_err(|m| self.err(span, format!("scan.exclude[{i}]"), m))?;
            exclude.push(glob);
        }
        Ok(ScanConfig {
            fail_on: raw.fail_on,
            min_confidence: raw.min_confidence,
            select,
            ignore,
            exclude,
        })
    }

    fn ignore(&self, index: usize, raw: Spanned<RawIgnore>) -> Result<IgnoreEntry, ConfigError> {
        let entry_span = raw.span();
        let raw = raw.into_inner();
        let key = |field: &str| format!("ignore[{index}].{field}");
        let non_empty = |value: Spanned<String>, field: &str| {
            let span = value.span();
            let value = value.into_inner().trim().to_string();
            if value.is_empty() {
                Err(self.err(span, key(field), "is empty"))
            } else {
                Ok(value)
            }
        };
        let target = match (raw.rule, raw.advisory) {
            (Some(rule), None) => IgnoreTarget::Rule(non_empty(rule, "rule")?),
            (None, Some(advisory)) => IgnoreTarget::Advisory(non_empty(advisory, "advisory")?),
            (Some(_), Some(advisory)) => {
                return Err(self.err(
                    advisory.span(),
                    key("advisory"),
                    "give either `rule` or `advisory`, not both",
                ));
            }
            (None, None) => {
                return Err(self.err(
                    entry_span,
                    format!("ignore[{index}]"),
                    "needs `rule` or `advisory`",
                ));
            }
        };
        let reason = match raw.reason {
            Some(reason) => {
                let span = reason.span();
                let reason = reason.into_inner().trim().to_string();
                if reason.is_empty() {
                    return Err(self.err(span, key("reason"), "is empty: say why this is ignored"));
                }
                reason
            }
            None => {
                return Err(self.err(
                    entry_span,
                    key("reason"),
                    "is required: say why this is ignored",
                ));
            }
        };
        let path = match raw.path {
            Some(glob) => {
                let span = glob.span();
                let glob = glob.into_inner();
                check_glob(&glob).map_err(|m| self.err(span, key("path"), m))?;
                Some(glob)
            }
            None => None,
        };
        let package = raw.package.map(|p| non_empty(p, "package")).transpose()?;
        let until = match raw.until {
            Some(date) => {
                let span = date.span();
                Some(toml_date(date.get_ref()).ok_or_else(|| {
                    self.err(span, key("until"), "must be a date like 2026-03-01")
                })?)
            }
            None => None,
        };
        let (line, _) = line_column(self.text, entry_span.start);
        Ok(IgnoreEntry {
            target,
            path,
            package,
            reason,
            until,
            origin: self.path.display().to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
        })
    }
}

/// A TOML local date (no time, no offset) as a calendar date.
fn toml_date(value: &toml::value::Datetime) -> Option<NaiveDate> {
    if value.time.is_some() || value.offset.is_some() {
        return None;
    }
    let date = value.date?;
    NaiveDate::from_ymd_opt(
        i32::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    )
}

fn check_glob(glob: &str) -> Result<(), String> {
    if glob.trim().is_empty() {
        return Err("is empty".to_string());
    }
    globset::GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map(|_| ())
        .map_err(|e| format!("is not a valid glob: {}", e.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("ecowatch.toml"))
    }

    fn error_at(text: &str) -> (usize, usize, Option<String>, String) {
        match parse(text) {
            Err(ConfigError::Invalid {
                line,
                column,
                key,
                message,
                ..
            }) => (line, column, key, message),
            other => panic!("expected an invalid config, got {other:?}"),
        }
    }

    #[test]
    fn empty_file_is_the_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config.scan, ScanConfig::default());
        assert!(config.ignores.is_empty());
        assert_eq!(config.path.as_deref(), Some(Path::new("ecowatch.toml")));
    }

    #[test]
    fn full_scan_section_and_ignores() {
        let config = parse(
            r#"
[scan]
fail-on = "high"
min-confidence = "medium"
select = ["python", "supabase/legacy-api-key"]
ignore = ["tailwind/"]
exclude = ["vendor/**", "**/*.min.js"]

[[ignore]]
rule = "python/datetime-utcnow"
path = "legacy/**"
reason = "legacy module, removed in Q3"
until = 2026-03-01

[[ignore]]
advisory = "GHSA-aaaa-bbbb-cccc"
package = "requests"
reason = "not reachable: we never call the affected function"
"#,
        )
        .unwrap();
        assert_eq!(config.scan.fail_on, Some(Severity::High));
        assert_eq!(config.scan.min_confidence, Some(Confidence::Medium));
        assert_eq!(config.scan.exclude, ["vendor/**", "**/*.min.js"]);
        assert_eq!(config.ignores.len(), 2);
        let first = &config.ignores[0];
        assert_eq!(
            first.target,
            IgnoreTarget::Rule("python/datetime-utcnow".into())
        );
        assert_eq!(first.path.as_deref(), Some("legacy/**"));
        assert_eq!(first.until, NaiveDate::from_ymd_opt(2026, 3, 1));
        assert_eq!(first.line, 9);
        assert_eq!(first.origin, "ecowatch.toml");
        let second = &config.ignores[1];
        assert_eq!(
            second.target,
            IgnoreTarget::Advisory("GHSA-aaaa-bbbb-cccc".into())
        );
        assert_eq!(second.package.as_deref(), Some("requests"));
        assert_eq!(second.until, None);
    }

    #[test]
    fn select_and_ignore_match_ids_and_namespaces() {
        let scan = ScanConfig {
            select: vec!["python".into(), "supabase/legacy-api-key".into()],
            ignore: vec!["python/datetime-utcnow".into()],
            ..ScanConfig::default()
        };
        assert!(scan.selects("python/asyncio-get-event-loop"));
        assert!(scan.selects("supabase/legacy-api-key"));
        assert!(!scan.selects("python/datetime-utcnow"));
        assert!(
            !scan.selects("pythonic/x"),
            "a namespace is a whole segment"
        );
        assert!(!scan.selects("supabase/other"));
        assert!(ScanConfig::default().selects("anything/at-all"));
    }

    #[test]
    fn reserved_tables_are_kept_opaque() {
        let config = parse(
            r#"
[store]
url = "sqlite://ecowatch.db"

[sources.github]
token-env = "GITHUB_TOKEN"

[notify.email]
to = ["a@example.com"]

[schedule]
crawl = "0 * * * *"
"#,
        )
        .unwrap();
        let names: Vec<&str> = config.reserved.keys().map(String::as_str).collect();
        assert_eq!(names, ["notify", "schedule", "sources", "store"]);
    }

    #[test]
    fn unknown_top_level_key_names_line_and_column() {
        let (line, column, _, message) = error_at("[scan]\nfail-on = \"low\"\n\n[stroe]\nx = 1\n");
        assert_eq!(line, 4);
        assert_eq!(column, 2);
        assert!(message.contains("stroe"), "{message}");
    }

    #[test]
    fn unknown_scan_key_is_an_error() {
        let (line, column, _, message) = error_at("[scan]\nfail_on = \"low\"\n");
        assert_eq!((line, column), (2, 1));
        assert!(message.contains("fail_on"), "{message}");
    }

    #[test]
    fn bad_severity_names_its_place() {
        let (line, _, _, message) = error_at("[scan]\nfail-on = \"severe\"\n");
        assert_eq!(line, 2);
        assert!(message.contains("severe"), "{message}");
    }

    #[test]
    fn ignore_without_reason_is_refused_with_its_key() {
        let text = "[[ignore]]\nrule = \"a/b\"\nreason = \"ok\"\n\n[[ignore]]\nrule = \"c/d\"\nreason = \"  \"\n";
        let (line, _, key, message) = error_at(text);
        assert_eq!(key.as_deref(), Some("ignore[1].reason"));
        assert_eq!(line, 7);
        assert!(message.contains("why"), "{message}");

        let (line, _, key, _) = error_at("[[ignore]]\nrule = \"a/b\"\n");
        assert_eq!(key.as_deref(), Some("ignore[0].reason"));
        assert_eq!(
            line, 1,
            "the entry's span starts at its `[[ignore]]` header"
        );
    }

    #[test]
    fn ignore_needs_exactly_one_target() {
        let (_, _, key, _) = error_at("[[ignore]]\nreason = \"x\"\n");
        assert_eq!(key.as_deref(), Some("ignore[0]"));
        let (line, column, key, _) =
            error_at("[[ignore]]\nrule = \"a\"\nadvisory = \"b\"\nreason = \"x\"\n");
        assert_eq!(key.as_deref(), Some("ignore[0].advisory"));
        assert_eq!((line, column), (3, 12));
    }

    #[test]
    fn until_must_be_a_plain_date() {
        let (line, _, key, _) =
            error_at("[[ignore]]\nrule = \"a\"\nreason = \"x\"\nuntil = 2026-03-01T10:00:00Z\n");
        assert_eq!(key.as_deref(), Some("ignore[0].until"));
        assert_eq!(line, 4);
        let (_, _, _, message) =
            error_at("[[ignore]]\nrule = \"a\"\nreason = \"x\"\nuntil = \"2026-03-01\"\n");
        assert!(!message.is_empty());
    }

    #[test]
    fn bad_globs_are_refused() {
        let (line, column, key, message) =
            error_at("[[ignore]]\nrule = \"a\"\nreason = \"x\"\npath = \"src/[a\"\n");
        assert_eq!(key.as_deref(), Some("ignore[0].path"));
        assert_eq!((line, column), (4, 8));
        assert!(message.contains("glob"), "{message}");
        let (_, _, key, _) = error_at("[scan]\nexclude = [\"ok/**\", \"{a\"]\n");
        assert_eq!(key.as_deref(), Some("scan.exclude[1]"));
    }

    #[test]
    fn malformed_and_truncated_toml_report_a_position() {
        let (line, _, _, _) = error_at("[scan]\nfail-on = \"high\n");
        assert_eq!(line, 2);
        let (line, _, _, _) = error_at("[[ignore]\n");
        assert_eq!(line, 1);
        assert!(parse("\u{0}\u{1}garbage = = =").is_err());
    }

    #[test]
    fn error_message_names_file_position_and_key() {
        let err = parse("[[ignore]]\nrule = \"a\"\n").unwrap_err().to_string();
        assert!(
            err.starts_with("ecowatch.toml:1:1: `ignore[0].reason`"),
            "{err}"
        );
    }

    #[test]
    fn discover_uses_defaults_without_a_file_and_requires_an_explicit_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Config::discover(dir.path(), None).unwrap(),
            Config::default()
        );
        let missing = dir.path().join("nope.toml");
        assert!(matches!(
            Config::discover(dir.path(), Some(&missing)),
            Err(ConfigError::Read { .. })
        ));
        std::fs::write(dir.path().join(FILE_NAME), "[scan]\nfail-on = \"low\"\n").unwrap();
        let found = Config::discover(dir.path(), None).unwrap();
        assert_eq!(found.scan.fail_on, Some(Severity::Low));
    }

    #[test]
    fn line_column_counts_characters_and_clamps() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é=1", 2), (1, 2));
        assert_eq!(line_column("x", 99), (1, 2));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
