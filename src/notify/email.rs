//! The alert email: `multipart/alternative` with text/plain first and text/html last (RFC 2046
//! orders alternatives from least to most preferred). Everything in it came from a scanned
//! repository or a crawled feed, so it is hostile: HTML-escaped in the HTML part, stripped of
//! CR/LF and control characters in headers. `List-Unsubscribe` (RFC 8058) is still to do.

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The longest subject we send, in characters (mail clients cut far earlier anyway).
const MAX_SUBJECT_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("invalid address `{0}`")]
    Address(String),
    #[error("cannot build the message")]
    Build(#[from] lettre::error::Error),
}

/// The parts of an alert, read from a delivery's payload (missing fields read as empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub repo: String,
    pub severity: String,
    pub title: String,
    pub rule_id: String,
    pub location: String,
    pub message: String,
}

impl Alert {
    pub fn from_payload(payload: &Value) -> Alert {
        let text = |key: &str| {
            payload
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let location = match (text("path"), payload.get("line").and_then(Value::as_i64)) {
            (path, _) if path.is_empty() => String::new(),
            (path, Some(line)) => format!("{path}:{line}"),
            (path, None) => path,
        };
        // One-line fields stay on one line in the text part too (a path may hold a CR/LF).
        Alert {
            repo: header_safe(&text("repo")),
            severity: header_safe(&text("severity")),
            title: header_safe(&text("title")),
            rule_id: header_safe(&text("rule_id")),
            location: header_safe(&location),
            message: text("message"),
        }
    }

    pub fn subject(&self) -> String {
        header_safe(&format!(
            "[ecowatch] {} {}: {} ({})",
            self.repo, self.severity, self.title, self.location
        ))
    }

    pub fn text_body(&self) -> String {
        let mut out = format!(
            "New finding in {}\n\n{} [{}]\nRule: {}\n",
            self.repo, self.title, self.severity, self.rule_id
        );
        if !self.location.is_empty() {
            out.push_str(&format!("Where: {}\n", self.location));
        }
        if !self.message.is_empty() {
            out.push_str(&format!("\n{}\n", self.message));
        }
        out.push_str("\n-- \necowatch\n");
        out
    }

    pub fn html_body(&self) -> String {
        let e = html_escape;
        let mut out = format!(
            "<!DOCTYPE html>\n<html><body>\n<p>New finding in <b>{}</b></p>\n\
             <h2>{} <small>[{}]</small></h2>\n<p>Rule: <code>{}</code></p>\n",
            e(&self.repo),
            e(&self.title),
            e(&self.severity),
            e(&self.rule_id)
        );
        if !self.location.is_empty() {
            out.push_str(&format!(
                "<p>Where: <code>{}</code></p>\n",
                e(&self.location)
            ));
        }
        if !self.message.is_empty() {
            out.push_str(&format!("<p>{}</p>\n", e(&self.message)));
        }
        out.push_str("<p>-- <br>ecowatch</p>\n</body></html>\n");
        out
    }
}

/// `<sha256(key)@ecowatch>`: the same delivery key always gives the same `Message-ID`, so a
/// re-send after a crash can be recognised as a duplicate.
pub fn message_id(delivery_key: &str) -> String {
    let digest = Sha256::digest(delivery_key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@ecowatch>")
}

/// Builds the email for one delivery.
pub fn build(
    from: &str,
    to: &str,
    delivery_key: &str,
    alert: &Alert,
) -> Result<Message, EmailError> {
    let from: Mailbox = from
        .parse()
        .map_err(|_| EmailError::Address(header_safe(from)))?;
    let to: Mailbox = to
        .parse()
        .map_err(|_| EmailError::Address(header_safe(to)))?;
    // Base64 for both parts: any text, any line length, nothing a relay re-wraps.
    let part = |content_type: ContentType, text: String| {
        SinglePart::builder().header(content_type).body(
            Body::new_with_encoding(text, ContentTransferEncoding::Base64)
                .unwrap_or_else(Body::new),
        )
    };
    Ok(Message::builder()
        .from(from)
        .to(to)
        .subject(alert.subject())
        .message_id(Some(message_id(delivery_key)))
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, alert.text_body()))
                .singlepart(part(ContentType::TEXT_HTML, alert.html_body())),
        )?)
}

/// A header value: control characters (CR, LF, TAB, ...) become spaces, runs of spaces collapse,
/// and it is cut to [`MAX_SUBJECT_CHARS`].
pub fn header_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    let trimmed = out.trim_end();
    trimmed.chars().take(MAX_SUBJECT_CHARS).collect()
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hostile() -> Alert {
        Alert::from_payload(&json!({
            "repo": "api",
            "severity": "high",
            "title": "Bad <script>alert(1)</script>\r\nBcc: x@evil",
            "rule_id": "python/utcnow",
            "path": "src/\"a\"&b.py",
            "line": 3,
            "message": "use <b>now</b>",
        }))
    }

    #[test]
    fn headers_lose_line_breaks_and_control_characters() {
        let subject = hostile().subject();
        assert!(
            !subject.contains('\r') && !subject.contains('\n'),
            "{subject}"
        );
        assert_eq!(header_safe("a\u{7}\tb\r\n\r\nc  "), "a b c");
        assert_eq!(header_safe(&"x".repeat(500)).len(), MAX_SUBJECT_CHARS);
    }

    #[test]
    fn html_part_escapes_everything_from_the_finding() {
        let html = hostile().html_body();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("src/&quot;a&quot;&amp;b.py:3"));
        assert!(html.contains("use &lt;b&gt;now&lt;/b&gt;"));
    }

    #[test]
    fn message_id_is_stable_per_delivery_key() {
        assert_eq!(message_id("finding:1:abc"), message_id("finding:1:abc"));
        assert_ne!(message_id("finding:1:abc"), message_id("finding:2:abc"));
        assert!(message_id("k").starts_with('<') && message_id("k").ends_with("@ecowatch>"));
    }

    #[test]
    fn built_message_has_text_before_html_and_no_injected_header() {
        let message =
            build("ecowatch@example.com", "dev@example.com", "k", &hostile()).expect("message");
        let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
        let plain = raw.find("text/plain").expect("text part");
        let html = raw.find("text/html").expect("html part");
        assert!(plain < html);
        assert!(raw.contains("multipart/alternative"));
        assert!(!raw.lines().any(|l| l.starts_with("Bcc:")), "{raw}");
        assert!(build("ecowatch@example.com", "not an address", "k", &hostile()).is_err());
    }
}
