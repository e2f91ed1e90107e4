//! `ecowatch crawl --source osv`: bring the store's knowledge up to date from a source.

use super::{EXIT_ERROR, EXIT_OK};
use crate::dependency::Dependency;
use crate::http::{HttpClient, HttpConfig};
use crate::inventory::{self, InventoryOptions};
use crate::source::endoflife;
use crate::source::osv::{self, api::Query};
use crate::source::registry::{self, Clients, Registry};
use crate::source::settings::{SourceSettings, UrlKey};
use crate::source::{CrawlProgress, CrawlSummary};
use crate::store::{Store, StoreConfig};
use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Crawl a source of knowledge into the store.
///
/// `--source github` follows the projects of feeds/watch.toml (or --feeds DIR/watch.toml) and
/// the GitHub repositories npm, PyPI and crates.io name for the packages in use (asked again
/// after a week): their Discussions (GraphQL), Releases and changelog files (conditional REST
/// requests, so unchanged ones cost no rate limit; a project without `changelog =` gets the
/// CHANGELOG*, HISTORY*, NEWS* or CHANGES* file of its root listing, or docs/changelog*),
/// turned into deprecation and announcement notices about the packages each project publishes. ECOWATCH_GITHUB_TOKEN, ECOWATCH_GITHUB_API_URL,
/// ECOWATCH_GITHUB_GRAPHQL_URL, ECOWATCH_GITHUB_SECONDARY_WAIT_MS and
/// ECOWATCH_GITHUB_MAX_RESET_WAIT_SECS configure it.
///
/// `--source pages` reads the vendor changelog and deprecation pages of watch.toml's `[[page]]`
/// entries (`url`, `packages`): each URL passes the SSRF guard (private and loopback addresses
/// only with ECOWATCH_ALLOW_PRIVATE_URLS=1, plain http only with ECOWATCH_ALLOW_HTTP_URLS=1),
/// no redirects are followed, and an unchanged page is a 304.
///
/// `--source npm|pypi|crates|packagist|go|rubygems` asks that registry what it flags about the
/// packages in use (deprecated, yanked, abandoned, retracted); `registries` asks all six, and
/// `endoflife` asks endoflife.date about the runtimes and frameworks in use. Each source keeps
/// its own crawl state (`ecowatch sources`); one failing does not stop the next.
///
/// `--source osv` asks an OSV-compatible API (OSV.dev unless ECOWATCH_OSV_URL says otherwise)
/// which advisories affect the packages of the repositories given with --for (or, without it,
/// of every repository the tenant watches), then fetches the records that are new or changed
/// since the last crawl. A crawl with nothing changed fetches
/// no records at all. The outcome is kept as the source's crawl state in the store.
///
/// Base URLs and the GitHub token come from the environment (ECOWATCH_OSV_URL,
/// ECOWATCH_NPM_REGISTRY_URL, ...), else from [sources] in ecowatch.toml (--config FILE, or
/// ./ecowatch.toml when present), else the public services.
///
/// HTTP limits come from ECOWATCH_HTTP_TIMEOUT_MS, ECOWATCH_HTTP_CONNECT_TIMEOUT_MS,
/// ECOWATCH_HTTP_MAX_ATTEMPTS, ECOWATCH_HTTP_BACKOFF_MS, ECOWATCH_HTTP_MAX_BODY_BYTES,
/// ECOWATCH_HTTP_MAX_RETRY_AFTER_SECS and ECOWATCH_HTTP_PER_HOST.
///
/// Examples:
///   ecowatch crawl
///   ecowatch crawl --source osv
///   ecowatch crawl --source osv --for .
///   ecowatch crawl --source registries --for .
///   ecowatch crawl --source endoflife
///   ecowatch crawl --source osv --for ../api --for ../web --db ./ecowatch.db
///   ecowatch crawl --source github --feeds ./feeds
///   ecowatch crawl --source pages --feeds ./feeds
///   ecowatch crawl --source npm --for . --config ./ecowatch.toml
#[derive(clap::Args, Debug, Clone)]
#[command(verbatim_doc_comment)]
pub struct CrawlArgs {
    /// The source to crawl; `all` (the default) crawls OSV, the six registries, endoflife.date
    /// and GitHub one after another, and a failing one does not stop the rest.
    #[arg(long, value_enum, default_value_t = SourceName::All)]
    source: SourceName,
    /// Crawl for the packages this repository declares or locks (repeatable). Without it, the
    /// crawl covers every repository the tenant watches (`ecowatch watch add`).
    #[arg(long = "for", value_name = "PATH")]
    for_paths: Vec<PathBuf>,
    /// Whose watched repositories to crawl for when --for is not given.
    #[arg(long, default_value = "default", value_name = "NAME")]
    tenant: String,
    /// The SQLite database file (wins over ECOWATCH_DATABASE_URL and ECOWATCH_DB).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Base URL of the OSV API (wins over [sources] osv-url) [default: https://api.osv.dev].
    #[arg(long, value_name = "URL", env = osv::ENV_OSV_URL)]
    osv_url: Option<String>,
    /// The configuration file whose [sources] table names the base URLs [default:
    /// ./ecowatch.toml when present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The feeds directory whose watch.toml lists the GitHub projects (default: the bundled list).
    #[arg(long, value_name = "DIR")]
    feeds: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum SourceName {
    /// Every source below, one after another.
    All,
    /// OSV.dev or another OSV-compatible API.
    Osv,
    /// npm deprecations (ECOWATCH_NPM_REGISTRY_URL).
    Npm,
    /// PyPI yanked releases (ECOWATCH_PYPI_URL).
    Pypi,
    /// crates.io yanked versions, at most one request a second (ECOWATCH_CRATES_IO_URL).
    Crates,
    /// Abandoned Packagist packages (ECOWATCH_PACKAGIST_URL).
    Packagist,
    /// Deprecated and retracted Go modules from the module proxy (ECOWATCH_GOPROXY_URL).
    Go,
    /// Yanked RubyGems versions (ECOWATCH_RUBYGEMS_URL).
    Rubygems,
    /// All six registries above, one after another.
    Registries,
    /// Runtime and framework end-of-life dates from endoflife.date (ECOWATCH_ENDOFLIFE_URL).
    Endoflife,
    /// GitHub Discussions, Releases and changelog files of the watched projects.
    Github,
    /// Vendor changelog and deprecation pages (`[[page]]` in watch.toml), through the SSRF guard.
    Pages,
}

impl SourceName {
    /// The flag sources this name stands for (none for osv).
    fn flag_sources(self) -> Vec<FlagSource> {
        match self {
            SourceName::All | SourceName::Osv | SourceName::Github | SourceName::Pages => {
                Vec::new()
            }
            SourceName::Npm => vec![FlagSource::Registry(Registry::Npm)],
            SourceName::Pypi => vec![FlagSource::Registry(Registry::PyPI)],
            SourceName::Crates => vec![FlagSource::Registry(Registry::CratesIo)],
            SourceName::Packagist => vec![FlagSource::Registry(Registry::Packagist)],
            SourceName::Go => vec![FlagSource::Registry(Registry::GoProxy)],
            SourceName::Rubygems => vec![FlagSource::Registry(Registry::RubyGems)],
            SourceName::Registries => Registry::ALL.map(FlagSource::Registry).to_vec(),
            SourceName::Endoflife => vec![FlagSource::EndOfLife],
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum FlagSource {
    Registry(Registry),
    EndOfLife,
}

impl FlagSource {
    pub(crate) fn id(self) -> &'static str {
        match self {
            FlagSource::Registry(r) => r.source_id(),
            FlagSource::EndOfLife => endoflife::SOURCE_ID,
        }
    }
}

pub fn run(args: CrawlArgs) -> anyhow::Result<u8> {
    let settings = load_settings(args.config.as_deref())?;
    run_source(args, &settings)
}

/// `[sources]` of `--config FILE` (else ./ecowatch.toml when present) under the environment;
/// its warnings (a token variable that is not set) go to stderr once.
pub(crate) fn load_settings(config: Option<&std::path::Path>) -> anyhow::Result<SourceSettings> {
    let settings = SourceSettings::load(config)?;
    for warning in &settings.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(settings)
}

fn run_source(args: CrawlArgs, settings: &SourceSettings) -> anyhow::Result<u8> {
    if let SourceName::All = args.source {
        return run_all(&args, settings);
    }
    if let SourceName::Github = args.source {
        return super::crawl_github::run(
            args.feeds.as_deref(),
            args.db.as_deref(),
            &args.for_paths,
            &args.tenant,
            settings,
        );
    }
    if let SourceName::Pages = args.source {
        return super::crawl_pages::run(args.feeds.as_deref(), args.db.as_deref());
    }
    if args.source != SourceName::Osv {
        return run_flag_sources(args, settings);
    }
    let base = match &args.osv_url {
        Some(url) => osv::base_url(url).context("invalid OSV API URL")?,
        None => settings.base_url(UrlKey::Osv)?,
    };
    let http_config = HttpConfig::from_env()?;
    let store_config = StoreConfig::from_env(args.db.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let http = HttpClient::new(http_config)?;
        let store = Store::open(&store_config)
            .await
            .with_context(|| format!("cannot open {}", store_config.describe()))?;
        let paths = if args.for_paths.is_empty() {
            watched_paths(&store, &args.tenant).await?
        } else {
            args.for_paths.clone()
        };
        let queries = queries_for_paths(&paths)?;
        let line = ProgressLine::on_stderr();
        let report = osv::crawl(&http, &store, &base, queries, &|p| line.show(p)).await;
        line.clear();
        store.close().await;
        report.context("cannot record the crawl state")
    })?;
    print_summary(&report.summary, usize::from(report.fatal.is_some()))?;
    for error in &report.summary.errors {
        eprintln!("error: {error}");
    }
    if let Some(fatal) = report.fatal {
        return Err(anyhow::Error::new(fatal).context("the OSV crawl failed"));
    }
    Ok(if report.summary.errors.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

/// Every source in turn; the worst exit code wins, and an error in one is reported without
/// stopping the others.
fn run_all(args: &CrawlArgs, settings: &SourceSettings) -> anyhow::Result<u8> {
    let mut worst = EXIT_OK;
    for source in [
        SourceName::Osv,
        SourceName::Registries,
        SourceName::Endoflife,
        SourceName::Github,
        SourceName::Pages,
    ] {
        let code = run_source(
            CrawlArgs {
                source,
                ..args.clone()
            },
            settings,
        )
        .unwrap_or_else(|err| {
            eprintln!("error: {err:#}");
            EXIT_ERROR
        });
        worst = worst.max(code);
    }
    Ok(worst)
}

/// What `scan --refresh PATH` crawls first: every source, for that repository's packages. It
/// runs as a child `ecowatch crawl` whose output goes to stderr, so the scan's stdout (JSON,
/// SARIF) stays clean.
pub(crate) fn refresh_for(
    path: &std::path::Path,
    db: Option<&std::path::Path>,
    feeds: Option<&std::path::Path>,
    config: Option<&std::path::Path>,
) -> anyhow::Result<u8> {
    use std::os::fd::AsFd;
    let exe = std::env::current_exe().context("cannot find the ecowatch executable")?;
    let mut command = std::process::Command::new(exe);
    command.arg("crawl").arg("--for").arg(path);
    if let Some(db) = db {
        command.arg("--db").arg(db);
    }
    if let Some(feeds) = feeds {
        command.arg("--feeds").arg(feeds);
    }
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .context("cannot pass stderr to the crawl")?;
    let status = command
        .stdout(std::process::Stdio::from(stderr))
        .status()
        .context("cannot run the crawl")?;
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(EXIT_ERROR))
}

/// The working trees of the tenant's watched repositories: local paths as stored, git URLs as
/// their cached clones (`rescan` keeps them fetched). A clone not made yet is skipped with a
/// warning; no repository at all is an error that says how to add one.
pub(crate) async fn watched_paths(
    store: &Store,
    tenant_name: &str,
) -> anyhow::Result<Vec<PathBuf>> {
    let tenant = store.ensure_tenant(tenant_name).await?;
    let repos = store.list_repos(tenant).await?;
    if repos.is_empty() {
        anyhow::bail!(
            "no repositories to crawl for: pass --for PATH or watch one with `ecowatch watch add PATH|GIT_URL`"
        );
    }
    let mut paths = Vec::new();
    for repo in &repos {
        match super::watch::scan_dir(tenant_name, repo) {
            Ok((_, dir)) if dir.is_dir() => paths.push(dir),
            Ok((_, dir)) => eprintln!(
                "warning: {}: no working tree at `{}` yet (run `ecowatch rescan`); skipped",
                super::watch::display_name(repo),
                dir.display()
            ),
            Err(err) => eprintln!(
                "warning: {}: {err:#}; skipped",
                super::watch::display_name(repo)
            ),
        }
    }
    Ok(paths)
}

/// The OSV queries for every repository's inventory (also `serve`'s crawl schedule).
pub(crate) fn queries_for_paths(paths: &[PathBuf]) -> anyhow::Result<Vec<Query>> {
    Ok(osv::queries_for(&dependencies_of(paths)?))
}

pub(crate) fn dependencies_of(paths: &[PathBuf]) -> anyhow::Result<Vec<Dependency>> {
    let options = InventoryOptions::default();
    let mut dependencies = Vec::new();
    for path in paths {
        let inv = inventory::run(path, &options)?;
        dependencies.extend(inv.dependencies);
    }
    Ok(dependencies)
}

/// Crawls one registry or endoflife.date for `dependencies` (also `serve`'s crawl schedule).
pub(crate) async fn crawl_flag_source(
    clients: &Clients,
    store: &Store,
    source: FlagSource,
    dependencies: &[Dependency],
    settings: &SourceSettings,
    progress: &(dyn Fn(CrawlProgress) + Sync),
) -> anyhow::Result<CrawlSummary> {
    match source {
        FlagSource::Registry(r) => {
            let base = settings.registry_url(r)?;
            let packages = registry::packages_for(r, dependencies);
            Ok(registry::crawl(clients, store, r, &base, packages, progress).await?)
        }
        FlagSource::EndOfLife => {
            let base = settings.base_url(UrlKey::EndOfLife)?;
            let products = endoflife::products_for(dependencies);
            Ok(endoflife::crawl(&clients.plain, store, &base, products, progress).await?)
        }
    }
}

/// Every registry and endoflife.date.
pub(crate) fn all_flag_sources() -> Vec<FlagSource> {
    SourceName::Registries
        .flag_sources()
        .into_iter()
        .chain(SourceName::Endoflife.flag_sources())
        .collect()
}

/// Registries and endoflife.date, one source after another: a source that fails records its
/// error in its own crawl state and the next one still runs.
fn run_flag_sources(args: CrawlArgs, settings: &SourceSettings) -> anyhow::Result<u8> {
    let http_config = HttpConfig::from_env()?;
    let store_config = StoreConfig::from_env(args.db.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let failed = runtime.block_on(async {
        let clients = Clients::new(http_config)?;
        let store = Store::open(&store_config)
            .await
            .with_context(|| format!("cannot open {}", store_config.describe()))?;
        let paths = if args.for_paths.is_empty() {
            watched_paths(&store, &args.tenant).await?
        } else {
            args.for_paths.clone()
        };
        let dependencies = dependencies_of(&paths)?;
        let line = ProgressLine::on_stderr();
        let mut failed = false;
        for source in args.source.flag_sources() {
            let label = source.id();
            let progress = |p| line.show_for(label, p);
            let outcome =
                crawl_flag_source(&clients, &store, source, &dependencies, settings, &progress)
                    .await;
            line.clear();
            match outcome {
                Ok(summary) => {
                    print_source_summary(label, &summary)?;
                    for error in &summary.errors {
                        eprintln!("error: {label}: {error}");
                    }
                    failed |= !summary.errors.is_empty();
                }
                Err(err) => {
                    failed = true;
                    eprintln!("error: {label}: {err:#}");
                    let message = format!("{err:#}");
                    if let Err(store_err) =
                        registry::record_failure(&store, label, label, &message).await
                    {
                        eprintln!("error: {label}: cannot record the crawl state: {store_err}");
                    }
                }
            }
        }
        store.close().await;
        Ok::<_, anyhow::Error>(failed)
    })?;
    Ok(if failed { EXIT_ERROR } else { EXIT_OK })
}

pub(crate) fn print_source_summary(label: &str, summary: &CrawlSummary) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{label}: {} requests, {} new, {} updated, {} unchanged, {} errors in {:.1}s",
        summary.requests,
        summary.new,
        summary.updated,
        summary.unchanged,
        summary.errors.len(),
        summary.elapsed.as_secs_f64()
    )
    .and_then(|()| out.flush())
    .context("cannot write the summary")
}

/// `fatal` counts the error that stopped the crawl, if any, with the per-record ones.
fn print_summary(summary: &CrawlSummary, fatal: usize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "osv: {} requests, {} new, {} updated, {} unchanged, {} errors in {:.1}s",
        summary.requests,
        summary.new,
        summary.updated,
        summary.unchanged,
        summary.errors.len() + fatal,
        summary.elapsed.as_secs_f64()
    )
    .and_then(|()| out.flush())
    .context("cannot write the summary")
}

/// A one-line progress display on stderr, only when stderr is a terminal.
struct ProgressLine {
    terminal: bool,
}

impl ProgressLine {
    fn on_stderr() -> Self {
        ProgressLine {
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn show(&self, progress: CrawlProgress) {
        self.show_for("osv", progress);
    }

    fn show_for(&self, label: &str, progress: CrawlProgress) {
        if !self.terminal {
            return;
        }
        let text = match progress {
            CrawlProgress::Querying { done, total } => format!("{label}: querying {done}/{total}"),
            CrawlProgress::Fetching { done, total } => format!("{label}: fetching {done}/{total}"),
        };
        let mut err = std::io::stderr();
        let _ = write!(err, "\r{text}\x1b[K");
        let _ = err.flush();
    }

    fn clear(&self) {
        if self.terminal {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}
