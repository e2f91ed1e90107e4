//! `ecowatch serve`: the scheduled service with its health and metrics endpoints.

use super::EXIT_OK;
use crate::api::{self, ApiState};
use crate::config::Config;
use crate::notify::email_config::{EmailConfigError, EmailSettings, process_env};
use crate::notify::unsubscribe::UnsubscribeKeys;
use crate::serve::{self, config::ServeConfig};
use crate::store::{Store, StoreConfig};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Run the schedules (crawl, rescan, relay, digest) and serve /healthz, /readyz and /metrics.
///
/// Schedules come from [schedule] in ecowatch.toml (5-field cron with a time zone); the
/// listen address and grace period from [serve]. Several replicas share one PostgreSQL
/// (ECOWATCH_DATABASE_URL): each tick runs once, under a lease another replica takes over if
/// this one dies. A SQLite database serves one `serve` process.
///
/// SIGTERM or SIGINT: stop claiming ticks, let running jobs finish (or give their leases back)
/// within [serve] grace-secs, exit 0.
///
/// Examples:
///   ecowatch serve --config /etc/ecowatch/ecowatch.toml
///   ecowatch serve --listen 0.0.0.0:8080
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    /// The configuration file [default: ./ecowatch.toml when present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen on this address (wins over [serve] listen).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The SQLite database file (wins over ECOWATCH_DATABASE_URL and ECOWATCH_DB).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<u8> {
    let file = Config::discover(Path::new("."), args.config.as_deref())?;
    let mut config =
        ServeConfig::from_tables(file.reserved.get("schedule"), file.reserved.get("serve"))
            .with_context(|| match &file.path {
                Some(path) => format!("in `{}`", path.display()),
                None => "in the defaults".to_string(),
            })?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let store_config = match StoreConfig::from_env(args.db.as_deref())? {
        // One process owns a SQLite file: a second `serve` is refused, not run twice.
        StoreConfig::Sqlite { path, .. } => StoreConfig::Sqlite {
            path,
            exclusive: true,
        },
        postgres => postgres,
    };
    // SMTP for the relay, digests and operator alerts; without a server, email waits.
    let email = match EmailSettings::resolve(&file, &process_env) {
        Ok(settings) => Some(settings),
        Err(EmailConfigError::MissingUrl) => {
            eprintln!(
                "serve: no SMTP server configured ([notify.email] smtp-url or ECOWATCH_SMTP_URL): \
                 email deliveries wait in the outbox"
            );
            None
        }
        Err(err) => return Err(err.into()),
    };
    // Base URLs and the GitHub token for the crawl schedule: environment > [sources] > default.
    let sources = crate::source::settings::SourceSettings::resolve(
        &file,
        &crate::source::settings::process_env,
    )?;
    for warning in &sources.warnings {
        eprintln!("serve: warning: {warning}");
    }
    let unsubscribe_keys = UnsubscribeKeys::from_env()?;
    let send_empty_digest =
        crate::notify::digest::send_empty_digest(&file).map_err(|e| anyhow::anyhow!(e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        let store = Store::open(&store_config)
            .await
            .with_context(|| format!("cannot open {}", store_config.describe()))?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = listener.local_addr().context("no local address")?;
        let schedules: Vec<String> = config
            .schedules
            .iter()
            .map(|s| format!("{} \"{}\"", s.id, s.expression))
            .collect();
        eprintln!(
            "serve: listening on http://{address} ({}; schedules in {}: {})",
            store_config.describe(),
            config.timezone.name(),
            if schedules.is_empty() {
                "none".to_string()
            } else {
                schedules.join(", ")
            }
        );
        let api = api::routes(ApiState::new(store.clone(), unsubscribe_keys));
        let outcome = serve::run(
            store.clone(),
            config,
            listener,
            email,
            send_empty_digest,
            sources,
            Some(api),
        )
        .await;
        store.close().await;
        outcome.context("the service failed")
    });
    // A job still running after the grace period has given its lease back: do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result.map(|()| EXIT_OK)
}
