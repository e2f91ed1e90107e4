//! Counts of a tenant's deliveries by status, for `serve`'s metrics (outbox depth, dead
//! letters). Deliveries are tenant data: on PostgreSQL the count runs in the tenant's
//! transaction so row-level security holds.

use super::{Store, StoreError, TenantId};

const DELIVERY_COUNTS: &str =
    "SELECT status, COUNT(*) FROM deliveries WHERE tenant_id = $1 GROUP BY status ORDER BY status";

impl Store {
    /// `(status, count)` for each status the tenant's deliveries have.
    pub async fn delivery_counts(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        match self {
            Store::Sqlite(s) => Ok(sqlx::query_as(DELIVERY_COUNTS)
                .bind(tenant.get())
                .fetch_all(&s.pool)
                .await?),
            Store::Postgres(p) => {
                let mut tx = p.tenant_tx(tenant).await?;
                let rows = sqlx::query_as(DELIVERY_COUNTS)
                    .bind(tenant.get())
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(rows)
            }
        }
    }
}
