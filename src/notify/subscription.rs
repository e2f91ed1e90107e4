//! What a subscriber asked for (repository, minimum severity, cadence), stored as the
//! subscription's JSON filter, and how a new finding becomes an outbox row for it.

use crate::store::{DueDelivery, FindingUpsert, NewDelivery, Subscription};
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
    /// (one email per finding for now; folding them into one digest is still to do).
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

/// The outbox rows a new finding in `repo` owes the tenant's matching subscriptions.
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
