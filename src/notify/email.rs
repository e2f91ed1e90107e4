//! The alert email: `multipart/alternative` with text/plain first and text/html last (RFC 2046
//! orders alternatives from least to most preferred). Everything in it came from a scanned
//! repository or a crawled feed, so it is hostile: HTML-escaped in the HTML part, stripped of
//! CR/LF and control characters in headers.
//!
//! When unsubscribe keys and a public URL are configured, every message carries
//! `List-Unsubscribe: <{public_url}/unsubscribe/{token}>` (plus a `mailto:` when configured) and
//! `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), and shows the same link in
//! both parts. The header is written without spaces so it stays on one physical line (a folded
//! `List-Unsubscribe` has broken DKIM at some relays).

use super::digest::{self, Digest};
use super::unsubscribe::UnsubscribeKeys;
use crate::store::TenantId;
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The longest subject we send, in characters (mail clients cut far earlier anyway).
const MAX_SUBJECT_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("invalid address `{0}`")]
    Address(String),
    #[error("cannot build the message")]
    Build(#[from] lettre::error::Error),
    #[error("the delivery's digest payload cannot be read")]
    BadDigest,
}

/// How recipients unsubscribe: the keys that sign tokens, the URL `ecowatch serve` answers on,
/// and optionally a mailbox.
#[derive(Debug, Clone)]
pub struct ListUnsubscribe {
    pub keys: UnsubscribeKeys,
    /// `https://host[/prefix]`, without a trailing slash.
    pub public_url: String,
    pub mailto: Option<String>,
}

impl ListUnsubscribe {
    /// The links for one subscription of one tenant.
    pub fn link(&self, tenant: TenantId, subscription_id: i64) -> UnsubscribeLink {
        let token = self.keys.token(tenant, subscription_id);
        UnsubscribeLink {
            url: format!("{}/unsubscribe/{token}", self.public_url),
            mailto: self
                .mailto
                .as_ref()
                .map(|m| format!("mailto:{m}?subject=unsubscribe%20{token}")),
        }
    }
}

/// One subscription's unsubscribe links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeLink {
    /// The one-click https URL.
    pub url: String,
    pub mailto: Option<String>,
}

impl UnsubscribeLink {
    /// `<https://…>,<mailto:…>`: no spaces, so no folding.
    pub fn header_value(&self) -> String {
        let mut value = format!("<{}>", header_safe_unlimited(&self.url));
        if let Some(mailto) = &self.mailto {
            value.push_str(&format!(",<{}>", header_safe_unlimited(mailto)));
        }
        value
    }
}

/// What one message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub subject: String,
    pub text: String,
    pub html: String,
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
    /// Where the finding was learned (an advisory, a discussion, a changelog): http(s) only.
    pub references: Vec<String>,
}

/// At most this many reference links per alert, each at most this long.
const MAX_REFERENCES: usize = 5;
const MAX_REFERENCE_CHARS: usize = 500;

/// The payload's reference URLs a reader may follow: http(s), one token, not too long.
fn safe_references(payload: &Value) -> Vec<String> {
    payload
        .get("references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|url| {
            (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= MAX_REFERENCE_CHARS
                && !url.chars().any(|c| c.is_control() || c.is_whitespace())
        })
        .take(MAX_REFERENCES)
        .map(str::to_string)
        .collect()
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
            references: safe_references(payload),
        }
    }

    pub fn subject(&self) -> String {
        header_safe(&format!(
            "[ecowatch] {} {}: {} ({})",
            self.repo, self.severity, self.title, self.location
        ))
    }

    pub fn content(&self, unsubscribe: Option<&str>) -> Content {
        Content {
            subject: self.subject(),
            text: self.text_body(unsubscribe),
            html: self.html_body(unsubscribe),
        }
    }

    pub fn text_body(&self, unsubscribe: Option<&str>) -> String {
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
        for url in &self.references {
            out.push_str(&format!("See: {url}\n"));
        }
        out.push_str("\n-- \necowatch\n");
        if let Some(url) = unsubscribe {
            out.push_str(&format!("Unsubscribe: {url}\n"));
        }
        out
    }

    pub fn html_body(&self, unsubscribe: Option<&str>) -> String {
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
        for url in &self.references {
            out.push_str(&format!(
                "<p>See: <a href=\"{}\">{}</a></p>\n",
                e(url),
                e(url)
            ));
        }
        out.push_str("<p>-- <br>ecowatch");
        if let Some(url) = unsubscribe {
            out.push_str(&format!("<br><a href=\"{}\">Unsubscribe</a>", e(url)));
        }
        out.push_str("</p>\n</body></html>\n");
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

/// The email for one outbox delivery: a digest when the payload's `kind` is `digest`, else a
/// single-finding alert.
pub fn for_delivery(
    from: &str,
    to: &str,
    delivery_key: &str,
    payload: &Value,
    unsubscribe: Option<&UnsubscribeLink>,
) -> Result<Message, EmailError> {
    let url = unsubscribe.map(|u| u.url.as_str());
    let content = if payload.get("kind").and_then(Value::as_str) == Some("digest") {
        let digest = Digest::from_payload(payload).ok_or(EmailError::BadDigest)?;
        Content {
            subject: digest::render::subject(&digest),
            text: digest::render::text(&digest, url),
            html: digest::render::html(&digest, url),
        }
    } else {
        Alert::from_payload(payload).content(url)
    };
    build(from, to, delivery_key, &content, unsubscribe)
}

/// Builds one message: text first, HTML last, with the unsubscribe headers when given.
pub fn build(
    from: &str,
    to: &str,
    delivery_key: &str,
    content: &Content,
    unsubscribe: Option<&UnsubscribeLink>,
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
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(header_safe(&content.subject))
        .message_id(Some(message_id(delivery_key)));
    if let Some(link) = unsubscribe {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                link.header_value(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_string(),
            ));
    }
    Ok(builder.multipart(
        MultiPart::alternative()
            .singlepart(part(ContentType::TEXT_PLAIN, content.text.clone()))
            .singlepart(part(ContentType::TEXT_HTML, content.html.clone())),
    )?)
}

/// [`header_safe`] without the length cap (URLs carry tokens that must stay whole).
fn header_safe_unlimited(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect()
}

/// Hostile text made inert for display anywhere: control characters (CR, LF, ...) and bidi
/// overrides/isolates (which can make text read differently than it is) become spaces, runs
/// of spaces collapse, and it is cut to `max_chars` (with an ellipsis).
pub fn inert(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut count = 0usize;
    for c in text.chars() {
        let c = if c.is_control() || is_bidi_control(c) || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        if count == max_chars {
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    out.trim_end().to_string()
}

/// Unicode bidi embedding, override and isolate controls, and the directional marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
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
    fn reference_links_are_http_only_escaped_and_capped() {
        let alert = Alert::from_payload(&json!({
            "references": ["https://github.com/o/r/discussions/1?a=1&b=\"2\"",
                           "javascript:alert(1)", "https://x.test/a b", 7,
                           "http://a.test/1", "http://a.test/2", "http://a.test/3",
                           "http://a.test/4", "http://a.test/5"],
        }));
        assert_eq!(alert.references.len(), MAX_REFERENCES);
        assert!(
            !alert
                .references
                .iter()
                .any(|u| u.contains("javascript") || u.contains(' '))
        );
        let text = alert.text_body(None);
        assert!(text.contains("See: https://github.com/o/r/discussions/1?a=1&b=\"2\"\n"));
        let html = alert.html_body(None);
        assert!(
            html.contains(
                "<a href=\"https://github.com/o/r/discussions/1?a=1&amp;b=&quot;2&quot;\">"
            )
        );
        assert!(!html.contains("http://a.test/5"));
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
        let html = hostile().html_body(None);
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
        let content = hostile().content(None);
        let message = build(
            "ecowatch@example.com",
            "dev@example.com",
            "k",
            &content,
            None,
        )
        .expect("message");
        let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
        let plain = raw.find("text/plain").expect("text part");
        let html = raw.find("text/html").expect("html part");
        assert!(plain < html);
        assert!(raw.contains("multipart/alternative"));
        assert!(!raw.lines().any(|l| l.starts_with("Bcc:")), "{raw}");
        assert!(
            build(
                "ecowatch@example.com",
                "not an address",
                "k",
                &content,
                None
            )
            .is_err()
        );
        assert!(
            !raw.contains("List-Unsubscribe"),
            "none without configuration"
        );
    }

    const KEYS: &str = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn list_unsubscribe(mailto: Option<&str>) -> ListUnsubscribe {
        ListUnsubscribe {
            keys: UnsubscribeKeys::parse(KEYS).unwrap(),
            public_url: "https://ecowatch.example.com/a-rather-long-prefix/for-folding".into(),
            mailto: mailto.map(String::from),
        }
    }

    #[test]
    fn list_unsubscribe_headers_carry_a_verifiable_token_on_one_line() {
        let tenant = TenantId::from_verified(7);
        let link = list_unsubscribe(Some("unsubscribe@example.com")).link(tenant, 42);
        let content = hostile().content(Some(&link.url));
        let message = build(
            "e@example.com",
            "dev@example.com",
            "k",
            &content,
            Some(&link),
        )
        .expect("message");
        let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
        let line = raw
            .lines()
            .find(|l| l.starts_with("List-Unsubscribe: "))
            .expect("List-Unsubscribe");
        assert!(
            line.starts_with(
                "List-Unsubscribe: <https://ecowatch.example.com/a-rather-long-prefix/for-folding/unsubscribe/v1."
            ),
            "{line}"
        );
        assert!(line.contains(">,<mailto:unsubscribe@example.com?subject=unsubscribe%20v1."));
        assert!(raw.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        let token = link.url.rsplit('/').next().unwrap();
        assert_eq!(
            UnsubscribeKeys::parse(KEYS).unwrap().verify(token),
            Some((tenant, 42))
        );
        assert!(content.text.contains(&format!("Unsubscribe: {}", link.url)));
        assert!(
            content
                .html
                .contains(&format!("<a href=\"{}\">Unsubscribe</a>", link.url))
        );
        let without_mailto = list_unsubscribe(None).link(tenant, 42);
        assert!(!without_mailto.header_value().contains("mailto"));
    }

    #[test]
    fn inert_text_loses_controls_and_bidi_overrides_and_is_capped() {
        assert_eq!(
            inert("a\r\nBcc: x\u{202E}evil\u{2066}", 100),
            "a Bcc: x evil"
        );
        assert_eq!(inert("abcdef", 3), "abc…");
        assert_eq!(inert("  spaced   out ", 100), "spaced out");
    }
}
