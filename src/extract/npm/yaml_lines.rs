//! Lines of mapping keys in the block-style YAML that pnpm and yarn berry write. The YAML
//! parser drops positions; this line scan finds where each key is written, by its path of
//! parent keys (`packages` → `/lodash@4.17.21`), for the file that already parsed.

use std::collections::HashMap;

/// Where block-mapping keys are written, up to a fixed depth.
pub struct YamlKeyLines {
    lines: HashMap<Vec<String>, u32>,
}

impl YamlKeyLines {
    /// Records keys nested at most `max_depth` deep. Lines that are not `key:` or `key: value`
    /// (list items, flow collections, comments, block scalars) are passed over.
    pub fn scan(text: &str, max_depth: usize) -> YamlKeyLines {
        let mut lines = HashMap::new();
        // (indent, key) of the keys enclosing the current line.
        let mut path: Vec<(usize, String)> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let content = raw.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') || content.starts_with('-') {
                continue;
            }
            let indent = raw.len() - content.len();
            let Some(key) = mapping_key(content) else {
                continue;
            };
            while path.last().is_some_and(|(i, _)| *i >= indent) {
                path.pop();
            }
            if path.len() >= max_depth {
                continue;
            }
            path.push((indent, key));
            let keys: Vec<String> = path.iter().map(|(_, k)| k.clone()).collect();
            let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
            lines.entry(keys).or_insert(line);
        }
        YamlKeyLines { lines }
    }

    /// The line of the key at `path`.
    pub fn line(&self, path: &[&str]) -> Option<u32> {
        let key: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        self.lines.get(&key).copied()
    }
}

/// The key of a `key: value` or `key:` line, unquoted; `None` for other lines.
fn mapping_key(content: &str) -> Option<String> {
    let (key, rest) = match content.chars().next()? {
        '\'' => quoted(content, '\'')?,
        '"' => quoted(content, '"')?,
        _ => {
            let colon = content
                .match_indices(':')
                .map(|(i, _)| i)
                .find(|&i| matches!(content.as_bytes().get(i + 1), None | Some(b' ')))?;
            (content[..colon].trim_end().to_string(), &content[colon..])
        }
    };
    rest.trim_start().starts_with(':').then_some(key)
}

/// A quoted scalar at the start of `content` and the text after it. Single quotes escape by
/// doubling; double quotes by backslash (only `\"` and `\\` matter for package keys).
fn quoted(content: &str, quote: char) -> Option<(String, &str)> {
    let mut key = String::new();
    let mut chars = content.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if quote == '"' && c == '\\' {
            if let Some((_, escaped)) = chars.next() {
                key.push(escaped);
            }
        } else if c == quote {
            if quote == '\'' && chars.peek().is_some_and(|&(_, n)| n == '\'') {
                chars.next();
                key.push('\'');
            } else {
                return Some((key, &content[i + c.len_utf8()..]));
            }
        } else {
            key.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_quoted_keys_are_found() {
        let text = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      lodash:\n        specifier: ^4\n\npackages:\n\n  '@babel/core@7.0.0':\n    resolution: {integrity: sha512-x}\n  \"a@npm:^1, a@npm:^1.1\":\n    version: 1.1.0\n  /b@1.0.0(c@2.0.0):\n    dev: true\n";
        let keys = YamlKeyLines::scan(text, 4);
        assert_eq!(keys.line(&["lockfileVersion"]), Some(1));
        assert_eq!(
            keys.line(&["importers", ".", "dependencies", "lodash"]),
            Some(7)
        );
        assert_eq!(keys.line(&["packages", "@babel/core@7.0.0"]), Some(12));
        assert_eq!(keys.line(&["packages", "a@npm:^1, a@npm:^1.1"]), Some(14));
        assert_eq!(keys.line(&["packages", "/b@1.0.0(c@2.0.0)"]), Some(16));
        assert_eq!(keys.line(&["packages", "missing"]), None);
    }

    #[test]
    fn depth_is_bounded_and_odd_lines_are_passed_over() {
        let text = "a:\n  b:\n    c: 1\n  - item\n  'unterminated\n  x:y\n";
        let keys = YamlKeyLines::scan(text, 2);
        assert_eq!(keys.line(&["a", "b"]), Some(2));
        assert_eq!(keys.line(&["a", "b", "c"]), None);
        assert_eq!(keys.line(&["a", "x:y"]), None);
    }
}
