//! The store as the scan's source of advisories. The scan is synchronous; this owns a small
//! current-thread runtime and blocks on the store for the one lookup a scan makes.
//!
//! A scan never creates a database: when the default SQLite file does not exist there are
//! simply no advisories. A database that was named (`--db`, `ECOWATCH_DB`,
//! `ECOWATCH_DATABASE_URL`) but cannot be used becomes a diagnostic, and the scan goes on.

use crate::ecosystem::Ecosystem;
use crate::scan::advisories::NoticeLookup;
use crate::store::{Notice, Store, StoreConfig, StoreError};
use std::path::Path;

pub enum AdvisoryStore {
    Open {
        store: Store,
        describe: String,
        runtime: tokio::runtime::Runtime,
    },
    /// Named but not usable: every lookup answers with this message.
    Unavailable(String),
}

impl std::fmt::Debug for AdvisoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdvisoryStore::Open { describe, .. } => write!(f, "AdvisoryStore({describe})"),
            AdvisoryStore::Unavailable(m) => write!(f, "AdvisoryStore(unavailable: {m})"),
        }
    }
}

impl AdvisoryStore {
    /// The store `--db` and the environment name, or `None` when there is none to read.
    pub fn open(db_flag: Option<&Path>) -> Option<AdvisoryStore> {
        let named = db_flag.is_some()
            || [crate::store::ENV_DB, crate::store::ENV_DATABASE_URL]
                .iter()
                .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()));
        let config = match StoreConfig::from_env(db_flag) {
            Ok(config) => config,
            Err(StoreError::NoDataDir) => return None,
            Err(e) => return Some(AdvisoryStore::Unavailable(format!("advisories: {e}"))),
        };
        if let StoreConfig::Sqlite { path, .. } = &config
            && !path.exists()
        {
            return named.then(|| {
                AdvisoryStore::Unavailable(format!(
                    "no advisory database at `{}` (run `ecowatch notices import` first)",
                    path.display()
                ))
            });
        }
        let describe = config.describe();
        let unavailable =
            |why: String| AdvisoryStore::Unavailable(format!("advisories from {describe}: {why}"));
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => return Some(unavailable(e.to_string())),
        };
        let opened = runtime.block_on(async {
            let store = Store::connect(&config).await?;
            let status = store.schema_status().await?;
            Ok::<_, StoreError>((store, status))
        });
        let (store, status) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                return Some(unavailable(format!(
                    "cannot open the database: {}",
                    chain(&e)
                )));
            }
        };
        match status.current {
            // A file that has never been migrated holds no notices.
            None => {
                runtime.block_on(store.close());
                None
            }
            Some(v) if v != status.latest => {
                runtime.block_on(store.close());
                Some(unavailable(format!(
                    "schema version {v}, this ecowatch reads {} (run `ecowatch db migrate`)",
                    status.latest
                )))
            }
            Some(_) => Some(AdvisoryStore::Open {
                store,
                describe,
                runtime,
            }),
        }
    }

    /// Closes the pool; the scan is done with it.
    pub fn close(self) {
        if let AdvisoryStore::Open { store, runtime, .. } = self {
            runtime.block_on(store.close());
        }
    }
}

impl NoticeLookup for AdvisoryStore {
    fn notices_for(&self, packages: &[(Ecosystem, String)]) -> Result<Vec<Notice>, String> {
        match self {
            AdvisoryStore::Open {
                store,
                describe,
                runtime,
            } => runtime
                .block_on(store.notices_for_packages(packages))
                .map_err(|e| format!("cannot read advisories from {describe}: {}", chain(&e))),
            AdvisoryStore::Unavailable(message) => Err(message.clone()),
        }
    }
}

/// The error and its causes on one line (sqlx's cause says what the database said).
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
