//! Where the sources live: `[sources]` in ecowatch.toml, with the `ECOWATCH_*_URL` environment
//! variables winning over the file, and the public services as the default. Resolved once per
//! command (or per `serve` process) and handed to every source, so nothing has to write the
//! process environment to change a base URL.
//!
//! ```toml
//! [sources]
//! github-api-url = "https://ghe.example.com/api/v3"
//! github-graphql-url = "https://ghe.example.com/api/graphql"  # default: {github-api-url}/graphql
//! github-token-env = "GHE_TOKEN"     # the NAME of the variable holding the token, never the token
//! osv-url = "https://api.osv.dev"
//! npm-registry-url = "https://registry.npmjs.org"
//! pypi-url = "https://pypi.org"
//! crates-io-url = "https://crates.io"
//! packagist-url = "https://repo.packagist.org"
//! goproxy-url = "https://proxy.golang.org"
//! rubygems-url = "https://rubygems.org"
//! endoflife-url = "https://endoflife.date"
//! ```
//!
//! Precedence, per key: the environment variable, then the file, then the public default. The
//! token comes from `ECOWATCH_GITHUB_TOKEN`, else from the variable `github-token-env` names.

use super::endoflife::{DEFAULT_ENDOFLIFE_URL, ENV_ENDOFLIFE_URL};
use super::github::client::{
    DEFAULT_API_URL, ENV_API_URL, ENV_GRAPHQL_URL, ENV_TOKEN, GitHubConfig, GitHubError,
};
use super::osv::{DEFAULT_OSV_URL, ENV_OSV_URL};
use super::registry::Registry;
use crate::config::Config;
use crate::http::HttpClient;
use reqwest::Url;
use std::collections::BTreeMap;

/// The file key naming the token's variable.
pub const TOKEN_ENV_KEY: &str = "github-token-env";

/// One configurable base URL: its key in `[sources]`, its variable, its public default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UrlKey {
    GitHubApi,
    /// No default of its own: `graphql` under the REST base.
    GitHubGraphql,
    Osv,
    Registry(Registry),
    EndOfLife,
}

impl UrlKey {
    pub const ALL: [UrlKey; 10] = [
        UrlKey::GitHubApi,
        UrlKey::GitHubGraphql,
        UrlKey::Osv,
        UrlKey::Registry(Registry::Npm),
        UrlKey::Registry(Registry::PyPI),
        UrlKey::Registry(Registry::CratesIo),
        UrlKey::Registry(Registry::Packagist),
        UrlKey::Registry(Registry::GoProxy),
        UrlKey::Registry(Registry::RubyGems),
        UrlKey::EndOfLife,
    ];

    /// The key in `[sources]`.
    pub fn file_key(self) -> &'static str {
        match self {
            UrlKey::GitHubApi => "github-api-url",
            UrlKey::GitHubGraphql => "github-graphql-url",
            UrlKey::Osv => "osv-url",
            UrlKey::Registry(Registry::Npm) => "npm-registry-url",
            UrlKey::Registry(Registry::PyPI) => "pypi-url",
            UrlKey::Registry(Registry::CratesIo) => "crates-io-url",
            UrlKey::Registry(Registry::Packagist) => "packagist-url",
            UrlKey::Registry(Registry::GoProxy) => "goproxy-url",
            UrlKey::Registry(Registry::RubyGems) => "rubygems-url",
            UrlKey::EndOfLife => "endoflife-url",
        }
    }

    pub fn env_var(self) -> &'static str {
        match self {
            UrlKey::GitHubApi => ENV_API_URL,
            UrlKey::GitHubGraphql => ENV_GRAPHQL_URL,
            UrlKey::Osv => ENV_OSV_URL,
            UrlKey::Registry(r) => r.env_var(),
            UrlKey::EndOfLife => ENV_ENDOFLIFE_URL,
        }
    }

    pub fn default_url(self) -> Option<&'static str> {
        match self {
            UrlKey::GitHubApi => Some(DEFAULT_API_URL),
            UrlKey::GitHubGraphql => None,
            UrlKey::Osv => Some(DEFAULT_OSV_URL),
            UrlKey::Registry(r) => Some(r.default_url()),
            UrlKey::EndOfLife => Some(DEFAULT_ENDOFLIFE_URL),
        }
    }

    /// The id of the source this URL serves, as `ecowatch sources` lists it.
    pub fn source_id(self) -> &'static str {
        match self {
            UrlKey::GitHubApi | UrlKey::GitHubGraphql => "github",
            UrlKey::Osv => super::osv::SOURCE_ID,
            UrlKey::Registry(r) => r.source_id(),
            UrlKey::EndOfLife => super::endoflife::SOURCE_ID,
        }
    }
}

/// Where a value came from, for messages (never the value of a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Env(&'static str),
    File { path: String, key: String },
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Env(name) => write!(f, "{name}"),
            Origin::File { path, key } => write!(f, "`{path}` [sources] {key}"),
            Origin::Default => write!(f, "the default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub origin: Origin,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// `origin` names the file and key, or the variable.
    #[error("{origin}: {problem}")]
    Invalid { origin: String, problem: String },
}

/// Every source's base URL and the GitHub token, resolved. `Default` is "nothing configured":
/// the public services, no token.
#[derive(Clone, Default)]
pub struct SourceSettings {
    urls: BTreeMap<UrlKey, Setting>,
    token: Option<String>,
    /// Things worth telling the user that do not stop the crawl (a token variable not set).
    pub warnings: Vec<String>,
}

/// The token is a secret: never printed.
impl std::fmt::Debug for SourceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceSettings")
            .field("urls", &self.urls)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// How to read an environment variable (tests pass their own); empty counts as unset.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, with blank values read as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl SourceSettings {
    /// `[sources]` of `config` (when a file was loaded) under the environment `env`. A file
    /// mistake (an unknown key, a value that is not an http(s) URL) is an error naming the file
    /// and key; an environment value is checked when its source is crawled, as before.
    pub fn resolve(config: &Config, env: Env<'_>) -> Result<SourceSettings, SettingsError> {
        let path = config.path.as_deref().map_or_else(
            || crate::config::FILE_NAME.to_string(),
            |p| p.display().to_string(),
        );
        let file = read_table(config, &path)?;
        let get = |name: &str| {
            env(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut settings = SourceSettings::default();
        for key in UrlKey::ALL {
            let chosen = match get(key.env_var()) {
                Some(value) => Some(Setting {
                    value,
                    origin: Origin::Env(key.env_var()),
                }),
                None => file.urls.get(&key).cloned(),
            };
            if let Some(setting) = chosen {
                settings.urls.insert(key, setting);
            }
        }
        settings.token = match get(ENV_TOKEN) {
            Some(token) => Some(token),
            None => match &file.token_env {
                Some(name) => {
                    let token = get(name);
                    if token.is_none() {
                        settings.warnings.push(format!(
                            "`{path}` [sources] {TOKEN_ENV_KEY} names {name}, which is not set: \
                             GitHub is asked without a token (60 requests an hour)"
                        ));
                    }
                    token
                }
                None => None,
            },
        };
        Ok(settings)
    }

    /// The environment alone, as before ecowatch.toml could say anything about sources.
    pub fn from_env() -> SourceSettings {
        // Without a file there is nothing that can be refused.
        SourceSettings::resolve(&Config::default(), &process_env).unwrap_or_default()
    }

    /// `--config FILE`, else `./ecowatch.toml` when present, under the process environment.
    /// A file that was merely found in the working directory (perhaps a cloned repository's)
    /// cannot send the GitHub token to a host of its choosing: see [`Self::distrust_file`].
    pub fn load(explicit: Option<&std::path::Path>) -> Result<SourceSettings, LoadError> {
        let config = Config::discover(std::path::Path::new("."), explicit)?;
        let mut settings = SourceSettings::resolve(&config, &process_env)?;
        if explicit.is_none() {
            settings.distrust_file();
        }
        Ok(settings)
    }

    /// For a file nobody named: when it points GitHub's API somewhere other than github.com,
    /// the token is withheld (with a warning saying how to trust the file), so an
    /// `ecowatch.toml` in a repository one happens to stand in cannot collect the token, or any
    /// variable it names in `github-token-env`.
    pub fn distrust_file(&mut self) {
        if self.token.is_none() {
            return;
        }
        let foreign = [UrlKey::GitHubApi, UrlKey::GitHubGraphql]
            .into_iter()
            .filter_map(|key| self.urls.get(&key))
            .find(|setting| {
                matches!(setting.origin, Origin::File { .. }) && !is_github_com(&setting.value)
            });
        if let Some(setting) = foreign {
            let origin = setting.origin.to_string();
            self.token = None;
            self.warnings.push(format!(
                "{origin} points GitHub elsewhere and was found, not named: the GitHub token is \
                 withheld; pass --config with that file to trust it"
            ));
        }
    }

    /// The value for `key` and where it came from; the default when nothing set it.
    pub fn setting(&self, key: UrlKey) -> Option<Setting> {
        self.urls.get(&key).cloned().or_else(|| {
            key.default_url().map(|value| Setting {
                value: value.to_string(),
                origin: Origin::Default,
            })
        })
    }

    /// The base URL for `key`, with a trailing slash so joins keep a path prefix.
    pub fn base_url(&self, key: UrlKey) -> Result<Url, SettingsError> {
        let setting = self.setting(key).ok_or_else(|| SettingsError::Invalid {
            origin: key.env_var().to_string(),
            problem: "no URL configured".into(),
        })?;
        super::osv::base_url(&setting.value).map_err(|_| SettingsError::Invalid {
            origin: setting.origin.to_string(),
            problem: format!("`{}` is not an http(s) URL", printable(&setting.value)),
        })
    }

    pub fn registry_url(&self, registry: Registry) -> Result<Url, SettingsError> {
        self.base_url(UrlKey::Registry(registry))
    }

    /// GitHub's URLs and token from these settings; its other knobs (waits) from `env`.
    pub fn github_config(&self, env: Env<'_>) -> Result<GitHubConfig, GitHubError> {
        GitHubConfig::resolve(|name| match name {
            ENV_API_URL => self.urls.get(&UrlKey::GitHubApi).map(|s| s.value.clone()),
            ENV_GRAPHQL_URL => self
                .urls
                .get(&UrlKey::GitHubGraphql)
                .map(|s| s.value.clone()),
            ENV_TOKEN => self.token.clone(),
            other => env(other),
        })
    }

    pub fn has_github_token(&self) -> bool {
        self.token.is_some()
    }
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    File(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

/// What `[sources]` says, checked.
#[derive(Default)]
struct FileSources {
    urls: BTreeMap<UrlKey, Setting>,
    token_env: Option<String>,
}

fn read_table(config: &Config, path: &str) -> Result<FileSources, SettingsError> {
    let mut out = FileSources::default();
    let Some(table) = config.reserved.get("sources") else {
        return Ok(out);
    };
    let invalid = |key: &str, problem: String| SettingsError::Invalid {
        origin: Origin::File {
            path: path.to_string(),
            key: key.to_string(),
        }
        .to_string(),
        problem,
    };
    let table = table.as_table().ok_or_else(|| SettingsError::Invalid {
        origin: format!("`{path}` [sources]"),
        problem: "must be a table".into(),
    })?;
    for (key, value) in table {
        let url_key = UrlKey::ALL.into_iter().find(|k| k.file_key() == key);
        if url_key.is_none() && key != TOKEN_ENV_KEY {
            let known: Vec<&str> = UrlKey::ALL
                .iter()
                .map(|k| k.file_key())
                .chain([TOKEN_ENV_KEY])
                .collect();
            return Err(invalid(
                &printable(key),
                format!("unknown key (known: {})", known.join(", ")),
            ));
        }
        let text = value
            .as_str()
            .map(str::trim)
            .ok_or_else(|| invalid(key, "must be a string".into()))?;
        match url_key {
            Some(url_key) => {
                if HttpClient::parse_url(text).is_err() {
                    return Err(invalid(
                        key,
                        format!("`{}` is not an http(s) URL", printable(text)),
                    ));
                }
                out.urls.insert(
                    url_key,
                    Setting {
                        value: text.to_string(),
                        origin: Origin::File {
                            path: path.to_string(),
                            key: key.clone(),
                        },
                    },
                );
            }
            None => {
                let plausible = !text.is_empty()
                    && text.len() <= 128
                    && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !plausible {
                    return Err(invalid(
                        key,
                        "must be the NAME of an environment variable holding the token \
                         (letters, digits, `_`), e.g. \"GITHUB_TOKEN\"; the token itself \
                         never goes in the file"
                            .into(),
                    ));
                }
                out.token_env = Some(text.to_string());
            }
        }
    }
    Ok(out)
}

/// A configured URL fit to show: no credentials, query or fragment (a URL may carry a secret),
/// one line; `…` for text that is not a URL.
/// `api.github.com` (or `github.com`) over https: where a token may always go.
fn is_github_com(text: &str) -> bool {
    Url::parse(text).is_ok_and(|url| {
        url.scheme() == "https" && matches!(url.host_str(), Some("api.github.com" | "github.com"))
    })
}

pub fn display_url(text: &str) -> String {
    match Url::parse(text.trim()) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            printable(url.as_str())
        }
        Err(_) => "…".into(),
    }
}

/// A value quoted in a message: one line, control characters gone, capped.
fn printable(text: &str) -> String {
    super::registry::clean_text(text, 200)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("eco.toml")).unwrap()
    }

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn env_wins_over_the_file_which_wins_over_the_default() {
        let file = config(
            "[sources]\nnpm-registry-url = \"http://127.0.0.1:1/npm\"\n\
             pypi-url = \"http://127.0.0.1:1/pypi\"\n",
        );
        let env = env_of(&[("ECOWATCH_PYPI_URL", "http://127.0.0.1:2/pypi")]);
        let s = SourceSettings::resolve(&file, &env).unwrap();
        assert_eq!(
            s.registry_url(Registry::Npm).unwrap().as_str(),
            "http://127.0.0.1:1/npm/"
        );
        assert_eq!(
            s.registry_url(Registry::PyPI).unwrap().as_str(),
            "http://127.0.0.1:2/pypi/"
        );
        assert_eq!(
            s.registry_url(Registry::CratesIo).unwrap().as_str(),
            "https://crates.io/"
        );
        assert_eq!(
            s.setting(UrlKey::Registry(Registry::Npm)).unwrap().origin,
            Origin::File {
                path: "eco.toml".into(),
                key: "npm-registry-url".into()
            }
        );
    }

    #[test]
    fn file_mistakes_name_the_file_and_key() {
        let none = env_of(&[]);
        let err = SourceSettings::resolve(&config("[sources]\nnpm-url = \"http://x\"\n"), &none)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`eco.toml` [sources] npm-url") && err.contains("unknown key"),
            "{err}"
        );
        let err = SourceSettings::resolve(&config("[sources]\nosv-url = \"ftp://x\"\n"), &none)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[sources] osv-url") && err.contains("http(s)"),
            "{err}"
        );
        let err = SourceSettings::resolve(&config("[sources]\nosv-url = 3\n"), &none)
            .unwrap_err()
            .to_string();
        assert!(err.contains("must be a string"), "{err}");
        let err = SourceSettings::resolve(
            &config("[sources]\ngithub-token-env = \"ghp_abc def\"\n"),
            &none,
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("ghp_abc"), "{err}");
        // A token written in the file under any other name is an unknown key, refused.
        let err = SourceSettings::resolve(&config("[sources]\ngithub-token = \"ghp_x\"\n"), &none)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown key") && !err.contains("ghp_x"),
            "{err}"
        );
    }

    #[test]
    fn the_token_comes_from_the_named_variable_and_stays_secret() {
        let file = config(
            "[sources]\ngithub-token-env = \"MY_TOKEN\"\ngithub-api-url = \"http://127.0.0.1:3/api\"\n",
        );
        let s = SourceSettings::resolve(&file, &env_of(&[("MY_TOKEN", "ghp_named")])).unwrap();
        assert!(s.has_github_token() && s.warnings.is_empty());
        assert!(!format!("{s:?}").contains("ghp_named"));
        let github = s.github_config(&|_| None).unwrap();
        assert_eq!(github.api.as_str(), "http://127.0.0.1:3/api/");
        assert_eq!(github.graphql.as_str(), "http://127.0.0.1:3/api/graphql");
        assert!(github.has_token());
        // ECOWATCH_GITHUB_TOKEN wins; an unset named variable is a warning, not an error.
        let s = SourceSettings::resolve(&file, &env_of(&[])).unwrap();
        assert!(!s.has_github_token());
        assert!(s.warnings[0].contains("MY_TOKEN"), "{:?}", s.warnings);
        let s = SourceSettings::resolve(&file, &env_of(&[("ECOWATCH_GITHUB_TOKEN", "ghp_env")]))
            .unwrap();
        assert!(s.has_github_token() && s.warnings.is_empty());
    }

    #[test]
    fn a_file_nobody_named_cannot_send_the_token_elsewhere() {
        let hostile = config(
            "[sources]\ngithub-token-env = \"AWS_SECRET_ACCESS_KEY\"\n\
             github-api-url = \"https://collector.example/api\"\n",
        );
        let env = env_of(&[("AWS_SECRET_ACCESS_KEY", "s3cr3t")]);
        let mut s = SourceSettings::resolve(&hostile, &env).unwrap();
        assert!(s.has_github_token(), "named with --config: trusted");
        s.distrust_file();
        assert!(!s.has_github_token());
        assert!(
            s.warnings.iter().any(|w| w.contains("--config")),
            "{:?}",
            s.warnings
        );
        assert!(!format!("{s:?}").contains("s3cr3t"));

        // Pointing at GitHub itself, or only naming the variable, keeps the token.
        let github = config("[sources]\ngithub-api-url = \"https://api.github.com\"\n");
        let mut s =
            SourceSettings::resolve(&github, &env_of(&[("ECOWATCH_GITHUB_TOKEN", "ghp")])).unwrap();
        s.distrust_file();
        assert!(s.has_github_token());
        // A URL from the environment is the user's own choice.
        let mut s = SourceSettings::resolve(
            &hostile,
            &env_of(&[
                ("ECOWATCH_GITHUB_TOKEN", "ghp"),
                ("ECOWATCH_GITHUB_API_URL", "http://127.0.0.1:9/api"),
                (
                    "ECOWATCH_GITHUB_GRAPHQL_URL",
                    "http://127.0.0.1:9/api/graphql",
                ),
            ]),
        )
        .unwrap();
        s.distrust_file();
        assert!(s.has_github_token());
    }

    #[test]
    fn the_documented_example_file_is_valid_and_names_every_key() {
        let text = include_str!("../../deploy/ecowatch.toml.example");
        let file = Config::parse(text, Path::new("example")).unwrap();
        let s = SourceSettings::resolve(&file, &|_| None).unwrap();
        assert_eq!(
            s.registry_url(Registry::PyPI).unwrap().as_str(),
            "https://pypi.org/"
        );
        for key in UrlKey::ALL
            .iter()
            .map(|k| k.file_key())
            .chain([TOKEN_ENV_KEY])
        {
            assert!(text.contains(&format!("{key} = ")), "{key} undocumented");
        }
    }

    #[test]
    fn a_bad_environment_value_fails_only_its_source_and_names_the_variable() {
        let s = SourceSettings::resolve(
            &Config::default(),
            &env_of(&[("ECOWATCH_ENDOFLIFE_URL", "not a url")]),
        )
        .unwrap();
        let err = s.base_url(UrlKey::EndOfLife).unwrap_err().to_string();
        assert!(err.contains("ECOWATCH_ENDOFLIFE_URL"), "{err}");
        assert!(s.base_url(UrlKey::Osv).is_ok());
    }
}
