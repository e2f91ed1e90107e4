//! GitHub as a source of knowledge: for each watched project (`feeds/watch.toml`, and the
//! source repositories of the packages in use, found by [`discover`]), its
//! Discussions (GraphQL, newest-updated first, down to the stored watermark), its Releases and
//! a changelog file (REST, conditional: unchanged ones cost a free 304), turned into notices
//! about the packages the project publishes.
//!
//! A run first asks, in one GraphQL query per [`discussions_probe::BATCH`] projects, which
//! projects' discussions changed since the watermark, and pages through only those: an
//! unchanged run costs a point per batch plus free 304s.
//!
//! Requests are serial, as GitHub asks, and go through [`client::GitHubClient`], which obeys
//! GitHub's primary and secondary limits and the budget shared through the store.

pub mod announce;
pub mod budget;
pub mod changelog_files;
pub mod changelog_find;
pub mod client;
pub mod discover;
pub mod discussions;
pub mod discussions_probe;
pub mod ratelimit;
pub mod releases;
pub mod repo_url;
pub mod watchlist;

use super::CrawlSummary;
use super::osv::error_chain;
use crate::store::{Affected, Notice, NoticeWrite, Store, StoreError};
use chrono::Utc;
use client::{GitHubClient, GitHubError, GitHubStats};
use std::time::Instant;
use watchlist::WatchedProject;

/// The crawl state row of the whole GitHub source (per-project discussion cursors have their own).
pub const SOURCE_ID: &str = "github";
const MAX_ERROR_MESSAGES: usize = 50;

/// A GitHub crawl's outcome.
#[derive(Debug)]
pub struct GitHubReport {
    pub summary: CrawlSummary,
    pub stats: GitHubStats,
    pub projects: usize,
    /// The error that stopped the crawl before every project was done (a spent budget, a
    /// secondary limit that would not lift, a failing store).
    pub fatal: Option<GitHubError>,
}

impl GitHubReport {
    pub fn is_success(&self) -> bool {
        self.fatal.is_none() && self.summary.errors.is_empty()
    }
}

/// Where a crawl is, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GitHubProgress<'a> {
    pub done: usize,
    pub total: usize,
    pub project: &'a str,
}

#[derive(Debug, Clone, Copy)]
enum Part {
    Discussions,
    Releases,
    Changelog,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Discussions => "discussions",
            Part::Releases => "releases",
            Part::Changelog => "changelog",
        }
    }
}

/// Crawls every project's discussions, releases and changelog, then records the crawl state.
/// Returns `Err` only when the crawl state itself could not be written.
pub async fn crawl(
    client: &GitHubClient,
    store: &Store,
    projects: &[WatchedProject],
    progress: &(dyn Fn(GitHubProgress<'_>) + Sync),
) -> Result<GitHubReport, StoreError> {
    let started = Instant::now();
    let requests_before = client.requests_sent();
    let mut summary = CrawlSummary::default();
    let mut fatal = None;
    'projects: for (batch_index, batch) in projects.chunks(discussions_probe::BATCH).enumerate() {
        let read_discussions = match discussions_probe::needs_crawl(client, store, batch).await {
            Ok(needed) => needed,
            Err(err) => {
                fatal = Some(err);
                break 'projects;
            }
        };
        for (j, project) in batch.iter().enumerate() {
            let slug = project.slug();
            progress(GitHubProgress {
                done: batch_index * discussions_probe::BATCH + j,
                total: projects.len(),
                project: &slug,
            });
            // One part after the other: an error that stops the source must stop it before the
            // next request.
            for part in [Part::Discussions, Part::Releases, Part::Changelog] {
                let result = match part {
                    Part::Discussions if !read_discussions.get(j).copied().unwrap_or(true) => {
                        Ok(())
                    }
                    Part::Discussions => {
                        discussions::crawl_project(client, store, project, &mut summary).await
                    }
                    Part::Releases => {
                        releases::crawl_project(client, store, project, &mut summary).await
                    }
                    Part::Changelog => {
                        changelog_files::crawl_project(client, store, project, &mut summary).await
                    }
                };
                let Err(err) = result else { continue };
                if err.stops_the_source() {
                    fatal = Some(err);
                    break 'projects;
                }
                push_error(
                    &mut summary,
                    format!("{slug} {}: {}", part.name(), error_chain(&err)),
                );
            }
        }
    }
    progress(GitHubProgress {
        done: projects.len(),
        total: projects.len(),
        project: "",
    });
    summary.requests = client.requests_sent() - requests_before;
    summary.elapsed = started.elapsed();
    let report = GitHubReport {
        summary,
        stats: client.stats(),
        projects: projects.len(),
        fatal,
    };
    record_state(store, client, &report).await?;
    Ok(report)
}

/// Success moves `last_success_at`; any error records `last_error(_at)`.
async fn record_state(
    store: &Store,
    client: &GitHubClient,
    report: &GitHubReport,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let mut state = store.get_source(SOURCE_ID).await?.unwrap_or_default();
    state.id = SOURCE_ID.to_string();
    state.kind = "github".to_string();
    state.url = Some(client.config().api.to_string());
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
    store.put_source(&state).await
}

/// The project's packages as a notice's `affected` (every version: announcements carry no range).
pub(crate) fn affected(project: &WatchedProject) -> Vec<Affected> {
    project
        .packages
        .iter()
        .map(|(ecosystem, name)| Affected {
            ecosystem: ecosystem.as_str().to_string(),
            package: name.clone(),
            ranges: serde_json::json!([]),
            versions: Vec::new(),
        })
        .collect()
}

/// Stores `notice` unless the stored copy says the same. Text re-derived from a changed file
/// carries no upstream timestamp, so a changed notice is made newer than the stored one.
pub(crate) async fn store_notice(
    store: &Store,
    mut notice: Notice,
    summary: &mut CrawlSummary,
) -> Result<(), StoreError> {
    if let Some(stored) = store.get_notice(&notice.id).await? {
        if same_content(&stored, &notice) {
            summary.unchanged += 1;
            return Ok(());
        }
        if stored.modified >= notice.modified {
            notice.modified = stored.modified + chrono::Duration::seconds(1);
        }
    }
    match store.upsert_notice(&notice).await {
        Ok(NoticeWrite::Inserted) => summary.new += 1,
        Ok(NoticeWrite::Updated) => summary.updated += 1,
        Ok(NoticeWrite::Unchanged) => summary.unchanged += 1,
        Err(StoreError::Invalid(message)) => push_error(summary, message),
        Err(err) => return Err(err),
    }
    Ok(())
}

/// Equal apart from timestamps and the order rows come back in.
fn same_content(a: &Notice, b: &Notice) -> bool {
    let affected = |n: &Notice| {
        let mut v: Vec<(String, String, String, Vec<String>)> = n
            .affected
            .iter()
            .map(|a| {
                (
                    a.ecosystem.clone(),
                    a.package.clone(),
                    a.ranges.to_string(),
                    a.versions.clone(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let patterns = |n: &Notice| {
        let mut v: Vec<(String, String)> = n
            .patterns
            .iter()
            .map(|p| (p.matcher.clone(), p.pattern.clone()))
            .collect();
        v.sort();
        v
    };
    a.kind == b.kind
        && a.summary == b.summary
        && a.details == b.details
        && a.references == b.references
        && a.raw == b.raw
        && a.withdrawn == b.withdrawn
        && affected(a) == affected(b)
        && patterns(a) == patterns(b)
}

pub(crate) fn push_error(summary: &mut CrawlSummary, message: String) {
    if summary.errors.len() < MAX_ERROR_MESSAGES {
        summary.errors.push(message);
    } else if summary.errors.len() == MAX_ERROR_MESSAGES {
        summary
            .errors
            .push("… further errors not listed".to_string());
    }
}
