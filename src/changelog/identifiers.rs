//! The names an entry is about, and the one it says to use instead.
//!
//! Code spans (Markdown `` `x` ``, reStructuredText ``` ``x`` ``` and `:func:`x``) are the
//! strongest evidence; outside them, dotted names, `calls()`, `ENV_NAMES`, `--flags`,
//! snake_case config keys and camelCase names count, with less confidence. The replacement
//! clause ("use `Y` instead", "in favour of `Y`", "replaced by `Y`", "superseded by `Y`") names
//! the new API, which must not be matched as if it were the old one.
//!
//! Generic names (`get`, `data`, `client`, `id`, …) would match every codebase: the stoplist
//! and shape rules in [`is_generic`] keep them from ever becoming a pattern alone.

use super::sections::cut;
use regex::Regex;
use std::sync::LazyLock;

/// What shape an identifier has; the matcher treats env names and flags differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdentKind {
    /// `a.b.c`, `a::b`, `A#b`.
    Dotted,
    /// Written as `name()` (stored without the parentheses).
    Call,
    /// `SOME_ENV_NAME`.
    Env,
    /// `--some-flag`.
    Flag,
    /// `snake_case_key` (settings, config keys, keyword arguments).
    ConfigKey,
    /// A single camelCase, PascalCase or other word.
    Name,
}

impl IdentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentKind::Dotted => "dotted",
            IdentKind::Call => "call",
            IdentKind::Env => "env",
            IdentKind::Flag => "flag",
            IdentKind::ConfigKey => "config-key",
            IdentKind::Name => "name",
        }
    }
}

/// One identifier found in an entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Identifier {
    pub text: String,
    pub kind: IdentKind,
    /// Written as code (a code span or role), not guessed from prose.
    pub in_code: bool,
}

impl Identifier {
    /// How much this identifier's shape and markup add to the entry's confidence (0..=1).
    pub fn confidence_factor(&self) -> f64 {
        match (self.in_code, self.kind) {
            (true, IdentKind::Dotted | IdentKind::Call | IdentKind::Env) => 1.0,
            (true, IdentKind::Flag) => 0.95,
            (true, _) => 0.9,
            (false, IdentKind::Call) => 0.85,
            (false, IdentKind::Env | IdentKind::Flag) => 0.85,
            (false, IdentKind::Dotted) => 0.8,
            (false, _) => 0.6,
        }
    }
}

/// What [`extract`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extracted {
    /// The old names, in order of appearance, each once (generic ones included; the caller
    /// filters with [`is_generic`] so `notices parse` can show what it dropped).
    pub identifiers: Vec<Identifier>,
    /// The new name the entry points to.
    pub replacement: Option<String>,
}

/// Identifiers are looked for in this much of an entry.
const EXTRACT_BYTES: usize = 4096;
/// Longest identifier kept.
const MAX_IDENT_BYTES: usize = 200;
/// Identifiers kept per entry.
const MAX_IDENTS: usize = 32;

/// A code span or role; lengths are checked after matching (bounded repetitions would make
/// the automata too large).
const CODE: &str = r"(?::[\w:.-]+:`[^`]+`|``[^`]+``|`[^`]+`)";

static CODE_SPAN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(CODE).expect("constant regex compiles"));

static REPLACEMENT: LazyLock<Regex> = LazyLock::new(|| {
    let target = |n: usize| format!(r"(?P<t{n}>{CODE}|[A-Za-z_$@][\w.$:/@#-]*(?:\(\))?)");
    Regex::new(&format!(
        r"(?i)\b(?:(?:please\s+)?use|using|call)\s+(?:the\s+)?{}\s+instead\b|\bin\s+favou?r\s+of\s+(?:the\s+)?{}|\b(?:replaced|superseded)\s+(?:by|with)\s+(?:the\s+(?:new\s+)?)?{}|\b(?:migrate|switch)\s+to\s+(?:the\s+)?{}|\b(?:please\s+)?use\s+(?P<t5>{CODE})",
        target(1),
        target(2),
        target(3),
        target(4)
    ))
    .expect("constant regex compiles")
});

static URLISH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:https?|ftp)://\S+|\bwww\.\S+|@[\w-]+|#\d+\b|\S+@\S+\.\w+")
        .expect("constant regex compiles")
});

static PROSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?P<call>\b[A-Za-z_$][\w$]*(?:(?:\.|::)[A-Za-z_$][\w$]*)*\(\))
      | (?P<dotted>\b[A-Za-z_][\w]*(?:(?:\.|::)[A-Za-z_][\w]*)+\b)
      | (?P<env>\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b)
      | (?:^|[\s(\[])(?P<flag>--[a-z0-9][a-z0-9-]*[a-z0-9])
      | (?P<key>\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b)
      | (?P<camel>\b[a-z]+[A-Z][A-Za-z0-9]*\b)",
    )
    .expect("constant regex compiles")
});

/// The identifiers of `text` and its replacement.
pub fn extract(text: &str) -> Extracted {
    let text = cut(text, EXTRACT_BYTES);
    let mut out = Extracted::default();
    let mut excluded: Vec<(usize, usize)> = Vec::new();
    if let Some(c) = REPLACEMENT.captures(text)
        && let Some(t) = ["t1", "t2", "t3", "t4", "t5"]
            .iter()
            .find_map(|n| c.name(n))
    {
        let inner = code_content(t.as_str()).unwrap_or(t.as_str());
        let name = inner
            .trim()
            .trim_end_matches(['.', ',', ';', ':'])
            .trim_end_matches("()");
        if !name.is_empty() {
            out.replacement = Some(cut(name, MAX_IDENT_BYTES).to_string());
            excluded.push((t.start(), t.end()));
        }
    }
    let overlaps =
        |s: usize, e: usize, spans: &[(usize, usize)]| spans.iter().any(|&(a, b)| s < b && a < e);
    let mut found: Vec<(usize, Identifier)> = Vec::new();
    let mut code_spans: Vec<(usize, usize)> = Vec::new();
    for m in CODE_SPAN.find_iter(text) {
        code_spans.push((m.start(), m.end()));
        if overlaps(m.start(), m.end(), &excluded) {
            continue;
        }
        if let Some(ident) = code_content(m.as_str()).and_then(from_code) {
            found.push((m.start(), ident));
        }
    }
    for m in URLISH.find_iter(text) {
        excluded.push((m.start(), m.end()));
    }
    excluded.extend(code_spans);
    for c in PROSE.captures_iter(text) {
        let pick = [
            ("call", IdentKind::Call),
            ("dotted", IdentKind::Dotted),
            ("env", IdentKind::Env),
            ("flag", IdentKind::Flag),
            ("key", IdentKind::ConfigKey),
            ("camel", IdentKind::Name),
        ]
        .into_iter()
        .find_map(|(name, kind)| c.name(name).map(|m| (m, kind)));
        let Some((m, kind)) = pick else { continue };
        if overlaps(m.start(), m.end(), &excluded) {
            continue;
        }
        let raw = m.as_str().trim_end_matches("()");
        if kind == IdentKind::Dotted && !plausible_dotted(raw) {
            continue;
        }
        found.push((
            m.start(),
            Identifier {
                text: raw.to_string(),
                kind,
                in_code: false,
            },
        ));
    }
    found.sort_by_key(|(pos, _)| *pos);
    for (_, ident) in found {
        if out.identifiers.len() >= MAX_IDENTS {
            break;
        }
        if Some(&ident.text) == out.replacement.as_ref()
            || out.identifiers.iter().any(|i| i.text == ident.text)
        {
            continue;
        }
        out.identifiers.push(ident);
    }
    out
}

/// The text inside a code span or role: ``` ``x`` ``` → `x`, `:meth:`~a.B.c`` → `a.B.c`,
/// `:func:`title <a.b>`` → `a.b`.
fn code_content(span: &str) -> Option<&str> {
    let inner = if let Some(rest) = span.strip_prefix(':') {
        let tick = rest.find('`')?;
        rest[tick..].trim_matches('`')
    } else {
        span.trim_matches('`')
    };
    let inner = match (inner.rfind('<'), inner.ends_with('>')) {
        (Some(lt), true) => &inner[lt + 1..inner.len() - 1],
        _ => inner,
    };
    Some(inner.trim().trim_start_matches(['~', '!', '.']))
}

/// An identifier from a code span's content, if it is one.
fn from_code(content: &str) -> Option<Identifier> {
    static CALL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^([A-Za-z_$][\w$]*(?:(?:\.|::|#)[A-Za-z_$][\w$]*)*)\s*\(.*\)$")
            .expect("constant regex compiles")
    });
    static NAME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[A-Za-z_$@][\w$]*(?:(?:\.|::|#)[A-Za-z_$][\w$]*)*$")
            .expect("constant regex compiles")
    });
    static FLAG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(--[A-Za-z0-9][A-Za-z0-9-]*)(?:[= ].*)?$").expect("constant regex compiles")
    });
    if content.is_empty() || content.len() > MAX_IDENT_BYTES {
        return None;
    }
    let code = |text: &str, kind| {
        Some(Identifier {
            text: text.to_string(),
            kind,
            in_code: true,
        })
    };
    if let Some(c) = FLAG.captures(content) {
        return code(c.get(1)?.as_str(), IdentKind::Flag);
    }
    if let Some(c) = CALL.captures(content) {
        return code(c.get(1)?.as_str(), IdentKind::Call);
    }
    if !NAME.is_match(content) || content.starts_with('@') || !plausible_dotted(content) {
        return None;
    }
    let kind = if content.contains(['.', '#']) || content.contains("::") {
        IdentKind::Dotted
    } else if is_env_shape(content) {
        IdentKind::Env
    } else if content.contains('_') && content == content.to_ascii_lowercase() {
        IdentKind::ConfigKey
    } else {
        IdentKind::Name
    };
    code(content, kind)
}

fn is_env_shape(s: &str) -> bool {
    s.len() >= 4
        && s.contains('_')
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Not a version, a domain, a file name or an abbreviation.
fn plausible_dotted(s: &str) -> bool {
    const FILE_OR_DOMAIN: &[&str] = &[
        "py", "js", "ts", "md", "txt", "json", "toml", "yaml", "yml", "cfg", "ini", "html", "rst",
        "lock", "mjs", "cjs", "tsx", "jsx", "rb", "go", "rs", "sh", "com", "org", "net", "io",
        "dev", "app", "so", "dll", "exe", "gz", "zip", "css", "xml", "csv", "log",
    ];
    let segments: Vec<&str> = s.split(['.', '#']).collect();
    if segments.len() < 2 {
        return true;
    }
    if segments.iter().any(|seg| seg.is_empty()) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if ["e.g", "i.e", "etc", "vs", "a.k.a"].contains(&lower.as_str()) {
        return false;
    }
    let last = segments.last().map_or("", |l| *l);
    !(segments.len() == 2 && FILE_OR_DOMAIN.contains(&last.to_ascii_lowercase().as_str()))
}

/// Words that name nothing in particular: a pattern made only of them would match every
/// codebase. Compared in lower case.
const STOPLIST: &[&str] = &[
    "get",
    "set",
    "put",
    "post",
    "delete",
    "patch",
    "head",
    "data",
    "client",
    "server",
    "id",
    "ids",
    "name",
    "names",
    "type",
    "types",
    "value",
    "values",
    "config",
    "configuration",
    "settings",
    "options",
    "option",
    "opts",
    "params",
    "param",
    "args",
    "arg",
    "kwargs",
    "self",
    "this",
    "cls",
    "error",
    "errors",
    "err",
    "result",
    "results",
    "response",
    "request",
    "req",
    "res",
    "init",
    "run",
    "start",
    "stop",
    "main",
    "default",
    "defaults",
    "key",
    "keys",
    "url",
    "uri",
    "path",
    "file",
    "files",
    "list",
    "dict",
    "map",
    "string",
    "str",
    "int",
    "bool",
    "float",
    "number",
    "object",
    "obj",
    "true",
    "false",
    "null",
    "none",
    "nil",
    "undefined",
    "index",
    "app",
    "api",
    "auth",
    "user",
    "users",
    "test",
    "tests",
    "item",
    "items",
    "text",
    "body",
    "json",
    "query",
    "model",
    "models",
    "view",
    "views",
    "state",
    "props",
    "context",
    "ctx",
    "event",
    "events",
    "handler",
    "callback",
    "cb",
    "fn",
    "func",
    "function",
    "method",
    "class",
    "module",
    "package",
    "version",
    "update",
    "create",
    "read",
    "write",
    "load",
    "save",
    "open",
    "close",
    "send",
    "call",
    "new",
    "old",
    "size",
    "len",
    "length",
    "count",
    "time",
    "date",
    "timeout",
    "debug",
    "log",
    "logger",
    "info",
    "warn",
    "warning",
    "message",
    "msg",
    "status",
    "code",
    "input",
    "output",
    "source",
    "target",
    "mode",
    "flag",
    "flags",
    "env",
    "environment",
    "host",
    "port",
    "token",
    "session",
    "connection",
    "db",
    "database",
    "table",
    "row",
    "rows",
    "column",
    "field",
    "fields",
    "form",
    "page",
    "content",
    "node",
    "element",
    "component",
    "render",
    "template",
    "tag",
    "tags",
    "label",
    "title",
    "parent",
    "child",
    "children",
    "root",
    "base",
    "core",
    "utils",
    "util",
    "helpers",
    "lib",
    "src",
    "main",
    "index",
    "foo",
    "bar",
    "baz",
    "and",
    "or",
    "not",
    "the",
    "for",
    "with",
    "from",
    "import",
    "export",
    "return",
    "async",
    "await",
    "support",
    "feature",
    "features",
];

/// Flags every tool has.
const GENERIC_FLAGS: &[&str] = &[
    "--help",
    "--version",
    "--verbose",
    "--debug",
    "--force",
    "--quiet",
    "--config",
    "--output",
    "--input",
    "--dry-run",
    "--yes",
    "--all",
    "--silent",
    "--json",
    "--file",
    "--path",
];

/// Environment names too common to mean one package.
const GENERIC_ENV: &[&str] = &[
    "NODE_ENV",
    "API_KEY",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "LOG_LEVEL",
    "USER_ID",
    "SECRET_KEY",
    "DATABASE_URL",
    "BASE_URL",
    "API_URL",
    "ACCESS_TOKEN",
    "AUTH_TOKEN",
];

fn is_stopword(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    lower.len() < 3 || STOPLIST.contains(&lower.as_str())
}

/// True when `ident` must never be a pattern on its own.
pub fn is_generic(ident: &str) -> bool {
    let ident = ident.trim();
    if ident.len() < 3 || ident.len() > MAX_IDENT_BYTES {
        return true;
    }
    if ident.starts_with("--") {
        return ident.len() < 5 || GENERIC_FLAGS.contains(&ident);
    }
    if is_env_shape(ident) {
        return GENERIC_ENV.contains(&ident) || ident.split('_').all(is_stopword);
    }
    let segments: Vec<&str> = ident
        .split(['.', '#', ':'])
        .filter(|s| !s.is_empty())
        .collect();
    if segments.len() >= 2 {
        return segments.iter().all(|s| is_stopword(s));
    }
    if ident.contains('_') {
        return ident.split('_').filter(|p| !p.is_empty()).all(is_stopword);
    }
    // One plain word: generic when stoplisted, short, or all lower case (an English word
    // like `timeout` or `render` says nothing about which API it is).
    is_stopword(ident)
        || ident.len() < 5
        || ident.chars().all(|c| c.is_ascii_lowercase() || c == '$')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(e: &Extracted) -> Vec<(&str, IdentKind, bool)> {
        e.identifiers
            .iter()
            .map(|i| (i.text.as_str(), i.kind, i.in_code))
            .collect()
    }

    #[test]
    fn code_spans_and_replacements() {
        let e =
            extract("`supabase.auth.api.foo()` is deprecated, use `supabase.auth.bar()` instead.");
        assert_eq!(
            texts(&e),
            vec![("supabase.auth.api.foo", IdentKind::Call, true)]
        );
        assert_eq!(e.replacement.as_deref(), Some("supabase.auth.bar"));

        let e = extract("Deprecated ``django.utils.foo`` in favour of :func:`~django.utils.bar`.");
        assert_eq!(
            texts(&e),
            vec![("django.utils.foo", IdentKind::Dotted, true)]
        );
        assert_eq!(e.replacement.as_deref(), Some("django.utils.bar"));

        let e = extract("The `legacy_mode` setting was replaced by `strict_mode`.");
        assert_eq!(texts(&e), vec![("legacy_mode", IdentKind::ConfigKey, true)]);
        assert_eq!(e.replacement.as_deref(), Some("strict_mode"));

        let e = extract("Superseded by newThing; `OldThing` is gone.");
        assert_eq!(e.replacement.as_deref(), Some("newThing"));
        assert_eq!(texts(&e), vec![("OldThing", IdentKind::Name, true)]);
    }

    #[test]
    fn prose_identifiers() {
        let e = extract(
            "Removed SUPABASE_LEGACY_KEY and the --legacy-auth flag; requests.compat.urljoin and \
             get_session_token() are gone, see https://example.com/a.b and README.md, e.g. v1.2.3, by @dev (#12).",
        );
        assert_eq!(
            texts(&e),
            vec![
                ("SUPABASE_LEGACY_KEY", IdentKind::Env, false),
                ("--legacy-auth", IdentKind::Flag, false),
                ("requests.compat.urljoin", IdentKind::Dotted, false),
                ("get_session_token", IdentKind::Call, false),
            ]
        );
    }

    #[test]
    fn code_snippets_and_paths_are_not_identifiers() {
        let e = extract("Run `pip install x` and edit `src/app.py`; `--port=80` changed.");
        assert_eq!(texts(&e), vec![("--port", IdentKind::Flag, true)]);
    }

    #[test]
    fn generic_names_never_stand_alone() {
        for g in [
            "get",
            "data",
            "client",
            "id",
            "name",
            "type",
            "value",
            "config",
            "timeout",
            "client.get",
            "self.data",
            "api_key",
            "user_id",
            "--help",
            "NODE_ENV",
            "Client",
            "x.y",
        ] {
            assert!(is_generic(g), "{g} should be generic");
        }
        for s in [
            "supabase.auth.api.foo",
            "createClient",
            "SUPABASE_LEGACY_KEY",
            "--legacy-auth",
            "legacy_mode",
            "utcnow_compat",
            "datetime.utcnow",
            "OldThing",
        ] {
            assert!(!is_generic(s), "{s} should be specific");
        }
    }

    #[test]
    fn hostile_text_is_bounded() {
        let long = "`a.b` ".repeat(100_000);
        let e = extract(&long);
        assert_eq!(e.identifiers.len(), 1);
        let ticks = "`".repeat(1_000_000);
        assert!(extract(&ticks).identifiers.is_empty());
        let _ = extract("\u{0}`\u{7}`:x:`<>` ``");
    }
}
