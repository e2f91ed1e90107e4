//! Rule files to compiled [`Rule`]s. Every problem names the file, line, column and key; a
//! rule with a problem is never half-loaded (and never silently dropped: callers see why).

use super::schema::{RULE_SCHEMA, RawMatch, RawRule};
use super::{DependencyGate, FileFilter, MatchSpec, Rule, RuntimeGate, Timeline, When};
use crate::ecosystem::Ecosystem;
use crate::finding::Confidence;
use crate::matcher::ast_grep::StructuralRule;
use crate::matcher::config::ConfigMatcher;
use crate::matcher::dependency::DependencyMatcher;
use crate::matcher::imports::ImportsGate;
use crate::matcher::jwt::JwtMatcher;
use crate::matcher::regex_line::RegexMatcher;
use crate::matcher::structural::{StructuralMatcher, pattern_literal};
use crate::matcher::{Matcher, versions};
use chrono::NaiveDate;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::{Regex, RegexBuilder};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::value::Datetime;

/// Longest regex source accepted, in bytes.
pub const MAX_PATTERN_BYTES: usize = 4 * 1024;
/// Compiled-size cap per regex (the regex crate's `size_limit`).
pub const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// One rule file: `rel` is its path under `feeds/rules` (forward slashes), `display` how
/// messages name it.
#[derive(Clone, Debug)]
pub struct FeedFile {
    pub rel: String,
    pub display: String,
    pub text: String,
}

/// A problem in a rule file, at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LoadProblem {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

/// Where the rules of a feeds directory live: `DIR/rules` when it exists, else `DIR` itself.
pub fn rules_root(dir: &Path) -> PathBuf {
    let nested = dir.join("rules");
    if nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    }
}

/// Is `rel` (under the rules root) a rule file? `.toml` files whose stem has no dot, outside
/// `*.fixtures` directories (`name.pyproject.toml` is a fixture of rule `name`).
pub fn is_rule_file(rel: &str) -> bool {
    let mut parts: Vec<&str> = rel.split('/').collect();
    let Some(name) = parts.pop() else {
        return false;
    };
    name.strip_suffix(".toml")
        .is_some_and(|stem| !stem.is_empty() && !stem.contains('.'))
        && !parts.iter().any(|p| p.ends_with(".fixtures"))
}

/// Reads every rule file under `dir` (see [`rules_root`]), sorted by path.
pub fn read_feeds_dir(dir: &Path) -> std::io::Result<Vec<FeedFile>> {
    let root = rules_root(dir);
    let mut paths = Vec::new();
    list_files(&root, &root, &mut paths)?;
    paths.sort();
    let mut files = Vec::new();
    for rel in paths.into_iter().filter(|r| is_rule_file(r)) {
        let full = root.join(&rel);
        let text = std::fs::read_to_string(&full).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot read `{}`: {e}", full.display()))
        })?;
        files.push(FeedFile {
            display: full.display().to_string(),
            rel,
            text,
        });
    }
    Ok(files)
}

/// Every file below `dir` as a path relative to `root` with forward slashes.
pub fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            list_files(root, &path, out)?;
        } else if kind.is_file()
            && let Ok(rel) = path.strip_prefix(root)
        {
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(rel.join("/"));
        }
    }
    Ok(())
}

/// Loads every file; rules that fail are left out of the first list and explained in the
/// second. Callers decide whether problems are fatal (`scan` and `feeds lint` say they are).
pub fn load_feed_files(files: &[FeedFile]) -> (Vec<Rule>, Vec<LoadProblem>) {
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match load_rules(file) {
            Ok(rule) => rules.push(rule),
            Err(mut p) => problems.append(&mut p),
        }
    }
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    problems.sort();
    (rules, problems)
}

/// Parses, validates and compiles one rule file.
pub fn load_rules(file: &FeedFile) -> Result<Rule, Vec<LoadProblem>> {
    let mut ctx = Ctx {
        file,
        problems: Vec::new(),
    };
    let raw: RawRule = match toml::from_str(&file.text) {
        Ok(raw) => raw,
        Err(err) => {
            let span = err.span().unwrap_or(0..0);
            ctx.problem(span, err.message().trim().to_string());
            return Err(ctx.problems);
        }
    };
    let rule = ctx.rule(raw);
    match rule {
        Some(rule) if ctx.problems.is_empty() => Ok(rule),
        _ => Err(ctx.problems),
    }
}

struct Ctx<'f> {
    file: &'f FeedFile,
    problems: Vec<LoadProblem>,
}

impl Ctx<'_> {
    fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_col(&self.file.text, span.start);
        self.problems.push(LoadProblem {
            path: self.file.display.clone(),
            line,
            column,
            message: message.into(),
        });
    }

    fn rule(&mut self, raw: RawRule) -> Option<Rule> {
        if *raw.schema.get_ref() != RULE_SCHEMA {
            self.problem(
                raw.schema.span(),
                format!(
                    "key `schema`: this build reads rule schema {RULE_SCHEMA}, not {}",
                    raw.schema.get_ref()
                ),
            );
        }
        let expected_id = self
            .file
            .rel
            .strip_suffix(".toml")
            .unwrap_or(&self.file.rel)
            .to_string();
        if raw.id.get_ref() != &expected_id {
            self.problem(
                raw.id.span(),
                format!(
                    "key `id`: `{}` must equal the file's path under rules/ (`{expected_id}`)",
                    raw.id.get_ref()
                ),
            );
        } else if !is_rule_id(raw.id.get_ref()) {
            self.problem(
                raw.id.span(),
                format!(
                    "key `id`: `{}` must be `<namespace>/<name>` in lower-case kebab-case",
                    raw.id.get_ref()
                ),
            );
        }
        for (key, value) in [
            ("title", &raw.title),
            ("message", &raw.message),
            ("note", &raw.note),
        ] {
            if value.get_ref().trim().is_empty() {
                self.problem(value.span(), format!("key `{key}` must not be empty"));
            }
        }
        self.references(&raw.references);
        let tags = raw
            .tags
            .iter()
            .map(|t| {
                if t.get_ref().trim().is_empty() || t.get_ref().contains(char::is_whitespace) {
                    self.problem(t.span(), "key `tags`: a tag is one word without spaces");
                }
                t.get_ref().clone()
            })
            .collect();
        let when = raw.when.map(|w| self.when(w)).unwrap_or_default();
        let files = match raw.files {
            Some(f) => {
                let f = f.into_inner();
                FileFilter {
                    include: self.globs("files.include", &f.include),
                    exclude: self.globs("files.exclude", &f.exclude),
                }
            }
            None => FileFilter::default(),
        };
        let timeline = raw.timeline.map(|t| self.timeline(t)).unwrap_or_default();
        for watch in &raw.watch {
            self.watch(watch);
        }
        if raw.matches.is_empty() {
            self.problem(0..0, "a rule needs at least one `[[match]]` table");
        }
        let matchers: Vec<MatchSpec> = raw
            .matches
            .into_iter()
            .filter_map(|m| self.matcher(m))
            .collect();
        Some(Rule {
            id: raw.id.into_inner(),
            source: self.file.display.clone(),
            title: raw.title.into_inner().trim().to_string(),
            message: raw.message.into_inner().trim().to_string(),
            kind: raw.kind.into_inner(),
            severity: raw.severity.into_inner(),
            confidence: raw
                .confidence
                .map_or(Confidence::Medium, Spanned::into_inner),
            tags,
            fix: raw.fix.map(|f| f.into_inner().trim().to_string()),
            note: raw.note.into_inner().trim().to_string(),
            references: raw
                .references
                .into_inner()
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            when,
            files,
            timeline,
            matchers,
        })
    }

    fn references(&mut self, refs: &Spanned<Vec<Spanned<String>>>) {
        if refs.get_ref().is_empty() {
            self.problem(
                refs.span(),
                "key `references`: list at least one primary source",
            );
        }
        for r in refs.get_ref() {
            if !is_https_url(r.get_ref()) {
                self.problem(
                    r.span(),
                    format!("key `references`: `{}` is not an https URL", r.get_ref()),
                );
            }
        }
    }

    fn when(&mut self, when: Spanned<super::schema::RawWhen>) -> When {
        let when = when.into_inner();
        let mut out = When::default();
        for dep in when.dependencies {
            let dep = dep.into_inner();
            let Some(eco) = self.package_ecosystem("when.dependencies.ecosystem", &dep.ecosystem)
            else {
                continue;
            };
            let version = dep.version.as_ref().map(|v| {
                self.range("when.dependencies.version", eco, v);
                v.get_ref().clone()
            });
            out.dependencies.push(DependencyGate {
                ecosystem: eco,
                name: eco.normalize_name(dep.name.get_ref()),
                version,
            });
        }
        for rt in when.runtimes {
            let rt = rt.into_inner();
            let eco = match Ecosystem::parse(rt.runtime.get_ref()) {
                Some(e) if e.is_runtime() => e,
                _ => {
                    self.problem(
                        rt.runtime.span(),
                        format!(
                            "key `when.runtimes.runtime`: `{}` is not a runtime (python, nodejs, go, ruby, rust, php)",
                            rt.runtime.get_ref()
                        ),
                    );
                    continue;
                }
            };
            self.range("when.runtimes.version", eco, &rt.version);
            let pass_when_unknown = match rt.unknown.as_ref().map(|u| u.get_ref().as_str()) {
                None | Some("pass") => true,
                Some("skip") => false,
                Some(other) => {
                    let span = rt.unknown.as_ref().map_or(0..0, Spanned::span);
                    self.problem(
                        span,
                        format!("key `when.runtimes.unknown`: `{other}` is not `pass` or `skip`"),
                    );
                    true
                }
            };
            out.runtimes.push(RuntimeGate {
                runtime: eco,
                version: rt.version.into_inner(),
                pass_when_unknown,
            });
        }
        if !when.imports.is_empty() {
            let mut names = Vec::new();
            for i in &when.imports {
                if i.get_ref().trim().is_empty() {
                    self.problem(i.span(), "key `when.imports`: empty module name");
                }
                names.push(i.get_ref().trim().to_string());
            }
            match ImportsGate::new(&names) {
                Ok(gate) => out.imports = Some(gate),
                Err(e) => {
                    let span = when.imports.first().map_or(0..0, Spanned::span);
                    self.problem(span, format!("key `when.imports`: {e}"));
                }
            }
        }
        out
    }

    fn package_ecosystem(&mut self, key: &str, eco: &Spanned<String>) -> Option<Ecosystem> {
        match Ecosystem::parse(eco.get_ref()) {
            Some(e) if !e.is_runtime() => Some(e),
            _ => {
                self.problem(
                    eco.span(),
                    format!(
                        "key `{key}`: `{}` is not a package ecosystem (npm, PyPI, crates.io, Go, RubyGems, Packagist, GitHub Actions, docker)",
                        eco.get_ref()
                    ),
                );
                None
            }
        }
    }

    fn range(&mut self, key: &str, eco: Ecosystem, range: &Spanned<String>) {
        if let Err(e) = versions::check_range(eco, range.get_ref()) {
            self.problem(
                range.span(),
                format!("key `{key}`: not a valid {eco} range: {e}"),
            );
        }
    }

    fn globs(&mut self, key: &str, globs: &[Spanned<String>]) -> Option<GlobSet> {
        if globs.is_empty() {
            return None;
        }
        let mut builder = GlobSetBuilder::new();
        for g in globs {
            match GlobBuilder::new(g.get_ref())
                .literal_separator(true)
                .build()
            {
                Ok(glob) => {
                    builder.add(glob);
                }
                Err(e) => self.problem(g.span(), format!("key `{key}`: {e}")),
            }
        }
        match builder.build() {
            Ok(set) => Some(set),
            Err(e) => {
                self.problem(globs[0].span(), format!("key `{key}`: {e}"));
                None
            }
        }
    }

    fn date(&mut self, key: &str, value: &Spanned<Datetime>) -> Option<NaiveDate> {
        let dt = value.get_ref();
        let date = match (&dt.date, &dt.time, &dt.offset) {
            (Some(d), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
            }
            _ => None,
        };
        if date.is_none() {
            self.problem(
                value.span(),
                format!("key `{key}`: expected a date like 2026-12-31, found `{dt}`"),
            );
        }
        date
    }

    fn timeline(&mut self, t: Spanned<super::schema::RawTimeline>) -> Timeline {
        let t = t.into_inner();
        let announced = t
            .announced
            .as_ref()
            .and_then(|d| self.date("timeline.announced", d));
        let sunset = t
            .sunset
            .as_ref()
            .and_then(|d| self.date("timeline.sunset", d));
        let mut escalate = Vec::new();
        for e in &t.escalate {
            let e = e.get_ref();
            if let Some(after) = self.date("timeline.escalate.after", &e.after) {
                escalate.push((after, *e.severity.get_ref()));
            }
        }
        escalate.sort();
        Timeline {
            announced,
            sunset,
            escalate,
        }
    }

    fn watch(&mut self, watch: &Spanned<super::schema::RawWatch>) {
        let w = watch.get_ref();
        match w.source.get_ref().as_str() {
            "github-discussion" | "changelog-page" => {
                if w.url.is_none() {
                    self.problem(
                        watch.span(),
                        format!("key `watch`: source `{}` needs a `url`", w.source.get_ref()),
                    );
                }
            }
            "release-notes" => {
                if w.ecosystem.is_none() || w.package.is_none() {
                    self.problem(
                        watch.span(),
                        "key `watch`: source `release-notes` needs `ecosystem` and `package`",
                    );
                }
            }
            other => self.problem(
                w.source.span(),
                format!(
                    "key `watch.source`: `{other}` is not one of github-discussion, release-notes, changelog-page"
                ),
            ),
        }
        if let Some(url) = &w.url
            && !is_https_url(url.get_ref())
        {
            self.problem(
                url.span(),
                format!("key `watch.url`: `{}` is not an https URL", url.get_ref()),
            );
        }
        if let Some(eco) = &w.ecosystem {
            self.package_ecosystem("watch.ecosystem", eco);
        }
    }

    fn regex(&mut self, key: &str, pattern: &Spanned<String>) -> Option<Regex> {
        let source = pattern.get_ref();
        if source.len() > MAX_PATTERN_BYTES {
            self.problem(
                pattern.span(),
                format!(
                    "key `{key}`: pattern is {} bytes, over the {MAX_PATTERN_BYTES}-byte limit",
                    source.len()
                ),
            );
            return None;
        }
        match RegexBuilder::new(source)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            Ok(re) => Some(re),
            Err(e) => {
                let detail = e.to_string().replace('\n', " ");
                self.problem(
                    pattern.span(),
                    format!("key `{key}`: invalid regex: {detail}"),
                );
                None
            }
        }
    }

    fn matcher(&mut self, m: Spanned<RawMatch>) -> Option<MatchSpec> {
        let table_span = m.span();
        let m = m.into_inner();
        let kind = m.kind.get_ref().clone();
        let allowed: &[&str] = match kind.as_str() {
            "regex" => &["pattern", "not"],
            "jwt" => &["claims"],
            "dependency" => &["ecosystem", "name", "version"],
            "config" => &["path", "value", "version", "ecosystem"],
            "ast-grep" => &[
                "languages",
                "rule",
                "constraints",
                "utils",
                "transform",
                "literals",
            ],
            other => {
                self.problem(
                    m.kind.span(),
                    format!(
                        "key `match.kind`: `{other}` is not one of regex, ast-grep, dependency, config, jwt"
                    ),
                );
                return None;
            }
        };
        let common = ["message", "severity", "confidence", "files"];
        let before = self.problems.len();
        for (key, span) in m.present_keys() {
            if !allowed.contains(&key) && !common.contains(&key) {
                self.problem(
                    span,
                    format!("key `match.{key}` is not used by a `{kind}` matcher"),
                );
            }
        }
        if kind == "dependency" && m.files.is_some() {
            let span = m.files.as_ref().map_or(0..0, Spanned::span);
            self.problem(
                span,
                "key `match.files` is not used by a `dependency` matcher",
            );
        }
        let files = match &m.files {
            Some(f) => FileFilter {
                include: self.globs("match.files", f.get_ref()),
                exclude: None,
            },
            None => FileFilter::default(),
        };
        let matcher = match kind.as_str() {
            "regex" => self.regex_matcher(&m, table_span),
            "jwt" => self.jwt_matcher(&m, table_span),
            "dependency" => self.dependency_matcher(&m, table_span),
            "config" => self.config_matcher(&m, table_span),
            _ => self.structural_matcher(&m, table_span),
        };
        if self.problems.len() > before {
            return None;
        }
        Some(MatchSpec {
            matcher: matcher?,
            message: m.message.map(|s| s.into_inner().trim().to_string()),
            severity: m.severity.map(Spanned::into_inner),
            confidence: m.confidence.map(Spanned::into_inner),
            files,
        })
    }

    fn required<'a, T>(
        &mut self,
        value: &'a Option<Spanned<T>>,
        key: &str,
        kind: &str,
        span: Range<usize>,
    ) -> Option<&'a Spanned<T>> {
        if value.is_none() {
            self.problem(
                span,
                format!("a `{kind}` matcher needs the key `match.{key}`"),
            );
        }
        value.as_ref()
    }

    fn regex_matcher(&mut self, m: &RawMatch, span: Range<usize>) -> Option<Matcher> {
        let pattern = self.required(&m.pattern, "pattern", "regex", span)?;
        let pattern = self.regex("match.pattern", pattern);
        let not = match &m.not {
            Some(n) => Some(self.regex("match.not", n)?),
            None => None,
        };
        Some(Matcher::Regex(RegexMatcher {
            pattern: pattern?,
            not,
        }))
    }

    fn jwt_matcher(&mut self, m: &RawMatch, span: Range<usize>) -> Option<Matcher> {
        let claims = self.required(&m.claims, "claims", "jwt", span)?;
        if claims.get_ref().is_empty() {
            self.problem(claims.span(), "key `match.claims`: list at least one claim");
        }
        let mut out = Vec::new();
        for (name, pattern) in claims.get_ref() {
            if let Some(re) = self.regex(&format!("match.claims.{name}"), pattern) {
                out.push((name.clone(), re));
            }
        }
        Some(Matcher::Jwt(JwtMatcher { claims: out }))
    }

    fn dependency_matcher(&mut self, m: &RawMatch, span: Range<usize>) -> Option<Matcher> {
        let eco = self.required(&m.ecosystem, "ecosystem", "dependency", span.clone());
        let name = self.required(&m.name, "name", "dependency", span);
        let (eco, name) = (eco?, name?);
        let eco = self.package_ecosystem("match.ecosystem", eco)?;
        if let Some(v) = &m.version {
            self.range("match.version", eco, v);
        }
        Some(Matcher::Dependency(DependencyMatcher {
            ecosystem: eco,
            name: eco.normalize_name(name.get_ref()),
            version: m.version.as_ref().map(|v| v.get_ref().clone()),
        }))
    }

    fn config_matcher(&mut self, m: &RawMatch, span: Range<usize>) -> Option<Matcher> {
        self.required(&m.files, "files", "config", span.clone());
        let path = self.required(&m.path, "path", "config", span)?;
        let keys: Vec<String> = path.get_ref().split('.').map(str::to_string).collect();
        if keys.iter().any(|k| k.trim().is_empty()) {
            self.problem(
                path.span(),
                format!(
                    "key `match.path`: `{}` has an empty segment",
                    path.get_ref()
                ),
            );
        }
        if m.value.is_some() && m.version.is_some() {
            let span = m.version.as_ref().map_or(0..0, Spanned::span);
            self.problem(span, "use `match.value` or `match.version`, not both");
        }
        let value = match &m.value {
            Some(v) => Some(self.regex("match.value", v)?),
            None => None,
        };
        let version = match &m.version {
            Some(v) => {
                let eco = match &m.ecosystem {
                    Some(e) => match Ecosystem::parse(e.get_ref()) {
                        Some(eco) => eco,
                        None => {
                            self.problem(
                                e.span(),
                                format!(
                                    "key `match.ecosystem`: unknown ecosystem `{}`",
                                    e.get_ref()
                                ),
                            );
                            return None;
                        }
                    },
                    None => Ecosystem::Npm,
                };
                self.range("match.version", eco, v);
                Some((eco, v.get_ref().clone()))
            }
            None => {
                if let Some(e) = &m.ecosystem {
                    self.problem(
                        e.span(),
                        "key `match.ecosystem` only names the syntax of `match.version`",
                    );
                }
                None
            }
        };
        Some(Matcher::Config(ConfigMatcher {
            path: keys,
            value,
            version,
        }))
    }

    fn structural_matcher(&mut self, m: &RawMatch, span: Range<usize>) -> Option<Matcher> {
        let languages = self.required(&m.languages, "languages", "ast-grep", span.clone());
        let rule = self.required(&m.rule, "rule", "ast-grep", span);
        let (languages, rule) = (languages?, rule?);
        let langs: Vec<String> = languages
            .get_ref()
            .iter()
            .map(|l| l.get_ref().clone())
            .collect();
        let mut table = toml::Table::new();
        table.insert("rule".into(), rule.get_ref().clone());
        for (key, value) in [
            ("constraints", &m.constraints),
            ("utils", &m.utils),
            ("transform", &m.transform),
        ] {
            if let Some(v) = value {
                table.insert(key.into(), v.get_ref().clone());
            }
        }
        let compiled = match StructuralRule::compile(&langs, &toml::Value::Table(table)) {
            Ok(c) => c,
            Err(e) => {
                self.problem(rule.span(), format!("key `match.rule`: {e}"));
                return None;
            }
        };
        let literals = match &m.literals {
            Some(l) => {
                let lits: Vec<String> = l.get_ref().iter().map(|s| s.get_ref().clone()).collect();
                if lits.is_empty() || lits.iter().any(String::is_empty) {
                    self.problem(l.span(), "key `match.literals`: list non-empty strings");
                }
                Some(lits)
            }
            None => rule
                .get_ref()
                .get("pattern")
                .and_then(toml::Value::as_str)
                .and_then(pattern_literal)
                .map(|l| vec![l]),
        };
        Some(Matcher::Structural(StructuralMatcher {
            rule: compiled,
            literals,
        }))
    }
}

/// `<namespace>/<name>`, each lower-case kebab-case.
fn is_rule_id(id: &str) -> bool {
    let kebab = |s: &str| {
        !s.is_empty()
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--")
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    matches!(id.split_once('/'), Some((ns, name)) if kebab(ns) && kebab(name))
}

fn is_https_url(s: &str) -> bool {
    s.strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
}

/// 1-based line and character column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let mut offset = offset;
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}
