//! Finding where a JSON key or a key-value pair is written, so entries parsed with serde can
//! name their line. serde_json does not keep positions, and Composer writes one key per line.

/// The byte offset of `"key"` written as an object key (followed by `:`) at or after `from`.
pub(super) fn find_key(text: &str, key: &str, from: usize) -> Option<usize> {
    spellings(key).find_map(|quoted| {
        occurrences(text, &quoted, from)
            .find(|&at| text[at + quoted.len()..].trim_start().starts_with(':'))
    })
}

/// The byte offset of the string `"value"` written as the value of `"key"` at or after `from`.
pub(super) fn find_value(text: &str, key: &str, value: &str, from: usize) -> Option<usize> {
    let quoted_key = format!("\"{key}\"");
    spellings(value).find_map(|quoted| {
        occurrences(text, &quoted, from).find(|&at| {
            text[..at]
                .trim_end()
                .strip_suffix(':')
                .is_some_and(|before| before.trim_end().ends_with(&quoted_key))
        })
    })
}

/// `"s"` as written, and with `/` escaped as `\/` (PHP's default `json_encode` output).
fn spellings(s: &str) -> impl Iterator<Item = String> {
    let plain = format!("\"{s}\"");
    let escaped = s
        .contains('/')
        .then(|| format!("\"{}\"", s.replace('/', "\\/")));
    std::iter::once(plain).chain(escaped)
}

fn occurrences<'t>(
    text: &'t str,
    needle: &'t str,
    from: usize,
) -> impl Iterator<Item = usize> + 't {
    let hay = text.get(from..).unwrap_or("");
    memchr::memmem::find_iter(hay.as_bytes(), needle.as_bytes()).map(move |i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_not_values() {
        let text = r#"{"description": "require", "require": {"a/b": "1"}}"#;
        let at = find_key(text, "require", 0).expect("found");
        assert_eq!(&text[at..at + 9], "\"require\"");
        assert!(at > 20);
        assert_eq!(find_key(text, "nope", 0), None);
    }

    #[test]
    fn finds_values_of_a_key_only() {
        let text = "{\"require\": {\"a/b\": \"1\"},\n \"name\" : \"a/b\"}";
        let at = find_value(text, "name", "a/b", 0).expect("found");
        assert!(text[..at].ends_with(": "));
        assert_eq!(find_value(text, "name", "a/b", at + 1), None);
    }

    #[test]
    fn escaped_slashes_are_found() {
        let text = r#"{"name": "a\/b"}"#;
        assert!(find_value(text, "name", "a/b", 0).is_some());
    }
}
