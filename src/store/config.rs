//! Which database to open: `--db FILE`, `ECOWATCH_DATABASE_URL=postgres://…`, `ECOWATCH_DB`, or
//! the SQLite file under the user's data directory, in that order.

use super::StoreError;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The database the store talks to.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// The embedded default: one SQLite file (WAL, busy timeout).
    Sqlite {
        path: PathBuf,
        /// Take the one-process lock (`<db>.lock`); `serve` and `db migrate` do.
        exclusive: bool,
    },
    /// PostgreSQL, for several replicas.
    Postgres {
        /// The service's role: neither owns the tables nor bypasses row-level security.
        url: String,
        /// The role that owns the tables and runs migrations; `None` migrates through `url`.
        owner_url: Option<String>,
    },
}

/// Credentials live in the URLs; never print them.
impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreConfig::Sqlite { path, exclusive } => f
                .debug_struct("Sqlite")
                .field("path", path)
                .field("exclusive", exclusive)
                .finish(),
            StoreConfig::Postgres { owner_url, .. } => f
                .debug_struct("Postgres")
                .field("url", &"<redacted>")
                .field("owner_url", &owner_url.as_ref().map(|_| "<redacted>"))
                .finish(),
        }
    }
}

pub const ENV_DATABASE_URL: &str = "ECOWATCH_DATABASE_URL";
pub const ENV_DATABASE_OWNER_URL: &str = "ECOWATCH_DATABASE_OWNER_URL";
pub const ENV_DB: &str = "ECOWATCH_DB";

impl StoreConfig {
    /// Resolves the database from `--db` and the process environment.
    pub fn from_env(db_flag: Option<&Path>) -> Result<Self, StoreError> {
        Self::resolve(db_flag, |key| std::env::var_os(key))
    }

    /// Resolution with the environment passed in, so it can be tested without touching the
    /// process environment.
    pub fn resolve(
        db_flag: Option<&Path>,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Self, StoreError> {
        let non_empty = |key: &str| env(key).filter(|v| !v.is_empty());
        if let Some(path) = db_flag {
            return Ok(Self::sqlite(path.to_path_buf()));
        }
        if let Some(url) = non_empty(ENV_DATABASE_URL) {
            let url = url
                .into_string()
                .map_err(|_| StoreError::Config(format!("{ENV_DATABASE_URL} is not UTF-8")))?;
            check_postgres_url(&url, ENV_DATABASE_URL)?;
            let owner_url = match non_empty(ENV_DATABASE_OWNER_URL) {
                Some(owner) => {
                    let owner = owner.into_string().map_err(|_| {
                        StoreError::Config(format!("{ENV_DATABASE_OWNER_URL} is not UTF-8"))
                    })?;
                    check_postgres_url(&owner, ENV_DATABASE_OWNER_URL)?;
                    Some(owner)
                }
                None => None,
            };
            return Ok(StoreConfig::Postgres { url, owner_url });
        }
        if let Some(path) = non_empty(ENV_DB) {
            return Ok(Self::sqlite(PathBuf::from(path)));
        }
        let data_home = non_empty("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".local/share")))
            .ok_or(StoreError::NoDataDir)?;
        Ok(Self::sqlite(data_home.join("ecowatch").join("ecowatch.db")))
    }

    fn sqlite(path: PathBuf) -> Self {
        StoreConfig::Sqlite {
            path,
            exclusive: false,
        }
    }

    /// A short description safe to print: the SQLite path, or PostgreSQL without credentials.
    pub fn describe(&self) -> String {
        match self {
            StoreConfig::Sqlite { path, .. } => format!("sqlite {}", path.display()),
            StoreConfig::Postgres { .. } => format!("postgres (from {ENV_DATABASE_URL})"),
        }
    }
}

fn check_postgres_url(url: &str, var: &str) -> Result<(), StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(())
    } else {
        let scheme = url.split_once("://").map_or("(none)", |(s, _)| s);
        Err(StoreError::Config(format!(
            "{var} must be a postgres:// URL (scheme `{scheme}`); for SQLite use --db FILE or {ENV_DB}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(flag: Option<&str>, vars: &[(&str, &str)]) -> Result<StoreConfig, StoreError> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        StoreConfig::resolve(flag.map(Path::new), |k| vars.get(k).cloned())
    }

    fn sqlite_path(config: StoreConfig) -> PathBuf {
        match config {
            StoreConfig::Sqlite { path, .. } => path,
            other => panic!("expected sqlite, got {other:?}"),
        }
    }

    #[test]
    fn flag_wins_over_every_variable() {
        let c = resolve(
            Some("/tmp/x.db"),
            &[(ENV_DATABASE_URL, "postgres://h/db"), (ENV_DB, "/tmp/y.db")],
        );
        assert_eq!(sqlite_path(c.expect("config")), PathBuf::from("/tmp/x.db"));
    }

    #[test]
    fn database_url_selects_postgres_with_optional_owner() {
        let c = resolve(
            None,
            &[
                (ENV_DATABASE_URL, "postgresql://app@h/db"),
                (ENV_DATABASE_OWNER_URL, "postgres://owner@h/db"),
                (ENV_DB, "/tmp/y.db"),
            ],
        )
        .expect("config");
        assert_eq!(
            c,
            StoreConfig::Postgres {
                url: "postgresql://app@h/db".into(),
                owner_url: Some("postgres://owner@h/db".into())
            }
        );
        assert!(
            !format!("{c:?}").contains("app@h"),
            "Debug must not print URLs"
        );
    }

    #[test]
    fn non_postgres_url_is_refused_with_its_scheme() {
        let err = resolve(None, &[(ENV_DATABASE_URL, "mysql://h/db")]).unwrap_err();
        assert!(err.to_string().contains("`mysql`"), "{err}");
        let err = resolve(None, &[(ENV_DATABASE_URL, "just text")]).unwrap_err();
        assert!(err.to_string().contains("(none)"), "{err}");
    }

    #[test]
    fn ecowatch_db_then_xdg_then_home() {
        let c = resolve(None, &[(ENV_DB, "/data/e.db"), ("HOME", "/home/u")]);
        assert_eq!(sqlite_path(c.expect("config")), PathBuf::from("/data/e.db"));
        let c = resolve(None, &[("XDG_DATA_HOME", "/xdg"), ("HOME", "/home/u")]);
        assert_eq!(
            sqlite_path(c.expect("config")),
            PathBuf::from("/xdg/ecowatch/ecowatch.db")
        );
        let c = resolve(None, &[("HOME", "/home/u")]);
        assert_eq!(
            sqlite_path(c.expect("config")),
            PathBuf::from("/home/u/.local/share/ecowatch/ecowatch.db")
        );
    }

    #[test]
    fn relative_xdg_and_empty_values_are_ignored() {
        let c = resolve(
            None,
            &[
                ("XDG_DATA_HOME", "rel/dir"),
                (ENV_DATABASE_URL, ""),
                ("HOME", "/h"),
            ],
        );
        assert_eq!(
            sqlite_path(c.expect("config")),
            PathBuf::from("/h/.local/share/ecowatch/ecowatch.db")
        );
        assert!(matches!(resolve(None, &[]), Err(StoreError::NoDataDir)));
    }
}
