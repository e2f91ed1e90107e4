-- The GitHub dashboard issue of each watched repository: which issue it is (so it is edited in
-- place, never duplicated), the hash of the body last posted (an unchanged body sends nothing),
-- and the fingerprints it showed as open and fixed (so "fixed since last update" is exact).
CREATE TABLE dashboard_issues (
    tenant_id    BIGINT NOT NULL,
    repo_id      BIGINT NOT NULL,
    github_repo  TEXT NOT NULL,
    issue_number BIGINT NOT NULL,
    body_sha256  TEXT NOT NULL,
    shown        TEXT NOT NULL DEFAULT '{}',
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, repo_id),
    FOREIGN KEY (tenant_id, repo_id) REFERENCES watched_repos (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE dashboard_issues ENABLE ROW LEVEL SECURITY;
ALTER TABLE dashboard_issues FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dashboard_issues
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());
