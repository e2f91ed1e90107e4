//! The GitHub projects of the packages in use: each package's source repository, read from its
//! registry's metadata (npm's `repository`, PyPI's `project_urls`, crates.io's `repository`) and
//! remembered in the store for [`MAX_AGE`], so a daily crawl does not ask every registry again.
//! The crawl's project list is the watch list's projects and these, merged by repository.

use super::repo_url::github_slug;
use super::watchlist::WatchedProject;
use crate::dependency::Dependency;
use crate::ecosystem::Ecosystem;
use crate::http::{HttpClient, decode};
use crate::source::registry::crates::{MIN_INTERVAL, Pacer, is_crates_io};
use crate::source::registry::{
    self, FetchError, Registry, get_or_missing, join, npm::path_segment, plausible_name,
};
use crate::source::settings::SourceSettings;
use crate::store::{PackageRepo, Store, StoreError};
use chrono::{TimeDelta, Utc};
use reqwest::Url;
use serde_json::Value;

/// How long a registry's answer about a package's repository is trusted.
pub const MAX_AGE: TimeDelta = TimeDelta::days(7);
/// The registries asked (Packagist, Go and RubyGems are not, yet).
const REGISTRIES: [Registry; 3] = [Registry::Npm, Registry::PyPI, Registry::CratesIo];
/// `project_urls` entries read from one PyPI answer.
const MAX_PROJECT_URLS: usize = 50;
const MAX_ERROR_MESSAGES: usize = 50;

/// What discovery did, for the summary line.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The watch list's projects and the discovered ones, merged.
    pub projects: Vec<WatchedProject>,
    pub packages: usize,
    /// Registry requests sent (answers older than [`MAX_AGE`] or never asked).
    pub asked: usize,
    pub errors: Vec<String>,
}

/// `watched` plus the source repositories of the npm, PyPI and crates.io packages among
/// `dependencies`, each registry asked at its base URL in `settings`. A registry that fails for
/// a package is reported and its older answer, if any, still used. Fails only when the store does.
pub async fn projects_with_discovered(
    http: &HttpClient,
    store: &Store,
    settings: &SourceSettings,
    watched: Vec<WatchedProject>,
    dependencies: &[Dependency],
) -> Result<Discovery, StoreError> {
    let mut discovery = Discovery {
        projects: watched,
        ..Discovery::default()
    };
    let now = Utc::now();
    for registry in REGISTRIES {
        let packages = registry::packages_for(registry, dependencies);
        if packages.is_empty() {
            continue;
        }
        let base = match settings.registry_url(registry) {
            Ok(base) => base,
            Err(err) => {
                push_error(
                    &mut discovery.errors,
                    format!("{}: {err}", registry.label()),
                );
                continue;
            }
        };
        let ecosystem = registry.ecosystem();
        let mut pacer = is_crates_io(&base).then(|| Pacer::new(MIN_INTERVAL));
        for package in packages {
            discovery.packages += 1;
            let name = package.name;
            let stored = store.get_package_repo(ecosystem.as_str(), &name).await?;
            let slug = match stored {
                Some(known) if now - known.discovered_at < MAX_AGE => known.github,
                stale => {
                    if let Some(pacer) = pacer.as_mut() {
                        pacer.wait().await;
                    }
                    discovery.asked += 1;
                    match ask(http, registry, &base, &name).await {
                        Ok(github) => {
                            let repo = PackageRepo {
                                github,
                                discovered_at: now,
                            };
                            store
                                .put_package_repo(ecosystem.as_str(), &name, &repo)
                                .await?;
                            repo.github
                        }
                        Err(err) => {
                            push_error(
                                &mut discovery.errors,
                                format!("{} {name}: {}", registry.label(), error_text(&err)),
                            );
                            stale.and_then(|s| s.github)
                        }
                    }
                }
            };
            if let Some(slug) = slug {
                add(&mut discovery.projects, &slug, ecosystem, name);
            }
        }
    }
    Ok(discovery)
}

/// The registry's answer: `Ok(None)` for an unknown package or one without a GitHub repository.
async fn ask(
    http: &HttpClient,
    registry: Registry,
    base: &Url,
    name: &str,
) -> Result<Option<String>, FetchError> {
    let plausible = plausible_name(name)
        && match registry {
            Registry::Npm => name.matches('/').count() <= usize::from(name.starts_with('@')),
            Registry::CratesIo => !name.contains(['/', '@', '.', '~', '+']),
            _ => !name.contains(['/', '@', '~']),
        };
    if !plausible {
        return Ok(None);
    }
    let path = match registry {
        Registry::Npm => format!("{}/latest", path_segment(name)),
        Registry::PyPI => format!("pypi/{name}/json"),
        Registry::CratesIo => format!("api/v1/crates/{name}"),
        _ => return Ok(None),
    };
    let url = join(base, &path)?;
    let Some(body) = get_or_missing(http, &url).await? else {
        return Ok(None);
    };
    let document: Value = decode(&url, &body)?;
    Ok(match registry {
        Registry::Npm => npm_repository(&document),
        Registry::PyPI => pypi_repository(&document),
        Registry::CratesIo => crates_repository(&document),
        _ => None,
    })
}

/// npm's version document: `repository` as a string or `{type, url, directory}`, else
/// `homepage`.
fn npm_repository(document: &Value) -> Option<String> {
    let repository = document.get("repository");
    let text = match repository {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Object(o)) => o.get("url").and_then(Value::as_str),
        _ => None,
    };
    text.and_then(|t| github_slug(t, true)).or_else(|| {
        document
            .get("homepage")
            .and_then(Value::as_str)
            .and_then(|t| github_slug(t, false))
    })
}

/// PyPI's `info.project_urls`, source-like keys first, then `info.home_page`.
fn pypi_repository(document: &Value) -> Option<String> {
    let info = document.get("info")?;
    let mut urls: Vec<(u8, &str)> = info
        .get("project_urls")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .take(MAX_PROJECT_URLS)
                .filter_map(|(key, value)| Some((key_rank(key), value.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    // A stable sort keeps the document's order among keys of one rank.
    urls.sort_by_key(|&(rank, _)| rank);
    urls.into_iter()
        .map(|(_, url)| url)
        .chain(info.get("home_page").and_then(Value::as_str))
        .find_map(|url| github_slug(url, false))
}

/// How surely a `project_urls` key names the source repository (lower is surer).
fn key_rank(key: &str) -> u8 {
    let key = key.to_ascii_lowercase();
    if ["source", "repository", "code", "github"]
        .iter()
        .any(|k| key.contains(k))
    {
        0
    } else if key.contains("home") {
        1
    } else {
        2
    }
}

/// crates.io's `crate.repository`, else `crate.homepage`.
fn crates_repository(document: &Value) -> Option<String> {
    let krate = document.get("crate")?;
    ["repository", "homepage"]
        .iter()
        .filter_map(|key| krate.get(*key).and_then(Value::as_str))
        .find_map(|url| github_slug(url, false))
}

/// Adds `package` to the project `slug` names, creating it if new (repositories compare
/// without regard to case, as GitHub's do).
fn add(projects: &mut Vec<WatchedProject>, slug: &str, ecosystem: Ecosystem, package: String) {
    let Some((owner, repo)) = slug.split_once('/') else {
        return;
    };
    let entry = (ecosystem, package);
    if let Some(known) = projects
        .iter_mut()
        .find(|p| p.owner.eq_ignore_ascii_case(owner) && p.repo.eq_ignore_ascii_case(repo))
    {
        if !known.packages.contains(&entry) {
            known.packages.push(entry);
        }
        return;
    }
    projects.push(WatchedProject {
        owner: owner.to_string(),
        repo: repo.to_string(),
        packages: vec![entry],
        changelog: None,
    });
}

fn error_text(err: &FetchError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

fn push_error(errors: &mut Vec<String>, message: String) {
    if errors.len() < MAX_ERROR_MESSAGES {
        errors.push(message);
    } else if errors.len() == MAX_ERROR_MESSAGES {
        errors.push("… further errors not listed".to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn npm_reads_strings_objects_and_falls_back_to_the_homepage() {
        assert_eq!(
            npm_repository(&json!({"repository": "github:o/r"})).as_deref(),
            Some("o/r")
        );
        assert_eq!(
            npm_repository(&json!({"repository": {"type": "git",
                "url": "git+https://github.com/O/R.git", "directory": "packages/x"}}))
            .as_deref(),
            Some("o/r")
        );
        assert_eq!(
            npm_repository(&json!({"repository": "gitlab:o/r",
                "homepage": "https://github.com/o/r#readme"}))
            .as_deref(),
            Some("o/r")
        );
        assert_eq!(npm_repository(&json!({"repository": 42})), None);
        assert_eq!(npm_repository(&json!([])), None);
    }

    #[test]
    fn pypi_prefers_source_keys_over_the_homepage_and_other_links() {
        let doc = json!({"info": {
            "home_page": "https://github.com/home/page",
            "project_urls": {
                "Changelog": "https://github.com/other/changelog-site",
                "Homepage": "https://github.com/home/page",
                "Source Code": "https://github.com/the/source",
            }
        }});
        assert_eq!(pypi_repository(&doc).as_deref(), Some("the/source"));
        let doc = json!({"info": {"project_urls": null, "home_page": "https://github.com/h/p"}});
        assert_eq!(pypi_repository(&doc).as_deref(), Some("h/p"));
        let doc = json!({"info": {"project_urls": {"Source": "https://gitlab.com/a/b"}}});
        assert_eq!(pypi_repository(&doc), None);
    }

    #[test]
    fn crates_reads_repository_then_homepage_and_projects_merge() {
        assert_eq!(
            crates_repository(
                &json!({"crate": {"repository": "https://github.com/serde-rs/serde"}})
            )
            .as_deref(),
            Some("serde-rs/serde")
        );
        assert_eq!(
            crates_repository(&json!({"crate": {"repository": null}})),
            None
        );
        let mut projects = vec![WatchedProject {
            owner: "Serde-rs".into(),
            repo: "serde".into(),
            packages: vec![],
            changelog: Some("CHANGELOG.md".into()),
        }];
        add(
            &mut projects,
            "serde-rs/serde",
            Ecosystem::CratesIo,
            "serde".into(),
        );
        add(
            &mut projects,
            "serde-rs/serde",
            Ecosystem::CratesIo,
            "serde".into(),
        );
        add(
            &mut projects,
            "serde-rs/json",
            Ecosystem::CratesIo,
            "serde_json".into(),
        );
        assert_eq!(projects.len(), 2);
        assert_eq!(projects[0].packages.len(), 1);
        assert_eq!(projects[0].changelog.as_deref(), Some("CHANGELOG.md"));
        assert_eq!(projects[1].slug(), "serde-rs/json");
    }
}
