//! The GitHub dashboard issue each watched repository has: kept so the sink edits one issue in
//! place (never one per alert) and skips the edit when the body it would post is unchanged.
//!
//! Every method runs in the tenant's transaction (on PostgreSQL one that sets `app.tenant_id`,
//! so row-level security holds).

use super::{Store, StoreError, TenantId};
use chrono::{DateTime, Utc};

const GET_DASHBOARD_ISSUE: &str = "SELECT repo_id, github_repo, issue_number, body_sha256, \
     shown, updated_at FROM dashboard_issues WHERE tenant_id = $1 AND repo_id = $2";

const PUT_DASHBOARD_ISSUE: &str = "INSERT INTO dashboard_issues \
     (tenant_id, repo_id, github_repo, issue_number, body_sha256, shown, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (tenant_id, repo_id) DO UPDATE SET github_repo = excluded.github_repo, \
     issue_number = excluded.issue_number, body_sha256 = excluded.body_sha256, \
     shown = excluded.shown, updated_at = excluded.updated_at";

/// The dashboard issue last posted for a watched repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardIssue {
    pub repo_id: i64,
    /// `owner/repo` the issue lives in; another slug means another issue.
    pub github_repo: String,
    pub issue_number: i64,
    /// Hex SHA-256 of the body last posted.
    pub body_sha256: String,
    /// What the body showed (the sink's own JSON: open and fixed fingerprints).
    pub shown: String,
    pub updated_at: DateTime<Utc>,
}

type Row = (i64, String, i64, String, String, DateTime<Utc>);

impl Store {
    /// The repository's dashboard issue, if one was ever posted.
    pub async fn dashboard_issue(
        &self,
        tenant: TenantId,
        repo_id: i64,
    ) -> Result<Option<DashboardIssue>, StoreError> {
        let row: Option<Row> = tenant_tx!(self, tenant, |tx| {
            sqlx::query_as(GET_DASHBOARD_ISSUE)
                .bind(tenant.get())
                .bind(repo_id)
                .fetch_optional(&mut *tx)
                .await?
        });
        Ok(row.map(
            |(repo_id, github_repo, issue_number, body_sha256, shown, updated_at)| DashboardIssue {
                repo_id,
                github_repo,
                issue_number,
                body_sha256,
                shown,
                updated_at,
            },
        ))
    }

    /// Records what was posted; replaces the repository's previous record.
    pub async fn put_dashboard_issue(
        &self,
        tenant: TenantId,
        issue: &DashboardIssue,
    ) -> Result<(), StoreError> {
        tenant_tx!(self, tenant, |tx| {
            sqlx::query(PUT_DASHBOARD_ISSUE)
                .bind(tenant.get())
                .bind(issue.repo_id)
                .bind(&issue.github_repo)
                .bind(issue.issue_number)
                .bind(&issue.body_sha256)
                .bind(&issue.shown)
                .bind(issue.updated_at)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_names_the_tenant() {
        assert!(GET_DASHBOARD_ISSUE.contains("WHERE tenant_id = $1"));
        assert!(PUT_DASHBOARD_ISSUE.contains("VALUES ($1,"));
    }
}
