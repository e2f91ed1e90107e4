-- Watched repositories get a name (unique per tenant; what `ecowatch watch` and `rescan --repo`
-- refer to), and findings get the `new` status (seen by the latest scan for the first time, or
-- again after having been fixed). Same change as migrations/sqlite/0002_watch.sql.

ALTER TABLE watched_repos ADD COLUMN name TEXT CHECK (length(name) BETWEEN 1 AND 200);
CREATE UNIQUE INDEX watched_repos_name ON watched_repos (tenant_id, name);

ALTER TABLE findings DROP CONSTRAINT findings_status_check;
ALTER TABLE findings ADD CONSTRAINT findings_status_check
    CHECK (status IN ('new', 'open', 'fixed', 'suppressed'));
