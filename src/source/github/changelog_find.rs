//! Which changelog file a project keeps, for projects whose watch entry names none: the first
//! `CHANGELOG*`, `HISTORY*`, `NEWS*` or `CHANGES*` (Markdown, reStructuredText, text or no
//! extension) in the repository's root listing, else `docs/changelog*` when the root has a
//! `docs` directory. The root listing is a conditional request, and the choice is kept in the
//! store, so an unchanged listing (a free 304) still says which file to fetch.

use super::client::{GitHubClient, GitHubError, RestAnswer};
use super::releases::ACCEPT;
use super::watchlist::WatchedProject;
use crate::http::HttpError;
use crate::store::Store;
use reqwest::StatusCode;
use serde_json::Value;

/// Listing entries read; a root with more is still searched in its first ones.
const MAX_ENTRIES: usize = 2000;
/// File names longer than this are not changelogs.
const MAX_NAME_LEN: usize = 100;
const ROOT_STEMS: [&str; 4] = ["changelog", "history", "news", "changes"];
const DOCS_STEMS: [&str; 1] = ["changelog"];
const EXTENSIONS: [&str; 5] = ["", ".md", ".markdown", ".rst", ".txt"];

/// The path of the project's changelog file, if its listing shows one.
pub async fn changelog_path(
    client: &GitHubClient,
    store: &Store,
    project: &WatchedProject,
) -> Result<Option<String>, GitHubError> {
    let key = project.slug().to_ascii_lowercase();
    let url = client.rest_url(&format!(
        "repos/{}/{}/contents/",
        project.owner, project.repo
    ))?;
    let (body, validators) = match listing(client, &url).await? {
        Listing::Missing => return Ok(None),
        Listing::NotModified => match store.get_repo_changelog(&key).await? {
            Some(choice) => return Ok(choice),
            // Validators without a stored choice: ask again in full next time.
            None => {
                client.forget(&url, ACCEPT).await?;
                return Ok(None);
            }
        },
        Listing::Fresh(body, validators) => (body, validators),
    };
    let entries = entries_of(&body);
    let mut choice = pick(&entries, "", &ROOT_STEMS);
    if choice.is_none() && entries.iter().any(|e| e.kind == "dir" && e.name == "docs") {
        // The docs listing is read only when the root changed, so it is never remembered.
        let docs = client.rest_url(&format!(
            "repos/{}/{}/contents/docs",
            project.owner, project.repo
        ))?;
        if let Listing::Fresh(body, _) = listing(client, &docs).await? {
            choice = pick(&entries_of(&body), "docs/", &DOCS_STEMS);
        }
    }
    store.put_repo_changelog(&key, choice.as_deref()).await?;
    client.remember(&url, ACCEPT, &validators).await?;
    Ok(choice)
}

enum Listing {
    Missing,
    NotModified,
    Fresh(Vec<u8>, crate::http::Validators),
}

/// A listing; 404 (an empty repository, a wrong name) is no listing rather than an error.
async fn listing(client: &GitHubClient, url: &reqwest::Url) -> Result<Listing, GitHubError> {
    match client.rest_get(url, ACCEPT).await {
        Ok(RestAnswer::NotModified) => Ok(Listing::NotModified),
        Ok(RestAnswer::Fresh {
            body, validators, ..
        }) => Ok(Listing::Fresh(body, validators)),
        Err(GitHubError::Http(HttpError::Status { status, .. }))
            if status == StatusCode::NOT_FOUND =>
        {
            Ok(Listing::Missing)
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug)]
struct Entry {
    name: String,
    kind: String,
}

/// The `{name, type}` of each entry of a contents listing; anything malformed is skipped.
fn entries_of(body: &[u8]) -> Vec<Entry> {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    items
        .iter()
        .take(MAX_ENTRIES)
        .filter_map(|item| {
            let name = item.get("name")?.as_str()?;
            let kind = item.get("type")?.as_str()?;
            let safe = !name.is_empty()
                && name.len() <= MAX_NAME_LEN
                && name != "."
                && name != ".."
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            safe.then(|| Entry {
                name: name.to_string(),
                kind: kind.to_string(),
            })
        })
        .collect()
}

/// The first file whose name is a stem and one of the extensions, stems in order of preference.
fn pick(entries: &[Entry], prefix: &str, stems: &[&str]) -> Option<String> {
    stems.iter().find_map(|stem| {
        entries
            .iter()
            .filter(|e| e.kind == "file")
            .find(|e| {
                let lower = e.name.to_ascii_lowercase();
                lower
                    .strip_prefix(stem)
                    .is_some_and(|ext| EXTENSIONS.contains(&ext))
            })
            .map(|e| format!("{prefix}{}", e.name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listing_of(items: Value) -> Vec<Entry> {
        entries_of(items.to_string().as_bytes())
    }

    #[test]
    fn the_changelog_is_picked_by_stem_and_extension() {
        let entries = listing_of(json!([
            {"name": "README.md", "path": "README.md", "type": "file"},
            {"name": "HISTORY.rst", "path": "HISTORY.rst", "type": "file"},
            {"name": "changelog", "path": "changelog", "type": "dir"},
            {"name": "CHANGELOG.md", "path": "CHANGELOG.md", "type": "file"},
            {"name": "NEWS.pdf", "path": "NEWS.pdf", "type": "file"},
        ]));
        assert_eq!(
            pick(&entries, "", &ROOT_STEMS).as_deref(),
            Some("CHANGELOG.md")
        );
        let entries = listing_of(json!([
            {"name": "NEWS", "type": "file"},
            {"name": "HISTORY.rst", "type": "file"},
        ]));
        assert_eq!(
            pick(&entries, "", &ROOT_STEMS).as_deref(),
            Some("HISTORY.rst")
        );
        let docs = listing_of(json!([{"name": "Changelog.rst", "type": "file"}]));
        assert_eq!(
            pick(&docs, "docs/", &DOCS_STEMS).as_deref(),
            Some("docs/Changelog.rst")
        );
        let none = listing_of(json!([{"name": "CHANGELOG.md.bak", "type": "file"},
                                     {"name": "changes-old.md", "type": "file"}]));
        assert_eq!(pick(&none, "", &ROOT_STEMS), None);
    }

    #[test]
    fn hostile_listings_give_nothing() {
        let entries = listing_of(json!([
            {"name": "../CHANGELOG.md", "type": "file"},
            {"name": "CHANGELOG.md?x=1", "type": "file"},
            {"name": 5, "type": "file"},
            "CHANGELOG.md",
        ]));
        assert!(entries.is_empty(), "{entries:?}");
        assert!(entries_of(b"{\"message\": \"Not Found\"}").is_empty());
        assert!(entries_of(b"[{\"name\": \"CHANGELOG.md\", \"ty").is_empty());
    }
}
