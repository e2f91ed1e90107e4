-- ecowatch schema, PostgreSQL. Runs as the OWNER role; the service connects as a different role
-- that neither owns these tables nor bypasses row-level security.
--
-- Shared knowledge (notices, sources, schedules, budgets, HTTP cache) carries no tenant.
-- Everything a team owns carries tenant_id NOT NULL, has RLS enabled AND forced, and one policy
-- comparing tenant_id with the per-transaction setting `app.tenant_id`.

-- The tenant of the current transaction, or NULL when none is set. NULLIF: once a session has set
-- the variable (even transaction-locally), current_setting returns '' afterwards, not NULL; '' must
-- also match nothing instead of failing the cast.
CREATE FUNCTION app_current_tenant() RETURNS BIGINT
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::BIGINT $$;

CREATE TABLE tenants (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- shared knowledge

CREATE TABLE sources (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    url             TEXT,
    cursor          TEXT,
    watermark       TIMESTAMPTZ,
    etag            TEXT,
    last_modified   TEXT,
    last_success_at TIMESTAMPTZ,
    last_error_at   TIMESTAMPTZ,
    last_error      TEXT,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- OSV-shaped notices. `raw` keeps the imported record so an OSV import loses nothing.
CREATE TABLE notices (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    summary    TEXT,
    details    TEXT,
    severity   JSONB NOT NULL DEFAULT '[]',
    published  TIMESTAMPTZ,
    modified   TIMESTAMPTZ NOT NULL,
    withdrawn  TIMESTAMPTZ,
    refs       JSONB NOT NULL DEFAULT '[]',
    source_id  TEXT,
    raw        JSONB,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE notice_aliases (
    notice_id TEXT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    alias     TEXT NOT NULL,
    PRIMARY KEY (notice_id, alias)
);
CREATE INDEX notice_aliases_alias ON notice_aliases (alias);

CREATE TABLE notice_affected (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_id TEXT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    package   TEXT NOT NULL,
    ranges    JSONB NOT NULL DEFAULT '[]',
    versions  JSONB NOT NULL DEFAULT '[]'
);
CREATE INDEX notice_affected_package ON notice_affected (ecosystem, package);
CREATE INDEX notice_affected_notice ON notice_affected (notice_id);

-- Code patterns extracted from or curated for a notice, with where they came from and how sure.
CREATE TABLE notice_patterns (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_id  TEXT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    matcher    TEXT NOT NULL,
    pattern    TEXT NOT NULL,
    language   TEXT,
    provenance TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL CHECK (confidence >= 0 AND confidence <= 1)
);
CREATE INDEX notice_patterns_notice ON notice_patterns (notice_id);

CREATE TABLE schedules (
    id         TEXT PRIMARY KEY,
    cron       TEXT NOT NULL,
    timezone   TEXT NOT NULL DEFAULT 'UTC',
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per (schedule, instant): the replica whose INSERT wins runs the tick under a lease.
CREATE TABLE schedule_ticks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schedule_id  TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    scheduled_at TIMESTAMPTZ NOT NULL,
    lease_token  TEXT,
    lease_until  TIMESTAMPTZ,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    status       TEXT NOT NULL DEFAULT 'pending',
    last_error   TEXT,
    UNIQUE (schedule_id, scheduled_at)
);

-- Request budget per credential (identified by a hash, never the secret) and API bucket,
-- shared by every replica.
CREATE TABLE request_budgets (
    credential_id TEXT NOT NULL,
    bucket        TEXT NOT NULL,
    limit_total   BIGINT,
    remaining     BIGINT,
    reset_at      TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (credential_id, bucket)
);

CREATE TABLE http_cache (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    status        INTEGER NOT NULL,
    content_type  TEXT,
    body          BYTEA NOT NULL,
    fetched_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ
);

-- ---------------------------------------------------------------- tenant data
-- Every table below: tenant_id NOT NULL, UNIQUE (tenant_id, id) so children reference their
-- parent together with its tenant (a row can never point into another tenant).

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    UNIQUE (tenant_id, id)
);

CREATE TABLE watched_repos (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url            TEXT NOT NULL,
    default_branch TEXT,
    added_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, url),
    UNIQUE (tenant_id, id)
);

CREATE TABLE scans (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   BIGINT NOT NULL,
    repo_id     BIGINT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    status      TEXT NOT NULL DEFAULT 'running',
    error       TEXT,
    summary     JSONB,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, repo_id) REFERENCES watched_repos (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX scans_repo ON scans (tenant_id, repo_id);

CREATE TABLE findings (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   BIGINT NOT NULL,
    repo_id     BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    severity    TEXT NOT NULL,
    title       TEXT NOT NULL,
    path        TEXT,
    line        BIGINT,
    first_seen  TIMESTAMPTZ NOT NULL,
    last_seen   TIMESTAMPTZ NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'fixed', 'suppressed')),
    details     JSONB NOT NULL DEFAULT '{}',
    UNIQUE (tenant_id, repo_id, fingerprint),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, repo_id) REFERENCES watched_repos (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX findings_status ON findings (tenant_id, status);

CREATE TABLE suppressions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    repo_id     BIGINT,
    fingerprint TEXT,
    rule_id     TEXT,
    reason      TEXT NOT NULL CHECK (length(reason) > 0),
    until       TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (fingerprint IS NOT NULL OR rule_id IS NOT NULL),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, repo_id) REFERENCES watched_repos (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE subscriptions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'slack', 'discord', 'webhook')),
    target     TEXT NOT NULL,
    filter     JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, channel, target),
    UNIQUE (tenant_id, id)
);

-- The outbox. delivery_key = subscription + finding fingerprint or digest period; a second
-- enqueue of the same key is a no-op. Sending leases rows; lease_token fences late workers.
CREATE TABLE deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       BIGINT NOT NULL,
    subscription_id BIGINT NOT NULL,
    delivery_key    TEXT NOT NULL,
    payload         JSONB NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_token     TEXT,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at         TIMESTAMPTZ,
    UNIQUE (tenant_id, delivery_key),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, subscription_id) REFERENCES subscriptions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);

-- ---------------------------------------------------------------- row-level security

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['api_tokens', 'watched_repos', 'scans', 'findings', 'suppressions',
                             'subscriptions', 'deliveries']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I '
                       'USING (tenant_id = app_current_tenant()) '
                       'WITH CHECK (tenant_id = app_current_tenant())', t);
    END LOOP;
END
$$;
