//! Incremental sync from an OSV-compatible API (OSV.dev by default).
//!
//! 1. `POST /v1/querybatch` (≤1000 queries a batch, following each query's `next_page_token`)
//!    for the watched packages: ids and their `modified` times only.
//! 2. `GET /v1/vulns/{id}` only for ids the store lacks or holds at an older `modified`, so a
//!    second crawl with nothing changed fetches no details at all.
//! 3. Each record becomes a notice in its own transaction: a failure leaves every stored notice
//!    as it was, and the crawl state (`sources` row `osv`) records the error.

pub mod api;

use super::{CrawlProgress, CrawlSummary};
use crate::dependency::Dependency;
use crate::http::{HttpClient, HttpError};
use crate::store::{NoticeWrite, Store, StoreError};
use api::{BatchRequest, BatchResponse, MAX_BATCH, Package, Query, VulnRef};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use reqwest::Url;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// The id of this source's row in the store and of the notices it writes.
pub const SOURCE_ID: &str = "osv";
pub const ENV_OSV_URL: &str = "ECOWATCH_OSV_URL";
pub const DEFAULT_OSV_URL: &str = "https://api.osv.dev";

/// A hostile or broken server could hand out page tokens for ever; no real answer needs this many.
const MAX_PAGES: usize = 100;
/// Error messages kept in a summary; the count stays exact.
const MAX_ERROR_MESSAGES: usize = 50;

/// Why a crawl stopped before it could finish.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("the knowledge store failed")]
    Store(#[from] StoreError),
    #[error("the OSV API answered in an unexpected way: {0}")]
    Protocol(String),
}

/// A crawl's outcome: the summary always, and the error that stopped it, if one did.
#[derive(Debug)]
pub struct CrawlReport {
    pub summary: CrawlSummary,
    pub fatal: Option<CrawlError>,
}

impl CrawlReport {
    pub fn is_success(&self) -> bool {
        self.fatal.is_none() && self.summary.errors.is_empty()
    }
}

/// The queries for `dependencies`: each package ecosystem OSV knows, with the locked version when
/// there is one (unpinned declarations ask about the whole package). Skipped dependencies and
/// runtime pins are left out. Sorted and without duplicates.
pub fn queries_for<'a>(dependencies: impl IntoIterator<Item = &'a Dependency>) -> Vec<Query> {
    let set: BTreeSet<Query> = dependencies
        .into_iter()
        .filter(|d| d.skipped.is_none() && !d.ecosystem.is_runtime())
        .filter(|d| d.ecosystem != crate::Ecosystem::Docker && !d.name.is_empty())
        .map(|d| Query {
            package: Package {
                ecosystem: d.ecosystem.as_str().to_string(),
                name: d.name.clone(),
            },
            version: d.version.clone().filter(|v| !v.is_empty()),
            page_token: None,
        })
        .collect();
    set.into_iter().collect()
}

/// The base URL with a trailing slash, so `join("v1/…")` keeps any path prefix.
pub fn base_url(text: &str) -> Result<Url, HttpError> {
    let mut url = HttpClient::parse_url(text.trim())?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Crawls OSV at `base` for `queries` into `store`, then records the crawl state.
/// Returns `Err` only when the crawl state itself could not be written.
pub async fn crawl(
    http: &HttpClient,
    store: &Store,
    base: &Url,
    queries: Vec<Query>,
    progress: &(dyn Fn(CrawlProgress) + Sync),
) -> Result<CrawlReport, StoreError> {
    let started = Instant::now();
    let requests_before = http.requests_sent();
    let mut summary = CrawlSummary::default();
    let mut watermark = None;
    let fatal = sync(
        http,
        store,
        base,
        queries,
        progress,
        &mut summary,
        &mut watermark,
    )
    .await
    .err();
    summary.requests = http.requests_sent() - requests_before;
    summary.elapsed = started.elapsed();
    let report = CrawlReport { summary, fatal };
    record_state(store, base, &report, watermark).await?;
    Ok(report)
}

async fn sync(
    http: &HttpClient,
    store: &Store,
    base: &Url,
    queries: Vec<Query>,
    progress: &(dyn Fn(CrawlProgress) + Sync),
    summary: &mut CrawlSummary,
    watermark: &mut Option<DateTime<Utc>>,
) -> Result<(), CrawlError> {
    let matches = query_all(http, base, queries, progress, summary).await?;
    let mut wanted = Vec::new();
    for (id, modified) in matches {
        let stored = store.get_notice(&id).await?;
        match (stored, modified) {
            (Some(stored), Some(modified)) if stored.modified >= modified => {
                summary.unchanged += 1;
                *watermark = (*watermark).max(Some(modified));
            }
            _ => wanted.push((id, modified)),
        }
    }
    fetch_details(http, store, base, wanted, progress, summary, watermark).await
}

/// Every id the queries match, with the newest `modified` any answer gave for it.
async fn query_all(
    http: &HttpClient,
    base: &Url,
    queries: Vec<Query>,
    progress: &(dyn Fn(CrawlProgress) + Sync),
    summary: &mut CrawlSummary,
) -> Result<BTreeMap<String, Option<DateTime<Utc>>>, CrawlError> {
    let url = join(base, "v1/querybatch")?;
    let mut matches: BTreeMap<String, Option<DateTime<Utc>>> = BTreeMap::new();
    let mut pending = queries;
    let (mut done, mut total) = (0, pending.len());
    for _page in 0..MAX_PAGES {
        if pending.is_empty() {
            return Ok(matches);
        }
        let mut next = Vec::new();
        for batch in pending.chunks(MAX_BATCH) {
            progress(CrawlProgress::Querying { done, total });
            let answer: BatchResponse = http
                .post_json(&url, &BatchRequest { queries: batch })
                .await?;
            if answer.results.len() != batch.len() {
                return Err(CrawlError::Protocol(format!(
                    "{} results for {} queries",
                    answer.results.len(),
                    batch.len()
                )));
            }
            for (query, result) in batch.iter().zip(answer.results) {
                for vuln in result.vulns {
                    note_match(&mut matches, vuln, summary);
                }
                if let Some(token) = result.next_page_token.filter(|t| !t.is_empty()) {
                    if query.page_token.as_ref() == Some(&token) {
                        return Err(CrawlError::Protocol(format!(
                            "the same page token twice for {} {}",
                            query.package.ecosystem, query.package.name
                        )));
                    }
                    next.push(Query {
                        page_token: Some(token),
                        ..query.clone()
                    });
                }
            }
            done += batch.len();
        }
        total += next.len();
        pending = next;
    }
    Err(CrawlError::Protocol(format!(
        "still more pages after {MAX_PAGES}"
    )))
}

fn note_match(
    matches: &mut BTreeMap<String, Option<DateTime<Utc>>>,
    vuln: VulnRef,
    summary: &mut CrawlSummary,
) {
    if !api::is_plausible_id(&vuln.id) {
        push_error(
            summary,
            format!("ignored an unusable vulnerability id {:?}", vuln.id),
        );
        return;
    }
    let modified = vuln.modified_at();
    matches
        .entry(vuln.id)
        .and_modify(|known| *known = (*known).max(modified))
        .or_insert(modified);
}

/// Fetches `wanted` records, several at once (the client's per-host limit bounds how many are
/// in flight), and stores each as it arrives. One bad record is an error in the summary, not
/// the end of the crawl.
async fn fetch_details(
    http: &HttpClient,
    store: &Store,
    base: &Url,
    wanted: Vec<(String, Option<DateTime<Utc>>)>,
    progress: &(dyn Fn(CrawlProgress) + Sync),
    summary: &mut CrawlSummary,
    watermark: &mut Option<DateTime<Utc>>,
) -> Result<(), CrawlError> {
    let total = wanted.len();
    let concurrency = http
        .config()
        .max_in_flight_per_host
        .saturating_mul(2)
        .max(2);
    let mut fetched = futures_util::stream::iter(wanted)
        .map(|(id, modified)| async move {
            let result = match join(base, &format!("v1/vulns/{id}")) {
                Ok(url) => http.get_bytes(&url).await.map_err(CrawlError::from),
                Err(err) => Err(err),
            };
            (id, modified, result)
        })
        .buffer_unordered(concurrency);
    let mut done = 0;
    progress(CrawlProgress::Fetching { done, total });
    while let Some((id, listed_modified, result)) = fetched.next().await {
        done += 1;
        progress(CrawlProgress::Fetching { done, total });
        let bytes = match result {
            Ok(bytes) => bytes,
            Err(err) => {
                push_error(summary, format!("{id}: {}", error_chain(&err)));
                continue;
            }
        };
        let notice = match crate::osv::parse_osv_json(&bytes) {
            Ok(record) if record.id == id => record.to_notice(SOURCE_ID),
            Ok(record) => {
                push_error(
                    summary,
                    format!("{id}: the API answered with `{}`", record.id),
                );
                continue;
            }
            Err(err) => {
                push_error(summary, format!("{id}: {}", error_chain(&err)));
                continue;
            }
        };
        let modified = notice.modified;
        match store.upsert_notice(&notice).await {
            Ok(NoticeWrite::Inserted) => summary.new += 1,
            Ok(NoticeWrite::Updated) => summary.updated += 1,
            Ok(NoticeWrite::Unchanged) => summary.unchanged += 1,
            Err(StoreError::Invalid(message)) => {
                push_error(summary, format!("{id}: {message}"));
                continue;
            }
            Err(err) => return Err(err.into()),
        }
        *watermark = (*watermark).max(Some(modified)).max(listed_modified);
    }
    Ok(())
}

fn join(base: &Url, path: &str) -> Result<Url, CrawlError> {
    base.join(path)
        .map_err(|err| CrawlError::Protocol(format!("cannot build a URL for `{path}`: {err}")))
}

fn push_error(summary: &mut CrawlSummary, message: String) {
    if summary.errors.len() < MAX_ERROR_MESSAGES {
        summary.errors.push(message);
    } else if summary.errors.len() == MAX_ERROR_MESSAGES {
        summary
            .errors
            .push("… further errors not listed".to_string());
    }
}

/// `outer: inner: innermost`, as `anyhow` prints it, for messages kept as text.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Success moves `last_success_at` and the watermark; any error records `last_error(_at)`.
/// Earlier values (the other timestamp, etag, cursor) are kept.
async fn record_state(
    store: &Store,
    base: &Url,
    report: &CrawlReport,
    watermark: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let mut state = store.get_source(SOURCE_ID).await?.unwrap_or_default();
    state.id = SOURCE_ID.to_string();
    state.kind = "osv".to_string();
    state.url = Some(base.to_string());
    state.watermark = state.watermark.max(watermark);
    if report.is_success() {
        state.last_success_at = Some(now);
    } else {
        state.last_error_at = Some(now);
        state.last_error = Some(match &report.fatal {
            Some(err) => error_chain(err),
            None => format!(
                "{} error(s); first: {}",
                report.summary.errors.len(),
                report.summary.errors.first().map_or("", String::as_str)
            ),
        });
    }
    store.put_source(&state).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ecosystem, SkipReason};

    #[test]
    fn queries_are_deduplicated_and_skip_what_osv_cannot_answer() {
        let deps = [
            Dependency::new(Ecosystem::Npm, "lodash", "package-lock.json", 5).locked("4.17.20"),
            Dependency::new(Ecosystem::Npm, "lodash", "package-lock.json", 9).locked("4.17.20"),
            Dependency::new(Ecosystem::Npm, "lodash", "package.json", 3).requires("^4.17.0"),
            Dependency::new(Ecosystem::PyPI, "mylib", "requirements.txt", 1)
                .skip(SkipReason::Git, "git+https://example.test/mylib"),
            Dependency::new(Ecosystem::NodeJs, "node", ".nvmrc", 1).locked("20"),
            Dependency::new(Ecosystem::Docker, "nginx", "Dockerfile", 1).locked("1.25"),
            Dependency::new(Ecosystem::CratesIo, "smallvec", "Cargo.lock", 12).locked("1.6.0"),
        ];
        let queries = queries_for(&deps);
        let shown: Vec<String> = queries
            .iter()
            .map(|q| {
                format!(
                    "{} {} {}",
                    q.package.ecosystem,
                    q.package.name,
                    q.version.as_deref().unwrap_or("*")
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "crates.io smallvec 1.6.0",
                "npm lodash *",
                "npm lodash 4.17.20"
            ]
        );
    }

    #[test]
    fn base_url_keeps_a_path_prefix_and_refuses_non_http() {
        let base = base_url("http://127.0.0.1:9/osv").unwrap();
        assert_eq!(
            base.join("v1/querybatch").unwrap().as_str(),
            "http://127.0.0.1:9/osv/v1/querybatch"
        );
        assert_eq!(
            base_url(DEFAULT_OSV_URL).unwrap().as_str(),
            "https://api.osv.dev/"
        );
        assert!(base_url("file:///tmp/osv").is_err());
    }
}
