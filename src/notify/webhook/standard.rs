//! Generic JSON webhooks signed per the Standard Webhooks spec (v1): headers `webhook-id` (the
//! delivery key, so it stays the same across retries and receivers can deduplicate),
//! `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `{id}.{timestamp}.{body}`, keyed with the bytes of a `whsec_`-prefixed base64 secret.
//! The body is serialised once and those exact bytes are signed and sent.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
/// 32 random bytes: within the spec's 24 to 64.
const SECRET_BYTES: usize = 32;

/// A signing secret. Its `Debug` hides it; it is printed once, when the subscription is made.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(<hidden>)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("the system's random number generator failed")]
    Random,
    #[error("the stored signing secret is not whsec_ followed by base64")]
    Malformed,
}

impl SigningSecret {
    /// A fresh secret from the operating system's CSPRNG (through rustls's ring provider).
    pub fn generate() -> Result<SigningSecret, SecretError> {
        let mut bytes = [0u8; SECRET_BYTES];
        rustls::crypto::ring::default_provider()
            .secure_random
            .fill(&mut bytes)
            .map_err(|_| SecretError::Random)?;
        Ok(SigningSecret(format!("{PREFIX}{}", STANDARD.encode(bytes))))
    }

    /// A stored secret, checked.
    pub fn parse(text: &str) -> Result<SigningSecret, SecretError> {
        let secret = SigningSecret(text.trim().to_string());
        secret.key()?;
        Ok(secret)
    }

    /// The text to store and to show the user once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn key(&self) -> Result<Vec<u8>, SecretError> {
        let encoded = self.0.strip_prefix(PREFIX).ok_or(SecretError::Malformed)?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::Malformed)?;
        if key.is_empty() {
            return Err(SecretError::Malformed);
        }
        Ok(key)
    }

    /// `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SecretError> {
        let key = self.key()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| SecretError::Malformed)?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        Ok(format!(
            "v1,{}",
            STANDARD.encode(mac.finalize().into_bytes())
        ))
    }
}

/// The body: an event envelope around the delivery's payload, as the spec suggests
/// (`type`, `timestamp`, `data`). Crawled text stays data: JSON-encoded, never interpreted.
pub fn body(payload: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let kind = payload
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("alert");
    let envelope = json!({
        "type": format!("ecowatch.{}", kind.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect::<String>()),
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": payload,
    });
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// The three signature headers for `body`, plus its content type.
pub fn headers(
    secret: &SigningSecret,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<Vec<(&'static str, String)>, SecretError> {
    Ok(vec![
        ("content-type", "application/json".to_string()),
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", secret.sign(id, timestamp, body)?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specs_reference_vector() {
        // From the Standard Webhooks reference libraries' tests.
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret
                .sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
                .unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn generated_secrets_are_prefixed_random_and_hidden_from_debug() {
        let a = SigningSecret::generate().unwrap();
        let b = SigningSecret::generate().unwrap();
        assert_ne!(a, b);
        assert!(a.expose().starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&a.expose()[6..]).unwrap().len(), 32);
        assert!(!format!("{a:?}").contains(&a.expose()[6..]));
        assert_eq!(SigningSecret::parse(a.expose()).unwrap(), a);
    }

    #[test]
    fn malformed_secrets_are_refused() {
        for bad in ["", "whsec_", "secret", "whsec_!!!"] {
            assert_eq!(
                SigningSecret::parse(bad),
                Err(SecretError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_body_wraps_the_payload_without_changing_it() {
        let payload = json!({"kind": "finding", "title": "<script>\u{202e}"});
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let value: Value = serde_json::from_slice(&body(&payload, now)).unwrap();
        assert_eq!(value["type"], "ecowatch.finding");
        assert_eq!(value["data"], payload);
        assert_eq!(value["timestamp"], "2023-11-14T22:13:20Z");
    }
}
