//! A project's changelog file (`changelog = "CHANGELOG.md"` in the watch list), fetched raw
//! through the contents API (conditional: an unchanged file is a free 304) and split into
//! version sections, each read for deprecations like a release's notes.

use super::client::{GitHubClient, GitHubError, RestAnswer};
use super::releases::notices_from_release_text;
use super::store_notice;
use super::watchlist::WatchedProject;
use crate::source::CrawlSummary;
use crate::store::Store;
use chrono::Utc;
use regex::Regex;
use std::sync::LazyLock;

pub const ACCEPT: &str = "application/vnd.github.raw";
const MAX_SECTIONS: usize = 500;

static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bv?(\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?)\b")
        .unwrap_or_else(|_| unreachable!("a fixed, tested pattern"))
});

/// `GET /repos/{owner}/{repo}/contents/{path}` with `Accept: application/vnd.github.raw`.
pub async fn crawl_project(
    client: &GitHubClient,
    store: &Store,
    project: &WatchedProject,
    summary: &mut CrawlSummary,
) -> Result<(), GitHubError> {
    let Some(path) = &project.changelog else {
        return Ok(());
    };
    let mut url = client.rest_url("./")?;
    match url.path_segments_mut() {
        Ok(mut segments) => {
            segments.pop_if_empty();
            segments.extend(["repos", &project.owner, &project.repo, "contents"]);
            segments.extend(path.split('/'));
        }
        Err(()) => {
            return Err(GitHubError::Config {
                name: super::client::ENV_API_URL,
                message: "the API URL cannot take a path".into(),
            });
        }
    }
    let (body, validators) = match client.rest_get(&url, ACCEPT).await? {
        RestAnswer::NotModified => return Ok(()),
        RestAnswer::Fresh { body, validators } => (body, validators),
    };
    let text = String::from_utf8_lossy(&body);
    let page = format!("https://github.com/{}/blob/HEAD/{path}", project.slug());
    for (version, section) in sections(&text) {
        let id = format!("github-changelog:{}/{path}@{version}", project.slug());
        if let Some(notice) =
            notices_from_release_text(project, &id, &version, &section, &page, Utc::now())
        {
            store_notice(store, notice, summary).await?;
        }
    }
    client.remember(&url, ACCEPT, &validators).await
}

/// INTERIM — replaced by `crate::changelog::parse` at integration. Version sections of a
/// Markdown (`## [1.2.0] - 2024-01-01`) or reStructuredText (a title underlined with `=`, `-`
/// or `~`) changelog: (version, the section's text).
fn sections(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let underline = lines.get(i + 1).is_some_and(|next| {
            let next = next.trim();
            next.len() >= 3 && next.chars().all(|c| matches!(c, '=' | '-' | '~'))
        });
        let heading = line.trim_start().starts_with('#') || underline;
        let version = heading
            .then(|| VERSION.captures(line))
            .flatten()
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string());
        if let Some(version) = version {
            out.extend(current.take());
            if out.len() >= MAX_SECTIONS {
                return out;
            }
            current = Some((version, String::new()));
            i += if underline { 2 } else { 1 };
            continue;
        }
        if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
        i += 1;
    }
    out.extend(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_rst_sections() {
        let md = "# Changelog\n\n## [2.1.0] - 2025-01-02\n- Deprecated `foo()`\n\n## 2.0.0\n- Added bar\n";
        let got = sections(md);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "2.1.0");
        assert!(got[0].1.contains("Deprecated `foo()`"));
        assert_eq!(got[1].0, "2.0.0");
        let rst =
            "Changes\n=======\n\nv1.4.0\n------\n* removed ``old_api``\n\n1.3.0\n-----\n* fix\n";
        let got = sections(rst);
        let versions: Vec<&str> = got.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(versions, ["1.4.0", "1.3.0"]);
        assert!(got[0].1.contains("removed"));
    }
}
