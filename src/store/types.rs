//! The store's vocabulary: the values that go in and come out of [`super::Store`], shared by both
//! backends so the contract tests can compare them.

use super::StoreError;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// A tenant: a team owning watched repositories, findings, subscriptions and deliveries.
///
/// Every store function for tenant data takes one, so tenant data cannot be read without naming
/// whose it is. Only the store hands them out ([`super::Store::ensure_tenant`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(i64);

impl TenantId {
    pub(super) fn from_db(id: i64) -> Self {
        TenantId(id)
    }

    /// A tenant id carried by something whose integrity a keyed MAC proved (an unsubscribe
    /// token, a hashed API token's row): never call it with an id a request merely claims.
    pub(crate) fn from_verified(id: i64) -> Self {
        TenantId(id)
    }

    /// The database key; it is what PostgreSQL's row-level security compares against.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The tenant a single-team (SQLite) installation runs as.
pub const DEFAULT_TENANT: &str = "default";

/// Where schema migrations stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The highest applied migration, `None` on an empty database.
    pub current: Option<i64>,
    /// The highest migration this build of ecowatch carries.
    pub latest: i64,
}

impl SchemaStatus {
    pub fn is_current(&self) -> bool {
        self.current == Some(self.latest)
    }
}

/// A repository a tenant asked ecowatch to watch.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchedRepo {
    pub id: i64,
    pub url: String,
    pub default_branch: Option<String>,
    pub added_at: DateTime<Utc>,
    /// What `ecowatch watch` and `rescan --repo` call it; unique per tenant. `None` for
    /// repositories added before names existed (or through [`super::Store::add_repo`]).
    pub name: Option<String>,
}

/// One scan of a watched repository, for the `scans` history.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRecord {
    pub repo_id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// `ok` or `failed`.
    pub status: String,
    pub error: Option<String>,
    /// Counts (new, open, fixed, ...), interpreted by whoever reads the history.
    pub summary: Value,
}

/// Where a finding stands in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingStatus {
    /// Seen by the latest scan for the first time, or again after it had been fixed.
    New,
    /// Seen again by a later scan.
    Open,
    Fixed,
    Suppressed,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::New => "new",
            FindingStatus::Open => "open",
            FindingStatus::Fixed => "fixed",
            FindingStatus::Suppressed => "suppressed",
        }
    }

    pub(super) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "new" => Ok(FindingStatus::New),
            "open" => Ok(FindingStatus::Open),
            "fixed" => Ok(FindingStatus::Fixed),
            "suppressed" => Ok(FindingStatus::Suppressed),
            other => Err(StoreError::Corrupt(format!(
                "unknown finding status `{other}`"
            ))),
        }
    }
}

/// A finding as a scan reports it; the store keeps `first_seen` from the first report.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingUpsert {
    pub repo_id: i64,
    /// Stable id: hash of (rule or notice id, repository, path, normalized matched text).
    pub fingerprint: String,
    pub rule_id: String,
    pub severity: String,
    pub title: String,
    pub path: Option<String>,
    pub line: Option<i64>,
    pub status: FindingStatus,
    pub seen_at: DateTime<Utc>,
    pub details: Value,
}

/// A stored finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: i64,
    pub repo_id: i64,
    pub fingerprint: String,
    pub rule_id: String,
    pub severity: String,
    pub title: String,
    pub path: Option<String>,
    pub line: Option<i64>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub status: FindingStatus,
    pub details: Value,
}

/// Narrows [`super::Store::list_findings`]; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingFilter {
    pub repo_id: Option<i64>,
    pub status: Option<FindingStatus>,
}

/// How a subscription is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Slack,
    Discord,
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Slack => "slack",
            Channel::Discord => "discord",
            Channel::Webhook => "webhook",
        }
    }

    pub(super) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "email" => Ok(Channel::Email),
            "slack" => Ok(Channel::Slack),
            "discord" => Ok(Channel::Discord),
            "webhook" => Ok(Channel::Webhook),
            other => Err(StoreError::Corrupt(format!("unknown channel `{other}`"))),
        }
    }
}

/// A subscription to be created.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscription {
    pub channel: Channel,
    /// An email address or a webhook URL.
    pub target: String,
    /// Which findings to send (severity, repositories, ...); interpreted by the notifier.
    pub filter: Value,
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: i64,
    pub channel: Channel,
    pub target: String,
    pub filter: Value,
    pub created_at: DateTime<Utc>,
}

/// A promise to tell a subscriber something, written in the same transaction as the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub subscription_id: i64,
    /// Subscription + finding fingerprint or digest period: the same key is never queued twice.
    pub delivery_key: String,
    pub payload: Value,
}

/// A delivery queued together with the reason for it, due at `due_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    pub delivery: NewDelivery,
    pub due_at: DateTime<Utc>,
}

/// What [`super::Store::enqueue_delivery`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new outbox row with this id.
    Queued(i64),
    /// The delivery key was already queued; nothing changed.
    Duplicate,
}

/// An outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub subscription_id: i64,
    pub delivery_key: String,
    pub payload: Value,
    pub status: String,
    pub attempts: i64,
    /// Why the last attempt failed (cleared when one succeeds).
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
}

/// A delivery the relay leased: it may send it until `lease_until`, and records the outcome
/// with `fence`, which the next claim of the same row increments.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub subscription_id: i64,
    pub delivery_key: String,
    pub payload: Value,
    /// Including this one.
    pub attempts: i64,
    pub fence: i64,
}

/// What sending a claimed delivery came to.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    Sent {
        at: DateTime<Utc>,
    },
    /// A transient failure: due again at `next_attempt_at`.
    Retry {
        error: String,
        next_attempt_at: DateTime<Utc>,
    },
    /// A permanent failure, or attempts used up: a dead letter until redriven.
    Dead {
        error: String,
    },
}

/// What kind of knowledge a notice carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Advisory,
    Deprecation,
    Removal,
    Announcement,
    Yanked,
    Unmaintained,
    Eol,
    Idiom,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Advisory => "advisory",
            NoticeKind::Deprecation => "deprecation",
            NoticeKind::Removal => "removal",
            NoticeKind::Announcement => "announcement",
            NoticeKind::Yanked => "yanked",
            NoticeKind::Unmaintained => "unmaintained",
            NoticeKind::Eol => "eol",
            NoticeKind::Idiom => "idiom",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "advisory" => NoticeKind::Advisory,
            "deprecation" => NoticeKind::Deprecation,
            "removal" => NoticeKind::Removal,
            "announcement" => NoticeKind::Announcement,
            "yanked" => NoticeKind::Yanked,
            "unmaintained" => NoticeKind::Unmaintained,
            "eol" => NoticeKind::Eol,
            "idiom" => NoticeKind::Idiom,
            _ => return None,
        })
    }
}

/// One package a notice applies to, with OSV `ranges` and `versions` kept as OSV writes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Affected {
    /// OSV spelling (`npm`, `PyPI`, `crates.io`, ...).
    pub ecosystem: String,
    pub package: String,
    pub ranges: Value,
    pub versions: Vec<String>,
}

/// A code pattern that finds the use a notice is about, with where it came from and how sure.
#[derive(Debug, Clone, PartialEq)]
pub struct CodePattern {
    /// `regex`, `ast-grep`, `identifier`, ...
    pub matcher: String,
    pub pattern: String,
    pub language: Option<String>,
    /// URL and quoted sentence, or the curated rule's id.
    pub provenance: String,
    /// 0.0 to 1.0.
    pub confidence: f64,
}

/// One piece of knowledge, shaped like an OSV record.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub id: String,
    pub kind: NoticeKind,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    /// OSV `severity` array.
    pub severity: Value,
    pub published: Option<DateTime<Utc>>,
    pub modified: DateTime<Utc>,
    pub withdrawn: Option<DateTime<Utc>>,
    pub affected: Vec<Affected>,
    /// OSV `references` array.
    pub references: Value,
    pub patterns: Vec<CodePattern>,
    pub source_id: Option<String>,
    /// The record as imported, so an import loses nothing the columns do not hold.
    pub raw: Option<Value>,
}

/// What [`super::Store::upsert_notice`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeWrite {
    Inserted,
    /// The stored notice was older (`modified`) and was replaced.
    Updated,
    /// The stored notice was as new or newer; nothing changed.
    Unchanged,
}

/// What [`super::Store::upsert_notices`] did, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoticeCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl NoticeCounts {
    pub fn add(&mut self, write: NoticeWrite) {
        match write {
            NoticeWrite::Inserted => self.inserted += 1,
            NoticeWrite::Updated => self.updated += 1,
            NoticeWrite::Unchanged => self.unchanged += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.inserted + self.updated + self.unchanged
    }
}

/// A source of knowledge and where its crawl stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceState {
    pub id: String,
    pub kind: String,
    pub url: Option<String>,
    /// Opaque resume point (page cursor, last id).
    pub cursor: Option<String>,
    /// Everything modified up to here has been seen.
    pub watermark: Option<DateTime<Utc>>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

// ---- row shapes shared by both backends (tuples, because sqlx's FromRow derive would need the
// `macros` feature, which compiles both database drivers a second time).

pub(super) type RepoRow = (i64, String, Option<String>, DateTime<Utc>, Option<String>);

pub(super) fn repo_from_row((id, url, default_branch, added_at, name): RepoRow) -> WatchedRepo {
    WatchedRepo {
        id,
        url,
        default_branch,
        added_at,
        name,
    }
}

pub(super) type FindingRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    sqlx::types::Json<Value>,
);

pub(super) fn finding_from_row(row: FindingRow) -> Result<Finding, StoreError> {
    let (id, repo_id, fingerprint, rule_id, severity, title, path, line, first, last, status, d) =
        row;
    Ok(Finding {
        id,
        repo_id,
        fingerprint,
        rule_id,
        severity,
        title,
        path,
        line,
        first_seen: first,
        last_seen: last,
        status: FindingStatus::parse(&status)?,
        details: d.0,
    })
}

pub(super) type SubscriptionRow = (i64, String, String, sqlx::types::Json<Value>, DateTime<Utc>);

pub(super) fn subscription_from_row(row: SubscriptionRow) -> Result<Subscription, StoreError> {
    let (id, channel, target, filter, created_at) = row;
    Ok(Subscription {
        id,
        channel: Channel::parse(&channel)?,
        target,
        filter: filter.0,
        created_at,
    })
}

pub(super) type DeliveryRow = (
    i64,
    i64,
    String,
    sqlx::types::Json<Value>,
    String,
    i64,
    Option<String>,
    DateTime<Utc>,
);

pub(super) fn delivery_from_row(row: DeliveryRow) -> Delivery {
    let (id, subscription_id, delivery_key, payload, status, attempts, last_error, next_attempt_at) =
        row;
    Delivery {
        id,
        subscription_id,
        delivery_key,
        payload: payload.0,
        status,
        attempts,
        last_error,
        next_attempt_at,
    }
}

pub(super) type ClaimedRow = (i64, i64, String, sqlx::types::Json<Value>, i64, i64);

pub(super) fn claimed_from_row(row: ClaimedRow) -> ClaimedDelivery {
    let (id, subscription_id, delivery_key, payload, attempts, fence) = row;
    ClaimedDelivery {
        id,
        subscription_id,
        delivery_key,
        payload: payload.0,
        attempts,
        fence,
    }
}

pub(super) type NoticeRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    sqlx::types::Json<Value>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    sqlx::types::Json<Value>,
    Option<String>,
    Option<sqlx::types::Json<Value>>,
);

pub(super) type AffectedRow = (
    String,
    String,
    sqlx::types::Json<Value>,
    sqlx::types::Json<Vec<String>>,
);

pub(super) type PatternRow = (String, String, Option<String>, String, f64);

pub(super) fn notice_from_rows(
    row: NoticeRow,
    aliases: Vec<String>,
    affected: Vec<AffectedRow>,
    patterns: Vec<PatternRow>,
) -> Result<Notice, StoreError> {
    let (id, kind, summary, details, severity, published, modified, withdrawn, refs, source, raw) =
        row;
    let kind = NoticeKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("notice `{id}` has unknown kind `{kind}`")))?;
    Ok(Notice {
        id,
        kind,
        aliases,
        summary,
        details,
        severity: severity.0,
        published,
        modified,
        withdrawn,
        affected: affected
            .into_iter()
            .map(|(ecosystem, package, ranges, versions)| Affected {
                ecosystem,
                package,
                ranges: ranges.0,
                versions: versions.0,
            })
            .collect(),
        references: refs.0,
        patterns: patterns
            .into_iter()
            .map(
                |(matcher, pattern, language, provenance, confidence)| CodePattern {
                    matcher,
                    pattern,
                    language,
                    provenance,
                    confidence,
                },
            )
            .collect(),
        source_id: source,
        raw: raw.map(|r| r.0),
    })
}

pub(super) type SourceRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
);

pub(super) fn source_from_row(row: SourceRow) -> SourceState {
    let (id, kind, url, cursor, watermark, etag, last_modified, ok_at, err_at, err) = row;
    SourceState {
        id,
        kind,
        url,
        cursor,
        watermark,
        etag,
        last_modified,
        last_success_at: ok_at,
        last_error_at: err_at,
        last_error: err,
    }
}

/// Refuses values the schema would reject with a less helpful message, and confidence values
/// that are not numbers.
pub(super) fn validate_notice(notice: &Notice) -> Result<(), StoreError> {
    if notice.id.trim().is_empty() {
        return Err(StoreError::Invalid("notice id is empty".into()));
    }
    if let Some(p) = notice
        .patterns
        .iter()
        .find(|p| !(0.0..=1.0).contains(&p.confidence))
    {
        return Err(StoreError::Invalid(format!(
            "notice `{}`: pattern confidence {} is outside 0..=1",
            notice.id, p.confidence
        )));
    }
    Ok(())
}
