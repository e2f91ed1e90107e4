//! The SMTP transport, configured from the environment (for now):
//! `ECOWATCH_SMTP_URL` (`smtp://host:port`), `ECOWATCH_SMTP_TLS` (`starttls` by default, `tls`,
//! or `none`, which only an explicit setting gives), `ECOWATCH_SMTP_FROM`, and credentials from
//! `ECOWATCH_SMTP_USER` / `ECOWATCH_SMTP_PASSWORD`, which are never printed.

use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

pub const ENV_URL: &str = "ECOWATCH_SMTP_URL";
pub const ENV_TLS: &str = "ECOWATCH_SMTP_TLS";
pub const ENV_FROM: &str = "ECOWATCH_SMTP_FROM";
pub const ENV_USER: &str = "ECOWATCH_SMTP_USER";
pub const ENV_PASSWORD: &str = "ECOWATCH_SMTP_PASSWORD";

/// How long one SMTP conversation may take before it counts as a transient failure.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// Plain text; only when asked for (a loopback relay or a test sink).
    None,
    /// Plain connection upgraded with STARTTLS, which is required.
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{ENV_URL} is not set (e.g. smtp://mail.example.com:587)")]
    MissingUrl,
    #[error("{ENV_URL} must look like smtp://HOST[:PORT] (without credentials or a path)")]
    BadUrl,
    #[error("{ENV_TLS} must be none, starttls or tls")]
    BadTls,
    #[error("{ENV_FROM} is not set (the sender address)")]
    MissingFrom,
    #[error("{ENV_FROM} is not a valid address")]
    BadFrom,
    #[error("{ENV_USER} and {ENV_PASSWORD} go together")]
    HalfCredentials,
}

/// Where and how to send. Its `Debug` leaves the password out.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub from: String,
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("from", &self.from)
            .field("credentials", &self.credentials.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl SmtpConfig {
    pub fn from_env() -> Result<SmtpConfig, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        SmtpConfig::parse(
            var(ENV_URL).as_deref(),
            var(ENV_TLS).as_deref(),
            var(ENV_FROM).as_deref(),
            var(ENV_USER),
            var(ENV_PASSWORD),
        )
    }

    pub fn parse(
        url: Option<&str>,
        tls: Option<&str>,
        from: Option<&str>,
        user: Option<String>,
        password: Option<String>,
    ) -> Result<SmtpConfig, ConfigError> {
        let url = url.ok_or(ConfigError::MissingUrl)?;
        let tls = match tls {
            None | Some("starttls") => Tls::StartTls,
            Some("tls") => Tls::Implicit,
            Some("none") => Tls::None,
            Some(_) => return Err(ConfigError::BadTls),
        };
        let rest = url.strip_prefix("smtp://").ok_or(ConfigError::BadUrl)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['@', '/', '?', '#']) {
            return Err(ConfigError::BadUrl);
        }
        let default_port = if tls == Tls::Implicit { 465 } else { 587 };
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| ConfigError::BadUrl)?),
            None => (rest, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(ConfigError::BadUrl);
        }
        let from = from.ok_or(ConfigError::MissingFrom)?;
        super::subscription::validate_email(from).map_err(|_| ConfigError::BadFrom)?;
        let credentials = match (user, password) {
            (Some(u), Some(p)) => Some((u, p)),
            (None, None) => None,
            _ => return Err(ConfigError::HalfCredentials),
        };
        Ok(SmtpConfig {
            host: host.to_string(),
            port,
            tls,
            from: from.to_string(),
            credentials,
        })
    }
}

/// Why a send failed, as RFC 5321 classes it: 4xx (and no answer at all) is worth retrying,
/// 5xx is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    Transient(String),
    Permanent(String),
}

/// A connection pool to one SMTP server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Mailer {
    pub fn new(config: &SmtpConfig) -> Result<Mailer, SendError> {
        type Transport = AsyncSmtpTransport<Tokio1Executor>;
        let builder = match config.tls {
            Tls::None => Transport::builder_dangerous(config.host.as_str()),
            Tls::StartTls => Transport::starttls_relay(&config.host)
                .map_err(|e| SendError::Permanent(format!("TLS setup: {e}")))?,
            Tls::Implicit => Transport::relay(&config.host)
                .map_err(|e| SendError::Permanent(format!("TLS setup: {e}")))?,
        };
        let mut builder = builder.port(config.port).timeout(Some(TIMEOUT));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Mailer {
            transport: builder.build(),
        })
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(err) if err.is_permanent() => Err(SendError::Permanent(describe(&err))),
            Err(err) => Err(SendError::Transient(describe(&err))),
        }
    }
}

/// The error and its causes on one line (lettre's messages carry no credentials).
fn describe(err: &lettre::transport::smtp::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    super::email::header_safe(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str, tls: Option<&str>) -> Result<SmtpConfig, ConfigError> {
        SmtpConfig::parse(Some(url), tls, Some("ecowatch@example.com"), None, None)
    }

    #[test]
    fn tls_defaults_to_starttls_and_none_must_be_explicit() {
        assert_eq!(
            parse("smtp://mail.example.com", None).map(|c| c.tls),
            Ok(Tls::StartTls)
        );
        assert_eq!(
            parse("smtp://127.0.0.1:2525", Some("none")).map(|c| c.tls),
            Ok(Tls::None)
        );
        assert_eq!(parse("smtp://h", Some("tls")).map(|c| c.port), Ok(465));
        assert_eq!(parse("smtp://h", None).map(|c| c.port), Ok(587));
        assert_eq!(parse("smtp://h", Some("plain")), Err(ConfigError::BadTls));
    }

    #[test]
    fn malformed_urls_and_half_credentials_are_refused() {
        assert_eq!(parse("http://h:25", None), Err(ConfigError::BadUrl));
        assert_eq!(parse("smtp://user:pw@h:25", None), Err(ConfigError::BadUrl));
        assert_eq!(parse("smtp://h:notaport", None), Err(ConfigError::BadUrl));
        assert_eq!(parse("smtp://", None), Err(ConfigError::BadUrl));
        assert_eq!(
            SmtpConfig::parse(Some("smtp://h"), None, None, None, None),
            Err(ConfigError::MissingFrom)
        );
        assert_eq!(
            SmtpConfig::parse(Some("smtp://h"), None, Some("a@b"), Some("u".into()), None),
            Err(ConfigError::HalfCredentials)
        );
    }

    #[test]
    fn debug_output_hides_the_password() {
        let config = SmtpConfig::parse(
            Some("smtp://h:25"),
            None,
            Some("a@b"),
            Some("user".into()),
            Some("hunter2".into()),
        )
        .expect("config");
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
