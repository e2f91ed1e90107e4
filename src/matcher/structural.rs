//! `kind = "ast-grep"`: the engine's side of structural matching. [`super::ast_grep`] parses
//! and matches; this file adds the prefilter literals and turns matches into [`Hit`]s.

use super::ast_grep::{Incomplete, Lang, StructuralRule};
use super::{Hit, snippet};

#[derive(Debug)]
pub struct StructuralMatcher {
    pub rule: StructuralRule,
    /// Literals every match contains (from `literals`, or read from a top-level `pattern`);
    /// `None` means the matcher parses every file of its languages.
    pub literals: Option<Vec<String>>,
}

impl StructuralMatcher {
    /// Does this matcher handle the language of `path`?
    pub fn language_for(&self, path: &str) -> Option<Lang> {
        Lang::for_path(path).filter(|l| self.rule.languages().contains(l))
    }

    /// Every match in `text`, plus the reason when the search was cut short.
    pub fn find(&self, lang: Lang, text: &str) -> (Vec<Hit>, Option<Incomplete>) {
        let search = self.rule.search(lang, text);
        let hits = search
            .matches
            .into_iter()
            .map(|m| {
                let line_text = text
                    .lines()
                    .nth(m.line.saturating_sub(1) as usize)
                    .unwrap_or("");
                Hit {
                    line: m.line,
                    column: m.column,
                    matched: m.text,
                    snippet: snippet(line_text),
                    captures: m.captures,
                    package: None,
                }
            })
            .collect();
        (hits, search.incomplete)
    }
}

/// The longest identifier in an ast-grep `pattern` that is not a metavariable: every match of
/// the pattern contains it verbatim. `None` for patterns of metavariables only.
pub fn pattern_literal(pattern: &str) -> Option<String> {
    let mut best: Option<&str> = None;
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let is_metavar = start > 0 && bytes[start - 1] == b'$';
            let word = &pattern[start..i];
            if !is_metavar && word.len() >= 3 && best.is_none_or(|b| word.len() > b.len()) {
                best = Some(word);
            }
        } else {
            i += 1;
        }
    }
    best.map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_literal_skips_metavariables() {
        assert_eq!(
            pattern_literal("createClient($URL, $KEY)").as_deref(),
            Some("createClient")
        );
        assert_eq!(pattern_literal("$X.utcnow()").as_deref(), Some("utcnow"));
        assert_eq!(pattern_literal("$A($$$ARGS)"), None);
        assert_eq!(pattern_literal("$F(x)"), None);
    }
}
