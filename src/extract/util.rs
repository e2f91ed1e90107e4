//! Helpers shared by extractors: line lookup and bounded parsing of JSON, YAML and TOML.

use super::ExtractError;
use serde::de::DeserializeOwned;

/// Byte offsets of line starts, for turning offsets into 1-based line numbers.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// The 1-based line of byte `offset`.
    pub fn line_of(&self, offset: usize) -> u32 {
        let idx = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        u32::try_from(idx + 1).unwrap_or(u32::MAX)
    }
}

/// The 1-based line of the first occurrence of `needle` in `text` at or after byte `from`.
pub fn find_line(text: &str, index: &LineIndex, needle: &str, from: usize) -> Option<u32> {
    let hay = text.get(from..)?;
    memchr::memmem::find(hay.as_bytes(), needle.as_bytes()).map(|i| index.line_of(from + i))
}

/// Parses JSON with serde_json's recursion limit left on (deeply nested input is an error,
/// never a stack overflow).
pub fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, ExtractError> {
    serde_json::from_str(text).map_err(|e| ExtractError::Json {
        line: u32::try_from(e.line()).unwrap_or(u32::MAX),
        column: u32::try_from(e.column()).unwrap_or(u32::MAX),
        message: e.to_string(),
    })
}

/// Parses YAML with serde-saphyr's default budgets (alias and node limits), so alias bombs
/// fail fast instead of exhausting memory.
pub fn parse_yaml<T: DeserializeOwned>(text: &str) -> Result<T, ExtractError> {
    serde_saphyr::from_str(text).map_err(|e| ExtractError::Yaml {
        line: None,
        message: first_line(&e.to_string()),
    })
}

/// Parses TOML, keeping the line of the error.
pub fn parse_toml<T: DeserializeOwned>(text: &str) -> Result<T, ExtractError> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| LineIndex::new(text).line_of(span.start));
        ExtractError::Toml {
            line,
            message: first_line(e.message()),
        }
    })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_maps_offsets_to_lines() {
        let text = "a\nbb\n\nccc";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(2), 2);
        assert_eq!(idx.line_of(5), 3);
        assert_eq!(idx.line_of(6), 4);
        assert_eq!(find_line(text, &idx, "ccc", 0), Some(4));
        assert_eq!(find_line(text, &idx, "zz", 0), None);
    }

    #[test]
    fn json_nested_ten_thousand_deep_is_an_error_not_a_crash() {
        let text = "[".repeat(10_000) + &"]".repeat(10_000);
        let r: Result<serde_json::Value, _> = parse_json(&text);
        assert!(matches!(r, Err(ExtractError::Json { .. })));
    }

    #[test]
    fn yaml_alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let r: Result<serde_json::Value, _> = parse_yaml(&text);
        assert!(r.is_err(), "a billion-laughs document must be refused");
    }
}
