//! `ecowatch crawl --source github`: the projects of the watch list (`feeds/watch.toml`, or
//! `--feeds DIR`) and the source repositories of the packages in use (those of `--for PATH`,
//! else of every watched repository), their discussions, releases and changelogs, into the store.

use super::{EXIT_ERROR, EXIT_OK};
use crate::dependency::Dependency;
use crate::http::{HttpClient, HttpConfig};
use crate::source::github::client::GitHubClient;
use crate::source::github::{self, GitHubProgress, GitHubReport, discover, watchlist};
use crate::source::settings::{SourceSettings, process_env};
use crate::store::{Store, StoreConfig};
use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

pub fn run(
    feeds: Option<&Path>,
    db: Option<&Path>,
    for_paths: &[PathBuf],
    tenant: &str,
    settings: &SourceSettings,
) -> anyhow::Result<u8> {
    let watched = watchlist::load(feeds)?;
    let github_config = settings.github_config(&process_env)?;
    let http_config = HttpConfig::from_env()?;
    let store_config = StoreConfig::from_env(db)?;
    if !github_config.has_token() && settings.warnings.is_empty() {
        eprintln!(
            "warning: no GitHub token ({} or [sources] {} in ecowatch.toml); GitHub allows \
             60 requests an hour without one",
            github::client::ENV_TOKEN,
            crate::source::settings::TOKEN_ENV_KEY
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let http = HttpClient::new(http_config)?;
        let store = Store::open(&store_config)
            .await
            .with_context(|| format!("cannot open {}", store_config.describe()))?;
        let dependencies = dependencies_for(&store, for_paths, tenant).await?;
        let discovery =
            discover::projects_with_discovered(&http, &store, settings, watched, &dependencies)
                .await
                .context("cannot read or record the packages' repositories")?;
        print_discovery(&discovery)?;
        let projects = discovery.projects;
        let client = GitHubClient::new(http, store.clone(), github_config)?;
        let terminal = std::io::stderr().is_terminal();
        let report = github::crawl(&client, &store, &projects, &|p| show(terminal, p)).await;
        if terminal {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
        store.close().await;
        report
            .map(|r| (r, discovery.errors))
            .context("cannot record the crawl state")
    })?;
    let (report, discovery_errors) = report;
    for error in &discovery_errors {
        eprintln!("error: discover: {error}");
    }
    print_summary(&report)?;
    for error in &report.summary.errors {
        eprintln!("error: {error}");
    }
    if let Some(fatal) = report.fatal {
        return Err(anyhow::Error::new(fatal).context("the GitHub crawl stopped"));
    }
    Ok(
        if report.summary.errors.is_empty() && discovery_errors.is_empty() {
            EXIT_OK
        } else {
            EXIT_ERROR
        },
    )
}

/// The packages in use: those of `--for PATH`, else of the tenant's watched repositories
/// (none watched is no error here: the watch list alone is still crawled).
async fn dependencies_for(
    store: &Store,
    for_paths: &[PathBuf],
    tenant: &str,
) -> anyhow::Result<Vec<Dependency>> {
    let paths = if for_paths.is_empty() {
        let tenant_id = store.ensure_tenant(tenant).await?;
        if store.list_repos(tenant_id).await?.is_empty() {
            return Ok(Vec::new());
        }
        super::crawl::watched_paths(store, tenant).await?
    } else {
        for_paths.to_vec()
    };
    super::crawl::dependencies_of(&paths)
}

/// One line: packages, registry requests, projects in the crawl (nothing when no package was
/// in use, as for a crawl of the watch list alone).
fn print_discovery(discovery: &discover::Discovery) -> anyhow::Result<()> {
    if discovery.packages == 0 && discovery.errors.is_empty() {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "discover: {} packages, {} registry requests, {} projects, {} errors",
        discovery.packages,
        discovery.asked,
        discovery.projects.len(),
        discovery.errors.len()
    )
    .and_then(|()| out.flush())
    .context("cannot write the summary")
}

fn show(terminal: bool, progress: GitHubProgress<'_>) {
    if terminal {
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\rgithub: {}/{} {}\x1b[K",
            progress.done, progress.total, progress.project
        );
        let _ = err.flush();
    }
}

/// One line: requests, 304s, GitHub points, notices, errors.
fn print_summary(report: &GitHubReport) -> anyhow::Result<()> {
    let s = &report.summary;
    let stats = &report.stats;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "github: {} projects, {} requests, {} not modified (304), {} GitHub points \
         (core {}, graphql {}), {} new, {} updated, {} unchanged, {} errors in {:.1}s",
        report.projects,
        s.requests,
        stats.not_modified,
        stats.core_points + stats.graphql_points,
        stats.core_points,
        stats.graphql_points,
        s.new,
        s.updated,
        s.unchanged,
        s.errors.len() + usize::from(report.fatal.is_some()),
        s.elapsed.as_secs_f64()
    )
    .and_then(|()| out.flush())
    .context("cannot write the summary")
}
