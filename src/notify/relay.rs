//! The relay: leases due outbox rows, sends each one outside any transaction, then records the
//! outcome under the lease's fencing token. 4xx and connection failures retry with exponential
//! backoff and jitter; 5xx, and running out of attempts, make a dead letter that
//! `ecowatch deliveries redrive` can make due again.

use super::email;
use super::smtp::{Mailer, SendError};
use crate::store::{
    Channel, ClaimedDelivery, DeliveryOutcome, Store, StoreError, Subscription, TenantId,
};
use chrono::{DateTime, Utc};
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
}

/// Claims the tenant's due deliveries once and sends them.
pub async fn run_once(
    store: &Store,
    tenant: TenantId,
    mailer: &Mailer,
    from: &str,
    settings: &RelaySettings,
) -> Result<RelayCounts, StoreError> {
    let subscriptions: HashMap<i64, Subscription> = store
        .list_subscriptions(tenant)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let now = Utc::now();
    let lease_until = now + chrono::Duration::from_std(settings.lease).unwrap_or_default();
    let claimed = store
        .claim_due_deliveries(tenant, now, lease_until, settings.batch)
        .await?;
    let mut counts = RelayCounts::default();
    for delivery in claimed {
        // The claim is committed: the send happens outside any transaction.
        let result = send_one(
            tenant,
            &delivery,
            subscriptions.get(&delivery.subscription_id),
            mailer,
            from,
        )
        .await;
        let outcome = outcome_of(result, &delivery, settings, Utc::now());
        match &outcome {
            DeliveryOutcome::Sent { .. } => counts.sent += 1,
            DeliveryOutcome::Retry { .. } => counts.retried += 1,
            DeliveryOutcome::Dead { .. } => counts.dead += 1,
        }
        if !store
            .finish_delivery(tenant, delivery.id, delivery.fence, &outcome)
            .await?
        {
            counts.fenced += 1;
        }
    }
    Ok(counts)
}

async fn send_one(
    tenant: TenantId,
    delivery: &ClaimedDelivery,
    subscription: Option<&Subscription>,
    mailer: &Mailer,
    from: &str,
) -> Result<(), SendError> {
    let Some(subscription) = subscription else {
        return Err(SendError::Permanent("the subscription is gone".into()));
    };
    if subscription.channel != Channel::Email {
        return Err(SendError::Permanent(format!(
            "{} deliveries are not supported yet",
            subscription.channel.as_str()
        )));
    }
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
    mailer.send(message).await
}

/// Sent, retried later, or dead, by the send's result and the attempts so far.
pub fn outcome_of(
    result: Result<(), SendError>,
    delivery: &ClaimedDelivery,
    settings: &RelaySettings,
    now: DateTime<Utc>,
) -> DeliveryOutcome {
    match result {
        Ok(()) => DeliveryOutcome::Sent { at: now },
        Err(SendError::Permanent(error)) => DeliveryOutcome::Dead { error },
        Err(SendError::Transient(error)) if delivery.attempts >= settings.max_attempts => {
            DeliveryOutcome::Dead {
                error: format!("gave up after {} attempts: {error}", delivery.attempts),
            }
        }
        Err(SendError::Transient(error)) => DeliveryOutcome::Retry {
            error,
            next_attempt_at: now
                + chrono::Duration::from_std(settings.backoff(delivery.attempts))
                    .unwrap_or_default(),
        },
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
            outcome_of(Ok(()), &claimed(1), &settings, now),
            DeliveryOutcome::Sent { at: now }
        );
    }
}
