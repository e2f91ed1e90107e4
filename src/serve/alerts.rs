//! The 3am failure: nobody reads logs at night, so when a source has not succeeded for twice
//! its crawl interval, or the outbox holds dead letters, the operator gets one email per
//! condition per day (through SMTP, not through the outbox that may be what is failing), and
//! `ecowatch_operator_condition` shows it.

use super::config::{Job, ServeConfig};
use super::jobs::JobContext;
use super::metrics::Metrics;
use crate::notify::smtp::{Mailer, SendError};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// How often the conditions are looked at.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);

/// Why a condition holds, for the email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Stable id (`source-stale:osv`, `dead-letters`): the dedup key and the metric label.
    pub id: String,
    pub detail: String,
}

/// The conditions that hold now.
pub async fn conditions(
    ctx: &JobContext,
    config: &ServeConfig,
    now: DateTime<Utc>,
) -> Result<Vec<Condition>, String> {
    let mut found = Vec::new();
    if let Some(interval) = config
        .schedule(Job::Crawl)
        .and_then(|crawl| crawl.interval_after(now, config.timezone))
    {
        let limit = interval * 2;
        let sources = ctx
            .store
            .list_sources()
            .await
            .map_err(|e| format!("cannot read sources: {e}"))?;
        for source in sources {
            let stale = match source.last_success_at {
                Some(at) => now - at > limit,
                // Never succeeded: stale once it has failed.
                None => source.last_error_at.is_some(),
            };
            if stale {
                let since = source
                    .last_success_at
                    .map_or("never".to_string(), |at| at.to_rfc3339());
                found.push(Condition {
                    id: format!("source-stale:{}", source.id),
                    detail: format!(
                        "source `{}` has not crawled successfully for more than twice its \
                         interval ({}s); last success: {since}; last error: {}",
                        source.id,
                        interval.num_seconds(),
                        source.last_error.as_deref().unwrap_or("-")
                    ),
                });
            }
        }
    }
    let mut dead = 0;
    for tenant in ctx.tenants().await.map_err(|e| e.to_string())? {
        let counts = ctx
            .store
            .delivery_counts(tenant.id)
            .await
            .map_err(|e| format!("cannot count deliveries: {e}"))?;
        dead += counts
            .iter()
            .filter(|(status, _)| status == "dead")
            .map(|(_, n)| n)
            .sum::<i64>();
    }
    if dead > 0 {
        found.push(Condition {
            id: "dead-letters".into(),
            detail: format!(
                "{dead} deliveries failed for good; see `ecowatch deliveries list --dead` and \
                 `ecowatch deliveries redrive ID`"
            ),
        });
    }
    Ok(found)
}

/// Looks every [`CHECK_EVERY`] until `shutdown`, alerting at most once per condition per day.
pub async fn watch(
    ctx: JobContext,
    config: std::sync::Arc<ServeConfig>,
    metrics: std::sync::Arc<Metrics>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        check(&ctx, &config, &metrics).await;
        tokio::select! {
            () = tokio::time::sleep(CHECK_EVERY) => {}
            _ = shutdown.changed() => {}
        }
    }
}

async fn check(ctx: &JobContext, config: &ServeConfig, metrics: &Metrics) {
    let now = Utc::now();
    let found = match conditions(ctx, config, now).await {
        Ok(found) => found,
        Err(err) => {
            eprintln!("serve: operator check: {err}");
            return;
        }
    };
    let ids: Vec<String> = found.iter().map(|c| c.id.clone()).collect();
    metrics.set_conditions(&ids);
    let Some(to) = &config.operator_email else {
        return;
    };
    let today = now.date_naive();
    for condition in found {
        match ctx.store.claim_operator_alert(&condition.id, today).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(err) => {
                eprintln!("serve: operator alert {}: {err}", condition.id);
                continue;
            }
        }
        match send(ctx, to, &condition).await {
            Ok(()) => {
                metrics.alert_sent(&condition.id);
                eprintln!("serve: operator alert {}: sent", condition.id);
            }
            Err(err) => {
                eprintln!("serve: operator alert {}: not sent: {err}", condition.id);
                // Give the day's claim back so the next check tries again.
                let _ = ctx.store.unclaim_operator_alert(&condition.id, today).await;
            }
        }
    }
}

async fn send(ctx: &JobContext, to: &str, condition: &Condition) -> Result<(), String> {
    let Some(config) = &ctx.email else {
        return Err(
            "no SMTP server is configured ([notify.email] smtp-url or ECOWATCH_SMTP_URL)".into(),
        );
    };
    let mailer = Mailer::new(config).map_err(describe)?;
    let message = build(&config.smtp.from, to, condition)?;
    mailer.send(message).await.map_err(describe)
}

fn describe(err: SendError) -> String {
    match err {
        SendError::Transient(m) | SendError::Permanent(m) => m,
    }
}

/// A plain-text email; the condition id (it may carry a source id) loses CR/LF and is capped.
fn build(from: &str, to: &str, condition: &Condition) -> Result<lettre::Message, String> {
    let clean = |text: &str, max: usize| -> String {
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(max)
            .collect()
    };
    lettre::Message::builder()
        .from(
            from.parse()
                .map_err(|_| "invalid sender address".to_string())?,
        )
        .to(to
            .parse()
            .map_err(|_| "invalid operator-email".to_string())?)
        .subject(format!(
            "[ecowatch] needs attention: {}",
            clean(&condition.id, 120)
        ))
        .body(format!(
            "{}\n\nThis alert is sent at most once a day per condition.\n",
            clean(&condition.detail, 2000)
        ))
        .map_err(|e| format!("cannot build the alert: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{SourceState, Store};

    #[tokio::test]
    async fn a_source_silent_for_twice_its_interval_is_a_condition_and_alerts_dedup_per_day() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("a.db"), false)
            .await
            .unwrap();
        let now = Utc::now();
        let source = |id: &str, hours: i64| SourceState {
            id: id.into(),
            kind: "osv".into(),
            url: None,
            cursor: None,
            watermark: None,
            etag: None,
            last_modified: None,
            last_success_at: Some(now - chrono::Duration::hours(hours)),
            last_error_at: None,
            last_error: Some("503\r\nBcc: x@evil".into()),
        };
        store.put_source(&source("fresh", 11)).await.unwrap();
        store.put_source(&source("stale", 13)).await.unwrap();
        let config = ServeConfig::from_tables(None, None).unwrap(); // crawl every 6 hours
        let ctx = JobContext::new(store.clone(), None, None);
        let found = conditions(&ctx, &config, now).await.unwrap();
        let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["source-stale:stale"]);
        let email = build("ecowatch@example.com", "ops@example.com", &found[0]).unwrap();
        let text = String::from_utf8(email.formatted()).unwrap();
        assert!(!text.contains("\nBcc:"), "{text}");

        let today = now.date_naive();
        assert!(
            store
                .claim_operator_alert("source-stale:stale", today)
                .await
                .unwrap()
        );
        assert!(
            !store
                .claim_operator_alert("source-stale:stale", today)
                .await
                .unwrap()
        );
        store
            .unclaim_operator_alert("source-stale:stale", today)
            .await
            .unwrap();
        assert!(
            store
                .claim_operator_alert("source-stale:stale", today)
                .await
                .unwrap()
        );
    }
}
