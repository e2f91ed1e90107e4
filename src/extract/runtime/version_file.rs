//! What the one-value-per-line version files (`.nvmrc`, `.python-version`, `.tool-versions`,
//! legacy `rust-toolchain`) have in common: `#` starts a comment, blank lines mean nothing.

/// The meaningful lines of a version file, trimmed, comments removed, with 1-based lines.
pub fn content_lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines().zip(1u32..).filter_map(|(line, number)| {
        let content = line.split('#').next().unwrap_or("").trim();
        (!content.is_empty()).then_some((number, content))
    })
}

/// True for text that can be a version or alias (`18.17.0`, `lts/hydrogen`, `3.12-dev`):
/// no spaces, quotes or control characters, and not absurdly long.
pub fn is_plain_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/*+@:~".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_comments_and_blank_lines() {
        let text = "# pinned\n\n  3.12.1  # main\n\t\n3.11\r\n#3.10\n";
        let lines: Vec<(u32, &str)> = content_lines(text).collect();
        assert_eq!(lines, [(3, "3.12.1"), (5, "3.11")]);
    }

    #[test]
    fn plain_tokens() {
        assert!(is_plain_token("lts/*"));
        assert!(is_plain_token("nightly-2024-01-01"));
        assert!(!is_plain_token("18 20"));
        assert!(!is_plain_token("\"18\""));
        assert!(!is_plain_token(""));
        assert!(!is_plain_token(&"9".repeat(200)));
    }
}
