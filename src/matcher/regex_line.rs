//! `kind = "regex"`: a Rust regex matched line by line; named groups become `$NAME`, and a line
//! that also matches `not` is dropped. The regex crate runs in linear time, so no pattern can
//! make a line crawl; the scan caps the line length on top.

use super::{Hit, char_column, snippet};
use regex::Regex;
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct RegexMatcher {
    pub pattern: Regex,
    pub not: Option<Regex>,
}

impl RegexMatcher {
    /// Every match in `line` (line number `line_no`), appended to `out`.
    pub fn find_in_line(&self, line: &str, line_no: u32, out: &mut Vec<Hit>) {
        if self.not.as_ref().is_some_and(|not| not.is_match(line)) {
            return;
        }
        let names: Vec<&str> = self.pattern.capture_names().flatten().collect();
        for caps in self.pattern.captures_iter(line) {
            let Some(whole) = caps.get(0) else { continue };
            if whole.as_str().is_empty() {
                continue;
            }
            let captures: BTreeMap<String, String> = names
                .iter()
                .filter_map(|n| {
                    caps.name(n)
                        .map(|m| (n.to_string(), m.as_str().to_string()))
                })
                .collect();
            out.push(Hit {
                line: line_no,
                column: char_column(line, whole.start()),
                matched: whole.as_str().to_string(),
                snippet: snippet(line),
                captures,
                package: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(pattern: &str, not: Option<&str>) -> RegexMatcher {
        RegexMatcher {
            pattern: Regex::new(pattern).unwrap(),
            not: not.map(|n| Regex::new(n).unwrap()),
        }
    }

    #[test]
    fn reports_each_match_with_char_columns_and_captures() {
        let m = matcher(r"\b(?P<CALL>datetime\.utcnow)\(\)", None);
        let mut hits = Vec::new();
        m.find_in_line("é = datetime.utcnow() + datetime.utcnow()", 7, &mut hits);
        assert_eq!(hits.len(), 2);
        assert_eq!((hits[0].line, hits[0].column), (7, 5));
        assert_eq!(hits[0].captures["CALL"], "datetime.utcnow");
        assert_eq!(hits[1].column, 25);
    }

    #[test]
    fn not_drops_the_line_and_empty_matches_are_ignored() {
        let mut hits = Vec::new();
        matcher("utcnow", Some("noqa")).find_in_line("utcnow() # noqa", 1, &mut hits);
        matcher("x*", None).find_in_line("abc", 1, &mut hits);
        assert!(hits.is_empty());
    }
}
