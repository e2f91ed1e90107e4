//! `ecowatch subscribe`, `unsubscribe` and `subscriptions`: who hears about new findings.

use super::EXIT_OK;
use super::watch::{Scope, with_store};
use crate::http::ssrf::{self, SsrfPolicy};
use crate::notify::subscription::{AlertFilter, Cadence, SEVERITIES, validate_email};
use crate::notify::webhook::standard::SigningSecret;
use crate::store::{Channel, NewSubscription, StoreError, Subscription};
use anyhow::{Context, anyhow, bail};

/// Email an address, or post to a Slack, Discord or signed JSON webhook, when `rescan` finds
/// something new.
///
/// Webhook URLs must be https and must not point at loopback, private, link-local or metadata
/// addresses (checked now and again before every send). For a receiver on this machine or
/// your network set ECOWATCH_ALLOW_PRIVATE_URLS=1 (and ECOWATCH_ALLOW_HTTP_URLS=1 for http).
/// A `--kind json` webhook is signed per the Standard Webhooks spec; its secret (whsec_...) is
/// printed once, here.
///
/// Examples:
///   ecowatch subscribe --email dev@example.com --cadence immediate
///   ecowatch subscribe --email sec@example.com --repo api --min-severity high --tenant acme
///   ecowatch subscribe --webhook https://hooks.slack.com/services/T/B/X --kind slack
///   ecowatch subscribe --webhook https://ci.example.com/hooks/ecowatch --kind json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["email", "webhook"])))]
pub struct SubscribeArgs {
    #[command(flatten)]
    scope: Scope,
    /// The address to send to (plain `local@domain`).
    #[arg(long, value_name = "ADDR")]
    email: Option<String>,
    /// The webhook URL to post to (needs --kind).
    #[arg(long, value_name = "URL", requires = "kind")]
    webhook: Option<String>,
    /// What the webhook is: a Slack or Discord incoming webhook, or signed generic JSON.
    #[arg(long, value_enum, requires = "webhook")]
    kind: Option<WebhookKind>,
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

/// The kinds of webhook `--kind` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WebhookKind {
    Slack,
    Discord,
    /// Generic JSON, signed per the Standard Webhooks spec.
    Json,
}

impl WebhookKind {
    fn channel(self) -> Channel {
        match self {
            WebhookKind::Slack => Channel::Slack,
            WebhookKind::Discord => Channel::Discord,
            WebhookKind::Json => Channel::Webhook,
        }
    }
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
    let (channel, target) = match (&args.email, &args.webhook, args.kind) {
        (Some(email), None, _) => {
            validate_email(email).context("--email")?;
            (Channel::Email, email.clone())
        }
        (None, Some(url), Some(kind)) => (kind.channel(), url.trim().to_string()),
        _ => bail!("give either --email ADDR or --webhook URL --kind slack|discord|json"),
    };
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
        if channel != Channel::Email {
            // The same guard runs again before every send (DNS can change meanwhile).
            ssrf::vet(&target, &SsrfPolicy::from_env())
                .await
                .map_err(|e| anyhow!("--webhook refused: {e}"))?;
        }
        let new = NewSubscription {
            channel,
            target: target.clone(),
            filter: filter.to_json(),
        };
        let (created, secret) = if channel == Channel::Webhook {
            let secret = SigningSecret::generate().context("cannot make a signing secret")?;
            let created = store
                .create_signed_subscription(tenant, &new, secret.expose())
                .await;
            (created, Some(secret))
        } else {
            (store.create_subscription(tenant, &new).await, None)
        };
        match created {
            Ok(sub) => {
                println!(
                    "subscription {}: {}",
                    sub.id,
                    describe(&display_target(&sub), &sub.filter)
                );
                if let Some(secret) = secret {
                    println!(
                        "signing secret (shown only now; the receiver verifies webhook-signature with it):\n{}",
                        secret.expose()
                    );
                }
                Ok(EXIT_OK)
            }
            Err(StoreError::Conflict(_)) => bail!(
                "`{}` is already subscribed",
                display_target(&Subscription {
                    id: 0,
                    channel,
                    target: target.clone(),
                    filter: serde_json::Value::Null,
                    created_at: chrono::Utc::now(),
                })
            ),
            Err(err) => Err(err.into()),
        }
    })
}

/// What listings show of a subscription's target: the address, or a webhook URL without what
/// makes it a secret (Slack's and Discord's path is the credential; any query may be too).
fn display_target(sub: &Subscription) -> String {
    match sub.channel {
        Channel::Email => sub.target.clone(),
        Channel::Slack | Channel::Discord => ssrf::redact(&sub.target),
        Channel::Webhook => match reqwest::Url::parse(&sub.target) {
            Ok(url) => {
                let host = url.host_str().unwrap_or("");
                let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
                let query = if url.query().is_some() { "?…" } else { "" };
                format!("{}://{host}{port}{}{query}", url.scheme(), url.path())
            }
            Err(_) => ssrf::redact(&sub.target),
        },
    }
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
        let disabled: std::collections::HashMap<i64, String> = store
            .subscription_states(tenant)
            .await?
            .into_iter()
            .filter_map(|s| {
                let at = s.disabled_at?;
                Some((
                    s.id,
                    format!(
                        " DISABLED since {}: {}",
                        at.format("%Y-%m-%d %H:%M UTC"),
                        s.disabled_reason.unwrap_or_default()
                    ),
                ))
            })
            .collect();
        for sub in subscriptions {
            println!(
                "{}\t{}\t{}{}",
                sub.id,
                sub.channel.as_str(),
                describe(&display_target(&sub), &sub.filter),
                disabled.get(&sub.id).map(String::as_str).unwrap_or("")
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
