//! `ecowatch watch add|list|remove`: the repositories a tenant watches, and the store plumbing
//! `rescan` and `findings` share with it.

use super::EXIT_OK;
use super::watch_source::{self, WatchSource, redact, validate_name};
use crate::store::{DEFAULT_TENANT, Store, StoreConfig, StoreError, TenantId, WatchedRepo};
use anyhow::{Context, bail};
use std::future::Future;
use std::path::{Path, PathBuf};

/// Manage the repositories `ecowatch rescan` scans.
///
/// A local directory is stored as an absolute path. A git URL (https://, ssh://, git@host:path,
/// file://) is cloned shallowly into $ECOWATCH_CACHE_DIR/repos/TENANT/NAME (default cache:
/// $XDG_CACHE_HOME/ecowatch or ~/.cache/ecowatch) and fetched before each rescan; credentials
/// come from the environment and git's configuration, and URLs are printed without them.
///
/// Examples:
///   ecowatch watch add ../my-service
///   ecowatch watch add https://github.com/acme/api.git --name api --tenant acme
///   ecowatch watch list
///   ecowatch watch remove api --tenant acme
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct WatchArgs {
    #[command(flatten)]
    scope: Scope,
    #[command(subcommand)]
    action: WatchAction,
}

/// Which store and tenant a command works on (shared by `watch`, `rescan` and `findings`).
#[derive(clap::Args, Debug, Clone)]
pub struct Scope {
    /// The SQLite database file (wins over ECOWATCH_DATABASE_URL and ECOWATCH_DB).
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// The team whose repositories and findings these are.
    #[arg(long, global = true, default_value = DEFAULT_TENANT, value_name = "T")]
    pub tenant: String,
}

#[derive(clap::Subcommand, Debug)]
enum WatchAction {
    /// Watch a local directory or a git URL (a git URL is cloned now).
    Add {
        /// A directory, or a git URL.
        #[arg(value_name = "PATH|GIT_URL")]
        source: String,
        /// What to call it [default: the last path component, without `.git`].
        #[arg(long, value_name = "N")]
        name: Option<String>,
    },
    /// List the watched repositories.
    List,
    /// Stop watching a repository; its findings and scan history go too.
    Remove {
        #[arg(value_name = "NAME")]
        name: String,
    },
}

pub fn run(args: WatchArgs) -> anyhow::Result<u8> {
    let scope = args.scope.clone();
    with_store(&scope, |store, tenant| async move {
        match args.action {
            WatchAction::Add { source, name } => {
                add(&store, tenant, &args.scope.tenant, &source, name).await
            }
            WatchAction::List => list(&store, tenant).await,
            WatchAction::Remove { name } => remove(&store, tenant, &args.scope.tenant, &name).await,
        }
    })
}

/// Opens the store (migrating it), resolves the tenant, runs `body` and closes the store.
pub fn with_store<F, Fut>(scope: &Scope, body: F) -> anyhow::Result<u8>
where
    F: FnOnce(Store, TenantId) -> Fut,
    Fut: Future<Output = anyhow::Result<u8>>,
{
    validate_name(&scope.tenant).context("--tenant")?;
    let config = StoreConfig::from_env(scope.db.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = Store::open(&config)
            .await
            .with_context(|| format!("cannot open {}", config.describe()))?;
        let result = match store.ensure_tenant(&scope.tenant).await {
            Ok(tenant) => body(store.clone(), tenant).await,
            Err(err) => Err(err.into()),
        };
        store.close().await;
        result
    })
}

/// What to print for a repository: its name, or (for one added without a name) its URL.
pub fn display_name(repo: &WatchedRepo) -> String {
    repo.name.clone().unwrap_or_else(|| redact(&repo.url))
}

/// The tenant's repository called `name`, or an error listing what there is.
pub fn find_repo(repos: &[WatchedRepo], name: &str) -> anyhow::Result<WatchedRepo> {
    if let Some(repo) = repos.iter().find(|r| display_name(r) == name) {
        return Ok(repo.clone());
    }
    let known: Vec<String> = repos.iter().map(display_name).collect();
    if known.is_empty() {
        bail!("no watched repository `{name}` (this tenant watches none: `ecowatch watch add`)");
    }
    bail!(
        "no watched repository `{name}` (watched: {})",
        known.join(", ")
    )
}

/// The directory a scan reads: the local path, or the checkout in the cache.
pub fn scan_dir(tenant_name: &str, repo: &WatchedRepo) -> anyhow::Result<(WatchSource, PathBuf)> {
    let source = WatchSource::from_stored(&repo.url);
    let dir = match &source {
        WatchSource::Local(path) => path.clone(),
        WatchSource::Git(_) => {
            let name = repo
                .name
                .as_deref()
                .context("a git repository without a name has no checkout directory")?;
            watch_source::checkout_dir(tenant_name, name)?
        }
    };
    Ok((source, dir))
}

async fn add(
    store: &Store,
    tenant: TenantId,
    tenant_name: &str,
    arg: &str,
    name: Option<String>,
) -> anyhow::Result<u8> {
    let source = WatchSource::parse(arg)?;
    let name = match name {
        Some(n) => n,
        None => source
            .default_name()
            .with_context(|| format!("cannot derive a name from `{}`: pass --name", redact(arg)))?,
    };
    validate_name(&name).context("--name")?;
    let repos = store.list_repos(tenant).await?;
    if repos
        .iter()
        .any(|r| r.name.as_deref() == Some(name.as_str()))
    {
        bail!("tenant `{tenant_name}` already watches a repository named `{name}` (pass --name)");
    }
    let stored = source.stored();
    if repos.iter().any(|r| r.url == stored) {
        bail!(
            "tenant `{tenant_name}` already watches `{}`",
            redact(&stored)
        );
    }
    if let WatchSource::Git(url) = &source {
        let dir = watch_source::checkout_dir(tenant_name, &name)?;
        watch_source::sync_checkout(url, &dir)
            .with_context(|| format!("cannot clone `{}`", redact(url)))?;
    }
    let repo = match store.watch_repo(tenant, &name, &stored).await {
        Ok(repo) => repo,
        Err(StoreError::Conflict(_)) => {
            bail!(
                "tenant `{tenant_name}` already watches `{name}` or `{}`",
                redact(&stored)
            )
        }
        Err(err) => return Err(err.into()),
    };
    println!("watching {}: {}", display_name(&repo), redact(&repo.url));
    Ok(EXIT_OK)
}

async fn list(store: &Store, tenant: TenantId) -> anyhow::Result<u8> {
    let repos = store.list_repos(tenant).await?;
    if repos.is_empty() {
        eprintln!("no watched repositories (add one with `ecowatch watch add PATH|GIT_URL`)");
    }
    for repo in &repos {
        println!("{}\t{}", display_name(repo), redact(&repo.url));
    }
    Ok(EXIT_OK)
}

async fn remove(
    store: &Store,
    tenant: TenantId,
    tenant_name: &str,
    name: &str,
) -> anyhow::Result<u8> {
    let repos = store.list_repos(tenant).await?;
    let repo = find_repo(&repos, name)?;
    if !store.remove_repo(tenant, repo.id).await? {
        bail!("no watched repository `{name}`");
    }
    if let Ok((WatchSource::Git(_), dir)) = scan_dir(tenant_name, &repo) {
        remove_checkout(&dir);
    }
    println!("stopped watching {name}");
    Ok(EXIT_OK)
}

/// A leftover checkout only wastes disk; failing to delete it is a warning.
fn remove_checkout(dir: &Path) {
    if dir.exists()
        && let Err(err) = std::fs::remove_dir_all(dir)
    {
        eprintln!(
            "warning: cannot remove the checkout `{}`: {err}",
            dir.display()
        );
    }
}
