//! The imports gate: "this file imports package X", per language. Checked per file after the
//! prefilter and before any matcher runs. Files in languages without imports (`.env`, HTML,
//! JSON) are not gated by it: a rule that also reads config files would otherwise never fire.

use super::lang::Language;
use regex::Regex;

/// Compiled import checks for one rule's `imports` list.
#[derive(Debug)]
pub struct ImportsGate {
    packages: Vec<String>,
    js: Regex,
    python: Regex,
    go: Regex,
    rust: Regex,
    ruby: Regex,
}

impl ImportsGate {
    /// Builds the per-language checks; `packages` are module names as code writes them
    /// (`@supabase/supabase-js`, `datetime`, `github.com/x/y`, `serde`).
    pub fn new(packages: &[String]) -> Result<ImportsGate, regex::Error> {
        let alt = packages
            .iter()
            .map(|p| regex::escape(p))
            .collect::<Vec<_>>()
            .join("|");
        let rust_alt = packages
            .iter()
            .map(|p| regex::escape(&p.replace('-', "_")))
            .collect::<Vec<_>>()
            .join("|");
        Ok(ImportsGate {
            packages: packages.to_vec(),
            js: Regex::new(&format!(
                r#"(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*|\bimport\s+)["'](?:{alt})(?:/[^"']*)?["']"#
            ))?,
            python: Regex::new(&format!(
                r"(?m)^[ \t]*(?:from[ \t]+(?:{alt})(?:\.[\w.]+)?[ \t]+import\b|import[ \t]+(?:[\w.]+[ \t]*(?:as[ \t]+\w+)?[ \t]*,[ \t]*)*(?:{alt})\b)"
            ))?,
            go: Regex::new(&format!(r#""(?:{alt})(?:/[^"]*)?""#))?,
            rust: Regex::new(&format!(
                r"\b(?:use|extern[ \t]+crate)[ \t]+(?:::)?(?:{rust_alt})\b|\b(?:{rust_alt})::"
            ))?,
            ruby: Regex::new(&format!(
                r#"\brequire(?:_relative)?[ \t(]*["'](?:{alt})(?:/[^"']*)?["']"#
            ))?,
        })
    }

    /// Does the file (language `lang`, contents `text`) pass the gate?
    pub fn admits(&self, lang: Language, text: &str) -> bool {
        if self.packages.is_empty() {
            return true;
        }
        match lang {
            Language::JavaScript | Language::TypeScript => self.js.is_match(text),
            Language::Python => self.python.is_match(text),
            Language::Go => self.go.is_match(text),
            Language::Rust => self.rust.is_match(text),
            Language::Ruby => self.ruby.is_match(text),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(p: &[&str]) -> ImportsGate {
        ImportsGate::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn javascript_import_forms() {
        let g = gate(&["@supabase/supabase-js"]);
        let js = Language::JavaScript;
        assert!(g.admits(js, "import { createClient } from '@supabase/supabase-js'"));
        assert!(g.admits(js, "const s = require(\"@supabase/supabase-js\")"));
        assert!(g.admits(js, "await import('@supabase/supabase-js/dist/x')"));
        assert!(!g.admits(js, "import x from '@supabase/supabase-jsx'"));
        assert!(!g.admits(js, "// uses supabase-js"));
    }

    #[test]
    fn python_import_forms() {
        let g = gate(&["datetime"]);
        let py = Language::Python;
        assert!(g.admits(py, "from datetime import datetime"));
        assert!(g.admits(py, "import os, datetime"));
        assert!(g.admits(py, "  import datetime as dt"));
        assert!(!g.admits(py, "import datetimes"));
        assert!(!g.admits(py, "x = 'import datetime'"));
    }

    #[test]
    fn other_languages_and_ungated_files() {
        assert!(
            gate(&["github.com/pkg/errors"])
                .admits(Language::Go, "import \"github.com/pkg/errors\"")
        );
        assert!(gate(&["serde-json"]).admits(Language::Rust, "use serde_json::Value;"));
        assert!(gate(&["rails"]).admits(Language::Ruby, "require 'rails/all'"));
        assert!(gate(&["x"]).admits(Language::Other, "KEY=1"));
        assert!(!gate(&["x"]).admits(Language::Rust, "fn main() {}"));
    }
}
