//! The daily or weekly digest: one email per subscriber and period instead of one per finding.
//!
//! Per subscription (its repository and severity filter applied), it holds:
//! - what is new since the subscriber's last digest, grouped by upstream event across
//!   repositories ([`group`]);
//! - what is still open at high or critical severity;
//! - sunset countdowns, from the dates scans write into findings' messages;
//! - new announcements: notices modified since the last digest (not advisories, which are
//!   version-gated and arrive as findings when they apply) for packages in the stack of the
//!   subscriber's repositories, read from their checkouts, with no code match needed;
//! - a warning for every knowledge source that has been failing, or has not succeeded for more
//!   than two days, so a quiet digest is never mistaken for "nothing happened".
//!
//! The digest is assembled when it is queued and frozen in the outbox payload, so a retry sends
//! exactly what the first attempt would have. "The last digest" is the newest *sent* one: a
//! digest that never went out does not hide its findings from the next.

pub mod group;
pub mod render;
pub mod stack;

use super::email::inert;
use super::subscription::{AlertFilter, Cadence, digest_key, severity_rank};
use crate::config::Config;
use crate::ecosystem::Ecosystem;
use crate::store::{
    Finding, FindingFilter, FindingStatus, Notice, NoticeKind, SourceState, Store, StoreError,
    Subscription, TenantId,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use group::{Section, group};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A source with no success for this long is called stale.
pub const STALE_AFTER_DAYS: i64 = 2;
/// Announcements listed per digest; the rest are counted.
const MAX_ANNOUNCEMENTS: usize = 30;

/// One subscriber's digest for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    pub subscription_id: i64,
    pub cadence: Cadence,
    pub period_start: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    /// The previous sent digest's `generated_at`; `None` for the first one.
    pub since: Option<DateTime<Utc>>,
    /// The subscription's repository filter, if any.
    pub repo: Option<String>,
    pub min_severity: String,
    /// Seen for the first time (or again after a fix) since the last digest.
    pub new: Section,
    /// Still open at high or critical severity, and not new.
    pub open_high: Section,
    /// Findings fixed since the last digest.
    pub fixed: usize,
    pub sunsets: Vec<Sunset>,
    pub announcements: Vec<Announcement>,
    #[serde(default)]
    pub more_announcements: usize,
    pub stale_sources: Vec<StaleSource>,
    /// What the digest could not look at (e.g. a repository without a checkout).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A deadline some open findings are running towards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sunset {
    pub rule_id: String,
    pub title: String,
    pub date: NaiveDate,
    /// Days from the digest's date to `date`; negative once it has passed.
    pub days_left: i64,
    pub repos: usize,
    pub files: usize,
}

/// A notice about a package in the subscriber's stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub id: String,
    pub kind: String,
    pub summary: String,
    /// `ecosystem name` pairs from the stack that it names.
    pub packages: Vec<String>,
    pub repos: Vec<String>,
    pub modified: DateTime<Utc>,
    /// The first http(s) reference.
    pub url: Option<String>,
}

/// A knowledge source whose data may be out of date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleSource {
    pub id: String,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl Digest {
    /// Nothing new happened: no new findings and no new announcements. (Open items and
    /// warnings alone do not make a digest worth sending.)
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.announcements.is_empty()
    }

    /// The outbox payload.
    pub fn to_payload(&self) -> Value {
        json!({ "kind": "digest", "digest": self })
    }

    /// The digest a payload froze; `None` for anything else.
    pub fn from_payload(payload: &Value) -> Option<Digest> {
        if payload.get("kind")?.as_str()? != "digest" {
            return None;
        }
        serde_json::from_value(payload.get("digest")?.clone()).ok()
    }

    pub fn key(&self) -> String {
        digest_key(self.subscription_id, self.period_start)
    }
}

/// Repository name → the packages its checkout declares.
pub type Stacks = BTreeMap<String, Vec<(Ecosystem, String)>>;

/// Everything [`assemble`] reads; [`collect`] fetches it from the store.
pub struct Inputs<'a> {
    pub subscription: &'a Subscription,
    pub filter: &'a AlertFilter,
    /// Repository id → display name.
    pub repo_names: &'a HashMap<i64, String>,
    pub findings: &'a [Finding],
    pub sources: &'a [SourceState],
    /// Notices naming a package in some stack.
    pub notices: &'a [Notice],
    pub stacks: &'a Stacks,
    pub notes: &'a [String],
    pub since: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// Builds the digest from its inputs (no I/O).
pub fn assemble(input: &Inputs<'_>) -> Digest {
    let filter = input.filter;
    let since = input.since;
    let after_since = |t: DateTime<Utc>| since.is_none_or(|s| t > s);
    let mut new = Vec::new();
    let mut open_high = Vec::new();
    let mut open_all = Vec::new();
    let mut fixed = 0usize;
    let high = severity_rank("high").unwrap_or(3);
    for f in input.findings {
        let Some(repo) = input.repo_names.get(&f.repo_id) else {
            continue;
        };
        if !filter.matches(repo, &f.severity) {
            continue;
        }
        match f.status {
            FindingStatus::Fixed => fixed += usize::from(since.is_some_and(|s| f.last_seen > s)),
            FindingStatus::Suppressed => {}
            FindingStatus::New | FindingStatus::Open => {
                open_all.push((repo.as_str(), f));
                let is_new = after_since(f.first_seen)
                    || (f.status == FindingStatus::New && after_since(f.last_seen));
                if is_new {
                    new.push((repo.as_str(), f));
                } else if severity_rank(&f.severity).is_some_and(|r| r >= high) {
                    open_high.push((repo.as_str(), f));
                }
            }
        }
    }
    let today = input.now.date_naive();
    let mut sunsets: Vec<Sunset> = group(&open_all)
        .groups
        .into_iter()
        .filter_map(|g| {
            let date = g.sunset?;
            Some(Sunset {
                days_left: (date - today).num_days(),
                rule_id: g.rule_id,
                title: g.title,
                date,
                repos: g.repos.len() + g.more_repos,
                files: g.files,
            })
        })
        .collect();
    sunsets.sort_by(|a, b| a.date.cmp(&b.date).then(a.title.cmp(&b.title)));
    let (announcements, more_announcements) = announcements(input, &open_all);
    Digest {
        subscription_id: input.subscription.id,
        cadence: filter.cadence,
        period_start: filter.cadence.period_start(input.now),
        generated_at: input.now,
        since,
        repo: filter.repo.as_deref().map(|r| inert(r, 100)),
        min_severity: filter.min_severity.clone(),
        new: group(&new),
        open_high: group(&open_high),
        fixed,
        sunsets,
        announcements,
        more_announcements,
        stale_sources: stale_sources(input.sources, input.now),
        notes: input.notes.iter().map(|n| inert(n, 300)).collect(),
    }
}

/// New non-advisory notices for packages in the subscriber's repositories' stacks that no
/// open finding already covers.
fn announcements(input: &Inputs<'_>, open: &[(&str, &Finding)]) -> (Vec<Announcement>, usize) {
    let window_start = input
        .since
        .unwrap_or(input.now - input.filter.cadence.period_length());
    let covered: BTreeSet<&str> = open.iter().map(|(_, f)| f.rule_id.as_str()).collect();
    let stacks: Vec<(&String, &Vec<(Ecosystem, String)>)> = input
        .stacks
        .iter()
        .filter(|(repo, _)| input.filter.repo.as_ref().is_none_or(|r| r == *repo))
        .collect();
    let mut out = Vec::new();
    for notice in input.notices {
        if notice.kind == NoticeKind::Advisory
            || notice.withdrawn.is_some()
            || notice.modified <= window_start
            || notice.modified > input.now
            || covered.contains(notice.id.as_str())
            || notice.aliases.iter().any(|a| covered.contains(a.as_str()))
        {
            continue;
        }
        let mut packages = BTreeSet::new();
        let mut repos = BTreeSet::new();
        for affected in &notice.affected {
            for (repo, deps) in &stacks {
                let hit = deps.iter().any(|(eco, name)| {
                    eco.as_str() == affected.ecosystem
                        && eco.normalize_name(name) == affected.package
                });
                if hit {
                    packages.insert(format!("{} {}", affected.ecosystem, affected.package));
                    repos.insert(repo.to_string());
                }
            }
        }
        if repos.is_empty() {
            continue;
        }
        let summary = notice
            .summary
            .as_deref()
            .or(notice.details.as_deref())
            .unwrap_or("");
        out.push(Announcement {
            id: inert(&notice.id, 120),
            kind: notice.kind.as_str().to_string(),
            summary: inert(summary, 240),
            packages: packages.iter().take(10).map(|p| inert(p, 120)).collect(),
            repos: repos.iter().take(20).map(|r| inert(r, 100)).collect(),
            modified: notice.modified,
            url: first_web_url(&notice.references),
        });
    }
    out.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.id.cmp(&b.id)));
    let more = out.len().saturating_sub(MAX_ANNOUNCEMENTS);
    out.truncate(MAX_ANNOUNCEMENTS);
    (out, more)
}

/// The first `https://` (or `http://`) reference URL that is safe to put in an `href`.
fn first_web_url(references: &Value) -> Option<String> {
    references.as_array()?.iter().find_map(|r| {
        let url = r
            .get("url")
            .and_then(Value::as_str)
            .or_else(|| r.as_str())?;
        let web = url.starts_with("https://") || url.starts_with("http://");
        let clean = url.len() <= 500
            && !url.chars().any(|c| {
                c.is_control() || c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`')
            });
        (web && clean).then(|| url.to_string())
    })
}

/// Sources that failed after their last success, or have not succeeded for
/// [`STALE_AFTER_DAYS`]. A source that has neither succeeded nor failed yet says nothing.
pub fn stale_sources(sources: &[SourceState], now: DateTime<Utc>) -> Vec<StaleSource> {
    sources
        .iter()
        .filter(|s| {
            let failing = match (s.last_error_at, s.last_success_at) {
                (Some(err), Some(ok)) => err > ok,
                (Some(_), None) => true,
                (None, _) => false,
            };
            let old = s
                .last_success_at
                .is_some_and(|ok| now - ok > Duration::days(STALE_AFTER_DAYS));
            failing || old
        })
        .map(|s| StaleSource {
            id: inert(&s.id, 80),
            last_success_at: s.last_success_at,
            last_error_at: s.last_error_at,
            last_error: s.last_error.as_deref().map(|e| inert(e, 200)),
        })
        .collect()
}

/// When `subscription_id`'s last digest that went out was generated.
pub async fn last_sent_digest(
    store: &Store,
    tenant: TenantId,
    subscription_id: i64,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let prefix = format!("digest:{subscription_id}:");
    Ok(store
        .list_deliveries(tenant)
        .await?
        .into_iter()
        .filter(|d| d.status == "sent" && d.delivery_key.starts_with(&prefix))
        .filter_map(|d| Digest::from_payload(&d.payload).map(|g| g.generated_at))
        .max())
}

/// Whether a delivery with `key` is already in the outbox (queued, sent or dead).
pub async fn is_queued(store: &Store, tenant: TenantId, key: &str) -> Result<bool, StoreError> {
    Ok(store
        .list_deliveries(tenant)
        .await?
        .iter()
        .any(|d| d.delivery_key == key))
}

/// The digest `subscription` would get at `now`; `None` when its stored filter is unreadable.
/// `stacks` and `notes` come from the caller, which reads the repositories' checkouts.
pub async fn collect(
    store: &Store,
    tenant: TenantId,
    subscription: &Subscription,
    stacks: &Stacks,
    notes: &[String],
    now: DateTime<Utc>,
) -> Result<Option<Digest>, StoreError> {
    let Some(filter) = AlertFilter::from_json(&subscription.filter) else {
        return Ok(None);
    };
    let repo_names: HashMap<i64, String> = store
        .list_repos(tenant)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name.unwrap_or(r.url)))
        .collect();
    let findings = store
        .list_findings(tenant, &FindingFilter::default())
        .await?;
    let sources = store.list_sources().await?;
    let packages: Vec<(Ecosystem, String)> = stacks
        .iter()
        .filter(|(repo, _)| filter.repo.as_ref().is_none_or(|r| r == *repo))
        .flat_map(|(_, deps)| deps.iter().cloned())
        .collect();
    let notices = if packages.is_empty() {
        Vec::new()
    } else {
        store.notices_for_packages(&packages).await?
    };
    let since = last_sent_digest(store, tenant, subscription.id).await?;
    Ok(Some(assemble(&Inputs {
        subscription,
        filter: &filter,
        repo_names: &repo_names,
        findings: &findings,
        sources: &sources,
        notices: &notices,
        stacks,
        notes,
        since,
        now,
    })))
}

/// `[notify] send-empty-digest = true` sends a digest even when nothing is new.
pub fn send_empty_digest(config: &Config) -> Result<bool, String> {
    let Some(value) = config
        .reserved
        .get("notify")
        .and_then(|n| n.get("send-empty-digest"))
    else {
        return Ok(false);
    };
    value.as_bool().ok_or_else(|| {
        let file = config
            .path
            .as_deref()
            .map_or_else(|| "ecowatch.toml".into(), |p| p.display().to_string());
        format!("`{file}` [notify] send-empty-digest: must be true or false")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Affected, Channel};
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, day, 12, 0, 0).unwrap()
    }

    fn finding(id: i64, rule: &str, severity: &str, first: u32, status: FindingStatus) -> Finding {
        Finding {
            id,
            repo_id: 1,
            fingerprint: format!("fp{id}"),
            rule_id: rule.into(),
            severity: severity.into(),
            title: format!("{rule} title"),
            path: Some(format!("f{id}.py")),
            line: Some(1),
            first_seen: at(first),
            last_seen: at(first),
            status,
            details: json!({"message": "m (sunset in 10 days, 2026-06-20)"}),
        }
    }

    fn notice(id: &str, kind: NoticeKind, modified: DateTime<Utc>) -> Notice {
        Notice {
            id: id.into(),
            kind,
            aliases: vec![],
            summary: Some("Package <b>x</b> is deprecated".into()),
            details: None,
            severity: json!([]),
            published: None,
            modified,
            withdrawn: None,
            affected: vec![Affected {
                ecosystem: "PyPI".into(),
                package: "requests".into(),
                ranges: json!([]),
                versions: vec![],
            }],
            references: json!([{"type": "WEB", "url": "javascript:alert(1)"}, {"type": "WEB", "url": "https://example.com/a"}]),
            patterns: vec![],
            source_id: None,
            raw: None,
        }
    }

    #[test]
    fn digest_splits_new_from_still_open_and_lists_stack_announcements() {
        let subscription = Subscription {
            id: 9,
            channel: Channel::Email,
            target: "dev@example.com".into(),
            filter: json!({"cadence": "weekly"}),
            created_at: at(1),
        };
        let filter = AlertFilter::from_json(&subscription.filter).unwrap();
        let repo_names = HashMap::from([(1, "api".to_string())]);
        let findings = vec![
            finding(1, "new/rule", "medium", 9, FindingStatus::New),
            finding(2, "old/high", "high", 2, FindingStatus::Open),
            finding(3, "old/low", "low", 2, FindingStatus::Open),
            finding(4, "gone", "high", 2, FindingStatus::Fixed),
        ];
        let notices = vec![
            notice("ANN-1", NoticeKind::Announcement, at(8)),
            notice("ADV-1", NoticeKind::Advisory, at(8)),
            notice("ANN-OLD", NoticeKind::Deprecation, at(3)),
        ];
        let stacks = Stacks::from([(
            "api".to_string(),
            vec![(Ecosystem::PyPI, "requests".to_string())],
        )]);
        let sources = vec![
            SourceState {
                id: "osv".into(),
                last_success_at: Some(at(5)),
                last_error_at: Some(at(9)),
                last_error: Some("HTTP 500\r\nBcc: x".into()),
                ..SourceState::default()
            },
            SourceState {
                id: "fresh".into(),
                last_success_at: Some(at(10)),
                ..SourceState::default()
            },
        ];
        let digest = assemble(&Inputs {
            subscription: &subscription,
            filter: &filter,
            repo_names: &repo_names,
            findings: &findings,
            sources: &sources,
            notices: &notices,
            stacks: &stacks,
            notes: &[],
            since: Some(at(7)),
            now: at(10),
        });
        assert_eq!(digest.new.groups.len(), 1);
        assert_eq!(digest.new.groups[0].rule_id, "new/rule");
        assert_eq!(digest.open_high.groups.len(), 1);
        assert_eq!(digest.open_high.groups[0].rule_id, "old/high");
        assert_eq!(digest.sunsets.len(), 3);
        assert_eq!(digest.sunsets[0].days_left, 10);
        let ids: Vec<&str> = digest.announcements.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, vec!["ANN-1"]);
        assert_eq!(
            digest.announcements[0].url.as_deref(),
            Some("https://example.com/a")
        );
        assert_eq!(digest.announcements[0].packages, vec!["PyPI requests"]);
        assert_eq!(digest.stale_sources.len(), 1);
        assert_eq!(
            digest.stale_sources[0].last_error.as_deref(),
            Some("HTTP 500 Bcc: x")
        );
        assert_eq!(
            digest.period_start,
            Utc.with_ymd_and_hms(2026, 6, 8, 0, 0, 0).unwrap()
        );
        assert!(!digest.is_empty());
        let round = Digest::from_payload(&digest.to_payload()).unwrap();
        assert_eq!(round, digest);
        assert_eq!(Digest::from_payload(&json!({"kind": "finding"})), None);
    }

    #[test]
    fn sources_are_stale_when_failing_or_silent_for_two_days() {
        let now = at(10);
        let source = |ok: Option<u32>, err: Option<u32>| SourceState {
            id: "s".into(),
            last_success_at: ok.map(at),
            last_error_at: err.map(at),
            ..SourceState::default()
        };
        assert_eq!(stale_sources(&[source(Some(9), None)], now).len(), 0);
        assert_eq!(stale_sources(&[source(Some(7), None)], now).len(), 1);
        assert_eq!(stale_sources(&[source(Some(9), Some(10))], now).len(), 1);
        assert_eq!(stale_sources(&[source(Some(10), Some(9))], now).len(), 0);
        assert_eq!(stale_sources(&[source(None, Some(9))], now).len(), 1);
        assert_eq!(stale_sources(&[source(None, None)], now).len(), 0);
    }

    #[test]
    fn send_empty_digest_is_read_from_the_notify_table() {
        let parse = |t: &str| Config::parse(t, std::path::Path::new("e.toml")).unwrap();
        assert_eq!(send_empty_digest(&parse("")), Ok(false));
        assert_eq!(
            send_empty_digest(&parse("[notify]\nsend-empty-digest = true\n")),
            Ok(true)
        );
        let err = send_empty_digest(&parse("[notify]\nsend-empty-digest = \"yes\"\n")).unwrap_err();
        assert!(err.contains("[notify] send-empty-digest"), "{err}");
    }
}
