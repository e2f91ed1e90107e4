//! The relay: leases due outbox rows, sends each one outside any transaction, then records the
//! outcome under the lease's fencing token. Transient failures (SMTP 4xx, HTTP 429 and 5xx,
//! timeouts, refused connections) retry with exponential backoff and jitter, never sooner than
//! a receiver's `Retry-After`; permanent ones (SMTP 5xx, HTTP 3xx and 4xx), and running out of
//! attempts, make a dead letter that `ecowatch deliveries redrive` can make due again. A webhook
//! answering 410 Gone disables its subscription, and the tenant's email subscriptions are told
//! once.

use super::email;
use super::smtp::{Mailer, SendError};
use super::webhook::{WebhookError, WebhookSender};
use crate::http::ssrf;
use crate::store::{
    Channel, ClaimedDelivery, DeliveryOutcome, NewDelivery, Store, StoreError, Subscription,
    TenantId,
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

pub const ENV_BACKOFF_MS: &str = "ECOWATCH_RELAY_BACKOFF_MS";
pub const ENV_MAX_ATTEMPTS: &str = "ECOWATCH_RELAY_MAX_ATTEMPTS";

/// How the relay paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaySettings {
    /// How long a claim holds a row; a worker that has not finished by then is fenced out.
    pub lease: Duration,
    /// How many rows one run claims.
    pub batch: i64,
    /// Attempts before a transient failure becomes a dead letter.
    pub max_attempts: i64,
    /// The first retry's delay; each later one doubles it, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            lease: Duration::from_secs(300),
            batch: 100,
            max_attempts: 8,
            base_backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(6 * 3600),
        }
    }
}

impl RelaySettings {
    /// Defaults, with `ECOWATCH_RELAY_BACKOFF_MS` and `ECOWATCH_RELAY_MAX_ATTEMPTS` applied.
    pub fn from_env() -> Result<RelaySettings, String> {
        let mut settings = RelaySettings::default();
        if let Ok(ms) = std::env::var(ENV_BACKOFF_MS) {
            let ms: u64 = ms
                .parse()
                .map_err(|_| format!("{ENV_BACKOFF_MS} must be a number of milliseconds"))?;
            settings.base_backoff = Duration::from_millis(ms);
        }
        if let Ok(n) = std::env::var(ENV_MAX_ATTEMPTS) {
            settings.max_attempts = n
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("{ENV_MAX_ATTEMPTS} must be a whole number >= 1"))?;
        }
        Ok(settings)
    }

    /// The delay before retry number `attempts` (1 = after the first failure): doubling from
    /// `base_backoff`, capped, then a random point in its upper half so retries spread out.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let full = self
            .base_backoff
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.max_backoff);
        let half = full / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=jitter_ms))
    }
}

/// What one relay run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RelayCounts {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    /// Outcomes not recorded because another claim took the row meanwhile.
    pub fenced: usize,
    /// Webhook subscriptions disabled because their endpoint answered 410 Gone.
    pub disabled: usize,
    /// Deliveries for disabled subscriptions: dead without a send, and not counted as `dead`
    /// (nothing failed; the tenant was told when the endpoint went).
    pub dropped: usize,
}

impl std::ops::AddAssign for RelayCounts {
    fn add_assign(&mut self, other: RelayCounts) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.dead += other.dead;
        self.fenced += other.fenced;
        self.disabled += other.disabled;
        self.dropped += other.dropped;
    }
}

/// How the relay reaches subscribers. Email is optional, so a relay with only webhook
/// deliveries needs no SMTP settings; an email delivery without it waits (retried).
pub struct Channels {
    pub email: Option<EmailChannel>,
    pub webhooks: WebhookSender,
}

/// The SMTP transport and the sender address.
pub struct EmailChannel {
    pub mailer: Mailer,
    pub from: String,
}

/// Why one send failed, whatever the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth retrying, not before `retry_after` when the receiver said so.
    Transient {
        error: String,
        retry_after: Option<Duration>,
    },
    Permanent(String),
    /// The endpoint is gone for good: the delivery dies and the subscription is disabled.
    Gone(String),
}

impl From<SendError> for Failure {
    fn from(err: SendError) -> Failure {
        match err {
            SendError::Transient(error) => Failure::Transient {
                error,
                retry_after: None,
            },
            SendError::Permanent(error) => Failure::Permanent(error),
        }
    }
}

impl From<WebhookError> for Failure {
    fn from(err: WebhookError) -> Failure {
        match err {
            WebhookError::Transient {
                message,
                retry_after,
            } => Failure::Transient {
                error: message,
                retry_after,
            },
            WebhookError::Permanent(error) => Failure::Permanent(error),
            WebhookError::Gone(error) => Failure::Gone(error),
        }
    }
}

/// Relays every tenant's due deliveries once, tenant by tenant.
pub async fn run_all_tenants(
    store: &Store,
    channels: &Channels,
    settings: &RelaySettings,
) -> Result<RelayCounts, StoreError> {
    let mut counts = RelayCounts::default();
    for tenant in store.list_tenants().await? {
        counts += run_once(store, tenant.id, channels, settings).await?;
    }
    Ok(counts)
}

/// Claims the tenant's due deliveries once and sends them.
pub async fn run_once(
    store: &Store,
    tenant: TenantId,
    channels: &Channels,
    settings: &RelaySettings,
) -> Result<RelayCounts, StoreError> {
    let subscriptions: HashMap<i64, Subscription> = store
        .list_subscriptions(tenant)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut disabled: HashMap<i64, String> = store
        .subscription_states(tenant)
        .await?
        .into_iter()
        .filter_map(|s| {
            s.disabled_at?;
            Some((s.id, s.disabled_reason.unwrap_or_default()))
        })
        .collect();
    let now = Utc::now();
    let lease_until = now + chrono::Duration::from_std(settings.lease).unwrap_or_default();
    let claimed = store
        .claim_due_deliveries(tenant, now, lease_until, settings.batch)
        .await?;
    let mut counts = RelayCounts::default();
    for delivery in claimed {
        let subscription = subscriptions.get(&delivery.subscription_id);
        let dropped = disabled.contains_key(&delivery.subscription_id);
        // The claim is committed: the send happens outside any transaction.
        let result = match disabled.get(&delivery.subscription_id) {
            Some(reason) => Err(Failure::Permanent(format!(
                "the subscription is disabled: {reason}"
            ))),
            None => {
                let secret = match subscription {
                    Some(s) if s.channel == Channel::Webhook => {
                        store.signing_secret(tenant, s.id).await?
                    }
                    _ => None,
                };
                send_one(tenant, &delivery, subscription, channels, secret.as_deref()).await
            }
        };
        let gone = match &result {
            Err(Failure::Gone(reason)) => Some(reason.clone()),
            _ => None,
        };
        let outcome = outcome_of(result, &delivery, settings, Utc::now());
        match &outcome {
            DeliveryOutcome::Sent { .. } => counts.sent += 1,
            DeliveryOutcome::Retry { .. } => counts.retried += 1,
            DeliveryOutcome::Dead { .. } if dropped => counts.dropped += 1,
            DeliveryOutcome::Dead { .. } => counts.dead += 1,
        }
        if !store
            .finish_delivery(tenant, delivery.id, delivery.fence, &outcome)
            .await?
        {
            counts.fenced += 1;
        }
        if let (Some(reason), Some(subscription)) = (gone, subscription) {
            let notices = disabled_notices(subscription, &reason, &subscriptions, &disabled);
            if store
                .disable_subscription(tenant, subscription.id, &reason, Utc::now(), &notices)
                .await?
            {
                counts.disabled += 1;
            }
            disabled.insert(subscription.id, reason);
        }
    }
    Ok(counts)
}

async fn send_one(
    tenant: TenantId,
    delivery: &ClaimedDelivery,
    subscription: Option<&Subscription>,
    channels: &Channels,
    secret: Option<&str>,
) -> Result<(), Failure> {
    let Some(subscription) = subscription else {
        return Err(Failure::Permanent("the subscription is gone".into()));
    };
    match subscription.channel {
        Channel::Email => send_email(tenant, delivery, subscription, channels.email.as_ref()).await,
        Channel::Slack | Channel::Discord | Channel::Webhook => Ok(channels
            .webhooks
            .send(
                subscription.channel,
                &subscription.target,
                &delivery.delivery_key,
                &delivery.payload,
                secret,
            )
            .await?),
    }
}

async fn send_email(
    tenant: TenantId,
    delivery: &ClaimedDelivery,
    subscription: &Subscription,
    email: Option<&EmailChannel>,
) -> Result<(), Failure> {
    let Some(EmailChannel { mailer, from }) = email else {
        return Err(Failure::Transient {
            error: format!(
                "SMTP is not configured ({} is not set)",
                super::email_config::ENV_URL
            ),
            retry_after: None,
        });
    };
    // A finding alert or a digest, by the payload's kind, with the subscriber's unsubscribe link.
    let unsubscribe = mailer
        .unsubscribe()
        .map(|u| u.link(tenant, subscription.id));
    let message = email::for_delivery(
        from,
        &subscription.target,
        &delivery.delivery_key,
        &delivery.payload,
        unsubscribe.as_ref(),
    )
    .map_err(|e| SendError::Permanent(e.to_string()))?;
    Ok(mailer.send(message).await?)
}

/// The one-time notices that `gone` was disabled: one per active email subscription of the
/// tenant, each keyed `disabled:{gone}:{recipient}` so no recipient is told twice.
fn disabled_notices(
    gone: &Subscription,
    reason: &str,
    subscriptions: &HashMap<i64, Subscription>,
    disabled: &HashMap<i64, String>,
) -> Vec<NewDelivery> {
    let mut recipients: Vec<&Subscription> = subscriptions
        .values()
        .filter(|s| s.channel == Channel::Email && !disabled.contains_key(&s.id))
        .collect();
    recipients.sort_by_key(|s| s.id);
    let payload = disabled_notice_payload(gone, reason);
    recipients
        .into_iter()
        .map(|to| NewDelivery {
            subscription_id: to.id,
            delivery_key: format!("disabled:{}:{}", gone.id, to.id),
            payload: payload.clone(),
        })
        .collect()
}

/// What the notice says, in the fields an alert email shows. The URL is shown as
/// scheme://host/... only: a Slack or Discord webhook's path is its secret.
fn disabled_notice_payload(gone: &Subscription, reason: &str) -> Value {
    let url = ssrf::redact(&gone.target).replace('…', "...");
    json!({
        "kind": "subscription_disabled",
        "repo": "ecowatch",
        "severity": "notice",
        "title": format!("{} subscription {} disabled", gone.channel.as_str(), gone.id),
        "rule_id": "endpoint-disabled",
        "path": url,
        "message": format!(
            "ecowatch stopped sending to {} subscription {} ({}): {reason}. It will not be \
             sent to again; subscribe the new address with `ecowatch subscribe --webhook URL`.",
            gone.channel.as_str(),
            gone.id,
            url,
        ),
        "subscription_id": gone.id,
    })
}

/// Sent, retried later, or dead, by the send's result and the attempts so far. A transient
/// failure waits the longer of the backoff and the receiver's `Retry-After`.
pub fn outcome_of(
    result: Result<(), impl Into<Failure>>,
    delivery: &ClaimedDelivery,
    settings: &RelaySettings,
    now: DateTime<Utc>,
) -> DeliveryOutcome {
    match result.map_err(Into::into) {
        Ok(()) => DeliveryOutcome::Sent { at: now },
        Err(Failure::Permanent(error) | Failure::Gone(error)) => DeliveryOutcome::Dead { error },
        Err(Failure::Transient { error, .. }) if delivery.attempts >= settings.max_attempts => {
            DeliveryOutcome::Dead {
                error: format!("gave up after {} attempts: {error}", delivery.attempts),
            }
        }
        Err(Failure::Transient { error, retry_after }) => {
            let wait = settings
                .backoff(delivery.attempts)
                .max(retry_after.unwrap_or_default());
            DeliveryOutcome::Retry {
                error,
                next_attempt_at: now + chrono::Duration::from_std(wait).unwrap_or_default(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claimed(attempts: i64) -> ClaimedDelivery {
        ClaimedDelivery {
            id: 1,
            subscription_id: 1,
            delivery_key: "k".into(),
            payload: json!({}),
            attempts,
            fence: attempts,
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let settings = RelaySettings::default();
        for attempts in 1..=4 {
            let full = Duration::from_secs(60 * 2u64.pow(attempts as u32 - 1));
            let delay = settings.backoff(attempts);
            assert!(delay >= full / 2 && delay <= full, "{attempts}: {delay:?}");
        }
        assert!(settings.backoff(1000) <= settings.max_backoff);
        let zero = RelaySettings {
            base_backoff: Duration::ZERO,
            ..RelaySettings::default()
        };
        assert_eq!(zero.backoff(5), Duration::ZERO);
    }

    #[test]
    fn transient_failures_retry_until_attempts_run_out_and_permanent_ones_die() {
        let settings = RelaySettings::default();
        let now = Utc::now();
        let retry = outcome_of(
            Err(SendError::Transient("451".into())),
            &claimed(1),
            &settings,
            now,
        );
        assert!(
            matches!(retry, DeliveryOutcome::Retry { next_attempt_at, .. } if next_attempt_at > now)
        );
        let exhausted = outcome_of(
            Err(SendError::Transient("451".into())),
            &claimed(settings.max_attempts),
            &settings,
            now,
        );
        assert!(matches!(exhausted, DeliveryOutcome::Dead { error } if error.contains("gave up")));
        let dead = outcome_of(
            Err(SendError::Permanent("550".into())),
            &claimed(1),
            &settings,
            now,
        );
        assert_eq!(
            dead,
            DeliveryOutcome::Dead {
                error: "550".into()
            }
        );
        assert_eq!(
            outcome_of(Ok::<(), SendError>(()), &claimed(1), &settings, now),
            DeliveryOutcome::Sent { at: now }
        );
    }

    #[test]
    fn retry_after_wins_over_a_shorter_backoff_and_gone_is_dead_at_once() {
        let settings = RelaySettings {
            base_backoff: Duration::ZERO,
            ..RelaySettings::default()
        };
        let now = Utc::now();
        let limited = outcome_of(
            Err(WebhookError::Transient {
                message: "HTTP 429".into(),
                retry_after: Some(Duration::from_secs(30)),
            }),
            &claimed(1),
            &settings,
            now,
        );
        assert_eq!(
            limited,
            DeliveryOutcome::Retry {
                error: "HTTP 429".into(),
                next_attempt_at: now + chrono::Duration::seconds(30),
            }
        );
        assert_eq!(
            outcome_of(
                Err(WebhookError::Gone("endpoint gone (HTTP 410)".into())),
                &claimed(1),
                &settings,
                now
            ),
            DeliveryOutcome::Dead {
                error: "endpoint gone (HTTP 410)".into()
            }
        );
    }

    #[test]
    fn the_disabled_notice_goes_once_to_each_active_email_subscription_without_the_secret_path() {
        let sub = |id: i64, channel: Channel, target: &str| Subscription {
            id,
            channel,
            target: target.into(),
            filter: json!({}),
            created_at: Utc::now(),
        };
        let gone = sub(
            1,
            Channel::Slack,
            "https://hooks.slack.com/services/T/B/secret",
        );
        let subscriptions: HashMap<i64, Subscription> = [
            gone.clone(),
            sub(2, Channel::Email, "a@example.test"),
            sub(3, Channel::Email, "b@example.test"),
            sub(4, Channel::Discord, "https://discord.com/api/webhooks/1/x"),
            sub(5, Channel::Email, "old@example.test"),
        ]
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
        let disabled = HashMap::from([(5, "gone".to_string())]);
        let notices =
            disabled_notices(&gone, "endpoint gone (HTTP 410)", &subscriptions, &disabled);
        let keys: Vec<(i64, &str)> = notices
            .iter()
            .map(|n| (n.subscription_id, n.delivery_key.as_str()))
            .collect();
        assert_eq!(keys, [(2, "disabled:1:2"), (3, "disabled:1:3")]);
        let text = notices[0].payload.to_string();
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("https://hooks.slack.com/..."), "{text}");
    }
}
