//! Alerts to chat and to machines: Slack, Discord and signed generic JSON webhooks.
//!
//! Every send re-vets the URL through the SSRF guard ([`crate::http::ssrf`]), connects to the
//! checked address only and never follows a redirect. The receiver's answer decides what the
//! relay does: 2xx sent; 410 gone (the subscription is disabled); 429, 5xx, timeouts and
//! connection failures retried (honouring `Retry-After`); 3xx, other 4xx and Slack's permanent
//! error strings dead.

pub mod discord;
pub mod slack;
pub mod standard;

use crate::http::ssrf::{self, PostLimits, PostResponse, SsrfPolicy};
use crate::notify::email::Alert;
use crate::store::Channel;
use chrono::Utc;
use serde_json::Value;
use std::time::Duration;

/// Overrides the per-request timeout (milliseconds), e.g. to test a receiver that hangs.
pub const ENV_TIMEOUT_MS: &str = "ECOWATCH_WEBHOOK_TIMEOUT_MS";
/// The most of an alert's free text a chat message carries.
const MAX_MESSAGE_CHARS: usize = 1500;

/// Why a webhook send failed, and what the relay should do about it. Messages never contain
/// the URL's path (webhook paths are secrets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Try again later, not before `retry_after` when the receiver said so.
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// No retry will help.
    #[error("{0}")]
    Permanent(String),
    /// The endpoint answered 410 Gone: disable the subscription.
    #[error("{0}")]
    Gone(String),
}

/// What [`WebhookError::Gone`] says, and what the subscription's other deliveries die with.
pub const GONE: &str = "endpoint gone (HTTP 410)";

/// An alert's fields, made inert for chat: no control or bidirectional-override characters,
/// `@everyone`/`@here`/`@channel` broken up, free text capped. Each channel escapes on top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertText {
    pub repo: String,
    pub severity: String,
    pub title: String,
    pub rule_id: String,
    pub location: String,
    pub message: String,
}

impl AlertText {
    pub fn from_payload(payload: &Value) -> AlertText {
        let alert = Alert::from_payload(payload);
        let line = |text: &str| defuse_mentions(&clean(text, false));
        AlertText {
            repo: line(&alert.repo),
            severity: line(&alert.severity),
            title: line(&alert.title),
            rule_id: line(&alert.rule_id),
            location: line(&alert.location),
            message: cap_chars(
                &defuse_mentions(&clean(&alert.message, true)),
                MAX_MESSAGE_CHARS,
            ),
        }
    }
}

/// Drops bidirectional overrides and other invisible format characters (a U+202E can make
/// `exe.txt` read as `txt.exe`); other control characters become spaces, except line breaks
/// when `multiline` (normalised to `\n`).
pub fn clean(text: &str, multiline: bool) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' if multiline => out.push('\n'),
            c if is_invisible_format(c) => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Unicode format characters that change how text reads without being seen: bidi embeddings,
/// overrides, isolates and marks, zero-width characters, and the BOM.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// `@everyone`, `@here` and `@channel` with a zero-width space after the `@`, so no chat
/// service reads them as mass mentions even if its other defences fail.
pub fn defuse_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let lower: String = rest.chars().take(8).collect::<String>().to_lowercase();
        if ["everyone", "here", "channel"]
            .iter()
            .any(|word| lower.starts_with(word))
        {
            out.push('\u{200B}');
        }
    }
    out.push_str(rest);
    out
}

/// `text` cut to `max` characters, the last one `…` when it was cut.
pub fn cap_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Sends alerts to webhooks. One per process: it holds the Slack pacing state.
#[derive(Debug)]
pub struct WebhookSender {
    policy: SsrfPolicy,
    limits: PostLimits,
    slack: slack::Pacer,
}

impl WebhookSender {
    pub fn new(policy: SsrfPolicy, limits: PostLimits) -> WebhookSender {
        WebhookSender {
            policy,
            limits,
            slack: slack::Pacer::new(Duration::from_secs(1)),
        }
    }

    /// The SSRF policy from the environment, default limits, and `ECOWATCH_WEBHOOK_TIMEOUT_MS`.
    pub fn from_env() -> Result<WebhookSender, String> {
        let mut limits = PostLimits::default();
        if let Ok(ms) = std::env::var(ENV_TIMEOUT_MS) {
            let ms: u64 = ms
                .trim()
                .parse()
                .ok()
                .filter(|ms| *ms > 0)
                .ok_or_else(|| format!("{ENV_TIMEOUT_MS} must be a number of milliseconds"))?;
            limits.timeout = Duration::from_millis(ms);
            limits.connect_timeout = limits.connect_timeout.min(limits.timeout);
        }
        Ok(WebhookSender::new(SsrfPolicy::from_env(), limits))
    }

    pub fn policy(&self) -> &SsrfPolicy {
        &self.policy
    }

    /// Builds and POSTs one alert to `url` for a Slack, Discord or generic JSON subscription.
    /// `delivery_key` is the JSON webhook's `webhook-id`; `secret` its signing secret.
    pub async fn send(
        &self,
        channel: Channel,
        url: &str,
        delivery_key: &str,
        payload: &Value,
        secret: Option<&str>,
    ) -> Result<(), WebhookError> {
        let vetted = ssrf::vet(url, &self.policy).await.map_err(|e| {
            let message = format!("the URL is refused: {e}");
            if e.is_transient() {
                WebhookError::Transient {
                    message,
                    retry_after: None,
                }
            } else {
                WebhookError::Permanent(message)
            }
        })?;
        let (headers, body) = match channel {
            Channel::Slack => {
                let body = slack::body(&AlertText::from_payload(payload));
                (vec![("content-type", "application/json".to_string())], body)
            }
            Channel::Discord => {
                let body = discord::body(&AlertText::from_payload(payload));
                (vec![("content-type", "application/json".to_string())], body)
            }
            Channel::Webhook => {
                let secret = secret
                    .ok_or_else(|| {
                        WebhookError::Permanent("the subscription has no signing secret".into())
                    })
                    .and_then(|s| {
                        standard::SigningSecret::parse(s)
                            .map_err(|e| WebhookError::Permanent(e.to_string()))
                    })?;
                let now = Utc::now();
                let body = standard::body(payload, now);
                let headers = standard::headers(&secret, delivery_key, now.timestamp(), &body)
                    .map_err(|e| WebhookError::Permanent(e.to_string()))?;
                (headers, body)
            }
            Channel::Email => {
                return Err(WebhookError::Permanent(
                    "an email subscription is not a webhook".into(),
                ));
            }
        };
        if channel == Channel::Slack {
            self.slack.wait(url).await;
        }
        let headers: Vec<(&str, String)> = headers.into_iter().collect();
        let response = ssrf::post(&vetted, &headers, body, &self.limits)
            .await
            .map_err(|e| WebhookError::Transient {
                message: e.to_string(),
                retry_after: None,
            })?;
        judge(channel, &response)
    }
}

/// What the receiver's answer means for the delivery.
pub fn judge(channel: Channel, response: &PostResponse) -> Result<(), WebhookError> {
    let status = response.status;
    match status {
        200..=299 => Ok(()),
        410 => Err(WebhookError::Gone(GONE.into())),
        429 => Err(WebhookError::Transient {
            message: "HTTP 429: rate limited".into(),
            retry_after: response.retry_after.or_else(|| {
                (channel == Channel::Discord)
                    .then(|| discord::retry_after(&response.body))
                    .flatten()
            }),
        }),
        300..=399 => Err(WebhookError::Permanent(format!(
            "HTTP {status}: redirects are not followed"
        ))),
        _ if channel == Channel::Slack && slack::permanent_error(&response.body).is_some() => {
            Err(WebhookError::Permanent(format!(
                "HTTP {status}: Slack says {}",
                slack::permanent_error(&response.body).unwrap_or_default()
            )))
        }
        500..=599 => Err(WebhookError::Transient {
            message: format!("HTTP {status}{}", snippet(&response.body)),
            retry_after: response.retry_after,
        }),
        _ => Err(WebhookError::Permanent(format!(
            "HTTP {status}{}",
            snippet(&response.body)
        ))),
    }
}

/// A short, harmless excerpt of a receiver's answer for the delivery's last error.
fn snippet(body: &str) -> String {
    let text: String = body
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.' | ','))
        .take(80)
        .collect();
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: &str) -> PostResponse {
        PostResponse {
            status,
            retry_after: None,
            body: body.into(),
        }
    }

    #[test]
    fn answers_map_to_what_the_relay_does() {
        assert_eq!(judge(Channel::Webhook, &answer(204, "")), Ok(()));
        assert_eq!(
            judge(Channel::Webhook, &answer(410, "")),
            Err(WebhookError::Gone(GONE.into()))
        );
        assert!(matches!(
            judge(Channel::Webhook, &answer(302, "")),
            Err(WebhookError::Permanent(m)) if m.contains("redirects are not followed")
        ));
        assert!(matches!(
            judge(Channel::Webhook, &answer(404, "")),
            Err(WebhookError::Permanent(_))
        ));
        assert!(matches!(
            judge(Channel::Webhook, &answer(503, "busy")),
            Err(WebhookError::Transient { .. })
        ));
        assert!(matches!(
            judge(Channel::Slack, &answer(404, "channel_is_archived")),
            Err(WebhookError::Permanent(m)) if m.contains("channel_is_archived")
        ));
        assert!(matches!(
            judge(Channel::Slack, &answer(500, "rollup_error")),
            Err(WebhookError::Transient { .. })
        ));
        let limited = PostResponse {
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
            body: String::new(),
        };
        assert_eq!(
            judge(Channel::Slack, &limited),
            Err(WebhookError::Transient {
                message: "HTTP 429: rate limited".into(),
                retry_after: Some(Duration::from_secs(7)),
            })
        );
        assert!(matches!(
            judge(Channel::Discord, &answer(429, r#"{"retry_after": 2}"#)),
            Err(WebhookError::Transient { retry_after: Some(d), .. }) if d == Duration::from_secs(2)
        ));
    }

    #[test]
    fn receiver_text_in_errors_is_short_and_harmless() {
        let err = judge(Channel::Webhook, &answer(400, "<script>\r\nx</script>")).unwrap_err();
        assert_eq!(err.to_string(), "HTTP 400: scriptxscript");
    }

    #[test]
    fn hostile_text_loses_bidi_overrides_and_mass_mentions() {
        let text = AlertText::from_payload(&json!({
            "repo": "api",
            "title": "evil\u{202e}txt.exe @everyone @Here",
            "message": "a\r\nBcc: x@evil\u{2066}\n@channel",
        }));
        assert_eq!(text.title, "eviltxt.exe @\u{200b}everyone @\u{200b}Here");
        assert_eq!(text.message, "a\nBcc: x@evil\n@\u{200b}channel");
        assert_eq!(cap_chars("abcdef", 4), "abc…");
        assert_eq!(cap_chars("abc", 4), "abc");
    }
}
