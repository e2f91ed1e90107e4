//! What a subscription carries besides its filter: whether its endpoint was disabled (a webhook
//! that answered 410 Gone), and a signed webhook's secret. Kept out of [`super::Subscription`]
//! so listings and the API never carry the secret by accident.
//!
//! Every method runs in the tenant's transaction (on PostgreSQL one that sets `app.tenant_id`,
//! so row-level security holds), written once for both backends by [`tenant_tx`].

use super::types::{SubscriptionRow, subscription_from_row};
use super::{NewDelivery, NewSubscription, Store, StoreError, Subscription, TenantId};
use chrono::{DateTime, Utc};
use sqlx::types::Json;

const CREATE_SIGNED_SUBSCRIPTION: &str = "INSERT INTO subscriptions \
     (tenant_id, channel, target, filter, signing_secret) VALUES ($1, $2, $3, $4, $5) \
     RETURNING id, channel, target, filter, created_at";

const SIGNING_SECRET: &str =
    "SELECT signing_secret FROM subscriptions WHERE tenant_id = $1 AND id = $2";

const SUBSCRIPTION_STATES: &str = "SELECT id, disabled_at, disabled_reason \
     FROM subscriptions WHERE tenant_id = $1 ORDER BY id";

/// Disables once: a second 410 (another relay, a redriven delivery) changes nothing.
const DISABLE_SUBSCRIPTION: &str = "UPDATE subscriptions SET disabled_at = $3, disabled_reason = $4 \
     WHERE tenant_id = $1 AND id = $2 AND disabled_at IS NULL";

/// The subscription's other queued deliveries die with the reason; rows another relay holds a
/// live lease on are left to it (it checks the subscription before sending).
const KILL_PENDING_DELIVERIES: &str = "UPDATE deliveries SET status = 'dead', last_error = $4, \
     lease_until = NULL WHERE tenant_id = $1 AND subscription_id = $2 AND status = 'pending' \
     AND (lease_until IS NULL OR lease_until <= $3)";

const ENQUEUE_NOTICE: &str = "INSERT INTO deliveries \
     (tenant_id, subscription_id, delivery_key, payload) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (tenant_id, delivery_key) DO NOTHING";

/// Whether a subscription is still sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub id: i64,
    /// When its endpoint was disabled; `None` while it is active.
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
}

impl SubscriptionState {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

impl Store {
    /// [`Store::create_subscription`] with a signing secret, in one statement, so a signed
    /// webhook never exists without its secret.
    pub async fn create_signed_subscription(
        &self,
        tenant: TenantId,
        s: &NewSubscription,
        secret: &str,
    ) -> Result<Subscription, StoreError> {
        let row: SubscriptionRow = tenant_tx!(self, tenant, |tx| {
            sqlx::query_as(CREATE_SIGNED_SUBSCRIPTION)
                .bind(tenant.get())
                .bind(s.channel.as_str())
                .bind(&s.target)
                .bind(Json(&s.filter))
                .bind(secret)
                .fetch_one(&mut *tx)
                .await?
        });
        subscription_from_row(row)
    }

    /// The subscription's signing secret; `None` when it has none (or is not the tenant's).
    pub async fn signing_secret(
        &self,
        tenant: TenantId,
        subscription_id: i64,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = tenant_tx!(self, tenant, |tx| {
            sqlx::query_as(SIGNING_SECRET)
                .bind(tenant.get())
                .bind(subscription_id)
                .fetch_optional(&mut *tx)
                .await?
        });
        Ok(row.and_then(|(secret,)| secret))
    }

    /// Every subscription's state, by id.
    pub async fn subscription_states(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<SubscriptionState>, StoreError> {
        let rows: Vec<(i64, Option<DateTime<Utc>>, Option<String>)> =
            tenant_tx!(self, tenant, |tx| {
                sqlx::query_as(SUBSCRIPTION_STATES)
                    .bind(tenant.get())
                    .fetch_all(&mut *tx)
                    .await?
            });
        Ok(rows
            .into_iter()
            .map(|(id, disabled_at, disabled_reason)| SubscriptionState {
                id,
                disabled_at,
                disabled_reason,
            })
            .collect())
    }

    /// Disables a subscription whose endpoint is gone, in one transaction: marks it, kills its
    /// other queued deliveries with `reason`, and queues `notices` (keys already queued are
    /// skipped). `false`, and nothing written, when it was already disabled or is not the
    /// tenant's: the tenant is told once.
    pub async fn disable_subscription(
        &self,
        tenant: TenantId,
        subscription_id: i64,
        reason: &str,
        now: DateTime<Utc>,
        notices: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let disabled = tenant_tx!(self, tenant, |tx| {
            let marked = sqlx::query(DISABLE_SUBSCRIPTION)
                .bind(tenant.get())
                .bind(subscription_id)
                .bind(now)
                .bind(reason)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if marked > 0 {
                sqlx::query(KILL_PENDING_DELIVERIES)
                    .bind(tenant.get())
                    .bind(subscription_id)
                    .bind(now)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?;
                for notice in notices {
                    sqlx::query(ENQUEUE_NOTICE)
                        .bind(tenant.get())
                        .bind(notice.subscription_id)
                        .bind(&notice.delivery_key)
                        .bind(Json(&notice.payload))
                        .execute(&mut *tx)
                        .await?;
                }
            }
            marked > 0
        });
        Ok(disabled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_names_the_tenant() {
        for sql in [
            SIGNING_SECRET,
            SUBSCRIPTION_STATES,
            DISABLE_SUBSCRIPTION,
            KILL_PENDING_DELIVERIES,
        ] {
            assert!(sql.contains("WHERE tenant_id = $1"), "{sql}");
        }
    }
}
