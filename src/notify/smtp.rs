//! The SMTP transport, built from [`EmailSettings`] (`[notify.email]` in ecowatch.toml and the
//! `ECOWATCH_SMTP_*` variables, see [`super::email_config`]). STARTTLS by default; plaintext
//! only when the settings say `none`. Credentials are never printed.

use super::email::ListUnsubscribe;
use super::email_config::EmailSettings;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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
    /// Validated values (see [`super::email_config`], which checks them).
    pub(super) fn new(
        host: String,
        port: u16,
        tls: Tls,
        from: String,
        credentials: Option<(String, String)>,
    ) -> SmtpConfig {
        SmtpConfig {
            host,
            port,
            tls,
            from,
            credentials,
        }
    }

    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }
}

/// Why a send failed, as RFC 5321 classes it: 4xx (and no answer at all) is worth retrying,
/// 5xx is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    Transient(String),
    Permanent(String),
}

/// Set once the "no List-Unsubscribe" warning has been printed: once per process is enough.
static WARNED_NO_UNSUBSCRIBE: AtomicBool = AtomicBool::new(false);

/// A connection pool to one SMTP server, and what every message it sends carries.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    unsubscribe: Option<ListUnsubscribe>,
}

impl Mailer {
    /// Without unsubscribe keys or a public URL, mail goes out without `List-Unsubscribe`
    /// (Gmail and Yahoo want it on subscribed mail): said once on stderr.
    pub fn new(settings: &EmailSettings) -> Result<Mailer, SendError> {
        let config = &settings.smtp;
        if settings.unsubscribe.is_none() && !WARNED_NO_UNSUBSCRIBE.swap(true, Ordering::Relaxed) {
            eprintln!(
                "warning: sending without List-Unsubscribe: set ECOWATCH_UNSUBSCRIBE_KEYS and \
                 [serve] public-url (or ECOWATCH_PUBLIC_URL) for one-click unsubscribe links"
            );
        }
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
            unsubscribe: settings.unsubscribe.clone(),
        })
    }

    /// How recipients unsubscribe, when configured.
    pub fn unsubscribe(&self) -> Option<&ListUnsubscribe> {
        self.unsubscribe.as_ref()
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
