//! `ecowatch deliveries send|list|redrive`: the outbox relay and its dead letters.

use super::watch::{Scope, with_store};
use super::{EXIT_ERROR, EXIT_OK};
use crate::notify::email_config::{EmailConfigError, EmailSettings, LoadError};
use crate::notify::relay::{self, Channels, EmailChannel, RelayCounts, RelaySettings};
use crate::notify::smtp::{Mailer, SendError};
use crate::notify::webhook::WebhookSender;
use crate::store::{DEFAULT_TENANT, Store, StoreConfig};
use anyhow::{Context, anyhow, bail};
use chrono::Utc;
use std::path::PathBuf;

/// Send queued alerts, and see or retry the ones that failed.
///
/// `send` without --tenant relays every tenant's due deliveries; with it, that tenant's only.
///
/// SMTP comes from [notify.email] in ecowatch.toml (--config FILE, default ./ecowatch.toml)
/// or the environment, which wins: ECOWATCH_SMTP_URL (smtp://HOST:PORT), ECOWATCH_SMTP_TLS
/// (starttls by default, tls, or none), ECOWATCH_SMTP_FROM, and ECOWATCH_SMTP_USER with
/// ECOWATCH_SMTP_PASSWORD. Without ECOWATCH_SMTP_URL, webhooks are still sent and email
/// deliveries wait (retried). Failures with a 4xx reply (or no connection) are retried with
/// exponential backoff; a 5xx reply, or too many attempts, leaves a dead letter.
///
/// Webhooks: 2xx is sent; 429, 5xx, timeouts and connection failures are retried (never
/// sooner than Retry-After); redirects (3xx, not followed) and other 4xx leave a dead letter;
/// 410 Gone disables the subscription and tells the tenant's email subscribers once.
/// Every webhook URL passes the SSRF guard again before each send.
///
/// Exit codes of `send`: 0 nothing failed for good, 2 a delivery went dead or an error.
///
/// Examples:
///   ecowatch deliveries send
///   ecowatch deliveries send --tenant acme
///   ecowatch deliveries list --dead
///   ecowatch deliveries redrive 42
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct DeliveriesArgs {
    /// The SQLite database file (wins over ECOWATCH_DATABASE_URL and ECOWATCH_DB).
    #[arg(long, global = true, value_name = "FILE")]
    db: Option<PathBuf>,
    /// The team whose deliveries these are [default: every tenant for `send`, `default`
    /// otherwise].
    #[arg(long, global = true, value_name = "T")]
    tenant: Option<String>,
    #[command(subcommand)]
    action: DeliveriesAction,
}

#[derive(clap::Subcommand, Debug)]
enum DeliveriesAction {
    /// Send the deliveries that are due (one pass).
    Send {
        /// The ecowatch.toml with [notify.email] [default: ./ecowatch.toml when present].
        #[arg(long, value_name = "FILE")]
        config: Option<std::path::PathBuf>,
    },
    /// List deliveries: id, status, attempts, last error.
    List {
        /// Only dead letters.
        #[arg(long)]
        dead: bool,
    },
    /// Make a dead delivery due again (same key, so the same Message-ID).
    Redrive {
        #[arg(value_name = "ID")]
        id: i64,
    },
}

pub fn run(args: DeliveriesArgs) -> anyhow::Result<u8> {
    if let (DeliveriesAction::Send { config }, None) = (&args.action, &args.tenant) {
        return send_all_tenants(args.db.as_deref(), config.as_deref());
    }
    let scope = Scope {
        db: args.db.clone(),
        tenant: args.tenant.clone().unwrap_or_else(|| DEFAULT_TENANT.into()),
    };
    with_store(&scope, |store, tenant| async move {
        match args.action {
            DeliveriesAction::Send { config } => {
                let (channels, settings) = relay_setup(config.as_deref())?;
                let counts = relay::run_once(&store, tenant, &channels, &settings)
                    .await
                    .context("the relay failed")?;
                Ok(report(&counts))
            }
            DeliveriesAction::List { dead } => {
                for d in store.list_deliveries(tenant).await? {
                    if dead && d.status != "dead" {
                        continue;
                    }
                    println!(
                        "{}\t{}\t{}\t{}",
                        d.id,
                        d.status,
                        d.attempts,
                        d.last_error.as_deref().unwrap_or("-")
                    );
                }
                Ok(EXIT_OK)
            }
            DeliveriesAction::Redrive { id } => {
                if !store.redrive_delivery(tenant, id, Utc::now()).await? {
                    bail!("no dead delivery {id} (see `ecowatch deliveries list --dead`)");
                }
                println!("delivery {id} is due again");
                Ok(EXIT_OK)
            }
        }
    })
}

/// `deliveries send` without `--tenant`: every tenant's due deliveries.
fn send_all_tenants(
    db: Option<&std::path::Path>,
    email_config: Option<&std::path::Path>,
) -> anyhow::Result<u8> {
    let config = StoreConfig::from_env(db)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        // The SMTP pool needs the runtime, so the channels are made inside it.
        let (channels, settings) = relay_setup(email_config)?;
        let store = Store::open(&config)
            .await
            .with_context(|| format!("cannot open {}", config.describe()))?;
        let result = relay::run_all_tenants(&store, &channels, &settings)
            .await
            .context("the relay failed");
        store.close().await;
        Ok(report(&result?))
    })
}

/// The channels and pacing from the environment. SMTP settings are optional (webhook-only
/// installations have none) but, when given, must be valid.
/// The relay's channels and pacing: email from `[notify.email]` / ECOWATCH_SMTP_* (absent when
/// no SMTP server is configured: webhooks still go, email waits), webhooks, retry settings.
pub(crate) fn relay_setup(
    config: Option<&std::path::Path>,
) -> anyhow::Result<(Channels, RelaySettings)> {
    let settings = RelaySettings::from_env().map_err(|e| anyhow!(e))?;
    let email = match EmailSettings::load(config) {
        Ok(config) => {
            let mailer = Mailer::new(&config).map_err(|e| match e {
                SendError::Transient(m) | SendError::Permanent(m) => anyhow!(m),
            })?;
            Some(EmailChannel {
                mailer,
                from: config.smtp.from.clone(),
            })
        }
        Err(LoadError::Email(EmailConfigError::MissingUrl)) => {
            eprintln!(
                "note: {} is not set: webhooks are sent, email deliveries wait",
                crate::notify::email_config::ENV_URL
            );
            None
        }
        Err(err) => return Err(err.into()),
    };
    let webhooks = WebhookSender::from_env().map_err(|e| anyhow!(e))?;
    Ok((Channels { email, webhooks }, settings))
}

/// Prints what the run did; exit code 2 when a delivery went dead.
fn report(counts: &RelayCounts) -> u8 {
    let mut line = format!(
        "{} sent, {} to retry, {} dead, {} fenced out",
        counts.sent, counts.retried, counts.dead, counts.fenced
    );
    if counts.disabled > 0 {
        line.push_str(&format!(
            ", {} subscription(s) disabled (endpoint gone)",
            counts.disabled
        ));
    }
    if counts.dropped > 0 {
        line.push_str(&format!(
            ", {} for disabled subscriptions dropped",
            counts.dropped
        ));
    }
    println!("{line}");
    if counts.dead > 0 { EXIT_ERROR } else { EXIT_OK }
}
