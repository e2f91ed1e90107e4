//! Structural matching with ast-grep: a rule's `kind = "ast-grep"` matcher, compiled once per
//! language and run over source files.
//!
//! A rule file carries ast-grep's own rule object (`rule`, `constraints`, `utils`, `transform`)
//! unchanged, so ast-grep's documentation applies word for word; this module only turns that
//! TOML into per-language matchers and turns matches into 1-based positions and captures.
//!
//! Only the grammars rules use are compiled in (JavaScript/JSX, TypeScript, TSX, Python,
//! HTML): each grammar is a C parser that costs build time and binary size.
//!
//! # Writing rules: blocking calls inside `async def` (Python)
//!
//! tree-sitter-python has no `async_function_definition`: an `async def` is a
//! `function_definition` whose first token is the anonymous `async` keyword, which `kind`
//! cannot name. Match the definition's text instead, and stop at the *nearest* enclosing
//! function, so that a plain `def` nested in an `async def` (which runs synchronously) does
//! not fire. `stopBy` with a rule is inclusive: the nearest `function_definition` is itself
//! tested.
//!
//! ```toml
//! [[match]]
//! kind = "ast-grep"
//! languages = ["py"]
//! rule = { pattern = "requests.$METHOD($$$ARGS)", inside = { kind = "function_definition", regex = '^async\s', stopBy = { kind = "function_definition" } } }
//! ```
//!
//! A keyword argument cannot be written as a bare pattern (`storage_uri=$X` parses as an
//! assignment statement and silently never matches), so give it a context and select the node
//! kind, or match the `keyword_argument` kind by text. Flask-Limiter without a storage backend:
//!
//! ```toml
//! [match.rule]
//! pattern = "Limiter($$$ARGS)"
//! not = { has = { pattern = { context = "f(storage_uri=$X)", selector = "keyword_argument" }, stopBy = "end" } }
//! # equivalent: not = { has = { kind = "keyword_argument", regex = '^storage_uri\s*=', stopBy = "end" } }
//! ```

use ast_grep_config::{DeserializeEnv, RuleCore, SerializableRuleCore};
use ast_grep_core::matcher::MatcherExt;
use ast_grep_core::meta_var::{MetaVarEnv, MetaVariable};
use ast_grep_core::tree_sitter::StrDoc;
use ast_grep_core::{AstGrep, Doc, Matcher, Node};
use ast_grep_language::SupportLang;
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// Sources larger than this are not parsed: a generated or minified bundle of this size is
/// not code anyone migrates by hand, and parsing it would dominate a scan.
pub const MAX_SOURCE_BYTES: usize = 4 * 1024 * 1024;

/// Matches kept per rule and file; a rule that matches more is too broad to read anyway.
pub const MAX_MATCHES: usize = 1_000;

/// Longest matched or captured text kept, in bytes. Nested matches (a chain of binary
/// expressions) would otherwise copy the file once per level.
pub const MAX_TEXT_BYTES: usize = 2_048;

/// Wall-clock budget for matching one rule against one file. Relational rules with
/// `stopBy = "end"` are quadratic on deeply nested code; this keeps a hostile file from
/// stalling a scan.
pub const MATCH_TIME_BUDGET: Duration = Duration::from_secs(5);

/// The keys of a `[[match]]` table that belong to ecowatch, not to ast-grep. They are
/// tolerated (and ignored) so the caller may pass the table whole or stripped.
const ECOWATCH_KEYS: &[&str] = &[
    "kind",
    "languages",
    "message",
    "severity",
    "confidence",
    "files",
    "literals",
    "not",
];

/// The ast-grep keys a matcher may carry (`SerializableRuleCore`).
const AST_GREP_KEYS: &[&str] = &["rule", "constraints", "utils", "transform"];

/// A language a structural rule can be written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    Js,
    Jsx,
    Ts,
    Tsx,
    Py,
    Html,
}

impl Lang {
    /// Every supported language, in a fixed order.
    pub const ALL: [Lang; 6] = [
        Lang::Js,
        Lang::Jsx,
        Lang::Ts,
        Lang::Tsx,
        Lang::Py,
        Lang::Html,
    ];

    /// The language for an alias written in a rule (ast-grep's spellings), case-insensitive.
    pub fn from_alias(alias: &str) -> Option<Lang> {
        let lang = match alias.to_ascii_lowercase().as_str() {
            "js" | "javascript" => Lang::Js,
            "jsx" => Lang::Jsx,
            "ts" | "typescript" => Lang::Ts,
            "tsx" => Lang::Tsx,
            "py" | "python" => Lang::Py,
            "html" => Lang::Html,
            _ => return None,
        };
        Some(lang)
    }

    /// The language of a file, by its extension (case-insensitive).
    pub fn for_path(path: &str) -> Option<Lang> {
        let file_name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let (stem, extension) = file_name.rsplit_once('.')?;
        if stem.is_empty() {
            // A dotfile such as `.js` has no extension.
            return None;
        }
        let lang = match extension.to_ascii_lowercase().as_str() {
            "js" | "mjs" | "cjs" => Lang::Js,
            "jsx" => Lang::Jsx,
            "ts" | "mts" | "cts" => Lang::Ts,
            "tsx" => Lang::Tsx,
            "py" | "pyi" => Lang::Py,
            "html" | "htm" => Lang::Html,
            _ => return None,
        };
        Some(lang)
    }

    /// The canonical alias, as rules and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Js => "js",
            Lang::Jsx => "jsx",
            Lang::Ts => "ts",
            Lang::Tsx => "tsx",
            Lang::Py => "py",
            Lang::Html => "html",
        }
    }

    /// The grammar that parses this language. JSX is part of tree-sitter-javascript, so JS
    /// and JSX share one grammar (and one compiled matcher), as they do in ast-grep.
    fn grammar(self) -> SupportLang {
        match self {
            Lang::Js | Lang::Jsx => SupportLang::JavaScript,
            Lang::Ts => SupportLang::TypeScript,
            Lang::Tsx => SupportLang::Tsx,
            Lang::Py => SupportLang::Python,
            Lang::Html => SupportLang::Html,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a structural matcher could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum StructuralError {
    #[error(
        "unknown language `{0}` for an ast-grep matcher (supported: js, jsx, ts, tsx, py, html)"
    )]
    UnknownLanguage(String),
    #[error("invalid ast-grep matcher: {message}")]
    InvalidRule { message: String },
}

impl StructuralError {
    fn invalid(message: impl Into<String>) -> Self {
        StructuralError::InvalidRule {
            message: message.into(),
        }
    }
}

/// Why a search returned fewer matches than the rule would find (or none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Incomplete {
    #[error(
        "file is {bytes} bytes, over the {MAX_SOURCE_BYTES}-byte limit for structural matching"
    )]
    SourceTooLarge { bytes: usize },
    #[error("the parser could not produce a syntax tree")]
    ParseFailed,
    #[error("stopped after {MAX_MATCHES} matches")]
    TooManyMatches,
    #[error("stopped after the {}-second matching budget", MATCH_TIME_BUDGET.as_secs())]
    TimeBudget,
    #[error("the ast-grep matcher failed internally")]
    MatcherPanicked,
}

/// One match of a structural rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructuralMatch {
    /// 1-based line of the match's first character.
    pub line: u32,
    /// 1-based column of the match's first character, counted in characters.
    pub column: u32,
    /// 1-based line of the match's last character.
    pub end_line: u32,
    /// The matched text, cut at [`MAX_TEXT_BYTES`] (then ending in `…`).
    pub text: String,
    /// Metavariable name (without `$`) to the text it matched; `$$$NAME` captures span from
    /// the first to the last matched node. Cut like `text`.
    pub captures: BTreeMap<String, String>,
}

/// The result of a search, with the reason when it was cut short.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    pub matches: Vec<StructuralMatch>,
    pub incomplete: Option<Incomplete>,
}

/// An ast-grep rule compiled for each of the languages it lists.
pub struct StructuralRule {
    languages: Vec<Lang>,
    matchers: Vec<(SupportLang, RuleCore)>,
}

impl fmt::Debug for StructuralRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StructuralRule")
            .field("languages", &self.languages)
            .finish_non_exhaustive()
    }
}

impl StructuralRule {
    /// Compiles `rule` (the `[[match]]` table; ecowatch's own keys are ignored, what remains is
    /// ast-grep's rule object: `rule`, optional `constraints`, `utils`, `transform`) for every
    /// language in `languages` (aliases, see [`Lang::from_alias`]).
    ///
    /// Errors name the language and carry ast-grep's full reason (e.g. an unknown `kind`).
    pub fn compile(
        languages: &[String],
        rule: &toml::Value,
    ) -> Result<StructuralRule, StructuralError> {
        let langs = parse_languages(languages)?;
        let core = parse_rule_core(rule)?;
        let mut matchers: Vec<(SupportLang, RuleCore)> = Vec::new();
        for &lang in &langs {
            let grammar = lang.grammar();
            if matchers.iter().any(|(compiled, _)| *compiled == grammar) {
                continue;
            }
            let matcher = core
                .get_matcher(DeserializeEnv::new(grammar))
                .map_err(|error| {
                    StructuralError::invalid(format!(
                        "for language {lang}: {}",
                        error_chain(&error)
                    ))
                })?;
            matchers.push((grammar, matcher));
        }
        Ok(StructuralRule {
            languages: applicable_languages(&langs),
            matchers,
        })
    }

    /// The languages this rule applies to. JS and JSX share a grammar, so a rule listing either
    /// applies to both (as in ast-grep, whose `js` covers `.jsx` files).
    pub fn languages(&self) -> &[Lang] {
        &self.languages
    }

    /// All matches in `source` parsed as `lang` (empty when the rule has no matcher for `lang`,
    /// and when the search was cut short: see [`StructuralRule::search`] for the reason).
    pub fn find(&self, lang: Lang, source: &str) -> Vec<StructuralMatch> {
        self.search(lang, source).matches
    }

    /// Like [`StructuralRule::find`], but says why the result is partial or empty: the source
    /// is over [`MAX_SOURCE_BYTES`] (no matches), or matching hit [`MAX_MATCHES`] or
    /// [`MATCH_TIME_BUDGET`] (the matches so far). Never panics: syntax errors parse into
    /// error nodes, and a panic inside ast-grep is caught and reported.
    pub fn search(&self, lang: Lang, source: &str) -> Search {
        if !self.languages.contains(&lang) {
            return Search::default();
        }
        let grammar = lang.grammar();
        let Some((_, matcher)) = self.matchers.iter().find(|(g, _)| *g == grammar) else {
            return Search::default();
        };
        if source.len() > MAX_SOURCE_BYTES {
            return Search {
                matches: Vec::new(),
                incomplete: Some(Incomplete::SourceTooLarge {
                    bytes: source.len(),
                }),
            };
        }
        // ast-grep and tree-sitter are not expected to panic on any input; this is the last
        // line of defence so that one odd file cannot abort a whole scan.
        catch_unwind(AssertUnwindSafe(|| search_source(matcher, grammar, source))).unwrap_or(
            Search {
                matches: Vec::new(),
                incomplete: Some(Incomplete::MatcherPanicked),
            },
        )
    }
}

fn parse_languages(aliases: &[String]) -> Result<Vec<Lang>, StructuralError> {
    if aliases.is_empty() {
        return Err(StructuralError::invalid(
            "`languages` is empty; list at least one of js, jsx, ts, tsx, py, html",
        ));
    }
    let mut langs = Vec::with_capacity(aliases.len());
    for alias in aliases {
        let lang = Lang::from_alias(alias)
            .ok_or_else(|| StructuralError::UnknownLanguage(alias.clone()))?;
        if !langs.contains(&lang) {
            langs.push(lang);
        }
    }
    Ok(langs)
}

/// Every language whose grammar one of `listed` uses, in [`Lang::ALL`] order.
fn applicable_languages(listed: &[Lang]) -> Vec<Lang> {
    Lang::ALL
        .into_iter()
        .filter(|lang| listed.iter().any(|l| l.grammar() == lang.grammar()))
        .collect()
}

/// Picks ast-grep's keys out of the matcher table and deserializes them. Keys that are neither
/// ast-grep's nor ecowatch's are rejected: a top-level `pattern` (instead of
/// `rule = { pattern = … }`) would otherwise be dropped silently.
fn parse_rule_core(value: &toml::Value) -> Result<SerializableRuleCore, StructuralError> {
    let Some(table) = value.as_table() else {
        return Err(StructuralError::invalid(format!(
            "expected a table with a `rule` key, found a {}",
            value.type_str()
        )));
    };
    let mut core = toml::Table::new();
    for (key, item) in table {
        if AST_GREP_KEYS.contains(&key.as_str()) {
            core.insert(key.clone(), item.clone());
        } else if !ECOWATCH_KEYS.contains(&key.as_str()) {
            return Err(StructuralError::invalid(format!(
                "unknown key `{key}` (ast-grep keys are rule, constraints, utils, transform; \
                 put `pattern`, `kind`, `has`, … inside `rule`)"
            )));
        }
    }
    if !core.contains_key("rule") {
        return Err(StructuralError::invalid("missing the `rule` table"));
    }
    toml::Value::Table(core)
        .try_into::<SerializableRuleCore>()
        .map_err(|error| StructuralError::invalid(error.message().trim().to_string()))
}

/// ast-grep's errors say which section is wrong at the top and why in their sources; join them.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts
        .iter()
        .map(|part| part.trim().trim_end_matches('.'))
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

fn search_source(matcher: &RuleCore, grammar: SupportLang, source: &str) -> Search {
    let Ok(grep) = AstGrep::<StrDoc<SupportLang>>::try_new(source, grammar) else {
        return Search {
            matches: Vec::new(),
            incomplete: Some(Incomplete::ParseFailed),
        };
    };
    let root = grep.root();
    let kinds = matcher.potential_kinds();
    let started = Instant::now();
    let mut columns = ColumnCounter::new(source);
    let mut search = Search::default();
    // The same walk as ast-grep's `find_all` (pre-order, so matches come in source order),
    // with room to check the budgets between nodes.
    for node in root.dfs() {
        if let Some(kinds) = &kinds
            && !kinds.contains(node.kind_id().into())
        {
            continue;
        }
        // Checked before every candidate: one candidate can cost O(file) (`has`, `stopBy = "end"`).
        if started.elapsed() > MATCH_TIME_BUDGET {
            search.incomplete = Some(Incomplete::TimeBudget);
            break;
        }
        let Some(found) = matcher.match_node(node) else {
            continue;
        };
        if search.matches.len() == MAX_MATCHES {
            search.incomplete = Some(Incomplete::TooManyMatches);
            break;
        }
        let node = found.get_node();
        let start = node.start_pos();
        let end = node.end_pos();
        search.matches.push(StructuralMatch {
            line: one_based(start.line()),
            column: one_based(columns.column_at(node.range().start)),
            end_line: one_based(end.line()),
            text: capped(source, node.range()),
            captures: captures(found.get_env(), source),
        });
    }
    search
}

fn captures<D: Doc>(env: &MetaVarEnv<'_, D>, source: &str) -> BTreeMap<String, String> {
    let mut captures = BTreeMap::new();
    for variable in env.get_matched_variables() {
        match variable {
            MetaVariable::Capture(name, _) => {
                if let Some(node) = env.get_match(&name) {
                    captures.insert(name, capped(source, node.range()));
                }
            }
            MetaVariable::MultiCapture(name) => {
                let nodes: Vec<Node<'_, D>> = env.get_multiple_matches(&name);
                let text = match (nodes.first(), nodes.last()) {
                    (Some(first), Some(last)) => {
                        capped(source, first.range().start..last.range().end)
                    }
                    _ => String::new(),
                };
                captures.insert(name, text);
            }
            MetaVariable::Dropped(_) | MetaVariable::Multiple => {}
        }
    }
    captures
}

/// `source[range]`, cut to at most [`MAX_TEXT_BYTES`] on a character boundary; lossy rather
/// than panicking if a range ever falls inside a character.
fn capped(source: &str, range: std::ops::Range<usize>) -> String {
    let bytes = source.as_bytes();
    let start = range.start.min(bytes.len());
    let end = range.end.clamp(start, bytes.len());
    if end - start <= MAX_TEXT_BYTES {
        return String::from_utf8_lossy(&bytes[start..end]).into_owned();
    }
    let mut cut = start + MAX_TEXT_BYTES;
    while cut > start && !source.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut text = String::from_utf8_lossy(&bytes[start..cut]).into_owned();
    text.push('…');
    text
}

fn one_based(zero_based: usize) -> u32 {
    u32::try_from(zero_based.saturating_add(1)).unwrap_or(u32::MAX)
}

/// Character columns for byte offsets that mostly increase (matches arrive in source order).
/// Counting from the previous offset keeps a long minified line from costing
/// O(line length) per match.
struct ColumnCounter<'s> {
    source: &'s [u8],
    offset: usize,
    column: usize,
}

impl<'s> ColumnCounter<'s> {
    fn new(source: &'s str) -> Self {
        ColumnCounter {
            source: source.as_bytes(),
            offset: 0,
            column: 0,
        }
    }

    /// 0-based column, in characters, of the byte at `offset`.
    fn column_at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.source.len());
        if offset < self.offset {
            // Out of order: restart from the beginning of the line.
            let line_start = memchr::memrchr(b'\n', &self.source[..offset]).map_or(0, |nl| nl + 1);
            self.offset = line_start;
            self.column = 0;
        }
        let skipped = &self.source[self.offset..offset];
        match memchr::memrchr(b'\n', skipped) {
            Some(newline) => self.column = count_chars(&skipped[newline + 1..]),
            None => self.column += count_chars(skipped),
        }
        self.offset = offset;
        self.column
    }
}

/// Characters in UTF-8 bytes: every byte that is not a continuation byte starts one.
fn count_chars(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .filter(|&&b| b & 0b1100_0000 != 0b1000_0000)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(languages: &[&str], rule: &str) -> Result<StructuralRule, StructuralError> {
        let value: toml::Value = toml::from_str(rule).expect("test rule is valid TOML");
        let languages: Vec<String> = languages.iter().map(|l| l.to_string()).collect();
        StructuralRule::compile(&languages, &value)
    }

    fn rule(languages: &[&str], rule: &str) -> StructuralRule {
        match compile(languages, rule) {
            Ok(rule) => rule,
            Err(error) => panic!("rule should compile: {error}"),
        }
    }

    fn lines(matches: &[StructuralMatch]) -> Vec<u32> {
        matches.iter().map(|m| m.line).collect()
    }

    const SUPABASE_RULE: &str = r#"
kind = "ast-grep"
languages = ["ts", "tsx", "js"]
confidence = "medium"
message = "Supabase client built from a legacy-named key (`$KEY`); check which key it holds"
rule = { pattern = "createClient($URL, $KEY)" }
constraints = { KEY = { regex = '(ANON|SERVICE_ROLE)_KEY' } }
"#;

    const SUPABASE_TS: &str = r#"import { createClient } from "@supabase/supabase-js";
// ruleid: supabase/legacy-api-key
const a = createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_ANON_KEY!);
// ruleid: supabase/legacy-api-key
const b = createClient(url, process.env.SUPABASE_SERVICE_ROLE_KEY!);
// ok: supabase/legacy-api-key
const c = createClient(url, process.env.SUPABASE_PUBLISHABLE_KEY!);
"#;

    #[test]
    fn supabase_legacy_keys_match_with_constraint_and_captures() {
        let rule = rule(&["ts", "tsx", "js"], SUPABASE_RULE);
        let matches = rule.find(Lang::Ts, SUPABASE_TS);
        assert_eq!(lines(&matches), [3, 5]);
        let first = &matches[0];
        assert_eq!(first.column, 11);
        assert_eq!(first.end_line, 3);
        assert_eq!(
            first.text,
            "createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_ANON_KEY!)"
        );
        assert_eq!(first.captures["URL"], "process.env.SUPABASE_URL!");
        assert_eq!(first.captures["KEY"], "process.env.SUPABASE_ANON_KEY!");
        assert_eq!(
            matches[1].captures["KEY"],
            "process.env.SUPABASE_SERVICE_ROLE_KEY!"
        );
    }

    #[test]
    fn languages_expand_js_to_jsx_and_other_languages_find_nothing() {
        let rule = rule(&["ts", "tsx", "js"], SUPABASE_RULE);
        assert_eq!(rule.languages(), [Lang::Js, Lang::Jsx, Lang::Ts, Lang::Tsx]);
        let js = "const a = createClient(url, SUPABASE_ANON_KEY);\n";
        assert_eq!(lines(&rule.find(Lang::Jsx, js)), [1]);
        assert!(
            rule.find(Lang::Py, "createClient(url, SUPABASE_ANON_KEY)\n")
                .is_empty()
        );
        assert!(rule.find(Lang::Html, js).is_empty());
    }

    const TAILWIND_RULE: &str = r#"
kind = "ast-grep"
languages = ["html"]

[rule]
kind = "script_element"

[rule.has]
kind = "attribute_value"
stopBy = "end"
regex = '''^(https?:)?//(cdn\.tailwindcss\.com|cdn\.jsdelivr\.net/npm/@tailwindcss/browser)'''

[rule.has.inside]
kind = "attribute"
stopBy = "end"
has = { kind = "attribute_name", regex = "^src$" }
"#;

    const TAILWIND_HTML: &str = r#"<!doctype html>
<html>
<head>
  <!-- ruleid: tailwind/play-cdn -->
  <script src="https://cdn.tailwindcss.com"></script>
  <!-- ruleid: tailwind/play-cdn -->
  <script src="https://cdn.tailwindcss.com?plugins=forms,typography"></script>
  <!-- ruleid: tailwind/play-cdn -->
  <script defer src="https://cdn.jsdelivr.net/npm/@tailwindcss/browser@4"></script>
  <!-- ok: tailwind/play-cdn -->
  <link rel="stylesheet" href="/assets/app.css">
  <!-- ok: tailwind/play-cdn -->
  <!-- <script src="https://cdn.tailwindcss.com"></script> -->
  <!-- ok: tailwind/play-cdn -->
  <script data-note="https://cdn.tailwindcss.com" src="/js/app.js"></script>
</head>
</html>
"#;

    #[test]
    fn tailwind_play_cdn_matches_real_script_tags_only() {
        let rule = rule(&["html"], TAILWIND_RULE);
        let matches = rule.find(Lang::Html, TAILWIND_HTML);
        assert_eq!(lines(&matches), [5, 7, 9]);
        assert_eq!(matches[0].column, 3);
        assert!(matches[2].text.starts_with("<script defer src="));
    }

    #[test]
    fn flask_limiter_without_storage_uri() {
        let rule = rule(
            &["py"],
            r#"
[rule]
pattern = "Limiter($$$ARGS)"
not = { has = { pattern = { context = "f(storage_uri=$X)", selector = "keyword_argument" }, stopBy = "end" } }
"#,
        );
        let source = "\
from flask_limiter import Limiter
limiter = Limiter(get_remote_address, app=app)
limiter = Limiter(get_remote_address, app=app, storage_uri=\"redis://localhost:6379\")
limiter = Limiter()
";
        let matches = rule.find(Lang::Py, source);
        assert_eq!(lines(&matches), [2, 4]);
        assert_eq!(matches[0].captures["ARGS"], "get_remote_address, app=app");
        assert_eq!(matches[0].column, 11);
        assert_eq!(
            matches[1].captures.get("ARGS").map(String::as_str),
            Some("")
        );
    }

    const BLOCKING_IN_ASYNC_RULE: &str = r#"
[rule]
pattern = "requests.$METHOD($$$ARGS)"
inside = { kind = "function_definition", regex = '^async\s', stopBy = { kind = "function_definition" } }
"#;

    #[test]
    fn blocking_call_inside_async_def() {
        let rule = rule(&["python"], BLOCKING_IN_ASYNC_RULE);
        let source = "\
import requests

async def fetch(url):
    if url:
        return requests.get(url, timeout=5)

def sync_fetch(url):
    return requests.get(url)

async def outer():
    def helper():
        return requests.post(\"x\")
    await other()
    return [requests.head(u) for u in urls]

@app.get(\"/\")
async def handler():
    requests.delete(URL)
";
        let matches = rule.find(Lang::Py, source);
        assert_eq!(lines(&matches), [5, 14, 18]);
        assert_eq!(matches[0].captures["METHOD"], "get");
        assert_eq!(matches[0].captures["ARGS"], "url, timeout=5");
        assert_eq!(matches[0].column, 16);
    }

    #[test]
    fn jsx_react_dom_render() {
        let rule = rule(
            &["jsx"],
            r#"rule = { pattern = "ReactDOM.render($$$ARGS)" }"#,
        );
        let source = "\
import ReactDOM from 'react-dom';
ReactDOM.render(<App title=\"x\" />, document.getElementById('root'));
const root = ReactDOM.createRoot(document.getElementById('root'));
root.render(<App />);
";
        let matches = rule.find(Lang::Jsx, source);
        assert_eq!(lines(&matches), [2]);
        assert_eq!(
            matches[0].captures["ARGS"],
            "<App title=\"x\" />, document.getElementById('root')"
        );
        // Same grammar: a `jsx` rule applies to `.js` files too.
        assert_eq!(lines(&rule.find(Lang::Js, source)), [2]);
        assert!(rule.find(Lang::Tsx, source).is_empty());
    }

    #[test]
    fn tsx_uses_the_tsx_grammar() {
        let attribute = r#"rule = { kind = "jsx_attribute", has = { kind = "string", regex = "cdn\\.tailwindcss\\.com" } }"#;
        let rule = rule(&["tsx"], attribute);
        let source = "export const H = (p: { a: number }) => <head><script src=\"https://cdn.tailwindcss.com\" /></head>;\n";
        let matches = rule.find(Lang::Tsx, source);
        assert_eq!(lines(&matches), [1]);
        assert_eq!(matches[0].text, "src=\"https://cdn.tailwindcss.com\"");
        assert_eq!(matches[0].column, 54);
        // Plain TypeScript has no JSX, so the kind does not exist there.
        let message = invalid_message(&["ts"], attribute);
        assert!(message.contains("for language ts"), "{message}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let rule = rule(&["js"], r#"rule = { pattern = "eval($X)" }"#);
        let source = "const é = \"ü\"; eval(a); eval(b);\n  // ✓\n  eval(c)\n";
        let matches = rule.find(Lang::Js, source);
        let positions: Vec<(u32, u32)> = matches.iter().map(|m| (m.line, m.column)).collect();
        assert_eq!(positions, [(1, 16), (1, 25), (3, 3)]);
    }

    #[test]
    fn multi_line_match_reports_end_line() {
        let rule = rule(&["ts"], r#"rule = { pattern = "createClient($$$A)" }"#);
        let matches = rule.find(Lang::Ts, "x = createClient(\n  a,\n  b,\n);\n");
        assert_eq!(matches.len(), 1);
        assert_eq!((matches[0].line, matches[0].end_line), (1, 4));
    }

    #[test]
    fn garbage_input_never_panics() {
        let rules = [
            rule(&["ts", "tsx", "js", "jsx"], SUPABASE_RULE),
            rule(&["html"], TAILWIND_RULE),
            rule(&["py"], BLOCKING_IN_ASYNC_RULE),
        ];
        let deep = "(".repeat(50_000) + &"[{".repeat(20_000);
        let inputs = [
            "",
            "\0\0\0",
            "}}}{{{ createClient(a, ANON_KEY",
            "createClient(a, SUPABASE_ANON_KEY) <<<>>> ))) \u{feff}\u{202e}",
            "<script src=\"https://cdn.tailwindcss.com\"",
            "<<<<<<<< <script <!-- -- > </html></html>",
            "async def f(:\n  requests.get(\n",
            "\u{fffd}\u{10ffff}\r\r\n\t",
            deep.as_str(),
        ];
        for rule in &rules {
            for lang in Lang::ALL {
                for input in inputs {
                    let search = rule.search(lang, input);
                    assert_eq!(search.incomplete, None, "{lang} on {input:.40?}");
                }
            }
        }
        // Broken syntax still parses: the intact call is found next to the damage.
        let matches = rules[0].find(
            Lang::Ts,
            "const = = ;\ncreateClient(u, SUPABASE_ANON_KEY)\n}}}",
        );
        assert_eq!(lines(&matches), [2]);
    }

    #[test]
    fn oversized_source_returns_nothing_and_says_why() {
        let rule = rule(&["js"], r#"rule = { pattern = "eval($X)" }"#);
        let source = "eval(a);\n".repeat(MAX_SOURCE_BYTES / 9 + 1);
        assert!(source.len() > MAX_SOURCE_BYTES);
        let search = rule.search(Lang::Js, &source);
        assert!(search.matches.is_empty());
        assert_eq!(
            search.incomplete,
            Some(Incomplete::SourceTooLarge {
                bytes: source.len()
            })
        );
        assert!(rule.find(Lang::Js, &source).is_empty());
    }

    #[test]
    fn match_count_is_capped() {
        let rule = rule(&["js"], r#"rule = { kind = "identifier" }"#);
        let source = "a;\n".repeat(MAX_MATCHES + 10);
        let search = rule.search(Lang::Js, &source);
        assert_eq!(search.matches.len(), MAX_MATCHES);
        assert_eq!(search.incomplete, Some(Incomplete::TooManyMatches));
    }

    #[test]
    fn long_match_text_is_cut_on_a_character_boundary() {
        let rule = rule(&["js"], r#"rule = { pattern = "f($X)" }"#);
        let argument = format!("\"{}\"", "é".repeat(MAX_TEXT_BYTES));
        let matches = rule.find(Lang::Js, &format!("f({argument});\n"));
        assert_eq!(matches.len(), 1);
        assert!(matches[0].text.ends_with('…'));
        assert!(matches[0].text.len() <= MAX_TEXT_BYTES + '…'.len_utf8());
        assert!(matches[0].captures["X"].ends_with('…'));
    }

    #[test]
    fn unknown_language_alias_is_an_error() {
        let error = compile(&["ts", "rust"], SUPABASE_RULE).err();
        assert!(
            matches!(&error, Some(StructuralError::UnknownLanguage(alias)) if alias == "rust"),
            "{error:?}"
        );
        let error = compile(&[], SUPABASE_RULE).err();
        assert!(
            matches!(error, Some(StructuralError::InvalidRule { .. })),
            "{error:?}"
        );
    }

    fn invalid_message(languages: &[&str], rule: &str) -> String {
        match compile(languages, rule) {
            Err(StructuralError::InvalidRule { message }) => message,
            other => panic!("expected InvalidRule, got {other:?}"),
        }
    }

    #[test]
    fn invalid_rules_explain_themselves() {
        let message = invalid_message(&["ts"], r#"rule = { kind = "no_such_kind" }"#);
        assert!(message.contains("for language ts"), "{message}");
        assert!(
            message.contains("`rule` is not configured correctly"),
            "{message}"
        );
        assert!(message.contains("no_such_kind"), "{message}");

        // A kind that exists in one listed grammar but not another names the failing language.
        let message = invalid_message(&["py", "html"], r#"rule = { kind = "script_element" }"#);
        assert!(message.contains("for language py"), "{message}");

        let message = invalid_message(&["js"], r#"rule = { patern = "eval($X)" }"#);
        assert!(message.contains("patern"), "{message}");

        let message = invalid_message(&["js"], r#"pattern = "eval($X)""#);
        assert!(message.contains("unknown key `pattern`"), "{message}");

        let message = invalid_message(&["js"], r#"message = "no rule here""#);
        assert!(message.contains("missing the `rule` table"), "{message}");

        let message = invalid_message(&["js"], r#"rule = { regex = "(unclosed" }"#);
        assert!(message.contains("regex"), "{message}");

        let message = invalid_message(
            &["ts"],
            r#"
rule = { pattern = "createClient($URL, $KEY)" }
constraints = { KEY = { kind = "bogus_kind" } }
"#,
        );
        assert!(message.contains("`constraints`"), "{message}");

        let value = toml::Value::String("rule".into());
        let error = StructuralRule::compile(&["js".to_string()], &value).err();
        assert!(
            matches!(error, Some(StructuralError::InvalidRule { .. })),
            "{error:?}"
        );
    }

    #[test]
    fn utils_are_usable_through_matches() {
        let rule = rule(
            &["js"],
            r#"
rule = { matches = "is-legacy-call" }
utils = { is-legacy-call = { any = [{ pattern = "new Buffer($$$)" }, { pattern = "$S.substr($$$)" }] } }
"#,
        );
        let source =
            "const b = new Buffer(10);\nconst s = name.substr(1, 2);\nconst t = name.slice(1);\n";
        assert_eq!(lines(&rule.find(Lang::Js, source)), [1, 2]);
    }

    #[test]
    fn language_aliases_and_extensions() {
        for (alias, lang) in [
            ("js", Lang::Js),
            ("JavaScript", Lang::Js),
            ("jsx", Lang::Jsx),
            ("ts", Lang::Ts),
            ("typescript", Lang::Ts),
            ("tsx", Lang::Tsx),
            ("py", Lang::Py),
            ("python", Lang::Py),
            ("html", Lang::Html),
        ] {
            assert_eq!(Lang::from_alias(alias), Some(lang), "{alias}");
        }
        for alias in ["", "rust", "htm", "python3", "j s"] {
            assert_eq!(Lang::from_alias(alias), None, "{alias}");
        }
        for lang in Lang::ALL {
            assert_eq!(Lang::from_alias(lang.as_str()), Some(lang));
        }
        for (path, lang) in [
            ("src/app.js", Some(Lang::Js)),
            ("a.mjs", Some(Lang::Js)),
            ("a.cjs", Some(Lang::Js)),
            ("a/b.jsx", Some(Lang::Jsx)),
            ("a.ts", Some(Lang::Ts)),
            ("a.d.ts", Some(Lang::Ts)),
            ("a.mts", Some(Lang::Ts)),
            ("a.cts", Some(Lang::Ts)),
            ("C:\\x\\App.TSX", Some(Lang::Tsx)),
            ("main.py", Some(Lang::Py)),
            ("stubs.pyi", Some(Lang::Py)),
            ("index.html", Some(Lang::Html)),
            ("index.htm", Some(Lang::Html)),
            ("a.js.map", None),
            ("a.json", None),
            ("a.pyc", None),
            (".js", None),
            ("js", None),
            ("dir.js/file", None),
            ("", None),
        ] {
            assert_eq!(Lang::for_path(path), lang, "{path}");
        }
    }

    #[test]
    fn compiled_rules_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<StructuralRule>();
    }
}
