//! How polite and how patient the HTTP client is. Defaults suit public APIs; every knob can be
//! set from the environment so tests (and operators behind slow links) can change it.

use std::time::Duration;

/// Limits and retry policy for [`super::HttpClient`].
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Sent on every request, naming ecowatch and where to find it.
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// For the whole exchange, body included: a server that trickles bytes cannot hold us.
    pub timeout: Duration,
    /// A body past this many bytes is abandoned with [`super::HttpError::TooLarge`].
    pub max_body_bytes: u64,
    /// Tries per request, the first one included (at least 1).
    pub max_attempts: u32,
    /// The first backoff; each retry doubles it, up to [`HttpConfig::backoff_max`], with jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A `Retry-After` longer than this is not waited for: the request fails as transient.
    pub max_retry_after: Duration,
    /// Requests in flight to one host (scheme, host and port) at once.
    pub max_in_flight_per_host: usize,
}

/// The `User-Agent` every request carries.
pub fn user_agent() -> String {
    format!(
        "ecowatch/{} (+https://github.com/ecowatch)",
        env!("CARGO_PKG_VERSION")
    )
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            user_agent: user_agent(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_body_bytes: 32 * 1024 * 1024,
            max_attempts: 4,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            max_in_flight_per_host: 8,
        }
    }
}

pub const ENV_CONNECT_TIMEOUT_MS: &str = "ECOWATCH_HTTP_CONNECT_TIMEOUT_MS";
pub const ENV_TIMEOUT_MS: &str = "ECOWATCH_HTTP_TIMEOUT_MS";
pub const ENV_MAX_BODY_BYTES: &str = "ECOWATCH_HTTP_MAX_BODY_BYTES";
pub const ENV_MAX_ATTEMPTS: &str = "ECOWATCH_HTTP_MAX_ATTEMPTS";
pub const ENV_BACKOFF_MS: &str = "ECOWATCH_HTTP_BACKOFF_MS";
pub const ENV_MAX_RETRY_AFTER_SECS: &str = "ECOWATCH_HTTP_MAX_RETRY_AFTER_SECS";
pub const ENV_PER_HOST: &str = "ECOWATCH_HTTP_PER_HOST";

/// A setting in the environment that is not a positive whole number.
#[derive(Debug, thiserror::Error)]
#[error("{name} must be a positive whole number, not `{value}`")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
}

impl HttpConfig {
    /// The defaults with any `ECOWATCH_HTTP_*` overrides from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::resolve(|key| std::env::var(key).ok())
    }

    /// [`HttpConfig::from_env`] with the environment passed in, so it can be tested.
    pub fn resolve(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name: &'static str| -> Result<Option<u64>, ConfigError> {
            match env(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(None),
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(Some(n)),
                    _ => Err(ConfigError { name, value }),
                },
            }
        };
        let mut config = HttpConfig::default();
        if let Some(ms) = number(ENV_CONNECT_TIMEOUT_MS)? {
            config.connect_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = number(ENV_TIMEOUT_MS)? {
            config.timeout = Duration::from_millis(ms);
        }
        if let Some(bytes) = number(ENV_MAX_BODY_BYTES)? {
            config.max_body_bytes = bytes;
        }
        if let Some(n) = number(ENV_MAX_ATTEMPTS)? {
            config.max_attempts = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(ms) = number(ENV_BACKOFF_MS)? {
            config.backoff_base = Duration::from_millis(ms);
        }
        if let Some(secs) = number(ENV_MAX_RETRY_AFTER_SECS)? {
            config.max_retry_after = Duration::from_secs(secs);
        }
        if let Some(n) = number(ENV_PER_HOST)? {
            config.max_in_flight_per_host = usize::try_from(n).unwrap_or(usize::MAX);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_environment() {
        let config = HttpConfig::resolve(|_| None).unwrap();
        assert_eq!(config, HttpConfig::default());
        assert!(config.user_agent.starts_with("ecowatch/"));
        assert!(
            config
                .user_agent
                .ends_with("(+https://github.com/ecowatch)")
        );
    }

    #[test]
    fn environment_overrides_each_knob() {
        let config = HttpConfig::resolve(|key| {
            Some(
                match key {
                    ENV_TIMEOUT_MS => "250",
                    ENV_CONNECT_TIMEOUT_MS => "100",
                    ENV_MAX_BODY_BYTES => "1024",
                    ENV_MAX_ATTEMPTS => "2",
                    ENV_BACKOFF_MS => "5",
                    ENV_MAX_RETRY_AFTER_SECS => "3",
                    ENV_PER_HOST => "1",
                    _ => return None,
                }
                .to_string(),
            )
        })
        .unwrap();
        assert_eq!(config.timeout, Duration::from_millis(250));
        assert_eq!(config.connect_timeout, Duration::from_millis(100));
        assert_eq!(config.max_body_bytes, 1024);
        assert_eq!(config.max_attempts, 2);
        assert_eq!(config.backoff_base, Duration::from_millis(5));
        assert_eq!(config.max_retry_after, Duration::from_secs(3));
        assert_eq!(config.max_in_flight_per_host, 1);
    }

    #[test]
    fn zero_negative_and_words_are_refused() {
        for bad in ["0", "-1", "ten", "1.5"] {
            let err = HttpConfig::resolve(|key| (key == ENV_PER_HOST).then(|| bad.to_string()))
                .unwrap_err();
            assert_eq!(err.name, ENV_PER_HOST);
            assert!(err.to_string().contains(bad));
        }
    }
}
