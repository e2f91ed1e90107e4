//! API tokens: stored only as the SHA-256 hash of the token (`api_tokens.token_hash`), created,
//! listed and revoked per tenant, and looked up by hash when a request presents one.
//!
//! # Authentication on PostgreSQL
//!
//! A request's token names its tenant only once it has been found, but `api_tokens` has forced
//! row-level security keyed on `app.tenant_id`: a plain lookup by hash sees no rows at all.
//! Migration 0006 adds a second, SELECT-only policy that makes visible exactly the row whose
//! `token_hash` equals the transaction-local setting `app.token_hash`. [`Store::authenticate`]
//! sets it, reads that one row, then switches to the found tenant's `app.tenant_id` to record
//! `last_used_at` through the ordinary tenant policy.
//!
//! Why not a `SECURITY DEFINER` function owned by the owner role: forced RLS binds the owner
//! too, so the function would also need a bypass policy naming the owner role (which the
//! migration does not know by name), plus the usual definer hazards (`search_path`, EXECUTE
//! granted to PUBLIC). With the policy, row-level security stays the only mechanism, no code runs
//! with more rights than the service role, and what that role can see is what knowing a token's
//! hash already proves: it cannot list, change or delete any token this way.

use super::api_reads::tenant_scoped;
use super::{Store, StoreError, TenantId};
use chrono::{DateTime, Duration, Utc};

/// Who a valid API token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiPrincipal {
    pub tenant: TenantId,
    pub token_id: i64,
    /// May redrive dead deliveries and request a crawl or rescan.
    pub admin: bool,
}

/// A stored token (never the token itself: only its hash is kept, and not returned).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub admin: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `last_used_at` moves at most this often, so a busy client does not turn every read into a
/// write.
const LAST_USED_GRANULARITY: Duration = Duration::minutes(1);

const CREATE_TOKEN: &str = "INSERT INTO api_tokens (tenant_id, name, token_hash, admin, created_at) \
     VALUES ($1, $2, $3, $4, $5) \
     RETURNING id, name, admin, created_at, last_used_at, revoked_at";

const LIST_TOKENS: &str = "SELECT id, name, admin, created_at, last_used_at, revoked_at \
     FROM api_tokens WHERE tenant_id = $1 ORDER BY id";

const REVOKE_TOKEN: &str = "UPDATE api_tokens SET revoked_at = $3 \
     WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL";

/// The only statement that does not name a tenant: on PostgreSQL it sees one row at most, the
/// one the `token_authentication` policy exposes for the hash set in `app.token_hash`.
const FIND_TOKEN: &str = "SELECT tenant_id, id, admin, last_used_at FROM api_tokens \
     WHERE token_hash = $1 AND revoked_at IS NULL";

const TOUCH_TOKEN: &str =
    "UPDATE api_tokens SET last_used_at = $3 WHERE tenant_id = $1 AND id = $2";

const FIND_TENANT: &str = "SELECT id FROM tenants WHERE name = $1";

type TokenRow = (
    i64,
    String,
    bool,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn token_from_row(row: TokenRow) -> ApiToken {
    let (id, name, admin, created_at, last_used_at, revoked_at) = row;
    ApiToken {
        id,
        name,
        admin,
        created_at,
        last_used_at,
        revoked_at,
    }
}

type FoundRow = (i64, i64, bool, Option<DateTime<Utc>>);

/// A token hash is 64 lowercase hex digits (SHA-256); anything else is refused before SQL.
fn is_token_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_stale(last_used: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used.is_none_or(|at| now - at >= LAST_USED_GRANULARITY)
}

impl Store {
    /// Stores a new token for `tenant` by its hash (the caller shows the token once).
    pub async fn create_api_token(
        &self,
        tenant: TenantId,
        name: &str,
        token_hash: &str,
        admin: bool,
    ) -> Result<ApiToken, StoreError> {
        if name.is_empty() || name.len() > 200 {
            return Err(StoreError::Invalid(
                "a token name has 1 to 200 bytes".into(),
            ));
        }
        if !is_token_hash(token_hash) {
            return Err(StoreError::Invalid(
                "a token hash is 64 lowercase hex digits".into(),
            ));
        }
        let row: TokenRow = tenant_scoped!(self, tenant, "BEGIN IMMEDIATE", |conn| {
            sqlx::query_as(CREATE_TOKEN)
                .bind(tenant.get())
                .bind(name)
                .bind(token_hash)
                .bind(admin)
                .bind(Utc::now())
                .fetch_one(&mut *conn)
                .await?
        });
        Ok(token_from_row(row))
    }

    /// The tenant's tokens, revoked ones included, by id.
    pub async fn list_api_tokens(&self, tenant: TenantId) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> = tenant_scoped!(self, tenant, "BEGIN", |conn| {
            sqlx::query_as(LIST_TOKENS)
                .bind(tenant.get())
                .fetch_all(&mut *conn)
                .await?
        });
        Ok(rows.into_iter().map(token_from_row).collect())
    }

    /// Revokes the tenant's token `id` at `now`; `false` when the tenant has no such token
    /// that is still valid.
    pub async fn revoke_api_token(
        &self,
        tenant: TenantId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = tenant_scoped!(self, tenant, "BEGIN IMMEDIATE", |conn| {
            sqlx::query(REVOKE_TOKEN)
                .bind(tenant.get())
                .bind(id)
                .bind(now)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Who the token with this SHA-256 hash speaks for; `None` for an unknown or revoked token.
    /// Records the use in `last_used_at` (at most once a minute per token).
    pub async fn authenticate(&self, token_hash: &str) -> Result<Option<ApiPrincipal>, StoreError> {
        if !is_token_hash(token_hash) {
            return Ok(None);
        }
        let now = Utc::now();
        let found: Option<FoundRow> = match self {
            // No RLS: the hash's unique index finds the row; a lost race on the
            // `last_used_at` update only loses a timestamp.
            Store::Sqlite(s) => {
                let found: Option<FoundRow> = sqlx::query_as(FIND_TOKEN)
                    .bind(token_hash)
                    .fetch_optional(&s.pool)
                    .await?;
                if let Some((tenant, id, _, last_used)) = found
                    && is_stale(last_used, now)
                {
                    sqlx::query(TOUCH_TOKEN)
                        .bind(tenant)
                        .bind(id)
                        .bind(now)
                        .execute(&s.pool)
                        .await?;
                }
                found
            }
            Store::Postgres(p) => {
                // `token_hash` passed `is_token_hash` (64 hex digits): safe to write into the
                // statement that opens the transaction, which saves a round trip per request.
                let begin =
                    format!("BEGIN; SELECT set_config('app.token_hash', '{token_hash}', true)");
                let mut tx = p.pool.begin_with(sqlx::AssertSqlSafe(begin)).await?;
                let found: Option<FoundRow> = sqlx::query_as(FIND_TOKEN)
                    .bind(token_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some((tenant, id, _, last_used)) = found
                    && is_stale(last_used, now)
                {
                    sqlx::query(
                        "SELECT set_config('app.token_hash', '', true), \
                                set_config('app.tenant_id', $1, true)",
                    )
                    .bind(tenant.to_string())
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(TOUCH_TOKEN)
                        .bind(tenant)
                        .bind(id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                found
            }
        };
        Ok(found.map(|(tenant, token_id, admin, _)| ApiPrincipal {
            tenant: TenantId::from_db(tenant),
            token_id,
            admin,
        }))
    }

    /// The tenant called `name`, without creating it (unlike [`Store::ensure_tenant`]).
    pub async fn find_tenant(&self, name: &str) -> Result<Option<TenantId>, StoreError> {
        let row: Option<(i64,)> = match self {
            Store::Sqlite(s) => {
                sqlx::query_as(FIND_TENANT)
                    .bind(name)
                    .fetch_optional(&s.pool)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_as(FIND_TENANT)
                    .bind(name)
                    .fetch_optional(&p.pool)
                    .await?
            }
        };
        Ok(row.map(|(id,)| TenantId::from_db(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const HASH_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn tenant_statements_name_the_tenant() {
        for sql in [LIST_TOKENS, REVOKE_TOKEN, TOUCH_TOKEN] {
            assert!(sql.contains("WHERE tenant_id = $1"), "{sql}");
        }
        assert!(!is_token_hash("AAAA"));
        assert!(!is_token_hash(&HASH_A.to_uppercase()));
        assert!(is_token_hash(HASH_A));
    }

    #[tokio::test]
    async fn create_authenticate_and_revoke_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("db.sqlite"), false)
            .await
            .unwrap();
        let a = store.ensure_tenant("a").await.unwrap();
        let b = store.ensure_tenant("b").await.unwrap();
        let token = store.create_api_token(a, "ci", HASH_A, true).await.unwrap();
        assert!(token.admin && token.last_used_at.is_none());
        store
            .create_api_token(b, "ro", HASH_B, false)
            .await
            .unwrap();

        let who = store.authenticate(HASH_A).await.unwrap().unwrap();
        assert_eq!((who.tenant, who.token_id, who.admin), (a, token.id, true));
        assert!(
            store.list_api_tokens(a).await.unwrap()[0]
                .last_used_at
                .is_some()
        );
        assert!(!store.authenticate(HASH_B).await.unwrap().unwrap().admin);
        assert_eq!(store.authenticate("nope").await.unwrap(), None);

        // Another tenant cannot revoke it; its own tenant can, once.
        assert!(
            !store
                .revoke_api_token(b, token.id, Utc::now())
                .await
                .unwrap()
        );
        assert!(
            store
                .revoke_api_token(a, token.id, Utc::now())
                .await
                .unwrap()
        );
        assert!(
            !store
                .revoke_api_token(a, token.id, Utc::now())
                .await
                .unwrap()
        );
        assert_eq!(store.authenticate(HASH_A).await.unwrap(), None);
        assert!(matches!(
            store.create_api_token(a, "dup", HASH_B, false).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.find_tenant("a").await.unwrap(), Some(a));
        assert_eq!(store.find_tenant("zz").await.unwrap(), None);
        assert_eq!(store.list_tenants().await.unwrap().len(), 2);
    }
}
