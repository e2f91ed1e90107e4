//! The SQL both backends run. One text per operation: `$n` placeholders, `ON CONFLICT` and
//! `RETURNING` mean the same on SQLite and PostgreSQL, so the contract tests check one statement.
//!
//! Every statement on tenant data names `tenant_id = $1` itself, even though PostgreSQL's
//! row-level security would filter anyway: SQLite has no RLS, and on PostgreSQL the two guards
//! back each other up.

pub const ENSURE_TENANT: &str = "INSERT INTO tenants (name) VALUES ($1) \
     ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id";

// ---- watched repositories

pub const ADD_REPO: &str = "INSERT INTO watched_repos (tenant_id, url, default_branch) \
     VALUES ($1, $2, $3) \
     ON CONFLICT (tenant_id, url) DO UPDATE SET default_branch = excluded.default_branch \
     RETURNING id, url, default_branch, added_at, name";

/// A duplicate name or URL for the tenant is a unique violation ([`super::StoreError::Conflict`]).
pub const WATCH_REPO: &str = "INSERT INTO watched_repos (tenant_id, name, url) \
     VALUES ($1, $2, $3) RETURNING id, url, default_branch, added_at, name";

pub const LIST_REPOS: &str = "SELECT id, url, default_branch, added_at, name FROM watched_repos \
     WHERE tenant_id = $1 ORDER BY name, url";

pub const REMOVE_REPO: &str = "DELETE FROM watched_repos WHERE tenant_id = $1 AND id = $2";

// ---- findings

/// The columns [`super::types::FindingRow`] reads, in order.
#[cfg(test)]
const FINDING_COLUMNS: &str = "id, repo_id, fingerprint, rule_id, severity, title, path, line, \
     first_seen, last_seen, status, details";

pub const UPSERT_FINDING: &str = "INSERT INTO findings \
     (tenant_id, repo_id, fingerprint, rule_id, severity, title, path, line, \
      first_seen, last_seen, status, details) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11) \
     ON CONFLICT (tenant_id, repo_id, fingerprint) DO UPDATE SET \
       rule_id = excluded.rule_id, severity = excluded.severity, title = excluded.title, \
       path = excluded.path, line = excluded.line, last_seen = excluded.last_seen, \
       status = excluded.status, details = excluded.details \
     RETURNING id, repo_id, fingerprint, rule_id, severity, title, path, line, \
       first_seen, last_seen, status, details";

/// `$2`/`$3` are optional filters: NULL matches everything.
pub const LIST_FINDINGS: &str = "SELECT id, repo_id, fingerprint, rule_id, severity, title, path, \
     line, first_seen, last_seen, status, details FROM findings WHERE tenant_id = $1 \
     AND (CAST($2 AS BIGINT) IS NULL OR repo_id = $2) \
     AND (CAST($3 AS TEXT) IS NULL OR status = $3) \
     ORDER BY repo_id, fingerprint";

pub const COUNT_FINDINGS: &str = "SELECT COUNT(*) FROM findings WHERE tenant_id = $1 \
     AND (CAST($2 AS BIGINT) IS NULL OR repo_id = $2) \
     AND (CAST($3 AS TEXT) IS NULL OR status = $3)";

/// A scan upserts every finding it saw with `last_seen = $3` (its own timestamp): the repository's
/// new and open findings with any other `last_seen` were not seen, so they are fixed.
pub const MARK_UNSEEN_FIXED: &str = "UPDATE findings SET status = 'fixed' \
     WHERE tenant_id = $1 AND repo_id = $2 AND status IN ('new', 'open') AND last_seen <> $3";

pub const SET_FINDING_STATUS: &str =
    "UPDATE findings SET status = $3 WHERE tenant_id = $1 AND id = $2";

// ---- scans

pub const RECORD_SCAN: &str = "INSERT INTO scans \
     (tenant_id, repo_id, started_at, finished_at, status, error, summary) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

// ---- subscriptions

pub const CREATE_SUBSCRIPTION: &str = "INSERT INTO subscriptions (tenant_id, channel, target, filter) \
     VALUES ($1, $2, $3, $4) RETURNING id, channel, target, filter, created_at";

pub const LIST_SUBSCRIPTIONS: &str = "SELECT id, channel, target, filter, created_at \
     FROM subscriptions WHERE tenant_id = $1 ORDER BY id";

pub const DELETE_SUBSCRIPTION: &str = "DELETE FROM subscriptions WHERE tenant_id = $1 AND id = $2";

// ---- deliveries (the outbox)

pub const LIST_DELIVERIES: &str = "SELECT id, subscription_id, delivery_key, payload, status, \
     attempts, last_error, next_attempt_at FROM deliveries WHERE tenant_id = $1 ORDER BY id";

/// Queues a delivery due at `$5` (now, or a daily or weekly subscription's period end); a key
/// already queued is left alone.
pub const ENQUEUE_DELIVERY_AT: &str = "INSERT INTO deliveries \
     (tenant_id, subscription_id, delivery_key, payload, next_attempt_at) \
     VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (tenant_id, delivery_key) DO NOTHING RETURNING id";

/// Leases up to `$4` due deliveries until `$3`: pending, due by `$2`, and not leased by a
/// worker whose lease still runs. Every claim counts an attempt and bumps the fencing token.
/// The lock clause is `FOR UPDATE SKIP LOCKED` on PostgreSQL (concurrent relays take different
/// rows) and empty on SQLite (one writer; the caller's `BEGIN IMMEDIATE` serialises claims).
macro_rules! claim_due {
    ($lock:literal) => {
        concat!(
            "UPDATE deliveries SET fence = fence + 1, attempts = attempts + 1, lease_until = $3 \
             WHERE tenant_id = $1 AND id IN (SELECT id FROM deliveries WHERE tenant_id = $1 \
             AND status = 'pending' AND next_attempt_at <= $2 \
             AND (lease_until IS NULL OR lease_until <= $2) \
             ORDER BY next_attempt_at, id LIMIT $4 ",
            $lock,
            ") RETURNING id, subscription_id, delivery_key, payload, attempts, fence"
        )
    };
}

pub const CLAIM_DUE_POSTGRES: &str = claim_due!("FOR UPDATE SKIP LOCKED");
pub const CLAIM_DUE_SQLITE: &str = claim_due!("");

/// Records an outcome, only while `$3` is still the row's fencing token (a newer claim wins).
/// `$4` status, `$5` last error, `$6` next attempt (kept when NULL), `$7` sent at.
pub const FINISH_DELIVERY: &str = "UPDATE deliveries SET status = $4, last_error = $5, \
     next_attempt_at = COALESCE($6, next_attempt_at), sent_at = $7, lease_until = NULL \
     WHERE tenant_id = $1 AND id = $2 AND fence = $3 AND status = 'pending'";

/// A dead letter becomes due again at `$3`, keeping its key and its attempt count.
pub const REDRIVE_DELIVERY: &str = "UPDATE deliveries SET status = 'pending', \
     next_attempt_at = $3, lease_until = NULL \
     WHERE tenant_id = $1 AND id = $2 AND status = 'dead'";

// ---- schedules and ticks (shared)

pub const ENSURE_SCHEDULE: &str = "INSERT INTO schedules (id, cron, timezone) VALUES ($1, $2, $3) \
     ON CONFLICT (id) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone";

pub const INSERT_TICK: &str = "INSERT INTO schedule_ticks (schedule_id, scheduled_at) \
     VALUES ($1, $2) ON CONFLICT (schedule_id, scheduled_at) DO NOTHING RETURNING id";

// ---- notices (shared)

pub const NOTICE_EXISTS: &str = "SELECT COUNT(*) FROM notices WHERE id = $1";

/// Writes the notice unless the stored one is as new or newer; returns a row only when it wrote.
pub const UPSERT_NOTICE: &str = "INSERT INTO notices \
     (id, kind, summary, details, severity, published, modified, withdrawn, refs, source_id, raw, \
      updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
     ON CONFLICT (id) DO UPDATE SET \
       kind = excluded.kind, summary = excluded.summary, details = excluded.details, \
       severity = excluded.severity, published = excluded.published, \
       modified = excluded.modified, withdrawn = excluded.withdrawn, refs = excluded.refs, \
       source_id = excluded.source_id, raw = excluded.raw, updated_at = excluded.updated_at \
     WHERE notices.modified < excluded.modified \
     RETURNING id";

pub const DELETE_NOTICE_ALIASES: &str = "DELETE FROM notice_aliases WHERE notice_id = $1";
pub const DELETE_NOTICE_AFFECTED: &str = "DELETE FROM notice_affected WHERE notice_id = $1";
pub const DELETE_NOTICE_PATTERNS: &str = "DELETE FROM notice_patterns WHERE notice_id = $1";

pub const INSERT_NOTICE_ALIAS: &str = "INSERT INTO notice_aliases (notice_id, alias) \
     VALUES ($1, $2) ON CONFLICT (notice_id, alias) DO NOTHING";
pub const INSERT_NOTICE_AFFECTED: &str = "INSERT INTO notice_affected \
     (notice_id, ecosystem, package, ranges, versions) VALUES ($1, $2, $3, $4, $5)";
pub const INSERT_NOTICE_PATTERN: &str = "INSERT INTO notice_patterns \
     (notice_id, matcher, pattern, language, provenance, confidence) \
     VALUES ($1, $2, $3, $4, $5, $6)";

pub const GET_NOTICE: &str = "SELECT id, kind, summary, details, severity, published, modified, \
     withdrawn, refs, source_id, raw FROM notices WHERE id = $1";
pub const GET_NOTICE_ALIASES: &str =
    "SELECT alias FROM notice_aliases WHERE notice_id = $1 ORDER BY alias";
pub const GET_NOTICE_AFFECTED: &str = "SELECT ecosystem, package, ranges, versions \
     FROM notice_affected WHERE notice_id = $1 ORDER BY id";
pub const GET_NOTICE_PATTERNS: &str = "SELECT matcher, pattern, language, provenance, confidence \
     FROM notice_patterns WHERE notice_id = $1 ORDER BY id";

/// A notice's own id counts as an alias of itself, so `GHSA-…` finds the record stored as `GHSA-…`.
pub const FIND_NOTICES_BY_ALIAS: &str = "SELECT id FROM notices WHERE id = $1 \
     UNION SELECT notice_id FROM notice_aliases WHERE alias = $1 ORDER BY 1";

/// Uses the `notice_affected_package` index.
pub const NOTICE_IDS_FOR_PACKAGE: &str =
    "SELECT DISTINCT notice_id FROM notice_affected WHERE ecosystem = $1 AND package = $2";

// ---- sources and crawl state (shared)

pub const GET_SOURCE: &str = "SELECT id, kind, url, cursor, watermark, etag, last_modified, \
     last_success_at, last_error_at, last_error FROM sources WHERE id = $1";

pub const LIST_SOURCES: &str = "SELECT id, kind, url, cursor, watermark, etag, last_modified, \
     last_success_at, last_error_at, last_error FROM sources ORDER BY id";
pub const PUT_SOURCE: &str = "INSERT INTO sources \
     (id, kind, url, cursor, watermark, etag, last_modified, last_success_at, last_error_at, \
      last_error, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, url = excluded.url, \
       cursor = excluded.cursor, watermark = excluded.watermark, etag = excluded.etag, \
       last_modified = excluded.last_modified, last_success_at = excluded.last_success_at, \
       last_error_at = excluded.last_error_at, last_error = excluded.last_error, \
       updated_at = excluded.updated_at";

// ---- migrations bookkeeping (sqlx's table)

pub const APPLIED_VERSION: &str = "SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_queries_select_the_row_shape_the_mapper_reads() {
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        let columns = squash(FINDING_COLUMNS);
        assert!(squash(LIST_FINDINGS).starts_with(&format!("SELECT{columns}FROM")));
        assert!(squash(UPSERT_FINDING).ends_with(&format!("RETURNING{columns}")));
    }

    #[test]
    fn every_tenant_statement_names_the_tenant() {
        for sql in [
            LIST_REPOS,
            REMOVE_REPO,
            LIST_FINDINGS,
            COUNT_FINDINGS,
            SET_FINDING_STATUS,
            MARK_UNSEEN_FIXED,
            LIST_SUBSCRIPTIONS,
            DELETE_SUBSCRIPTION,
            LIST_DELIVERIES,
            FINISH_DELIVERY,
            REDRIVE_DELIVERY,
            CLAIM_DUE_POSTGRES,
            CLAIM_DUE_SQLITE,
        ] {
            assert!(sql.contains("WHERE tenant_id = $1"), "{sql}");
        }
    }
}
