//! The list of tenants: what a relay serving the whole installation walks. Tenant names are not
//! tenant data (the `tenants` table has no row-level security), so this needs no tenant context.

use super::{Store, StoreError, TenantId};

const LIST_TENANTS: &str = "SELECT id, name FROM tenants ORDER BY id";

/// A tenant: its id and the name commands take as `--tenant`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
}

impl Store {
    /// Every tenant, oldest first.
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<(i64, String)> = match self {
            Store::Sqlite(s) => sqlx::query_as(LIST_TENANTS).fetch_all(&s.pool).await?,
            Store::Postgres(p) => sqlx::query_as(LIST_TENANTS).fetch_all(&p.pool).await?,
        };
        Ok(rows
            .into_iter()
            .map(|(id, name)| Tenant {
                id: TenantId::from_db(id),
                name,
            })
            .collect())
    }
}
