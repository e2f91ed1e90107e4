//! A project's changelog file (`changelog = "CHANGELOG.md"` in the watch list, else the one
//! [`super::changelog_find`] picks from the repository's listing), fetched raw
//! through the contents API (conditional: an unchanged file is a free 304) and split into
//! version sections by [`crate::changelog`], each read for deprecations like a release's notes.

use super::client::{GitHubClient, GitHubError, RestAnswer};
use super::releases::notices_for_project;
use super::store_notice;
use super::watchlist::WatchedProject;
use crate::changelog::{self, Format};
use crate::source::CrawlSummary;
use crate::store::Store;

pub const ACCEPT: &str = "application/vnd.github.raw";

/// `GET /repos/{owner}/{repo}/contents/{path}` with `Accept: application/vnd.github.raw`.
pub async fn crawl_project(
    client: &GitHubClient,
    store: &Store,
    project: &WatchedProject,
    summary: &mut CrawlSummary,
) -> Result<(), GitHubError> {
    let path = match &project.changelog {
        Some(path) => path.clone(),
        None => match super::changelog_find::changelog_path(client, store, project).await? {
            Some(path) => path,
            None => return Ok(()),
        },
    };
    let path = &path;
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
        RestAnswer::Fresh {
            body, validators, ..
        } => (body, validators),
    };
    let text = String::from_utf8_lossy(&body);
    let page = format!("https://github.com/{}/blob/HEAD/{path}", project.slug());
    let format = Format::for_path(path);
    let sections = changelog::parse(&text, format);
    for notice in notices_for_project(project, &sections, &page) {
        store_notice(store, notice, summary).await?;
    }
    client.remember(&url, ACCEPT, &validators).await
}
