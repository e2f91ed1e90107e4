//! The rule file as written (schema 1): serde types that keep every value's span, so that
//! `feeds lint` can point at the exact key. Unknown keys are refused at every level except
//! inside an ast-grep `rule`, `constraints` and `utils` (ast-grep's own rule object).
//!
//! `[[match]]` is one struct holding every matcher's keys rather than a tagged enum with
//! `flatten`: flattening loses TOML spans. The loader dispatches on `kind` and refuses keys that
//! do not belong to that kind, span in hand.

use crate::finding::{Confidence, Kind, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;
use toml::value::Datetime;

/// The only rule schema this build understands.
pub const RULE_SCHEMA: u32 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub schema: Spanned<u32>,
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    pub message: Spanned<String>,
    pub kind: Spanned<Kind>,
    pub severity: Spanned<Severity>,
    pub confidence: Option<Spanned<Confidence>>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    pub fix: Option<Spanned<String>>,
    pub note: Spanned<String>,
    pub references: Spanned<Vec<Spanned<String>>>,
    pub when: Option<Spanned<RawWhen>>,
    pub files: Option<Spanned<RawFiles>>,
    pub timeline: Option<Spanned<RawTimeline>>,
    #[serde(default)]
    pub watch: Vec<Spanned<RawWatch>>,
    #[serde(rename = "match", default)]
    pub matches: Vec<Spanned<RawMatch>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWhen {
    #[serde(default)]
    pub dependencies: Vec<Spanned<RawDependencyGate>>,
    #[serde(default)]
    pub runtimes: Vec<Spanned<RawRuntimeGate>>,
    #[serde(default)]
    pub imports: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDependencyGate {
    pub ecosystem: Spanned<String>,
    pub name: Spanned<String>,
    pub version: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuntimeGate {
    pub runtime: Spanned<String>,
    pub version: Spanned<String>,
    /// What a repository that pins no such runtime does: `pass` (default) or `skip`.
    pub unknown: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFiles {
    #[serde(default)]
    pub include: Vec<Spanned<String>>,
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeline {
    pub announced: Option<Spanned<Datetime>>,
    pub sunset: Option<Spanned<Datetime>>,
    #[serde(default)]
    pub escalate: Vec<Spanned<RawEscalation>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEscalation {
    pub after: Spanned<Datetime>,
    pub severity: Spanned<Severity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWatch {
    pub source: Spanned<String>,
    pub url: Option<Spanned<String>>,
    pub ecosystem: Option<Spanned<String>>,
    pub package: Option<Spanned<String>>,
}

/// Every key any matcher takes; [`crate::rules::load`] checks which belong to `kind`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatch {
    pub kind: Spanned<String>,
    // Overrides and narrowing, any kind.
    pub message: Option<Spanned<String>>,
    pub severity: Option<Spanned<Severity>>,
    pub confidence: Option<Spanned<Confidence>>,
    pub files: Option<Spanned<Vec<Spanned<String>>>>,
    // regex
    pub pattern: Option<Spanned<String>>,
    pub not: Option<Spanned<String>>,
    // ast-grep
    pub languages: Option<Spanned<Vec<Spanned<String>>>>,
    pub rule: Option<Spanned<toml::Value>>,
    pub constraints: Option<Spanned<toml::Value>>,
    pub utils: Option<Spanned<toml::Value>>,
    pub transform: Option<Spanned<toml::Value>>,
    pub literals: Option<Spanned<Vec<Spanned<String>>>>,
    // dependency (and config's version scheme)
    pub ecosystem: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub version: Option<Spanned<String>>,
    // config
    pub path: Option<Spanned<String>>,
    pub value: Option<Spanned<String>>,
    // jwt
    pub claims: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
}

impl RawMatch {
    /// The keys present, with their spans, for the "not allowed for this kind" check.
    pub fn present_keys(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let mut keys = Vec::new();
        macro_rules! key {
            ($field:ident, $name:literal) => {
                if let Some(v) = &self.$field {
                    keys.push(($name, v.span()));
                }
            };
        }
        key!(message, "message");
        key!(severity, "severity");
        key!(confidence, "confidence");
        key!(files, "files");
        key!(pattern, "pattern");
        key!(not, "not");
        key!(languages, "languages");
        key!(rule, "rule");
        key!(constraints, "constraints");
        key!(utils, "utils");
        key!(transform, "transform");
        key!(literals, "literals");
        key!(ecosystem, "ecosystem");
        key!(name, "name");
        key!(version, "version");
        key!(path, "path");
        key!(value, "value");
        key!(claims, "claims");
        keys
    }
}
