//! Slack incoming webhooks: `{"text": ...}` in mrkdwn. `&`, `<` and `>` are Slack's control
//! characters (`<!channel>`, `<@U123>`, `<https://evil|innocent>`), so crawled text has exactly
//! those three escaped; link unfurling is off so a hostile URL shows no preview. Slack allows
//! about one message per second per webhook: [`Pacer`] keeps to that within the process.

use super::{AlertText, cap_chars};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Longer texts are cut: Slack truncates far later, but a chat alert is read at a glance.
const MAX_TEXT_CHARS: usize = 3000;

/// Slack's plain-text error answers that no retry can fix (the webhook was revoked, the channel
/// archived or deleted, the payload refused): the endpoint needs reconnecting.
const PERMANENT_ERRORS: &[&str] = &[
    "invalid_payload",
    "no_text",
    "channel_not_found",
    "channel_is_archived",
    "no_service",
    "no_service_id",
    "no_team",
    "action_prohibited",
    "posting_to_general_channel_denied",
    "team_disabled",
    "invalid_token",
    "user_not_found",
    "too_many_attachments",
];

/// Escapes Slack's three control characters (and only those, as Slack asks).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The JSON body for one alert.
pub fn body(alert: &AlertText) -> Vec<u8> {
    let e = |text: &str| escape(text);
    let mut text = format!(
        "*New finding in {}*: {} [{}]\nRule: {}",
        e(&alert.repo),
        e(&alert.title),
        e(&alert.severity),
        e(&alert.rule_id)
    );
    if !alert.location.is_empty() {
        text.push_str(&format!("\nWhere: {}", e(&alert.location)));
    }
    if !alert.message.trim().is_empty() {
        text.push_str(&format!("\n\n{}", e(&alert.message)));
    }
    let value = json!({
        "text": cap_chars(&text, MAX_TEXT_CHARS),
        "unfurl_links": false,
        "unfurl_media": false,
    });
    serde_json::to_vec(&value).unwrap_or_default()
}

/// The Slack error code in an answer body, when it is one that no retry can fix.
pub fn permanent_error(body: &str) -> Option<&'static str> {
    let code = body.trim();
    PERMANENT_ERRORS
        .iter()
        .copied()
        .find(|known| *known == code)
}

/// At most one message per `interval` to each webhook URL, in this process.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next_free: Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    pub fn new(interval: Duration) -> Pacer {
        Pacer {
            interval,
            next_free: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for this URL's next free slot and takes it.
    pub async fn wait(&self, url: &str) {
        let slot = self.reserve(url, Instant::now()).await;
        tokio::time::sleep_until(slot).await;
    }

    /// Takes the URL's next free slot at or after `now`.
    async fn reserve(&self, url: &str, now: Instant) -> Instant {
        let mut next_free = self.next_free.lock().await;
        let slot = next_free
            .get(url)
            .copied()
            .filter(|t| *t > now)
            .unwrap_or(now);
        next_free.insert(url.to_string(), slot + self.interval);
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn control_characters_are_escaped_so_no_mention_or_link_survives() {
        assert_eq!(
            escape("<!channel> & <https://evil|click> <@U123>"),
            "&lt;!channel&gt; &amp; &lt;https://evil|click&gt; &lt;@U123&gt;"
        );
        let alert = AlertText {
            repo: "api".into(),
            severity: "high".into(),
            title: "<!here> <script>".into(),
            rule_id: "r".into(),
            location: "a.py:1".into(),
            message: "line <b>one</b>\nline two".into(),
        };
        let value: Value = serde_json::from_slice(&body(&alert)).unwrap();
        let text = value["text"].as_str().unwrap();
        assert!(!text.contains('<') && !text.contains("<!"), "{text}");
        assert!(text.contains("&lt;!here&gt; &lt;script&gt;"), "{text}");
        assert!(
            text.contains("\n\nline &lt;b&gt;one&lt;/b&gt;\nline two"),
            "{text}"
        );
        assert!(!text.contains('>'), "{text}");
        assert_eq!(value["unfurl_links"], false);
    }

    #[test]
    fn known_slack_errors_are_permanent() {
        assert_eq!(
            permanent_error("channel_is_archived\n"),
            Some("channel_is_archived")
        );
        assert_eq!(permanent_error("invalid_token"), Some("invalid_token"));
        assert_eq!(permanent_error("rollup_error"), None);
        assert_eq!(permanent_error(""), None);
    }

    #[tokio::test]
    async fn the_pacer_spaces_messages_to_one_url_but_not_across_urls() {
        let pacer = Pacer::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(pacer.reserve("a", t0).await, t0);
        assert_eq!(pacer.reserve("b", t0).await, t0);
        assert_eq!(pacer.reserve("a", t0).await, t0 + Duration::from_secs(1));
        assert_eq!(pacer.reserve("a", t0).await, t0 + Duration::from_secs(2));
        // Long after the last message, the next one goes at once.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(pacer.reserve("a", later).await, later);
    }
}
