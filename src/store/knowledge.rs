//! The shared-knowledge half of the store (notices and sources' crawl state): no tenant, and the
//! same SQL on both backends. The two backends differ only in their connection type and in how a
//! write transaction begins (`BEGIN IMMEDIATE` on SQLite), so the code is written once here and
//! expanded into each backend, where `self.begin_write()` supplies that difference.

/// The notice and source methods, expanded inside each backend's `impl` block.
macro_rules! knowledge_methods {
    () => {
        pub(super) async fn upsert_notice(&self, n: &Notice) -> Result<NoticeWrite, StoreError> {
            let mut tx = self.begin_write().await?;
            let write = write_notice(&mut tx, n).await?;
            tx.commit().await?;
            Ok(write)
        }

        /// Many notices in one transaction: a dump of a hundred thousand records is a few hundred
        /// commits, not a hundred thousand.
        pub(super) async fn upsert_notices(
            &self,
            notices: &[Notice],
        ) -> Result<NoticeCounts, StoreError> {
            let mut tx = self.begin_write().await?;
            let mut counts = NoticeCounts::default();
            for n in notices {
                counts.add(write_notice(&mut tx, n).await?);
            }
            tx.commit().await?;
            Ok(counts)
        }

        pub(super) async fn notices_for_packages(
            &self,
            packages: &[(String, String)],
        ) -> Result<Vec<Notice>, StoreError> {
            let mut ids = std::collections::BTreeSet::new();
            {
                let mut conn = self.pool.acquire().await?;
                for (ecosystem, package) in packages {
                    let rows: Vec<(String,)> = sqlx::query_as(sql::NOTICE_IDS_FOR_PACKAGE)
                        .bind(ecosystem)
                        .bind(package)
                        .fetch_all(&mut *conn)
                        .await?;
                    ids.extend(rows.into_iter().map(|(id,)| id));
                }
            }
            let mut notices = Vec::with_capacity(ids.len());
            for id in ids {
                // A notice deleted between the two reads is simply not returned.
                if let Some(n) = self.get_notice(&id).await? {
                    notices.push(n);
                }
            }
            Ok(notices)
        }

        pub(super) async fn get_notice(&self, id: &str) -> Result<Option<Notice>, StoreError> {
            let mut tx = self.pool.begin().await?;
            let Some(row): Option<NoticeRow> = sqlx::query_as(sql::GET_NOTICE)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(None);
            };
            let aliases: Vec<(String,)> = sqlx::query_as(sql::GET_NOTICE_ALIASES)
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            let affected: Vec<AffectedRow> = sqlx::query_as(sql::GET_NOTICE_AFFECTED)
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            let patterns: Vec<PatternRow> = sqlx::query_as(sql::GET_NOTICE_PATTERNS)
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            notice_from_rows(
                row,
                aliases.into_iter().map(|(a,)| a).collect(),
                affected,
                patterns,
            )
            .map(Some)
        }

        pub(super) async fn find_notices_by_alias(
            &self,
            alias: &str,
        ) -> Result<Vec<Notice>, StoreError> {
            let ids: Vec<(String,)> = sqlx::query_as(sql::FIND_NOTICES_BY_ALIAS)
                .bind(alias)
                .fetch_all(&self.pool)
                .await?;
            let mut notices = Vec::with_capacity(ids.len());
            for (id,) in ids {
                // A notice deleted between the two reads is simply not returned.
                if let Some(n) = self.get_notice(&id).await? {
                    notices.push(n);
                }
            }
            Ok(notices)
        }

        pub(super) async fn get_source(&self, id: &str) -> Result<Option<SourceState>, StoreError> {
            let row: Option<SourceRow> = sqlx::query_as(sql::GET_SOURCE)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.map(source_from_row))
        }

        pub(super) async fn list_sources(&self) -> Result<Vec<SourceState>, StoreError> {
            let rows: Vec<SourceRow> = sqlx::query_as(sql::LIST_SOURCES)
                .fetch_all(&self.pool)
                .await?;
            Ok(rows.into_iter().map(source_from_row).collect())
        }

        pub(super) async fn put_source(&self, s: &SourceState) -> Result<(), StoreError> {
            sqlx::query(sql::PUT_SOURCE)
                .bind(&s.id)
                .bind(&s.kind)
                .bind(&s.url)
                .bind(&s.cursor)
                .bind(s.watermark)
                .bind(&s.etag)
                .bind(&s.last_modified)
                .bind(s.last_success_at)
                .bind(s.last_error_at)
                .bind(&s.last_error)
                .bind(Utc::now())
                .execute(&self.pool)
                .await?;
            Ok(())
        }
    };
}

/// `write_notice` for one backend's connection type, expanded at each backend's module level.
macro_rules! write_notice_fn {
    ($conn:ty) => {
        /// Writes one notice inside the caller's transaction, unless the stored copy is as new or newer.
        async fn write_notice(conn: &mut $conn, n: &Notice) -> Result<NoticeWrite, StoreError> {
            let (existing,): (i64,) = sqlx::query_as(sql::NOTICE_EXISTS)
                .bind(&n.id)
                .fetch_one(&mut *conn)
                .await?;
            let written: Option<(String,)> = sqlx::query_as(sql::UPSERT_NOTICE)
                .bind(&n.id)
                .bind(n.kind.as_str())
                .bind(&n.summary)
                .bind(&n.details)
                .bind(Json(&n.severity))
                .bind(n.published)
                .bind(n.modified)
                .bind(n.withdrawn)
                .bind(Json(&n.references))
                .bind(&n.source_id)
                .bind(n.raw.as_ref().map(Json))
                .bind(Utc::now())
                .fetch_optional(&mut *conn)
                .await?;
            if written.is_none() {
                return Ok(NoticeWrite::Unchanged);
            }
            for statement in [
                sql::DELETE_NOTICE_ALIASES,
                sql::DELETE_NOTICE_AFFECTED,
                sql::DELETE_NOTICE_PATTERNS,
            ] {
                sqlx::query(statement)
                    .bind(&n.id)
                    .execute(&mut *conn)
                    .await?;
            }
            for alias in &n.aliases {
                sqlx::query(sql::INSERT_NOTICE_ALIAS)
                    .bind(&n.id)
                    .bind(alias)
                    .execute(&mut *conn)
                    .await?;
            }
            for a in &n.affected {
                sqlx::query(sql::INSERT_NOTICE_AFFECTED)
                    .bind(&n.id)
                    .bind(&a.ecosystem)
                    .bind(&a.package)
                    .bind(Json(&a.ranges))
                    .bind(Json(&a.versions))
                    .execute(&mut *conn)
                    .await?;
            }
            for p in &n.patterns {
                sqlx::query(sql::INSERT_NOTICE_PATTERN)
                    .bind(&n.id)
                    .bind(&p.matcher)
                    .bind(&p.pattern)
                    .bind(&p.language)
                    .bind(&p.provenance)
                    .bind(p.confidence)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(if existing > 0 {
                NoticeWrite::Updated
            } else {
                NoticeWrite::Inserted
            })
        }
    };
}

pub(super) use knowledge_methods;
pub(super) use write_notice_fn;
