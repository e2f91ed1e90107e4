//! `kind = "config"`: a key of a JSON, TOML or YAML file, addressed by a dotted path
//! (`engines.node`), optionally constrained by a `value` regex or a `version` range. The line
//! is found by searching the path's keys in order through the text.

use super::lang::Language;
use super::{Hit, char_column, snippet, versions};
use crate::ecosystem::Ecosystem;
use regex::Regex;
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct ConfigMatcher {
    /// The dotted path, split.
    pub path: Vec<String>,
    pub value: Option<Regex>,
    /// A range and the ecosystem whose syntax it (and the configured value) uses.
    pub version: Option<(Ecosystem, String)>,
}

/// Why a config file could not be read as data.
#[derive(Debug, thiserror::Error)]
#[error("cannot parse {format}: {message}")]
pub struct ConfigParseError {
    format: &'static str,
    message: String,
}

/// A parsed config file, shared by every config matcher that looks at it.
pub type Parsed = Result<serde_json::Value, ConfigParseError>;

/// Parses `text` by `path`'s extension; `None` for files that are not JSON, TOML or YAML.
pub fn parse(path: &str, text: &str) -> Option<Parsed> {
    let (format, result) = match Language::for_path(path) {
        Language::Json => ("JSON", crate::extract::util::parse_json(text)),
        Language::Toml => ("TOML", crate::extract::util::parse_toml(text)),
        Language::Yaml => ("YAML", crate::extract::util::parse_yaml(text)),
        _ => return None,
    };
    Some(result.map_err(|e| ConfigParseError {
        format,
        message: e.to_string(),
    }))
}

impl ConfigMatcher {
    /// The hit for this file's value at the path, if it matches.
    pub fn find(&self, doc: &serde_json::Value, text: &str) -> Option<Hit> {
        let mut node = doc;
        for key in &self.path {
            node = node.as_object()?.get(key)?;
        }
        let value = match node {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        if let Some(re) = &self.value
            && !re.is_match(&value)
        {
            return None;
        }
        if let Some((eco, range)) = &self.version {
            let admitted = if eco.is_runtime() {
                versions::pin_admits(*eco, &value, range).ok().flatten()
            } else {
                versions::exact_pin(&value).and_then(|v| versions::satisfies(*eco, v, range).ok())
            };
            if admitted != Some(true) {
                return None;
            }
        }
        let dotted = self.path.join(".");
        let (line_no, column, line) = locate(text, &self.path);
        let mut captures = BTreeMap::new();
        captures.insert("VALUE".to_string(), value.clone());
        captures.insert("PATH".to_string(), dotted.clone());
        Some(Hit {
            line: line_no,
            column,
            matched: format!("{dotted}={value}"),
            snippet: snippet(line),
            captures,
            package: None,
        })
    }
}

/// Line, column and text of the last key of `path`, searching each key after the previous one.
fn locate<'t>(text: &'t str, path: &[String]) -> (u32, u32, &'t str) {
    let mut cursor = 0;
    let mut found = None;
    for key in path {
        match find_key(text, key, cursor) {
            Some(at) => {
                found = Some(at);
                cursor = at + key.len();
            }
            None => break,
        }
    }
    let at = found.unwrap_or(0);
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = &text[line_start..line_end];
    let line_no = text[..line_start].matches('\n').count() + 1;
    (
        u32::try_from(line_no).unwrap_or(u32::MAX),
        char_column(line, at - line_start),
        line,
    )
}

/// The byte offset of `key` as a whole key (not inside a longer identifier) at or after `from`.
fn find_key(text: &str, key: &str, from: usize) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut start = from;
    while let Some(i) = text.get(start..)?.find(key) {
        let at = start + i;
        let before = text[..at].chars().next_back();
        let after = text[at + key.len()..].chars().next();
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            return Some(at);
        }
        start = at + key.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(path: &str, value: Option<&str>, version: Option<&str>) -> ConfigMatcher {
        ConfigMatcher {
            path: path.split('.').map(str::to_string).collect(),
            value: value.map(|v| Regex::new(v).unwrap()),
            version: version.map(|r| (Ecosystem::NodeJs, r.to_string())),
        }
    }

    const PACKAGE: &str =
        "{\n  \"name\": \"node-app\",\n  \"engines\": {\n    \"node\": \">=14\"\n  }\n}\n";

    #[test]
    fn finds_the_key_line_and_checks_the_version() {
        let doc = parse("package.json", PACKAGE).unwrap().unwrap();
        let hit = matcher("engines.node", None, Some("<18"))
            .find(&doc, PACKAGE)
            .unwrap();
        assert_eq!((hit.line, hit.column), (4, 6));
        assert_eq!(hit.captures["VALUE"], ">=14");
        assert_eq!(hit.snippet, "\"node\": \">=14\"");
        assert!(
            matcher("engines.node", None, Some(">=30"))
                .find(&doc, PACKAGE)
                .is_none()
        );
        assert!(
            matcher("engines.node", Some("^>="), None)
                .find(&doc, PACKAGE)
                .is_some()
        );
        assert!(
            matcher("engines.deno", None, None)
                .find(&doc, PACKAGE)
                .is_none()
        );
    }

    #[test]
    fn reads_toml_and_yaml_and_reports_bad_files() {
        let toml = "[project]\nname = \"x\"\nrequires-python = \">=3.8\"\n";
        let doc = parse("pyproject.toml", toml).unwrap().unwrap();
        let hit = matcher("project.requires-python", None, None)
            .find(&doc, toml)
            .unwrap();
        assert_eq!(hit.line, 3);
        let yaml = "on: push\njobs:\n  build:\n    runs-on: ubuntu-18.04\n";
        let doc = parse("ci.yml", yaml).unwrap().unwrap();
        let hit = matcher("jobs.build.runs-on", Some("ubuntu-18"), None)
            .find(&doc, yaml)
            .unwrap();
        assert_eq!(hit.line, 4);
        assert!(parse("a.json", "{").unwrap().is_err());
        assert!(parse("a.txt", "{").is_none());
    }
}
