//! What each schedule runs: the same library code the CLI commands run, for every tenant this
//! service works on. A job returns a one-line summary, or an error for the tick's `last_error`.

use super::config::Job;
use crate::http::{HttpClient, HttpConfig};
use crate::notify::email_config::EmailSettings;
use crate::notify::relay::{self, Channels, EmailChannel, RelaySettings};
use crate::notify::smtp::{Mailer, SendError};
use crate::notify::webhook::WebhookSender;
use crate::source::osv;
use crate::source::settings::{SourceSettings, UrlKey};
use crate::store::{Store, Tenant};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Test-only: every job first sleeps this many milliseconds, so a test can kill the replica
/// holding a tick's lease while the job runs. Never set it in production.
pub const ENV_TEST_JOB_DELAY_MS: &str = "ECOWATCH_TEST_JOB_DELAY_MS";

/// Why a job failed; the message goes into the tick's `last_error` and the log.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JobError(String);

impl JobError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        JobError(cap(message.into()))
    }
}

/// Error messages are stored and logged: keep them to a line of reasonable length.
fn cap(message: String) -> String {
    let line: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(500)
        .collect();
    line
}

/// What the jobs need, shared by every tick.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub store: Store,
    /// `None`: every tenant in the database.
    pub tenants: Option<Vec<String>>,
    /// See [`ENV_TEST_JOB_DELAY_MS`].
    pub test_delay: Option<Duration>,
    /// SMTP and unsubscribe settings; `None` when no SMTP server is configured (email
    /// deliveries then wait in the outbox, webhooks still go).
    pub email: Option<EmailSettings>,
    /// `[notify] send-empty-digest`: send a digest even when nothing is new.
    pub send_empty_digest: bool,
    /// `[serve] feeds`: the directory whose watch.toml the crawl follows; `None`: bundled.
    pub feeds: Option<PathBuf>,
    /// Base URLs and the GitHub token (`[sources]` under the environment), resolved once.
    pub sources: SourceSettings,
}

impl JobContext {
    pub fn new(store: Store, tenants: Option<Vec<String>>, email: Option<EmailSettings>) -> Self {
        let test_delay = std::env::var(ENV_TEST_JOB_DELAY_MS)
            .ok()
            .and_then(|ms| ms.parse::<u64>().ok())
            .map(Duration::from_millis);
        JobContext {
            store,
            tenants,
            test_delay,
            email,
            send_empty_digest: false,
            feeds: None,
            sources: SourceSettings::from_env(),
        }
    }

    /// The tenants this service works on, by name.
    pub async fn tenants(&self) -> Result<Vec<Tenant>, JobError> {
        let all = self
            .store
            .list_tenants()
            .await
            .map_err(|e| JobError::new(format!("cannot list tenants: {e}")))?;
        Ok(match &self.tenants {
            None => all,
            Some(names) => all
                .into_iter()
                .filter(|t| names.iter().any(|n| n == &t.name))
                .collect(),
        })
    }
}

/// Runs `job` once.
pub async fn run(job: Job, ctx: &JobContext) -> Result<String, JobError> {
    if let Some(delay) = ctx.test_delay {
        tokio::time::sleep(delay).await;
    }
    match job {
        Job::Crawl => crawl(ctx).await,
        Job::Rescan => rescan(ctx).await,
        Job::Relay => relay(ctx).await,
        Job::Digest => digest(ctx).await,
    }
}

/// Every source for the packages of every watched repository (`ecowatch crawl`), part after
/// part in this process; `serve` splits the same parts between replicas
/// ([`super::crawl_parts`]).
async fn crawl(ctx: &JobContext) -> Result<String, JobError> {
    let mut results = Vec::new();
    for part in crawl_part_names() {
        results.push((part, run_crawl_part(part, ctx).await));
    }
    combine_crawl_parts(results.iter().map(|(part, result)| match result {
        Ok(summary) => (*part, Ok(summary.as_str())),
        Err(err) => (*part, Err(err.0.as_str())),
    }))
}

/// The parts a crawl fans out into, one per source, in the order `ecowatch crawl` runs them:
/// OSV, the registries, endoflife.date, the GitHub projects, the vendor pages.
pub fn crawl_part_names() -> Vec<&'static str> {
    let mut parts = vec![osv::SOURCE_ID];
    parts.extend(
        crate::cli::crawl::all_flag_sources()
            .into_iter()
            .map(|s| s.id()),
    );
    parts.extend(["github", "pages"]);
    parts
}

/// One crawl tick's result from its parts' (part, summary or error): every summary in one
/// line; any failed part fails the tick.
pub fn combine_crawl_parts<'a>(
    parts: impl IntoIterator<Item = (&'a str, Result<&'a str, &'a str>)>,
) -> Result<String, JobError> {
    let mut lines = Vec::new();
    let mut failed = Vec::new();
    for (part, result) in parts {
        match result {
            Ok(summary) => lines.push(summary.to_string()),
            Err(error) => {
                lines.push(error.to_string());
                failed.push(part.to_string());
            }
        }
    }
    let summary = lines.join("; ");
    if failed.is_empty() {
        Ok(summary)
    } else {
        Err(JobError::new(format!(
            "failed: {}; {summary}",
            failed.join(", ")
        )))
    }
}

/// Runs one part of a crawl (a name from [`crawl_part_names`]): its one-line summary, or an
/// error that carries the summary and what failed.
pub async fn run_crawl_part(part: &str, ctx: &JobContext) -> Result<String, JobError> {
    let flag_source = crate::cli::crawl::all_flag_sources()
        .into_iter()
        .find(|s| s.id() == part);
    if part != osv::SOURCE_ID && part != "github" && part != "pages" && flag_source.is_none() {
        return Err(JobError::new(format!("unknown crawl part `{part}`")));
    }
    let paths = watched_paths(ctx).await?;
    if paths.is_empty() {
        return Ok(format!("{part}: no watched repositories"));
    }
    let mut failures = Vec::new();
    let summary = match (part, flag_source) {
        ("github", _) => {
            let config = HttpConfig::from_env().map_err(|e| JobError::new(e.to_string()))?;
            let http = HttpClient::new(config).map_err(|e| JobError::new(e.to_string()))?;
            let dependencies = dependencies_of(&paths).await?;
            crawl_github(ctx, &http, &dependencies, &mut failures).await
        }
        ("pages", _) => crawl_pages(ctx, &mut failures).await,
        (_, Some(source)) => crawl_flag_source(ctx, source, &paths, &mut failures).await?,
        _ => crawl_osv(ctx, &paths, &mut failures).await?,
    };
    if failures.is_empty() {
        Ok(summary)
    } else {
        Err(JobError::new(format!(
            "{summary}; failed: {}",
            failures.join("; ")
        )))
    }
}

/// The working trees of every watched repository of this service's tenants.
async fn watched_paths(ctx: &JobContext) -> Result<Vec<std::path::PathBuf>, JobError> {
    let mut paths = Vec::new();
    for tenant in ctx.tenants().await? {
        let repos = ctx
            .store
            .list_repos(tenant.id)
            .await
            .map_err(|e| JobError::new(e.to_string()))?;
        if repos.is_empty() {
            continue;
        }
        let found = crate::cli::crawl::watched_paths(&ctx.store, &tenant.name)
            .await
            .map_err(|e| JobError::new(format!("{e:#}")))?;
        paths.extend(found);
    }
    Ok(paths)
}

/// The dependencies of `paths`. Reading every inventory is CPU and file work: off the async
/// threads.
async fn dependencies_of(
    paths: &[std::path::PathBuf],
) -> Result<Vec<crate::dependency::Dependency>, JobError> {
    let paths = paths.to_vec();
    tokio::task::spawn_blocking(move || crate::cli::crawl::dependencies_of(&paths))
        .await
        .map_err(|_| JobError::new("the inventory stopped unexpectedly"))?
        .map_err(|e| JobError::new(format!("{e:#}")))
}

/// OSV for the packages of `paths` (`ecowatch crawl --source osv`).
async fn crawl_osv(
    ctx: &JobContext,
    paths: &[std::path::PathBuf],
    failures: &mut Vec<String>,
) -> Result<String, JobError> {
    let base = ctx
        .sources
        .base_url(UrlKey::Osv)
        .map_err(|e| JobError::new(format!("invalid OSV URL: {e}")))?;
    let http_config = HttpConfig::from_env().map_err(|e| JobError::new(e.to_string()))?;
    let http = HttpClient::new(http_config).map_err(|e| JobError::new(e.to_string()))?;
    let dependencies = dependencies_of(paths).await?;
    let queries = osv::queries_for(&dependencies);
    let report = osv::crawl(&http, &ctx.store, &base, queries, &|_| {})
        .await
        .map_err(|e| JobError::new(format!("cannot record the crawl state: {e}")))?;
    let s = &report.summary;
    match &report.fatal {
        Some(fatal) => failures.push(format!("osv stopped: {fatal}")),
        None if !s.errors.is_empty() => failures.push(format!("osv: {} errors", s.errors.len())),
        None => {}
    }
    Ok(format!(
        "osv: {} requests, {} new, {} updated, {} unchanged, {} errors",
        s.requests,
        s.new,
        s.updated,
        s.unchanged,
        s.errors.len()
    ))
}

/// One registry or endoflife.date for the packages of `paths`: each records its own state.
async fn crawl_flag_source(
    ctx: &JobContext,
    source: crate::cli::crawl::FlagSource,
    paths: &[std::path::PathBuf],
    failures: &mut Vec<String>,
) -> Result<String, JobError> {
    let label = source.id();
    let clients = crate::source::registry::Clients::new(
        HttpConfig::from_env().map_err(|e| JobError::new(e.to_string()))?,
    )
    .map_err(|e| JobError::new(e.to_string()))?;
    let dependencies = dependencies_of(paths).await?;
    match crate::cli::crawl::crawl_flag_source(
        &clients,
        &ctx.store,
        source,
        &dependencies,
        &ctx.sources,
        &|_| {},
    )
    .await
    {
        Ok(summary) => {
            if !summary.errors.is_empty() {
                failures.push(format!("{label}: {} errors", summary.errors.len()));
            }
            Ok(format!(
                "{label}: {} new, {} updated",
                summary.new, summary.updated
            ))
        }
        Err(err) => {
            failures.push(format!("{label}: {err:#}"));
            Ok(format!("{label}: not crawled"))
        }
    }
}

/// The vendor pages of the watch list (`ecowatch crawl --source pages`).
async fn crawl_pages(ctx: &JobContext, failures: &mut Vec<String>) -> String {
    use crate::source::vendor_pages;
    let pages = match vendor_pages::load(ctx.feeds.as_deref()) {
        Ok(pages) => pages,
        Err(err) => {
            failures.push(format!("pages: {err}"));
            return "pages: not crawled".into();
        }
    };
    let policy = crate::http::ssrf::SsrfPolicy::from_env();
    match vendor_pages::crawl(
        &ctx.store,
        &pages,
        &policy,
        &vendor_pages::limits_from_env(),
    )
    .await
    {
        Ok(summary) => {
            if !summary.errors.is_empty() {
                failures.push(format!("pages: {} errors", summary.errors.len()));
            }
            format!("pages: {} new, {} updated", summary.new, summary.updated)
        }
        Err(err) => {
            failures.push(format!("pages: {err}"));
            "pages: not crawled".into()
        }
    }
}

/// The GitHub projects of the watch list (`[serve] feeds`, else the bundled one) and the source
/// repositories of the packages in
/// use (`ecowatch crawl --source github`).
async fn crawl_github(
    ctx: &JobContext,
    http: &HttpClient,
    dependencies: &[crate::dependency::Dependency],
    failures: &mut Vec<String>,
) -> String {
    use crate::source::github::{self, client::GitHubClient, discover, watchlist};
    let watched = match watchlist::load(ctx.feeds.as_deref()) {
        Ok(projects) => projects,
        Err(err) => {
            failures.push(format!("github: {err}"));
            return "github: not crawled".into();
        }
    };
    let projects = match discover::projects_with_discovered(
        http,
        &ctx.store,
        &ctx.sources,
        watched,
        dependencies,
    )
    .await
    {
        Ok(discovery) => {
            if !discovery.errors.is_empty() {
                failures.push(format!("discover: {} errors", discovery.errors.len()));
            }
            discovery.projects
        }
        Err(err) => {
            failures.push(format!("discover: {err}"));
            return "github: not crawled".into();
        }
    };
    let client = ctx
        .sources
        .github_config(&crate::source::settings::process_env)
        .map_err(|e| e.to_string())
        .and_then(|config| {
            let http = HttpClient::new(HttpConfig::from_env().map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            GitHubClient::new(http, ctx.store.clone(), config).map_err(|e| e.to_string())
        });
    let client = match client {
        Ok(client) => client,
        Err(err) => {
            failures.push(format!("github: {err}"));
            return "github: not crawled".into();
        }
    };
    match github::crawl(&client, &ctx.store, &projects, &|_| {}).await {
        Ok(report) => {
            if let Some(fatal) = &report.fatal {
                failures.push(format!("github stopped: {fatal}"));
            } else if !report.summary.errors.is_empty() {
                failures.push(format!("github: {} errors", report.summary.errors.len()));
            }
            format!(
                "github: {} new, {} updated",
                report.summary.new, report.summary.updated
            )
        }
        Err(err) => {
            failures.push(format!("github: {err}"));
            "github: not crawled".into()
        }
    }
}

/// Every tenant's watched repositories, scanned and recorded (`ecowatch rescan`).
async fn rescan(ctx: &JobContext) -> Result<String, JobError> {
    let rules = crate::cli::rescan::load_rules().map_err(|e| JobError::new(format!("{e:#}")))?;
    let today = chrono::Local::now().date_naive();
    let repos = AtomicUsize::new(0);
    let mut failed = 0usize;
    for tenant in ctx.tenants().await? {
        let name = tenant.name.clone();
        let report = |repo: &str, outcome: Result<&crate::cli::rescan::Counts, &str>| {
            repos.fetch_add(1, Ordering::Relaxed);
            if let Err(message) = outcome {
                eprintln!(
                    "serve: rescan {name}/{repo}: failed: {}",
                    cap(message.into())
                );
            }
        };
        failed += crate::cli::rescan::rescan_tenant(
            &ctx.store,
            tenant.id,
            &tenant.name,
            None,
            &rules,
            today,
            &report,
        )
        .await
        .map_err(|e| JobError::new(format!("{}: {e:#}", tenant.name)))?;
    }
    let repos = repos.into_inner();
    let summary = format!("{repos} repositories, {failed} failed");
    if failed > 0 {
        Err(JobError::new(summary))
    } else {
        Ok(summary)
    }
}

/// One pass of the outbox relay for every tenant (`ecowatch deliveries send`). Without SMTP
/// configured there is nothing to send through: the tick says so and succeeds.
async fn relay(ctx: &JobContext) -> Result<String, JobError> {
    let settings = RelaySettings::from_env().map_err(JobError::new)?;
    let email = match &ctx.email {
        Some(config) => Some(EmailChannel {
            mailer: Mailer::new(config).map_err(|e| match e {
                SendError::Transient(m) | SendError::Permanent(m) => JobError::new(m),
            })?,
            from: config.smtp.from.clone(),
        }),
        None => None,
    };
    let channels = Channels {
        email,
        webhooks: WebhookSender::from_env().map_err(JobError::new)?,
    };
    let mut total = relay::RelayCounts::default();
    for tenant in ctx.tenants().await? {
        let counts = relay::run_once(&ctx.store, tenant.id, &channels, &settings)
            .await
            .map_err(|e| JobError::new(format!("{}: the relay failed: {e}", tenant.name)))?;
        total += counts;
    }
    let mut summary = format!(
        "{} sent, {} to retry, {} dead, {} fenced out",
        total.sent, total.retried, total.dead, total.fenced
    );
    if ctx.email.is_none() {
        summary.push_str(" (no SMTP server configured: email deliveries wait)");
    }
    Ok(summary)
}

/// The daily/weekly digests (`ecowatch digest --send`): queue each due subscription's digest
/// for this period (once per period, whichever replica runs it), then relay.
async fn digest(ctx: &JobContext) -> Result<String, JobError> {
    let now = chrono::Utc::now();
    let mut queued = 0;
    for tenant in ctx.tenants().await? {
        queued += crate::cli::digest::queue_due(
            &ctx.store,
            tenant.id,
            &tenant.name,
            now,
            ctx.send_empty_digest,
        )
        .await
        .map_err(|e| JobError::new(format!("{}: {e:#}", tenant.name)))?;
    }
    let relayed = relay(ctx).await?;
    Ok(format!("{queued} digest(s) queued; {relayed}"))
}
