//! Email settings: `[notify.email]` (and `[serve] public-url`) in ecowatch.toml, with the
//! `ECOWATCH_SMTP_*` / `ECOWATCH_PUBLIC_URL` environment variables winning over the file.
//!
//! ```toml
//! [notify.email]
//! smtp-url = "smtp://mail.example.com:587"
//! tls = "starttls"                 # starttls (default) | tls | none (plaintext: explicit only)
//! from = "ecowatch@example.com"
//! username-env = "SMTP_USER"       # credentials only through variables the file names
//! password-env = "SMTP_PASSWORD"
//! list-unsubscribe-mailto = "unsubscribe@example.com"
//!
//! [serve]
//! public-url = "https://ecowatch.example.com"   # where `ecowatch serve` answers /unsubscribe
//! ```
//!
//! Every error names where the bad value came from (the file and key, or the variable), and
//! never the value of a credential.

use super::email::ListUnsubscribe;
use super::smtp::{SmtpConfig, Tls};
use super::subscription::validate_email;
use super::unsubscribe::{ENV_UNSUBSCRIBE_KEYS, UnsubscribeKeys};
use crate::config::Config;
use std::path::Path;

pub const ENV_URL: &str = "ECOWATCH_SMTP_URL";
pub const ENV_TLS: &str = "ECOWATCH_SMTP_TLS";
pub const ENV_FROM: &str = "ECOWATCH_SMTP_FROM";
pub const ENV_USER: &str = "ECOWATCH_SMTP_USER";
pub const ENV_PASSWORD: &str = "ECOWATCH_SMTP_PASSWORD";
pub const ENV_PUBLIC_URL: &str = "ECOWATCH_PUBLIC_URL";

/// The keys `[notify.email]` knows.
const EMAIL_KEYS: &[&str] = &[
    "smtp-url",
    "tls",
    "from",
    "username-env",
    "password-env",
    "list-unsubscribe-mailto",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmailConfigError {
    #[error(
        "no SMTP server is configured: set `smtp-url` under [notify.email] in ecowatch.toml, or {ENV_URL} (e.g. smtp://mail.example.com:587)"
    )]
    MissingUrl,
    #[error(
        "no sender address is configured: set `from` under [notify.email] in ecowatch.toml, or {ENV_FROM}"
    )]
    MissingFrom,
    /// `origin` is the variable, or the file with table and key.
    #[error("{origin}: {problem}")]
    Invalid { origin: String, problem: String },
}

/// Where a setting came from, for error messages.
#[derive(Debug, Clone)]
struct Setting {
    value: String,
    origin: String,
}

/// Everything sending email needs.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub smtp: SmtpConfig,
    /// `None` when the unsubscribe keys or the public URL are missing: mail then goes out
    /// without `List-Unsubscribe` (the mailer warns once).
    pub unsubscribe: Option<ListUnsubscribe>,
}

/// How to look up an environment variable (tests pass their own).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, with empty values read as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl EmailSettings {
    /// Settings from `config` (when a file was loaded) and the environment.
    pub fn resolve(config: &Config, env: Env<'_>) -> Result<EmailSettings, EmailConfigError> {
        let file = FileSettings::read(config)?;
        let smtp = smtp_config(&file, env)?;
        let unsubscribe = unsubscribe_settings(&file, env)?;
        Ok(EmailSettings { smtp, unsubscribe })
    }

    /// `--config FILE`, else `./ecowatch.toml` when present, plus the process environment.
    pub fn load(explicit: Option<&Path>) -> Result<EmailSettings, LoadError> {
        let config = Config::discover(Path::new("."), explicit)?;
        Ok(EmailSettings::resolve(&config, &process_env)?)
    }
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    File(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Email(#[from] EmailConfigError),
}

/// Only the unsubscribe part (what `digest --preview` needs to show the footer link); no SMTP
/// server has to be configured for it.
pub fn resolve_unsubscribe(
    config: &Config,
    env: Env<'_>,
) -> Result<Option<ListUnsubscribe>, EmailConfigError> {
    unsubscribe_settings(&FileSettings::read(config)?, env)
}

/// The strings `[notify.email]` and `[serve] public-url` hold, each with its origin.
#[derive(Debug, Default)]
struct FileSettings {
    smtp_url: Option<Setting>,
    tls: Option<Setting>,
    from: Option<Setting>,
    username_env: Option<Setting>,
    password_env: Option<Setting>,
    mailto: Option<Setting>,
    public_url: Option<Setting>,
}

impl FileSettings {
    fn read(config: &Config) -> Result<FileSettings, EmailConfigError> {
        let file = config
            .path
            .as_deref()
            .map_or_else(|| "ecowatch.toml".to_string(), |p| p.display().to_string());
        let mut out = FileSettings::default();
        if let Some(notify) = config.reserved.get("notify") {
            let table = notify.as_table().ok_or_else(|| EmailConfigError::Invalid {
                origin: format!("`{file}` [notify]"),
                problem: "must be a table".into(),
            })?;
            if let Some(email) = table.get("email") {
                let email = email.as_table().ok_or_else(|| EmailConfigError::Invalid {
                    origin: format!("`{file}` [notify.email]"),
                    problem: "must be a table".into(),
                })?;
                for (key, value) in email {
                    let origin = format!("`{file}` [notify.email] {key}");
                    if !EMAIL_KEYS.contains(&key.as_str()) {
                        return Err(EmailConfigError::Invalid {
                            origin,
                            problem: format!("unknown key (known: {})", EMAIL_KEYS.join(", ")),
                        });
                    }
                    let value = value.as_str().ok_or_else(|| EmailConfigError::Invalid {
                        origin: origin.clone(),
                        problem: "must be a string".into(),
                    })?;
                    let setting = Some(Setting {
                        value: value.to_string(),
                        origin,
                    });
                    match key.as_str() {
                        "smtp-url" => out.smtp_url = setting,
                        "tls" => out.tls = setting,
                        "from" => out.from = setting,
                        "username-env" => out.username_env = setting,
                        "password-env" => out.password_env = setting,
                        _ => out.mailto = setting,
                    }
                }
            }
        }
        if let Some(url) = config
            .reserved
            .get("serve")
            .and_then(|serve| serve.get("public-url"))
        {
            let origin = format!("`{file}` [serve] public-url");
            let value = url.as_str().ok_or_else(|| EmailConfigError::Invalid {
                origin: origin.clone(),
                problem: "must be a string".into(),
            })?;
            out.public_url = Some(Setting {
                value: value.to_string(),
                origin,
            });
        }
        Ok(out)
    }
}

/// The variable when set, else the file's setting.
fn pick(env: Env<'_>, var: &str, file: &Option<Setting>) -> Option<Setting> {
    env(var)
        .map(|value| Setting {
            value,
            origin: var.to_string(),
        })
        .or_else(|| file.clone())
}

fn invalid(setting: &Setting, problem: &str) -> EmailConfigError {
    EmailConfigError::Invalid {
        origin: setting.origin.clone(),
        problem: problem.to_string(),
    }
}

fn smtp_config(file: &FileSettings, env: Env<'_>) -> Result<SmtpConfig, EmailConfigError> {
    let url = pick(env, ENV_URL, &file.smtp_url).ok_or(EmailConfigError::MissingUrl)?;
    let tls = match pick(env, ENV_TLS, &file.tls) {
        None => Tls::StartTls,
        Some(s) => match s.value.as_str() {
            "starttls" => Tls::StartTls,
            "tls" => Tls::Implicit,
            "none" => Tls::None,
            _ => return Err(invalid(&s, "must be starttls, tls or none")),
        },
    };
    let (host, port) = parse_smtp_url(&url.value, tls).ok_or_else(|| {
        invalid(
            &url,
            "must look like smtp://HOST[:PORT] (no credentials, no path)",
        )
    })?;
    let from = pick(env, ENV_FROM, &file.from).ok_or(EmailConfigError::MissingFrom)?;
    validate_email(&from.value).map_err(|e| invalid(&from, &e.to_string()))?;
    let credentials = credentials(file, env)?;
    Ok(SmtpConfig::new(host, port, tls, from.value, credentials))
}

/// `smtp://HOST[:PORT]`; the port defaults by TLS mode (465 for implicit TLS, else 587).
fn parse_smtp_url(url: &str, tls: Tls) -> Option<(String, u16)> {
    let rest = url.strip_prefix("smtp://")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['@', '/', '?', '#']) || rest.chars().any(char::is_control)
    {
        return None;
    }
    let default_port = if tls == Tls::Implicit { 465 } else { 587 };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') => (host, port.parse().ok()?),
        _ => (rest, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// `ECOWATCH_SMTP_USER`/`_PASSWORD`, else the variables `username-env`/`password-env` name.
fn credentials(
    file: &FileSettings,
    env: Env<'_>,
) -> Result<Option<(String, String)>, EmailConfigError> {
    let named = |setting: &Option<Setting>| -> Result<Option<String>, EmailConfigError> {
        let Some(s) = setting else { return Ok(None) };
        if s.value.is_empty()
            || !s
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(
                s,
                "must name an environment variable (A-Z, 0-9, _)",
            ));
        }
        env(&s.value).map(Some).ok_or_else(|| {
            invalid(
                s,
                &format!("the environment variable `{}` is not set", s.value),
            )
        })
    };
    let user = match env(ENV_USER) {
        Some(u) => Some(u),
        None => named(&file.username_env)?,
    };
    let password = match env(ENV_PASSWORD) {
        Some(p) => Some(p),
        None => named(&file.password_env)?,
    };
    match (user, password) {
        (Some(u), Some(p)) => Ok(Some((u, p))),
        (None, None) => Ok(None),
        _ => Err(EmailConfigError::Invalid {
            origin: format!("{ENV_USER}/{ENV_PASSWORD} (or username-env/password-env)"),
            problem: "a user name and a password go together".into(),
        }),
    }
}

fn unsubscribe_settings(
    file: &FileSettings,
    env: Env<'_>,
) -> Result<Option<ListUnsubscribe>, EmailConfigError> {
    let mailto = match &file.mailto {
        Some(s) => {
            validate_email(&s.value).map_err(|e| invalid(s, &e.to_string()))?;
            Some(s.value.clone())
        }
        None => None,
    };
    let public_url = match pick(env, ENV_PUBLIC_URL, &file.public_url) {
        Some(s) => Some(validate_public_url(&s.value).ok_or_else(|| {
            invalid(
                &s,
                "must be an https:// URL without query or fragment (http:// only for localhost)",
            )
        })?),
        None => None,
    };
    let keys = match env(ENV_UNSUBSCRIBE_KEYS) {
        Some(list) => {
            Some(
                UnsubscribeKeys::parse(&list).map_err(|e| EmailConfigError::Invalid {
                    origin: ENV_UNSUBSCRIBE_KEYS.to_string(),
                    problem: e.to_string(),
                })?,
            )
        }
        None => None,
    };
    Ok(match (keys, public_url) {
        (Some(keys), Some(public_url)) => Some(ListUnsubscribe {
            keys,
            public_url,
            mailto,
        }),
        _ => None,
    })
}

/// RFC 8058 wants an HTTPS URI; plain http is allowed for a loopback host (development).
/// Returns the URL without a trailing slash.
fn validate_public_url(url: &str) -> Option<String> {
    let url = url.trim_end_matches('/');
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.find(']') {
        Some(end) if authority.starts_with('[') => &authority[..=end],
        _ => authority.split(':').next().unwrap_or(""),
    };
    let ok_scheme = match scheme {
        "https" => true,
        "http" => matches!(host, "localhost" | "127.0.0.1" | "[::1]"),
        _ => false,
    };
    let clean = !rest.is_empty()
        && !host.is_empty()
        && !rest.contains(['?', '#', '@', ' ', '<', '>', '"', ','])
        && !rest.chars().any(char::is_control);
    (ok_scheme && clean).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEYS: &str = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("/srv/ecowatch.toml")).expect("config")
    }

    fn resolve(text: &str, vars: &[(&str, &str)]) -> Result<EmailSettings, EmailConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EmailSettings::resolve(&config(text), &move |name| vars.get(name).cloned())
    }

    const FULL: &str = r#"
[notify.email]
smtp-url = "smtp://mail.example.com:2525"
tls = "tls"
from = "ecowatch@example.com"
username-env = "MY_SMTP_USER"
password-env = "MY_SMTP_PASSWORD"
list-unsubscribe-mailto = "unsubscribe@example.com"

[serve]
public-url = "https://ecowatch.example.com/"
"#;

    #[test]
    fn the_file_configures_smtp_and_credentials_come_from_the_variables_it_names() {
        let settings = resolve(
            FULL,
            &[
                ("MY_SMTP_USER", "bot"),
                ("MY_SMTP_PASSWORD", "hunter2"),
                (ENV_UNSUBSCRIBE_KEYS, KEYS),
            ],
        )
        .expect("settings");
        assert_eq!(settings.smtp.host, "mail.example.com");
        assert_eq!(settings.smtp.port, 2525);
        assert_eq!(settings.smtp.tls, Tls::Implicit);
        assert_eq!(settings.smtp.from, "ecowatch@example.com");
        assert!(settings.smtp.has_credentials());
        assert!(!format!("{settings:?}").contains("hunter2"));
        let unsubscribe = settings.unsubscribe.expect("unsubscribe");
        assert_eq!(unsubscribe.public_url, "https://ecowatch.example.com");
        assert_eq!(
            unsubscribe.mailto.as_deref(),
            Some("unsubscribe@example.com")
        );
    }

    #[test]
    fn environment_variables_win_over_the_file() {
        let settings = resolve(
            FULL,
            &[
                (ENV_URL, "smtp://127.0.0.1:25"),
                (ENV_TLS, "none"),
                (ENV_FROM, "other@example.com"),
                (ENV_USER, "u"),
                (ENV_PASSWORD, "p"),
            ],
        )
        .expect("settings");
        assert_eq!(
            (settings.smtp.host.as_str(), settings.smtp.port),
            ("127.0.0.1", 25)
        );
        assert_eq!(settings.smtp.tls, Tls::None);
        assert_eq!(settings.smtp.from, "other@example.com");
        // No keys: no List-Unsubscribe.
        assert!(settings.unsubscribe.is_none());
    }

    #[test]
    fn tls_defaults_to_starttls_and_ports_follow_the_mode() {
        let env = |url: &str, tls: Option<&str>| {
            let mut vars = vec![(ENV_URL, url), (ENV_FROM, "a@b.c")];
            if let Some(t) = tls {
                vars.push((ENV_TLS, t));
            }
            resolve("", &vars).map(|s| (s.smtp.tls, s.smtp.port))
        };
        assert_eq!(env("smtp://h", None), Ok((Tls::StartTls, 587)));
        assert_eq!(env("smtp://h", Some("tls")), Ok((Tls::Implicit, 465)));
        assert_eq!(env("smtp://h:25", Some("none")), Ok((Tls::None, 25)));
        let err = env("smtp://h", Some("plain")).unwrap_err().to_string();
        assert!(err.starts_with("ECOWATCH_SMTP_TLS:"), "{err}");
    }

    #[test]
    fn errors_name_the_file_and_key() {
        let err = |text: &str, vars: &[(&str, &str)]| resolve(text, vars).unwrap_err().to_string();
        let e = err(
            "[notify.email]\nsmtp-url = \"http://h\"\nfrom = \"a@b.c\"\n",
            &[],
        );
        assert!(
            e.starts_with("`/srv/ecowatch.toml` [notify.email] smtp-url:"),
            "{e}"
        );
        let e = err(
            "[notify.email]\nsmtp-url = \"smtp://h\"\nfrom = \"a@b.c\"\ntls = \"yes\"\n",
            &[],
        );
        assert!(e.contains("[notify.email] tls: must be"), "{e}");
        let e = err(
            "[notify.email]\nsmtp-url = \"smtp://h\"\nfrom = \"a@b.c\"\npassword = \"x\"\n",
            &[],
        );
        assert!(e.contains("[notify.email] password: unknown key"), "{e}");
        let e = err(
            "[notify.email]\nsmtp-url = \"smtp://h\"\nfrom = \"a@b.c\"\nusername-env = \"U\"\npassword-env = \"P\"\n",
            &[("U", "user")],
        );
        assert!(
            e.contains("[notify.email] password-env: the environment variable `P` is not set"),
            "{e}"
        );
        let e = err("[notify.email]\nsmtp-url = 5\n", &[]);
        assert!(e.contains("smtp-url: must be a string"), "{e}");
        let e = err(
            "[notify.email]\nsmtp-url = \"smtp://h\"\nfrom = \"a@b.c\"\n[serve]\npublic-url = \"http://example.com\"\n",
            &[],
        );
        assert!(e.contains("[serve] public-url: must be an https://"), "{e}");
        assert_eq!(
            resolve("", &[(ENV_FROM, "a@b.c")]).unwrap_err(),
            EmailConfigError::MissingUrl
        );
        assert_eq!(
            resolve("", &[(ENV_URL, "smtp://h")]).unwrap_err(),
            EmailConfigError::MissingFrom
        );
    }

    #[test]
    fn malformed_smtp_urls_and_half_credentials_are_refused() {
        for url in [
            "http://h:25",
            "smtp://user:pw@h:25",
            "smtp://h:notaport",
            "smtp://",
            "smtp://h/path",
        ] {
            let e = resolve("", &[(ENV_URL, url), (ENV_FROM, "a@b.c")]);
            assert!(e.is_err(), "{url}");
        }
        let e = resolve(
            "",
            &[(ENV_URL, "smtp://h"), (ENV_FROM, "a@b.c"), (ENV_USER, "u")],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("go together"), "{e}");
        let e = resolve("", &[(ENV_URL, "smtp://h"), (ENV_FROM, "not an address")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("ECOWATCH_SMTP_FROM:"), "{e}");
    }

    #[test]
    fn public_urls_must_be_https_except_on_loopback() {
        assert_eq!(
            validate_public_url("https://e.example/x/"),
            Some("https://e.example/x".into())
        );
        assert!(validate_public_url("http://127.0.0.1:8080").is_some());
        assert!(validate_public_url("http://localhost:8080").is_some());
        assert!(validate_public_url("http://e.example").is_none());
        assert!(validate_public_url("javascript:alert(1)").is_none());
        assert!(validate_public_url("https://e.example/?a=1").is_none());
        assert!(validate_public_url("https://e.example/\r\nBcc: x").is_none());
        assert!(validate_public_url("https://").is_none());
    }
}
