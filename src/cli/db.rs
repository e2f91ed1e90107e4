//! `ecowatch db migrate|status`: the store's schema, by hand.

use super::EXIT_OK;
use crate::store::{Store, StoreConfig};
use anyhow::Context;
use std::path::PathBuf;

/// Manage the knowledge store's schema.
///
/// The store is SQLite by default (one file under $XDG_DATA_HOME/ecowatch/, or --db FILE, or
/// ECOWATCH_DB), or PostgreSQL when ECOWATCH_DATABASE_URL=postgres://... is set. On PostgreSQL,
/// ECOWATCH_DATABASE_OWNER_URL names the role that owns the tables and runs migrations; the
/// service itself connects as a role that does not own them.
///
/// Examples:
///   ecowatch db status
///   ecowatch db --db ./ecowatch.db migrate
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct DbArgs {
    /// The SQLite database file (wins over ECOWATCH_DATABASE_URL and ECOWATCH_DB).
    #[arg(long, global = true, value_name = "FILE")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    action: DbAction,
}

#[derive(clap::Subcommand, Debug)]
enum DbAction {
    /// Apply pending migrations (commands that use the store also do this on start).
    Migrate,
    /// Show the schema version of the database and the latest this ecowatch knows.
    Status,
}

pub fn run(args: DbArgs) -> anyhow::Result<u8> {
    let mut config = StoreConfig::from_env(args.db.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match args.action {
        DbAction::Migrate => {
            // Nothing else may use a SQLite file while its schema changes.
            if let StoreConfig::Sqlite { exclusive, .. } = &mut config {
                *exclusive = true;
            }
            runtime.block_on(migrate(&config))
        }
        DbAction::Status => runtime.block_on(status(&config)),
    }
}

async fn migrate(config: &StoreConfig) -> anyhow::Result<u8> {
    let store = Store::open(config)
        .await
        .with_context(|| format!("cannot migrate {}", config.describe()))?;
    let status = store.schema_status().await?;
    store.close().await;
    println!(
        "{}: schema version {}",
        config.describe(),
        version_text(status.current)
    );
    Ok(EXIT_OK)
}

async fn status(config: &StoreConfig) -> anyhow::Result<u8> {
    if let StoreConfig::Sqlite { path, .. } = config
        && !path.exists()
    {
        println!(
            "{}: no database yet (schema version none, latest {})",
            config.describe(),
            crate::store::latest_schema_version()
        );
        return Ok(EXIT_OK);
    }
    let store = Store::connect(config)
        .await
        .with_context(|| format!("cannot open {}", config.describe()))?;
    let status = store.schema_status().await?;
    let warnings = store.isolation_warnings().await?;
    store.close().await;
    let pending = if status.is_current() {
        String::new()
    } else {
        " (pending migrations: run `ecowatch db migrate`)".to_string()
    };
    println!(
        "{}: schema version {}, latest {}{pending}",
        config.describe(),
        version_text(status.current),
        status.latest
    );
    for warning in warnings {
        println!("warning: {warning}");
    }
    Ok(EXIT_OK)
}

fn version_text(version: Option<i64>) -> String {
    version.map_or_else(|| "none".to_string(), |v| v.to_string())
}
