//! What a subscriber asked for (repository, minimum severity, cadence), stored as the
//! subscription's JSON filter, and how a new finding becomes an outbox row for it.

use crate::store::{Channel, DueDelivery, FindingUpsert, NewDelivery, Subscription};
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Severities from least to most urgent, as findings spell them.
pub const SEVERITIES: &[&str] = &["info", "low", "medium", "high", "critical"];

/// How soon a subscriber hears about a new finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum Cadence {
    /// As soon as the relay runs after the rescan.
    Immediate,
    /// At the next midnight UTC.
    Daily,
    /// At the next Monday, midnight UTC.
    #[default]
    Weekly,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Immediate => "immediate",
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
        }
    }

    /// When a delivery queued at `now` is due. Daily and weekly ones wait for the period's end
    /// (webhook subscriptions; email ones get a digest instead, see [`Cadence::sends_digest`]).
    pub fn due_at(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let midnight = |days: i64| {
            (now.date_naive() + Duration::days(days))
                .and_time(NaiveTime::MIN)
                .and_utc()
        };
        match self {
            Cadence::Immediate => now,
            Cadence::Daily => midnight(1),
            Cadence::Weekly => midnight(7 - i64::from(now.weekday().num_days_from_monday())),
        }
    }
}

impl Cadence {
    /// The start of the period holding `now`: midnight UTC (daily), Monday midnight UTC
    /// (weekly), `now` itself (immediate). One digest goes out per period.
    pub fn period_start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let days_back = match self {
            Cadence::Immediate => return now,
            Cadence::Daily => 0,
            Cadence::Weekly => i64::from(now.weekday().num_days_from_monday()),
        };
        (now.date_naive() - Duration::days(days_back))
            .and_time(NaiveTime::MIN)
            .and_utc()
    }

    /// How long one period is (what a first digest looks back over).
    pub fn period_length(self) -> Duration {
        match self {
            Cadence::Immediate => Duration::zero(),
            Cadence::Daily => Duration::days(1),
            Cadence::Weekly => Duration::days(7),
        }
    }
}

/// Whether `subscription` gets one digest email per period instead of one email per finding:
/// email with a daily or weekly cadence. (Webhooks keep one message per finding, due at the
/// period's end.)
pub fn sends_digest(subscription: &Subscription, filter: &AlertFilter) -> bool {
    subscription.channel == Channel::Email && filter.cadence != Cadence::Immediate
}

/// The outbox key of `subscription_id`'s digest for the period starting at `period_start`:
/// queued at most once, however often `ecowatch digest --send` runs.
pub fn digest_key(subscription_id: i64, period_start: DateTime<Utc>) -> String {
    format!(
        "digest:{subscription_id}:{}",
        period_start.format("%Y-%m-%d")
    )
}

/// A subscription's filter: which findings, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AlertFilter {
    /// Only this watched repository (by name); every repository when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The least severity that is sent (`info` sends everything).
    #[serde(default = "default_severity")]
    pub min_severity: String,
    #[serde(default)]
    pub cadence: Cadence,
}

fn default_severity() -> String {
    "info".into()
}

impl AlertFilter {
    /// Reads a stored filter; `None` for one this version does not understand (never sent to).
    pub fn from_json(value: &Value) -> Option<AlertFilter> {
        let filter: AlertFilter = serde_json::from_value(value.clone()).ok()?;
        severity_rank(&filter.min_severity)?;
        Some(filter)
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }

    /// Whether a finding in `repo` with `severity` is for this subscriber. An unknown severity
    /// is sent (better one email too many than a silent miss).
    pub fn matches(&self, repo: &str, severity: &str) -> bool {
        if self.repo.as_deref().is_some_and(|wanted| wanted != repo) {
            return false;
        }
        match (severity_rank(severity), severity_rank(&self.min_severity)) {
            (Some(have), Some(want)) => have >= want,
            _ => true,
        }
    }
}

/// 0 for `info` up to 4 for `critical`; `None` for anything else.
pub fn severity_rank(severity: &str) -> Option<usize> {
    SEVERITIES.iter().position(|s| *s == severity)
}

/// Why an email address was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddressError {
    #[error("an email address has 3 to 254 characters")]
    Length,
    #[error("an email address cannot contain control characters, spaces or angle brackets")]
    Forbidden,
    #[error("an email address has exactly one `@` with text on both sides")]
    Shape,
}

/// A plain `local@domain` address: no display name, no CR/LF (header injection), one `@`.
pub fn validate_email(address: &str) -> Result<(), AddressError> {
    if address.len() < 3 || address.len() > 254 {
        return Err(AddressError::Length);
    }
    if address
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';'))
    {
        return Err(AddressError::Forbidden);
    }
    match address.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => Err(AddressError::Shape),
    }
}

/// The outbox key for telling `subscription` about `fingerprint`. The same finding fixed and
/// found again has the same key, so its subscriber is not told twice ("never twice" wins over
/// "tell me again"; a regression alert would need its own key, e.g. with the scan date).
pub fn delivery_key(subscription_id: i64, fingerprint: &str) -> String {
    format!("finding:{subscription_id}:{fingerprint}")
}

/// The outbox rows a new finding in `repo` owes the tenant's matching subscriptions. Digest
/// subscribers ([`sends_digest`]) are owed nothing here: `ecowatch digest --send` tells them.
pub fn deliveries_for(
    subscriptions: &[Subscription],
    repo: &str,
    finding: &FindingUpsert,
    now: DateTime<Utc>,
) -> Vec<DueDelivery> {
    subscriptions
        .iter()
        .filter_map(|sub| {
            let filter = AlertFilter::from_json(&sub.filter)?;
            if sends_digest(sub, &filter) {
                return None;
            }
            filter
                .matches(repo, &finding.severity)
                .then(|| DueDelivery {
                    delivery: NewDelivery {
                        subscription_id: sub.id,
                        delivery_key: delivery_key(sub.id, &finding.fingerprint),
                        payload: payload(repo, finding),
                    },
                    due_at: filter.cadence.due_at(now),
                })
        })
        .collect()
}

/// What the email says, frozen at the time of the finding (the relay does not re-read it).
fn payload(repo: &str, finding: &FindingUpsert) -> Value {
    json!({
        "kind": "finding",
        "repo": repo,
        "fingerprint": finding.fingerprint,
        "rule_id": finding.rule_id,
        "severity": finding.severity,
        "title": finding.title,
        "path": finding.path,
        "line": finding.line,
        "message": finding.details.get("message").and_then(Value::as_str),
        // Where it was learned (the discussion, advisory or changelog), for the reader to follow.
        "references": finding.details.get("references").cloned().unwrap_or_else(|| json!([])),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn addresses_with_line_breaks_or_two_ats_are_refused() {
        assert_eq!(validate_email("dev@example.com"), Ok(()));
        assert_eq!(
            validate_email("dev@example.com\r\nBcc: x@evil"),
            Err(AddressError::Forbidden)
        );
        assert_eq!(validate_email("a@b@c"), Err(AddressError::Shape));
        assert_eq!(validate_email("@example.com"), Err(AddressError::Shape));
        assert_eq!(validate_email("dev@"), Err(AddressError::Shape));
        assert_eq!(validate_email("no-at-sign"), Err(AddressError::Shape));
        assert_eq!(
            validate_email("Dev <dev@x.y>"),
            Err(AddressError::Forbidden)
        );
        assert_eq!(validate_email(""), Err(AddressError::Length));
    }

    #[test]
    fn filter_matches_repository_and_minimum_severity() {
        let filter = AlertFilter {
            repo: Some("api".into()),
            min_severity: "medium".into(),
            cadence: Cadence::Immediate,
        };
        assert!(filter.matches("api", "high"));
        assert!(filter.matches("api", "medium"));
        assert!(!filter.matches("api", "low"));
        assert!(!filter.matches("web", "critical"));
        assert!(filter.matches("api", "something-new"));
    }

    #[test]
    fn stored_filters_round_trip_and_unknown_severities_are_refused() {
        let filter = AlertFilter {
            repo: None,
            min_severity: "high".into(),
            cadence: Cadence::Daily,
        };
        assert_eq!(AlertFilter::from_json(&filter.to_json()), Some(filter));
        assert_eq!(
            AlertFilter::from_json(&json!({"min_severity": "urgent"})),
            None
        );
        assert_eq!(
            AlertFilter::from_json(&json!({})).map(|f| f.cadence),
            Some(Cadence::Weekly)
        );
    }

    #[test]
    fn periods_start_at_midnight_and_on_mondays() {
        // A Wednesday afternoon; the week began on Monday 2026-06-01.
        let now = Utc.with_ymd_and_hms(2026, 6, 3, 15, 30, 0).unwrap();
        assert_eq!(
            Cadence::Weekly.period_start(now),
            Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            Cadence::Daily.period_start(now),
            Utc.with_ymd_and_hms(2026, 6, 3, 0, 0, 0).unwrap()
        );
        assert_eq!(
            digest_key(4, Cadence::Weekly.period_start(now)),
            "digest:4:2026-06-01"
        );
    }

    #[test]
    fn digest_subscribers_get_no_per_finding_email() {
        let sub = |id: i64, channel: Channel, cadence: Cadence| Subscription {
            id,
            channel,
            target: "x".into(),
            filter: AlertFilter {
                repo: None,
                min_severity: "info".into(),
                cadence,
            }
            .to_json(),
            created_at: Utc::now(),
        };
        let subs = [
            sub(1, Channel::Email, Cadence::Weekly),
            sub(2, Channel::Email, Cadence::Immediate),
            sub(3, Channel::Slack, Cadence::Daily),
        ];
        let finding = FindingUpsert {
            repo_id: 1,
            fingerprint: "f".into(),
            rule_id: "r".into(),
            severity: "high".into(),
            title: "t".into(),
            path: None,
            line: None,
            status: crate::store::FindingStatus::New,
            seen_at: Utc::now(),
            details: json!({}),
        };
        let ids: Vec<i64> = deliveries_for(&subs, "api", &finding, Utc::now())
            .iter()
            .map(|d| d.delivery.subscription_id)
            .collect();
        assert_eq!(ids, vec![2, 3]);
    }

    #[test]
    fn cadences_wait_for_the_end_of_their_period() {
        // A Wednesday afternoon.
        let now = Utc.with_ymd_and_hms(2026, 6, 3, 15, 30, 0).unwrap();
        assert_eq!(Cadence::Immediate.due_at(now), now);
        assert_eq!(
            Cadence::Daily.due_at(now),
            Utc.with_ymd_and_hms(2026, 6, 4, 0, 0, 0).unwrap()
        );
        assert_eq!(
            Cadence::Weekly.due_at(now),
            Utc.with_ymd_and_hms(2026, 6, 8, 0, 0, 0).unwrap()
        );
    }
}
