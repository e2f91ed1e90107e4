-- Watched repositories get a name (unique per tenant; what `ecowatch watch` and `rescan --repo`
-- refer to), and findings get the `new` status (seen by the latest scan for the first time, or
-- again after having been fixed). SQLite cannot change a CHECK constraint in place, so the
-- findings table is rebuilt; no table refers to findings.

ALTER TABLE watched_repos ADD COLUMN name TEXT CHECK (length(name) BETWEEN 1 AND 200);
CREATE UNIQUE INDEX watched_repos_name ON watched_repos (tenant_id, name);

CREATE TABLE findings_v2 (
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
    status      TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('new', 'open', 'fixed', 'suppressed')),
    details     TEXT NOT NULL DEFAULT '{}',
    UNIQUE (tenant_id, repo_id, fingerprint),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, repo_id) REFERENCES watched_repos (tenant_id, id) ON DELETE CASCADE
) STRICT;
INSERT INTO findings_v2 SELECT id, tenant_id, repo_id, fingerprint, rule_id, severity, title, path,
    line, first_seen, last_seen, status, details FROM findings;
DROP TABLE findings;
ALTER TABLE findings_v2 RENAME TO findings;
CREATE INDEX findings_status ON findings (tenant_id, status);
