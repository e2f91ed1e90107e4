//! A project's GitHub Releases (REST, conditional: an unchanged list is a free 304), each
//! release's notes read for deprecations, removals and breaking changes.

use super::client::{GitHubClient, GitHubError, RestAnswer};
use super::watchlist::WatchedProject;
use super::{affected, announce, store_notice};
use crate::source::CrawlSummary;
use crate::store::{CodePattern, Notice, NoticeKind, Store};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

pub const ACCEPT: &str = "application/vnd.github+json";
/// Lines of release text kept in one notice.
const MAX_LINES: usize = 20;
const MAX_LINE_CHARS: usize = 400;
const MAX_RELEASE_TEXT: usize = 256 * 1024;
const IDENTIFIER_CONFIDENCE: f64 = 0.5;

#[derive(Deserialize)]
struct Release {
    tag_name: String,
    name: Option<String>,
    body: Option<String>,
    html_url: String,
    published_at: Option<DateTime<Utc>>,
    #[serde(default)]
    draft: bool,
}

/// `GET /repos/{owner}/{repo}/releases?per_page=100`: the newest hundred, which an hourly or
/// daily crawl never outruns.
pub async fn crawl_project(
    client: &GitHubClient,
    store: &Store,
    project: &WatchedProject,
    summary: &mut CrawlSummary,
) -> Result<(), GitHubError> {
    let url = client.rest_url(&format!(
        "repos/{}/{}/releases?per_page=100",
        project.owner, project.repo
    ))?;
    let (body, validators) = match client.rest_get(&url, ACCEPT).await? {
        RestAnswer::NotModified => return Ok(()),
        RestAnswer::Fresh { body, validators } => (body, validators),
    };
    let releases: Vec<Release> =
        serde_json::from_slice(&body).map_err(|source| GitHubError::Json {
            url: url.to_string(),
            source,
        })?;
    for release in releases.iter().filter(|r| !r.draft) {
        let version = release.tag_name.trim();
        let text = format!(
            "{}\n{}",
            release.name.as_deref().unwrap_or_default(),
            release.body.as_deref().unwrap_or_default()
        );
        let link = http_url(&release.html_url).unwrap_or_else(|| {
            format!(
                "https://github.com/{}/releases/tag/{version}",
                project.slug()
            )
        });
        let id = format!("github-release:{}@{}", project.slug(), version);
        let when = release.published_at.unwrap_or_else(Utc::now);
        if let Some(notice) = notices_from_release_text(project, &id, version, &text, &link, when) {
            store_notice(store, notice, summary).await?;
        }
    }
    // Only now: a crash before this point must not turn the next answer into a 304.
    client.remember(&url, ACCEPT, &validators).await
}

fn http_url(text: &str) -> Option<String> {
    reqwest::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && text.len() <= 500)
        .map(|_| text.to_string())
}

/// INTERIM — to be replaced by `crate::changelog::{parse, notices_from}` at integration (another
/// branch writes the real Markdown/RST changelog parser with verb and heading classification,
/// replacements and version gating).
///
/// The lines of one release's (or one changelog section's) text that speak of deprecation,
/// removal or a breaking change, as one notice about the project's packages; `None` when no
/// line does. Kind: deprecation if any line deprecates, else removal, else announcement.
pub fn notices_from_release_text(
    project: &WatchedProject,
    id: &str,
    version: &str,
    text: &str,
    url: &str,
    when: DateTime<Utc>,
) -> Option<Notice> {
    let text: String = text.chars().take(MAX_RELEASE_TEXT).collect();
    let mut lines = Vec::new();
    let (mut deprecates, mut removes) = (false, false);
    for line in text.lines() {
        let lower = line.to_lowercase();
        let deprecation = lower.contains("deprecat");
        let removal = ["removed", "remove ", "dropped support", "drop support"]
            .iter()
            .any(|w| lower.contains(w));
        let breaking = lower.contains("breaking");
        if !(deprecation || removal || breaking) {
            continue;
        }
        deprecates |= deprecation;
        removes |= removal;
        let cleaned = announce::clean(
            line.trim().trim_start_matches(['-', '*', '#', ' ']),
            MAX_LINE_CHARS,
        );
        if !cleaned.is_empty() && lines.len() < MAX_LINES && !lines.contains(&cleaned) {
            lines.push(cleaned);
        }
    }
    if lines.is_empty() {
        return None;
    }
    let identifiers = announce::identifiers(&lines.join("\n"));
    let version = announce::clean(version, 100);
    Some(Notice {
        id: id.to_string(),
        kind: if deprecates {
            NoticeKind::Deprecation
        } else if removes {
            NoticeKind::Removal
        } else {
            NoticeKind::Announcement
        },
        aliases: Vec::new(),
        summary: Some(announce::clean(
            &format!("{} {version}: {}", project.slug(), lines[0]),
            300,
        )),
        details: Some(lines.join("\n")),
        severity: json!([]),
        published: Some(when),
        modified: when,
        withdrawn: None,
        affected: affected(project),
        references: json!([{ "type": "WEB", "url": url }]),
        patterns: identifiers
            .iter()
            .map(|ident| CodePattern {
                matcher: "identifier".to_string(),
                pattern: ident.clone(),
                language: None,
                provenance: url.to_string(),
                confidence: IDENTIFIER_CONFIDENCE,
            })
            .collect(),
        source_id: Some(super::SOURCE_ID.to_string()),
        raw: Some(json!({
            "github": project.slug(),
            "version": version,
            "identifiers": identifiers,
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ecosystem;

    fn project() -> WatchedProject {
        WatchedProject {
            owner: "supabase".into(),
            repo: "supabase-js".into(),
            packages: vec![(Ecosystem::Npm, "@supabase/supabase-js".into())],
            changelog: None,
        }
    }

    #[test]
    fn deprecation_lines_become_one_notice_and_plain_notes_none() {
        let text = "## What's Changed\n* feat: faster realtime\n\
            * `auth.session()` is deprecated, use `auth.getSession()` instead\n\
            * BREAKING: removed `setAuth()`\n";
        let n = notices_from_release_text(
            &project(),
            "id",
            "v2.0.0",
            text,
            "https://github.com/supabase/supabase-js/releases/tag/v2.0.0",
            Utc::now(),
        )
        .unwrap();
        assert_eq!(n.kind, NoticeKind::Deprecation);
        assert_eq!(n.details.as_deref().unwrap().lines().count(), 2);
        let patterns: Vec<&str> = n.patterns.iter().map(|p| p.pattern.as_str()).collect();
        assert_eq!(
            patterns,
            ["auth.session()", "auth.getSession()", "setAuth()"]
        );
        assert_eq!(n.affected[0].package, "@supabase/supabase-js");
        assert!(
            notices_from_release_text(&project(), "id", "v1", "* feat: x\n", "u", Utc::now())
                .is_none()
        );
    }
}
