//! `ecowatch subscribe`, `unsubscribe` and `subscriptions`: who hears about new findings.

use super::EXIT_OK;
use super::watch::{Scope, with_store};
use crate::notify::subscription::{AlertFilter, Cadence, SEVERITIES, validate_email};
use crate::store::{Channel, NewSubscription, StoreError};
use anyhow::{Context, bail};

/// Email an address when `rescan` finds something new.
///
/// Examples:
///   ecowatch subscribe --email dev@example.com --cadence immediate
///   ecowatch subscribe --email sec@example.com --repo api --min-severity high --tenant acme
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct SubscribeArgs {
    #[command(flatten)]
    scope: Scope,
    /// The address to send to (plain `local@domain`).
    #[arg(long, value_name = "ADDR")]
    email: String,
    /// Only findings in this watched repository [default: all].
    #[arg(long, value_name = "NAME")]
    repo: Option<String>,
    /// The least severity worth an email: info, low, medium, high or critical.
    #[arg(long, value_name = "S", default_value = "info")]
    min_severity: String,
    /// When to send: right after the rescan, or at the end of the day or week (UTC).
    #[arg(long, value_enum, default_value_t = Cadence::Weekly)]
    cadence: Cadence,
}

/// Stop emailing a subscription (its queued deliveries go too).
#[derive(clap::Args, Debug)]
pub struct UnsubscribeArgs {
    #[command(flatten)]
    scope: Scope,
    /// The subscription's id (see `ecowatch subscriptions`).
    #[arg(value_name = "ID")]
    id: i64,
}

/// List the tenant's subscriptions.
#[derive(clap::Args, Debug)]
pub struct SubscriptionsArgs {
    #[command(flatten)]
    scope: Scope,
}

pub fn subscribe(args: SubscribeArgs) -> anyhow::Result<u8> {
    validate_email(&args.email).context("--email")?;
    if !SEVERITIES.contains(&args.min_severity.as_str()) {
        bail!("--min-severity must be one of {}", SEVERITIES.join(", "));
    }
    let filter = AlertFilter {
        repo: args.repo.clone(),
        min_severity: args.min_severity.clone(),
        cadence: args.cadence,
    };
    let scope = args.scope.clone();
    with_store(&scope, |store, tenant| async move {
        if let Some(repo) = &args.repo {
            let repos = store.list_repos(tenant).await?;
            super::watch::find_repo(&repos, repo)?;
        }
        let created = store
            .create_subscription(
                tenant,
                &NewSubscription {
                    channel: Channel::Email,
                    target: args.email.clone(),
                    filter: filter.to_json(),
                },
            )
            .await;
        match created {
            Ok(sub) => {
                println!(
                    "subscription {}: {}",
                    sub.id,
                    describe(&sub.target, &sub.filter)
                );
                Ok(EXIT_OK)
            }
            Err(StoreError::Conflict(_)) => bail!("`{}` is already subscribed", args.email),
            Err(err) => Err(err.into()),
        }
    })
}

pub fn unsubscribe(args: UnsubscribeArgs) -> anyhow::Result<u8> {
    let scope = args.scope.clone();
    with_store(&scope, |store, tenant| async move {
        if !store.delete_subscription(tenant, args.id).await? {
            bail!("no subscription {} (see `ecowatch subscriptions`)", args.id);
        }
        println!("subscription {} removed", args.id);
        Ok(EXIT_OK)
    })
}

pub fn list(args: SubscriptionsArgs) -> anyhow::Result<u8> {
    with_store(&args.scope, |store, tenant| async move {
        let subscriptions = store.list_subscriptions(tenant).await?;
        if subscriptions.is_empty() {
            eprintln!("no subscriptions (add one with `ecowatch subscribe --email ADDR`)");
        }
        for sub in subscriptions {
            println!(
                "{}\t{}\t{}",
                sub.id,
                sub.channel.as_str(),
                describe(&sub.target, &sub.filter)
            );
        }
        Ok(EXIT_OK)
    })
}

fn describe(target: &str, filter: &serde_json::Value) -> String {
    match AlertFilter::from_json(filter) {
        Some(f) => format!(
            "{target} (repo: {}, min severity: {}, cadence: {})",
            f.repo.as_deref().unwrap_or("all"),
            f.min_severity,
            f.cadence.as_str()
        ),
        None => format!("{target} (filter not understood by this version)"),
    }
}
