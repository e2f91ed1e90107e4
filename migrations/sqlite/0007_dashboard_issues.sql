-- The GitHub dashboard issue of each watched repository: which issue it is (so it is edited in
-- place, never duplicated), the hash of the body last posted (an unchanged body sends nothing),
-- and the fingerprints it showed as open and fixed (so "fixed since last update" is exact).
CREATE TABLE dashboard_issues (
    tenant_id    INTEGER NOT NULL,
    repo_id      INTEGER NOT NULL,
    github_repo  TEXT NOT NULL,
    issue_number INTEGER NOT NULL,
    body_sha256  TEXT NOT NULL,
    shown        TEXT NOT NULL DEFAULT '{}',
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, repo_id),
    FOREIGN KEY (tenant_id, repo_id) REFERENCES watched_repos (tenant_id, id) ON DELETE CASCADE
) STRICT;
