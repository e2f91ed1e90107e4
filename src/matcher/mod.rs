//! Matchers: the ways a rule recognises a problem. Each kind lives in its own file and turns
//! its input (a line, a parsed config file, the inventory, a syntax tree) into [`Hit`]s; the
//! scan turns hits into findings. Matchers never read the clock, the network or other files.

pub mod ast_grep;
pub mod config;
pub mod dependency;
pub mod imports;
pub mod jwt;
pub mod lang;
pub mod prefilter;
pub mod regex_line;
pub mod structural;
pub mod versions;

use crate::finding::PackageRef;
use std::collections::BTreeMap;

/// A compiled matcher of one `[[match]]` table.
#[derive(Debug)]
pub enum Matcher {
    Regex(regex_line::RegexMatcher),
    Jwt(jwt::JwtMatcher),
    Dependency(dependency::DependencyMatcher),
    Config(config::ConfigMatcher),
    Structural(structural::StructuralMatcher),
}

impl Matcher {
    /// The `kind` as rule files spell it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Matcher::Regex(_) => "regex",
            Matcher::Jwt(_) => "jwt",
            Matcher::Dependency(_) => "dependency",
            Matcher::Config(_) => "config",
            Matcher::Structural(_) => "ast-grep",
        }
    }
}

/// One match, before it becomes a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    /// The matched text; the fingerprint hashes it (normalized), it is never printed.
    pub matched: String,
    /// What reports show: the trimmed line, secrets masked.
    pub snippet: String,
    /// `$NAME` substitutions for the message.
    pub captures: BTreeMap<String, String>,
    pub package: Option<PackageRef>,
}

/// Longest snippet shown, in characters; minified lines are cut.
pub const SNIPPET_CHARS: usize = 200;

/// The line as reports show it: secrets masked (JWTs and `sb_secret_` keys keep only their
/// first characters, whichever matcher found the line), trimmed and cut to [`SNIPPET_CHARS`]
/// characters. Reports end up in CI logs and emails, so they must never carry a key.
pub fn snippet(line: &str) -> String {
    let masked = jwt::mask_tokens(line);
    let masked = mask_secret_keys(&masked);
    let trimmed = masked.trim();
    match trimmed.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_string(),
    }
}

/// Supabase secret keys (`sb_secret_…`) cut to their prefix.
fn mask_secret_keys(line: &str) -> String {
    static SECRET: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"sb_secret_[A-Za-z0-9_-]{4,}").expect("secret key pattern is valid")
    });
    SECRET.replace_all(line, "sb_secret_…").into_owned()
}

/// The 1-based character column of byte offset `byte` in `line`.
pub fn char_column(line: &str, byte: usize) -> u32 {
    let prefix = line.get(..byte).unwrap_or(line);
    u32::try_from(prefix.chars().count() + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_masks_tokens_and_secret_keys_for_every_matcher() {
        let line = "KEY=eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl other=sb_secret_abcdef123456";
        let shown = snippet(line);
        assert!(!shown.contains("eyJyb2xlIjoiYW5vbiJ9"), "{shown}");
        assert!(!shown.contains("abcdef123456"), "{shown}");
        assert!(shown.contains("sb_secret_…"), "{shown}");
    }

    #[test]
    fn snippet_trims_and_cuts_on_a_char_boundary() {
        assert_eq!(snippet("   x = 1  "), "x = 1");
        let long = "é".repeat(300);
        let s = snippet(&long);
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(char_column("abc", 0), 1);
        assert_eq!(char_column("éé x", "éé ".len()), 4);
    }
}
