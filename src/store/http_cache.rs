//! Conditional-request validators (ETag, Last-Modified) kept per cache key, so the next crawl
//! can ask "changed since?" and get a free 304. The `http_cache` table's `url` column holds the
//! key: an ETag is valid only for the credential and `Accept` that produced it, so callers build
//! keys from all three. No body is kept: what a response yielded is already in the store.

use super::{Store, StoreError};
use chrono::Utc;

/// The validators stored for a key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CachedValidators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

const GET_VALIDATORS: &str = "SELECT etag, last_modified FROM http_cache WHERE url = $1";

const PUT_VALIDATORS: &str = "INSERT INTO http_cache \
     (url, etag, last_modified, status, content_type, body, fetched_at) \
     VALUES ($1, $2, $3, $4, NULL, $5, $6) \
     ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, \
       last_modified = excluded.last_modified, status = excluded.status, \
       body = excluded.body, fetched_at = excluded.fetched_at";

const DELETE_VALIDATORS: &str = "DELETE FROM http_cache WHERE url = $1";

impl Store {
    pub async fn get_validators(&self, key: &str) -> Result<Option<CachedValidators>, StoreError> {
        let row: Option<(Option<String>, Option<String>)> = match self {
            Store::Sqlite(s) => {
                sqlx::query_as(GET_VALIDATORS)
                    .bind(key)
                    .fetch_optional(&s.pool)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_as(GET_VALIDATORS)
                    .bind(key)
                    .fetch_optional(&p.pool)
                    .await?
            }
        };
        Ok(row.map(|(etag, last_modified)| CachedValidators {
            etag,
            last_modified,
        }))
    }

    /// Stores the validators of a response with `status`, only once what it yielded is stored
    /// (a crash in between must not turn the next answer into a 304 that hides the data).
    /// Validators that are both absent delete the key.
    pub async fn put_validators(
        &self,
        key: &str,
        status: u16,
        validators: &CachedValidators,
    ) -> Result<(), StoreError> {
        if validators.etag.is_none() && validators.last_modified.is_none() {
            return self.delete_validators(key).await;
        }
        let status = i32::from(status);
        let now = Utc::now();
        let empty: Vec<u8> = Vec::new();
        match self {
            Store::Sqlite(s) => {
                sqlx::query(PUT_VALIDATORS)
                    .bind(key)
                    .bind(&validators.etag)
                    .bind(&validators.last_modified)
                    .bind(status)
                    .bind(&empty)
                    .bind(now)
                    .execute(&s.pool)
                    .await?;
            }
            Store::Postgres(p) => {
                sqlx::query(PUT_VALIDATORS)
                    .bind(key)
                    .bind(&validators.etag)
                    .bind(&validators.last_modified)
                    .bind(status)
                    .bind(&empty)
                    .bind(now)
                    .execute(&p.pool)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn delete_validators(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                sqlx::query(DELETE_VALIDATORS)
                    .bind(key)
                    .execute(&s.pool)
                    .await?;
            }
            Store::Postgres(p) => {
                sqlx::query(DELETE_VALIDATORS)
                    .bind(key)
                    .execute(&p.pool)
                    .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn validators_round_trip_replace_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("c.db"), false)
            .await
            .unwrap();
        assert_eq!(store.get_validators("k").await.unwrap(), None);
        let first = CachedValidators {
            etag: Some("\"a\"".into()),
            last_modified: Some("Sun, 06 Nov 1994 08:49:37 GMT".into()),
        };
        store.put_validators("k", 200, &first).await.unwrap();
        assert_eq!(store.get_validators("k").await.unwrap(), Some(first));
        let second = CachedValidators {
            etag: Some("W/\"b\"".into()),
            last_modified: None,
        };
        store.put_validators("k", 200, &second).await.unwrap();
        assert_eq!(store.get_validators("k").await.unwrap(), Some(second));
        store
            .put_validators("k", 200, &CachedValidators::default())
            .await
            .unwrap();
        assert_eq!(store.get_validators("k").await.unwrap(), None);
    }
}
