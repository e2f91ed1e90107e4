//! Discord webhooks: `{"content": ..., "allowed_mentions": {"parse": []}}`. With no mention
//! types allowed, nothing in the text can ping `@everyone`, a role or a user; `@everyone` and
//! `@here` are also broken up in the text itself, Markdown is escaped (so no masked
//! `[text](javascript:...)` link or heading), embeds are suppressed, and the content is cut to
//! Discord's 2,000 characters.

use super::{AlertText, cap_chars};
use serde_json::json;

/// Discord refuses `content` longer than this (characters, not bytes).
pub const MAX_CONTENT_CHARS: usize = 2000;
/// Message flag SUPPRESS_EMBEDS: no link previews.
const SUPPRESS_EMBEDS: u64 = 1 << 2;

/// Backslash-escapes Discord Markdown and the `<` of mentions, channels and timestamps.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*'
                | '_'
                | '~'
                | '`'
                | '|'
                | '>'
                | '<'
                | '['
                | ']'
                | '('
                | ')'
                | '#'
                | '-'
                | ':'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The message text for one alert, at most [`MAX_CONTENT_CHARS`] characters.
pub fn content(alert: &AlertText) -> String {
    let e = |text: &str| escape(text);
    let mut text = format!(
        "**New finding in {}**: {} \\[{}\\]\nRule: {}",
        e(&alert.repo),
        e(&alert.title),
        e(&alert.severity),
        e(&alert.rule_id)
    );
    if !alert.location.is_empty() {
        text.push_str(&format!("\nWhere: {}", e(&alert.location)));
    }
    if !alert.message.is_empty() {
        text.push_str(&format!("\n{}", e(&alert.message)));
    }
    cap_chars(&text, MAX_CONTENT_CHARS)
}

/// The JSON body for one alert.
pub fn body(alert: &AlertText) -> Vec<u8> {
    let value = json!({
        "content": content(alert),
        "allowed_mentions": {"parse": []},
        "flags": SUPPRESS_EMBEDS,
    });
    serde_json::to_vec(&value).unwrap_or_default()
}

/// Seconds from a Discord 429 body (`{"retry_after": 1.5, ...}`).
pub fn retry_after(body: &str) -> Option<std::time::Duration> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let seconds = value.get("retry_after")?.as_f64()?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| std::time::Duration::from_secs_f64(seconds.min(86_400.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn alert(message: &str) -> AlertText {
        AlertText {
            repo: "api".into(),
            severity: "high".into(),
            title: "[click](javascript:alert(1)) <@&123>".into(),
            rule_id: "r".into(),
            location: String::new(),
            message: message.into(),
        }
    }

    #[test]
    fn mentions_are_disabled_and_markdown_is_inert() {
        let value: Value = serde_json::from_slice(&body(&alert("# heading"))).unwrap();
        assert_eq!(value["allowed_mentions"], json!({"parse": []}));
        let content = value["content"].as_str().unwrap();
        assert!(
            content.contains(r"\[click\]\(javascript\:alert\(1\)\)"),
            "{content}"
        );
        assert!(content.contains(r"\<@&123\>"), "{content}");
        assert!(content.contains("\n\\# heading"), "{content}");
    }

    #[test]
    fn content_is_capped_in_characters_not_bytes() {
        let long = "é".repeat(5000);
        let content = content(&alert(&long));
        assert_eq!(content.chars().count(), MAX_CONTENT_CHARS);
        assert!(content.ends_with('…'));
        assert!(content.len() > MAX_CONTENT_CHARS, "multi-byte characters");
    }

    #[test]
    fn retry_after_comes_from_the_429_body() {
        assert_eq!(
            retry_after(r#"{"retry_after": 1.5, "global": false}"#),
            Some(std::time::Duration::from_millis(1500))
        );
        assert_eq!(retry_after("nope"), None);
        assert_eq!(retry_after(r#"{"retry_after": -1}"#), None);
    }
}
