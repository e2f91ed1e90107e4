//! `ecowatch digest --preview | --send`: the daily or weekly digest email.

use super::watch::{Scope, display_name, scan_dir, with_store};
use super::{EXIT_ERROR, EXIT_OK};
use crate::config::Config;
use crate::notify::digest::{self, Digest, Stacks, render};
use crate::notify::email_config::{EmailSettings, process_env, resolve_unsubscribe};
use crate::notify::relay::{self, Channels, EmailChannel, RelaySettings};
use crate::notify::smtp::{Mailer, SendError};
use crate::notify::subscription::{AlertFilter, sends_digest};
use crate::notify::webhook::WebhookSender;
use crate::store::{Channel, Enqueued, NewDelivery, Store, Subscription, TenantId};
use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// Preview or send the digest: one email per subscriber and period instead of one per finding.
///
/// Email subscriptions with `--cadence daily` or `weekly` get a digest: what is new since
/// their last digest (grouped by upstream event across repositories: "Supabase legacy API
/// keys -> 3 repositories, 7 files"), what is still open at high or critical severity, sunset
/// countdowns, new announcements for packages their repositories use (no code match needed),
/// and a warning when a knowledge source has been failing or is more than 2 days old.
///
/// `--send` queues at most one digest per subscription and period (day, or week from Monday,
/// UTC), so running it again never sends twice, then sends what is due (like
/// `ecowatch deliveries send`). A period with nothing new sends nothing, unless ecowatch.toml
/// says `[notify] send-empty-digest = true`. SMTP and unsubscribe links are configured as for
/// `deliveries send`: [notify.email], [serve] public-url, ECOWATCH_UNSUBSCRIBE_KEYS. Without
/// the keys or the public URL, mail goes out without List-Unsubscribe (warned once on stderr).
///
/// Exit codes: 0 done, 2 a delivery went dead or an error.
///
/// Examples:
///   ecowatch digest --preview
///   ecowatch digest --preview --subscription 3 --format html > digest.html
///   ecowatch digest --send --config /etc/ecowatch/ecowatch.toml
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["preview", "send"])))]
pub struct DigestArgs {
    #[command(flatten)]
    scope: Scope,
    /// Print the digest instead of sending it (nothing is queued).
    #[arg(long)]
    preview: bool,
    /// Queue the due digests and send them.
    #[arg(long)]
    send: bool,
    /// Only this subscription (see `ecowatch subscriptions`).
    #[arg(long, value_name = "ID")]
    subscription: Option<i64>,
    /// What --preview prints.
    #[arg(long, value_enum, default_value_t = Format::Text, requires = "preview")]
    format: Format,
    /// The ecowatch.toml to read [notify] and [serve] from [default: ./ecowatch.toml when present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The time to act as if it were (RFC 3339; for tests).
    #[arg(long, hide = true, value_name = "RFC3339")]
    now: Option<DateTime<Utc>>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Markdown,
    Html,
}

pub fn run(args: DigestArgs) -> anyhow::Result<u8> {
    let config = Config::discover(Path::new("."), args.config.as_deref())?;
    let send_empty = digest::send_empty_digest(&config).map_err(|e| anyhow!(e))?;
    let now = args.now.unwrap_or_else(Utc::now);
    let scope = args.scope.clone();
    with_store(&scope, |store, tenant| async move {
        let subscriptions = chosen(&store, tenant, args.subscription).await?;
        let stacks = read_stacks(&store, tenant, &args.scope.tenant).await?;
        if args.preview {
            let unsubscribe = resolve_unsubscribe(&config, &process_env)?;
            for (i, sub) in subscriptions.iter().enumerate() {
                let Some(d) = collect(&store, tenant, sub, &stacks, now).await? else {
                    continue;
                };
                let link = unsubscribe.as_ref().map(|u| u.link(tenant, sub.id).url);
                if args.format != Format::Html && i > 0 {
                    println!();
                }
                match args.format {
                    Format::Text => print!("{}", render::text(&d, link.as_deref())),
                    Format::Markdown => print!("{}", render::markdown(&d, link.as_deref())),
                    Format::Html => print!("{}", render::html(&d, link.as_deref())),
                }
                if d.is_empty() && !send_empty {
                    eprintln!(
                        "subscription {}: nothing new; --send would not send this",
                        sub.id
                    );
                }
            }
            return Ok(EXIT_OK);
        }
        let settings = EmailSettings::resolve(&config, &process_env)?;
        let relay_settings = RelaySettings::from_env().map_err(|e| anyhow!(e))?;
        let mailer = Mailer::new(&settings).map_err(|e| match e {
            SendError::Transient(m) | SendError::Permanent(m) => anyhow!(m),
        })?;
        for sub in &subscriptions {
            queue(&store, tenant, sub, &stacks, now, send_empty).await?;
        }
        let channels = Channels {
            email: Some(EmailChannel {
                mailer,
                from: settings.smtp.from.clone(),
            }),
            webhooks: WebhookSender::from_env().map_err(|e| anyhow!(e))?,
        };
        let counts = relay::run_once(&store, tenant, &channels, &relay_settings)
            .await
            .context("the relay failed")?;
        println!(
            "{} sent, {} to retry, {} dead, {} fenced out",
            counts.sent, counts.retried, counts.dead, counts.fenced
        );
        Ok(if counts.dead > 0 { EXIT_ERROR } else { EXIT_OK })
    })
}

/// Queues the due digests of every daily or weekly email subscription of one tenant for the
/// period holding `now` (what `serve`'s digest schedule does before relaying); how many it
/// queued. Safe to repeat: a period's digest is queued once.
pub(crate) async fn queue_due(
    store: &Store,
    tenant: TenantId,
    tenant_name: &str,
    now: DateTime<Utc>,
    send_empty: bool,
) -> anyhow::Result<usize> {
    let subscriptions = chosen(store, tenant, None).await?;
    if subscriptions.is_empty() {
        return Ok(0);
    }
    let stacks = read_stacks(store, tenant, tenant_name).await?;
    let mut queued = 0;
    for sub in &subscriptions {
        if queue(store, tenant, sub, &stacks, now, send_empty).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The digest subscriptions to act on: `--subscription ID` (which must be an email
/// subscription), else every daily or weekly email subscription.
async fn chosen(
    store: &Store,
    tenant: TenantId,
    id: Option<i64>,
) -> anyhow::Result<Vec<Subscription>> {
    let all = store.list_subscriptions(tenant).await?;
    if let Some(id) = id {
        let sub = all
            .into_iter()
            .find(|s| s.id == id)
            .with_context(|| format!("no subscription {id} (see `ecowatch subscriptions`)"))?;
        if sub.channel != Channel::Email {
            bail!("subscription {id} is not an email subscription; digests go by email");
        }
        return Ok(vec![sub]);
    }
    let due: Vec<Subscription> = all
        .into_iter()
        .filter(|s| AlertFilter::from_json(&s.filter).is_some_and(|f| sends_digest(s, &f)))
        .collect();
    if due.is_empty() {
        eprintln!(
            "no daily or weekly email subscriptions (ecowatch subscribe --email ADDR --cadence weekly)"
        );
    }
    Ok(due)
}

async fn collect(
    store: &Store,
    tenant: TenantId,
    sub: &Subscription,
    stacks: &(Stacks, Vec<String>),
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Digest>> {
    let d = digest::collect(store, tenant, sub, &stacks.0, &stacks.1, now).await?;
    if d.is_none() {
        eprintln!(
            "subscription {}: its filter is not readable by this version; skipped",
            sub.id
        );
    }
    Ok(d)
}

/// Queues `sub`'s digest for the period holding `now`, unless it is already queued or empty;
/// `true` when it queued one.
async fn queue(
    store: &Store,
    tenant: TenantId,
    sub: &Subscription,
    stacks: &(Stacks, Vec<String>),
    now: DateTime<Utc>,
    send_empty: bool,
) -> anyhow::Result<bool> {
    let Some(filter) = AlertFilter::from_json(&sub.filter) else {
        eprintln!("subscription {}: unreadable filter; skipped", sub.id);
        return Ok(false);
    };
    let key = crate::notify::subscription::digest_key(sub.id, filter.cadence.period_start(now));
    if digest::is_queued(store, tenant, &key).await? {
        println!(
            "subscription {}: this period's digest is already queued",
            sub.id
        );
        return Ok(false);
    }
    let Some(d) = collect(store, tenant, sub, stacks, now).await? else {
        return Ok(false);
    };
    if d.is_empty() && !send_empty {
        println!("subscription {}: nothing new, no digest", sub.id);
        return Ok(false);
    }
    let queued = store
        .enqueue_delivery(
            tenant,
            &NewDelivery {
                subscription_id: sub.id,
                delivery_key: d.key(),
                payload: d.to_payload(),
            },
        )
        .await?;
    match queued {
        Enqueued::Queued(_) => {
            println!(
                "subscription {}: digest queued ({} new)",
                sub.id,
                d.new.findings()
            );
            Ok(true)
        }
        Enqueued::Duplicate => {
            println!(
                "subscription {}: this period's digest is already queued",
                sub.id
            );
            Ok(false)
        }
    }
}

/// Each watched repository's packages, from its checkout; what could not be read becomes a
/// note in the digest instead of a silent gap.
async fn read_stacks(
    store: &Store,
    tenant: TenantId,
    tenant_name: &str,
) -> anyhow::Result<(Stacks, Vec<String>)> {
    let mut stacks = Stacks::new();
    let mut notes = Vec::new();
    for repo in store.list_repos(tenant).await? {
        let name = display_name(&repo);
        let dir = match scan_dir(tenant_name, &repo) {
            Ok((_, dir)) if dir.is_dir() => dir,
            _ => {
                notes.push(format!(
                    "{name}: no checkout to read its packages from; announcements for it are left out"
                ));
                continue;
            }
        };
        match digest::stack::packages(&dir) {
            Ok(packages) => {
                stacks.insert(name, packages);
            }
            Err(_) => notes.push(format!(
                "{name}: its packages could not be read; announcements for it are left out"
            )),
        }
    }
    Ok((stacks, notes))
}
