//! `ecowatch deliveries send|list|redrive`: the outbox relay and its dead letters.

use super::watch::{Scope, with_store};
use super::{EXIT_ERROR, EXIT_OK};
use crate::notify::email_config::EmailSettings;
use crate::notify::relay::{self, RelaySettings};
use crate::notify::smtp::{Mailer, SendError};
use anyhow::{Context, anyhow, bail};
use chrono::Utc;

/// Send queued alerts, and see or retry the ones that failed.
///
/// SMTP comes from [notify.email] in ecowatch.toml (--config FILE, default ./ecowatch.toml)
/// or the environment, which wins: ECOWATCH_SMTP_URL (smtp://HOST:PORT), ECOWATCH_SMTP_TLS
/// (starttls by default, tls, or none), ECOWATCH_SMTP_FROM, and ECOWATCH_SMTP_USER with
/// ECOWATCH_SMTP_PASSWORD. Failures with a 4xx reply (or no connection) are retried with
/// exponential backoff; a 5xx reply, or too many attempts, leaves a dead letter.
///
/// Exit codes of `send`: 0 nothing failed for good, 2 a delivery went dead or an error.
///
/// Examples:
///   ecowatch deliveries send
///   ecowatch deliveries list --dead
///   ecowatch deliveries redrive 42
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct DeliveriesArgs {
    #[command(flatten)]
    scope: Scope,
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
    let scope = args.scope.clone();
    with_store(&scope, |store, tenant| async move {
        match args.action {
            DeliveriesAction::Send { config } => {
                let config = EmailSettings::load(config.as_deref())?;
                let settings = RelaySettings::from_env().map_err(|e| anyhow!(e))?;
                let mailer = Mailer::new(&config).map_err(|e| match e {
                    SendError::Transient(m) | SendError::Permanent(m) => anyhow!(m),
                })?;
                let counts = relay::run_once(&store, tenant, &mailer, &config.smtp.from, &settings)
                    .await
                    .context("the relay failed")?;
                println!(
                    "{} sent, {} to retry, {} dead, {} fenced out",
                    counts.sent, counts.retried, counts.dead, counts.fenced
                );
                Ok(if counts.dead > 0 { EXIT_ERROR } else { EXIT_OK })
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
