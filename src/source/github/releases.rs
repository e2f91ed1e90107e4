//! A project's GitHub Releases (REST, conditional: an unchanged list is a free 304), each
//! release's notes read for deprecations, removals and breaking changes.

use super::client::{GitHubClient, GitHubError, RestAnswer};
use super::store_notice;
use super::watchlist::WatchedProject;
use crate::changelog::{self, Format};
use crate::finding::PackageRef;
use crate::source::CrawlSummary;
use crate::store::{Notice, Store};
use serde::Deserialize;

pub const ACCEPT: &str = "application/vnd.github+json";

#[derive(Deserialize)]
struct Release {
    tag_name: String,
    name: Option<String>,
    body: Option<String>,
    html_url: String,
    #[serde(default)]
    draft: bool,
}

/// Pages read on a project's first crawl, so deprecations older than the newest hundred
/// releases are known too.
pub const MAX_FIRST_PAGES: usize = 10;

/// `GET /repos/{owner}/{repo}/releases?per_page=100`: the newest hundred, which an hourly or
/// daily crawl never outruns. The first crawl of a project (no validators stored yet) follows
/// `Link: rel="next"` for up to [`MAX_FIRST_PAGES`] pages; later ones stay one conditional request.
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
    let first_visit = !client.has_validators(&url, ACCEPT).await?;
    let (body, validators, mut next_page) = match client.rest_get(&url, ACCEPT).await? {
        RestAnswer::NotModified => return Ok(()),
        RestAnswer::Fresh {
            body,
            validators,
            next_page,
        } => (body, validators, next_page),
    };
    let mut releases = decode_releases(&url, &body)?;
    let mut pages = 1;
    while first_visit && pages < MAX_FIRST_PAGES {
        let Some(page_url) = next_page.take() else {
            break;
        };
        // Older pages are read once, never remembered: later runs ask only for the newest.
        match client.rest_get(&page_url, ACCEPT).await? {
            RestAnswer::NotModified => break,
            RestAnswer::Fresh {
                body, next_page: n, ..
            } => {
                releases.extend(decode_releases(&page_url, &body)?);
                next_page = n;
            }
        }
        pages += 1;
    }
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
        let sections = changelog::parse_release(&text, Format::Markdown, version);
        for notice in notices_for_project(project, &sections, &link) {
            store_notice(store, notice, summary).await?;
        }
    }
    // Only now: a crash before this point must not turn the next answer into a 304.
    client.remember(&url, ACCEPT, &validators).await
}

fn decode_releases(url: &reqwest::Url, body: &[u8]) -> Result<Vec<Release>, GitHubError> {
    serde_json::from_slice(body).map_err(|source| GitHubError::Json {
        url: url.to_string(),
        source,
    })
}

fn http_url(text: &str) -> Option<String> {
    reqwest::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && text.len() <= 500)
        .map(|_| text.to_string())
}

/// What `sections` of release notes or a changelog announce about each package the project
/// publishes (deprecations from their version on, removals as upgrade blockers, security
/// fixes), read by [`crate::changelog`], attributed to the GitHub source.
pub(crate) fn notices_for_project(
    project: &WatchedProject,
    sections: &[changelog::Section],
    url: &str,
) -> Vec<Notice> {
    let mut notices = Vec::new();
    for (ecosystem, name) in &project.packages {
        let package = PackageRef {
            ecosystem: *ecosystem,
            name: name.clone(),
            version: None,
        };
        for mut notice in changelog::notices_from(sections, &package, Some(url)) {
            notice.source_id = Some(super::SOURCE_ID.to_string());
            notices.push(notice);
        }
    }
    notices
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ecosystem;
    use crate::store::NoticeKind;

    fn project() -> WatchedProject {
        WatchedProject {
            owner: "supabase".into(),
            repo: "supabase-js".into(),
            packages: vec![(Ecosystem::Npm, "@supabase/supabase-js".into())],
            changelog: None,
        }
    }

    #[test]
    fn release_notes_become_version_gated_notices_per_package() {
        let text = "## What's Changed\n* feat: faster realtime\n\
            * `supabase.auth.api.getUser()` is deprecated, use `auth.getUser()` instead\n";
        let sections = changelog::parse_release(text, Format::Markdown, "v2.0.0");
        let url = "https://github.com/supabase/supabase-js/releases/tag/v2.0.0";
        let notices = notices_for_project(&project(), &sections, url);
        assert_eq!(notices.len(), 1);
        let n = &notices[0];
        assert_eq!(n.kind, NoticeKind::Deprecation);
        assert_eq!(n.affected[0].package, "@supabase/supabase-js");
        assert_eq!(n.source_id.as_deref(), Some(super::super::SOURCE_ID));
        assert!(
            n.patterns
                .iter()
                .any(|p| p.pattern.contains("supabase.auth.api.getUser")),
            "{:?}",
            n.patterns
        );
        let plain = changelog::parse_release("* feat: x\n", Format::Markdown, "v1");
        assert!(notices_for_project(&project(), &plain, url).is_empty());
    }
}
