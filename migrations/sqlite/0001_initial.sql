-- ecowatch schema, SQLite (the embedded default). Same tables and keys as
-- migrations/postgres/0001_initial.sql; SQLite has no row-level security, so tenancy rests on
-- tenant_id NOT NULL, tenant-scoped unique keys and composite foreign keys, and on the store
-- API, which takes a TenantId for every tenant query. Timestamps are RFC 3339 UTC text, JSON is
-- text. STRICT tables reject values of the wrong type.

CREATE TABLE tenants (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- ---------------------------------------------------------------- shared knowledge

CREATE TABLE sources (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    url             TEXT,
    cursor          TEXT,
    watermark       TEXT,
    etag            TEXT,
    last_modified   TEXT,
    last_success_at TEXT,
    last_error_at   TEXT,
    last_error      TEXT,
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE notices (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    summary    TEXT,
    details    TEXT,
    severity   TEXT NOT NULL DEFAULT '[]',
    published  TEXT,
    modified   TEXT NOT NULL,
    withdrawn  TEXT,
    refs       TEXT NOT NULL DEFAULT '[]',
    source_id  TEXT,
    raw        TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE notice_aliases (
    notice_id TEXT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    alias     TEXT NOT NULL,
    PRIMARY KEY (notice_id, alias)
) STRICT;
CREATE INDEX notice_aliases_alias ON notice_aliases (alias);

CREATE TABLE notice_affected (
    id        INTEGER PRIMARY KEY,
    notice_id TEXT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    package   TEXT NOT NULL,
    ranges    TEXT NOT NULL DEFAULT '[]',
    versions  TEXT NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX notice_affected_package ON notice_affected (ecosystem, package);
CREATE INDEX notice_affected_notice ON notice_affected (notice_id);

CREATE TABLE notice_patterns (
    id         INTEGER PRIMARY KEY,
    notice_id  TEXT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    matcher    TEXT NOT NULL,
    pattern    TEXT NOT NULL,
    language   TEXT,
    provenance TEXT NOT NULL,
    confidence REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1)
) STRICT;
CREATE INDEX notice_patterns_notice ON notice_patterns (notice_id);

CREATE TABLE schedules (
    id         TEXT PRIMARY KEY,
    cron       TEXT NOT NULL,
    timezone   TEXT NOT NULL DEFAULT 'UTC',
    enabled    INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE schedule_ticks (
    id           INTEGER PRIMARY KEY,
    schedule_id  TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    scheduled_at TEXT NOT NULL,
    lease_token  TEXT,
    lease_until  TEXT,
    started_at   TEXT,
    finished_at  TEXT,
    status       TEXT NOT NULL DEFAULT 'pending',
    last_error   TEXT,
    UNIQUE (schedule_id, scheduled_at)
) STRICT;

CREATE TABLE request_budgets (
    credential_id TEXT NOT NULL,
    bucket        TEXT NOT NULL,
    limit_total   INTEGER,
    remaining     INTEGER,
    reset_at      TEXT,
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (credential_id, bucket)
) STRICT;

CREATE TABLE http_cache (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    status        INTEGER NOT NULL,
    content_type  TEXT,
    body          BLOB NOT NULL,
    fetched_at    TEXT NOT NULL,
    expires_at    TEXT
) STRICT;

-- ---------------------------------------------------------------- tenant data

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at TEXT,
    revoked_at   TEXT,
    UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE watched_repos (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url            TEXT NOT NULL,
    default_branch TEXT,
    added_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (tenant_id, url),
    UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL,
    repo_id     INTEGER NOT NULL,
    started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT,
    status      TEXT NOT NULL DEFAULT 'running',
    error       TEXT,
    summary     TEXT,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, repo_id) REFERENCES watched_repos (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX scans_repo ON scans (tenant_id, repo_id);

CREATE TABLE findings (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL,
    repo_id     INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    severity    TEXT NOT NULL,
    title       TEXT NOT NULL,
    path        TEXT,
    line        INTEGER,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'fixed', 'suppressed')),
    details     TEXT NOT NULL DEFAULT '{}',
    UNIQUE (tenant_id, repo_id, fingerprint),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, repo_id) REFERENCES watched_repos (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX findings_status ON findings (tenant_id, status);

CREATE TABLE suppressions (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    repo_id     INTEGER,
    fingerprint TEXT,
    rule_id     TEXT,
    reason      TEXT NOT NULL CHECK (length(reason) > 0),
    until       TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK (fingerprint IS NOT NULL OR rule_id IS NOT NULL),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, repo_id) REFERENCES watched_repos (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'slack', 'discord', 'webhook')),
    target     TEXT NOT NULL,
    filter     TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (tenant_id, channel, target),
    UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL,
    subscription_id INTEGER NOT NULL,
    delivery_key    TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    lease_token     TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    sent_at         TEXT,
    UNIQUE (tenant_id, delivery_key),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, subscription_id) REFERENCES subscriptions (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
