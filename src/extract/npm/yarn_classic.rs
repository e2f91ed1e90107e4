//! yarn classic (v1) `yarn.lock`: yarn's own indented text format, read line by line.
//!
//! ```text
//! "@babel/core@^7.0.0", "@babel/core@^7.1.0":
//!   version "7.1.2"
//!   resolved "https://registry.yarnpkg.com/@babel/core/-/core-7.1.2.tgz#…"
//!   dependencies:
//!     debug "^4.1.0"
//! ```

use crate::extract::ExtractError;

/// One entry: the patterns (`name@range`) of its header and the fields yarn resolved.
pub struct ClassicEntry {
    pub line: u32,
    pub patterns: Vec<String>,
    pub version: Option<String>,
    pub resolved: Option<String>,
}

/// Parses the whole file. Structure yarn never writes (a stray indented line, a header
/// without its colon, an unterminated quote, an entry without a version) is an error with
/// the line, because a truncated or hand-broken lockfile must not pass for a complete one.
pub fn parse(text: &str) -> Result<Vec<ClassicEntry>, ExtractError> {
    let mut entries: Vec<ClassicEntry> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let content = raw.trim_start_matches(' ');
        if content.trim().is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = raw.len() - content.len();
        let syntax = |message: &str| ExtractError::Syntax {
            line,
            message: message.to_string(),
        };
        if indent == 0 {
            let header = content
                .trim_end()
                .strip_suffix(':')
                .ok_or_else(|| syntax("expected an entry header ending in `:`"))?;
            let patterns = split_patterns(header).ok_or_else(|| syntax("unterminated quote"))?;
            entries.push(ClassicEntry {
                line,
                patterns,
                version: None,
                resolved: None,
            });
            continue;
        }
        let entry = entries
            .last_mut()
            .ok_or_else(|| syntax("indented line before any entry"))?;
        if indent != 2 {
            continue; // A `dependencies:` block's lines.
        }
        let (key, value) = field(content.trim_end()).ok_or_else(|| syntax("unterminated quote"))?;
        match key.as_str() {
            "version" => entry.version = value,
            "resolved" => entry.resolved = value,
            _ => {}
        }
    }
    if let Some(entry) = entries.iter().find(|e| e.version.is_none()) {
        return Err(ExtractError::Syntax {
            line: entry.line,
            message: "entry has no `version` (truncated lockfile?)".into(),
        });
    }
    Ok(entries)
}

/// `"a@^1", a@^1.1` → `["a@^1", "a@^1.1"]`; `None` on an unterminated quote.
fn split_patterns(header: &str) -> Option<Vec<String>> {
    let mut patterns = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (pattern, after) = scalar(rest)?;
        patterns.push(pattern);
        rest = after.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Some(patterns)
}

/// `version "1.0.0"` → (`version`, `Some("1.0.0")`); `dependencies:` → (`dependencies`, None).
fn field(content: &str) -> Option<(String, Option<String>)> {
    if let Some(block) = content.strip_suffix(':')
        && !block.contains(' ')
    {
        return Some((block.trim_matches('"').to_string(), None));
    }
    let (key, rest) = scalar(content)?;
    let rest = rest.trim();
    if rest.is_empty() {
        return Some((key, None));
    }
    let (value, _) = scalar(rest)?;
    Some((key, Some(value)))
}

/// A leading quoted or bare scalar (bare ends at a space or comma) and the text after it.
fn scalar(s: &str) -> Option<(String, &str)> {
    if let Some(quoted) = s.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => value.push(chars.next()?.1),
                '"' => return Some((value, &quoted[i + 1..])),
                _ => value.push(c),
            }
        }
        return None;
    }
    let end = s.find([' ', ',']).unwrap_or(s.len());
    Some((s[..end].to_string(), &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_fields_are_read() {
        let text = "# yarn lockfile v1\n\n\n\"@s/a@^1\", \"@s/a@^1.1\":\n  version \"1.2.0\"\n  resolved \"https://r/@s/a/-/a-1.2.0.tgz#abc\"\n  dependencies:\n    b \"^2\"\n\nb@^2:\n  version \"2.0.1\"\n";
        let entries = parse(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].patterns, ["@s/a@^1", "@s/a@^1.1"]);
        assert_eq!(entries[0].line, 4);
        assert_eq!(entries[0].version.as_deref(), Some("1.2.0"));
        assert!(entries[0].resolved.is_some());
        assert_eq!(entries[1].patterns, ["b@^2"]);
        assert_eq!(entries[1].line, 10);
    }

    #[test]
    fn broken_structure_is_an_error_with_its_line() {
        let cases = [
            ("a@^1\n  version \"1\"\n", 1),
            ("  version \"1\"\n", 1),
            ("\"a@^1:\n  version \"1\"\n", 1),
            ("a@^1:\n  version \"1\"\nb@^2:\n", 3),
            ("a@^1:\n  version \"1\n", 2),
        ];
        for (text, line) in cases {
            match parse(text) {
                Err(ExtractError::Syntax { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {:?}", other.map(|e| e.len())),
            }
        }
    }
}
