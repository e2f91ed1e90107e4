//! A project's GitHub Discussions, newest-updated first, down to the stored watermark.
//!
//! Crash safety: each page's notices are stored, then the page's end cursor is saved as the
//! project's resume point (with the newest `updatedAt` this run began from). A crash between
//! pages resumes after the last stored page; the watermark moves only when a run reaches the
//! watermark or the end, so nothing updated meanwhile is skipped, and notices have stable ids,
//! so a page read twice changes nothing.

use super::announce::{self, Announcement, DiscussionText};
use super::client::{GitHubClient, GitHubError};
use super::watchlist::WatchedProject;
use super::{affected, store_notice};
use crate::source::CrawlSummary;
use crate::store::{CodePattern, Notice, NoticeKind, SourceState, Store};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// GitHub's most per page; the query's cost stays at 1 point (1 + 100 label lookups / 100).
const PAGE_SIZE: u32 = 100;
/// Pages per run and project; a longer history continues next run from the saved cursor.
const MAX_PAGES_PER_RUN: usize = 50;
const MAX_LABELS: u32 = 20;
/// Confidence of an identifier pattern learnt from an announcement's code span.
const IDENTIFIER_CONFIDENCE: f64 = 0.6;

pub const QUERY: &str =
    "query($owner: String!, $name: String!, $first: Int!, $after: String, $labels: Int!) {
  rateLimit { cost limit remaining resetAt }
  repository(owner: $owner, name: $name) {
    discussions(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id number title body url createdAt updatedAt
        category { name }
        labels(first: $labels) { nodes { name } }
      }
    }
  }
}";

#[derive(Deserialize)]
struct Data {
    repository: Option<Repository>,
}

#[derive(Deserialize)]
struct Repository {
    discussions: Connection,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    page_info: PageInfo,
    #[serde(default)]
    nodes: Vec<Option<Discussion>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Discussion {
    number: i64,
    title: String,
    #[serde(default)]
    body: String,
    url: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    category: Option<Named>,
    labels: Option<Labels>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Labels {
    #[serde(default)]
    nodes: Vec<Option<Named>>,
}

/// Where an unfinished run stopped.
#[derive(Serialize, Deserialize, Default)]
struct Resume {
    /// The end cursor of the last page whose notices are stored.
    after: Option<String>,
    /// The newest `updatedAt` of the run's first page: the next watermark once the run is done.
    top: Option<DateTime<Utc>>,
}

/// The crawl state row of one project's discussions.
pub fn state_id(project: &WatchedProject) -> String {
    format!("github-discussions:{}", project.slug())
}

/// The notice id of a discussion.
pub fn notice_id(project: &WatchedProject, number: i64) -> String {
    format!("github-discussion:{}#{number}", project.slug())
}

pub async fn crawl_project(
    client: &GitHubClient,
    store: &Store,
    project: &WatchedProject,
    summary: &mut CrawlSummary,
) -> Result<(), GitHubError> {
    let id = state_id(project);
    let mut state = store.get_source(&id).await?.unwrap_or_else(|| SourceState {
        id: id.clone(),
        kind: "github-discussions".to_string(),
        url: Some(format!("https://github.com/{}/discussions", project.slug())),
        ..SourceState::default()
    });
    let mut resume: Resume = state
        .cursor
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    let watermark = state.watermark;
    for _ in 0..MAX_PAGES_PER_RUN {
        let data: Data = client
            .graphql(
                QUERY,
                json!({
                    "owner": project.owner,
                    "name": project.repo,
                    "first": PAGE_SIZE,
                    "after": resume.after,
                    "labels": MAX_LABELS,
                }),
            )
            .await?;
        let Some(repository) = data.repository else {
            return Err(GitHubError::Graphql {
                url: client.config().graphql.to_string(),
                message: format!("no repository {}", project.slug()),
            });
        };
        let connection = repository.discussions;
        let mut reached_watermark = false;
        for discussion in connection.nodes.into_iter().flatten() {
            resume.top = resume.top.max(Some(discussion.updated_at));
            // Equal times are read again (a no-op), so a tie is never skipped.
            if watermark.is_some_and(|w| discussion.updated_at < w) {
                reached_watermark = true;
                break;
            }
            if let Some(notice) = to_notice(project, &discussion) {
                store_notice(store, notice, summary).await?;
            }
        }
        let next = connection
            .page_info
            .end_cursor
            .filter(|_| connection.page_info.has_next_page && !reached_watermark);
        match next {
            Some(cursor) if Some(&cursor) != resume.after.as_ref() => {
                resume.after = Some(cursor);
                state.cursor = serde_json::to_string(&resume).ok();
                store.put_source(&state).await?;
            }
            _ => {
                state.watermark = state.watermark.max(resume.top);
                state.cursor = None;
                state.last_success_at = Some(Utc::now());
                store.put_source(&state).await?;
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The notice for an announcement discussion; `None` for ordinary ones.
fn to_notice(project: &WatchedProject, d: &Discussion) -> Option<Notice> {
    let labels: Vec<String> = d
        .labels
        .iter()
        .flat_map(|l| l.nodes.iter().flatten())
        .map(|l| announce::clean(&l.name, 100))
        .collect();
    let category = d.category.as_ref().map(|c| announce::clean(&c.name, 100));
    let a = announce::classify(&DiscussionText {
        title: &d.title,
        body: &d.body,
        category: category.as_deref(),
        labels: &labels,
    })?;
    let url = discussion_url(project, d);
    Some(Notice {
        id: notice_id(project, d.number),
        kind: if a.deprecation {
            NoticeKind::Deprecation
        } else {
            NoticeKind::Announcement
        },
        aliases: Vec::new(),
        summary: Some(a.summary.clone()),
        details: Some(details(&a)),
        severity: json!([]),
        published: Some(d.created_at),
        modified: d.updated_at,
        withdrawn: None,
        affected: affected(project),
        references: json!([{ "type": "DISCUSSION", "url": url }]),
        patterns: a
            .identifiers
            .iter()
            .map(|ident| CodePattern {
                matcher: "identifier".to_string(),
                pattern: ident.clone(),
                language: None,
                provenance: url.clone(),
                confidence: IDENTIFIER_CONFIDENCE,
            })
            .collect(),
        source_id: Some(super::SOURCE_ID.to_string()),
        raw: Some(json!({
            "github": project.slug(),
            "discussion": d.number,
            "category": category,
            "labels": labels,
            "timeline": a.timeline.iter().map(|t| json!({
                "date": t.date.to_string(),
                "text": t.sentence,
            })).collect::<Vec<_>>(),
            "identifiers": a.identifiers,
        })),
    })
}

/// The discussion's own URL when it is a plain http(s) URL, else the one GitHub would give it.
fn discussion_url(project: &WatchedProject, d: &Discussion) -> String {
    match reqwest::Url::parse(&d.url) {
        Ok(url) if matches!(url.scheme(), "https" | "http") && d.url.len() <= 500 => d.url.clone(),
        _ => format!(
            "https://github.com/{}/discussions/{}",
            project.slug(),
            d.number
        ),
    }
}

/// Plain text: the key sentence, the timeline and the identifiers.
fn details(a: &Announcement) -> String {
    let mut text = String::new();
    if let Some(sentence) = &a.key_sentence {
        text.push_str(sentence);
    }
    if !a.timeline.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str("Timeline:");
        for t in &a.timeline {
            text.push_str(&format!("\n- {}: {}", t.date, t.sentence));
        }
    }
    if !a.identifiers.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str("Identifiers: ");
        text.push_str(&a.identifiers.join(", "));
    }
    text
}
