//! `ecowatch dashboard sync`: one GitHub issue per watched GitHub repository, edited in place.

use super::watch::{Scope, display_name, find_repo, with_store};
use super::{EXIT_ERROR, EXIT_OK};
use crate::notify::dashboard_sync::{self, GitHubSlug, IssuesClient, Outcome};
use anyhow::{Context, bail};
use chrono::Utc;

/// Keep an "ecowatch dashboard" issue on GitHub for each watched repository.
///
/// One issue per repository lists its open findings by severity and rule with file:line, and
/// what was fixed since the last update. The first sync creates it; later syncs edit the same
/// issue (its number is stored), send nothing when the body is unchanged, and open a new issue
/// only when GitHub says the stored one is gone (404/410).
///
/// Which repositories: those watched by a https://github.com/OWNER/REPO[.git] URL; others are
/// skipped. For a repository watched another way (a local checkout), name it with --repo and
/// give its GitHub home with --github OWNER/REPO.
///
/// Environment: ECOWATCH_GITHUB_TOKEN (required unless --dry-run; a token that may write
/// issues; never printed), ECOWATCH_GITHUB_API_URL (default https://api.github.com).
///
/// Exit codes: 0 every repository synced, 2 at least one failed.
///
/// Examples:
///   ecowatch dashboard sync
///   ecowatch dashboard sync --repo api --dry-run
///   ecowatch dashboard sync --repo api --github acme/api --tenant acme
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct DashboardArgs {
    #[command(flatten)]
    scope: Scope,
    #[command(subcommand)]
    action: DashboardAction,
}

#[derive(clap::Subcommand, Debug)]
enum DashboardAction {
    /// Create or update each repository's dashboard issue.
    Sync {
        /// Only this watched repository.
        #[arg(long, value_name = "NAME")]
        repo: Option<String>,
        /// The repository's GitHub OWNER/REPO, when its watched URL is not a GitHub URL
        /// (needs --repo).
        #[arg(long, value_name = "OWNER/REPO", requires = "repo")]
        github: Option<String>,
        /// Print each body instead of posting it (no token needed, nothing stored).
        #[arg(long)]
        dry_run: bool,
    },
}

pub fn run(args: DashboardArgs) -> anyhow::Result<u8> {
    let DashboardAction::Sync {
        repo,
        github,
        dry_run,
    } = args.action;
    let forced = github
        .as_deref()
        .map(GitHubSlug::parse)
        .transpose()
        .context("--github")?;
    let client = if dry_run {
        None
    } else {
        Some(IssuesClient::from_env()?)
    };
    with_store(&args.scope, |store, tenant| async move {
        let repos = store.list_repos(tenant).await?;
        let repos = match repo.as_deref() {
            Some(name) => vec![find_repo(&repos, name)?],
            None => repos,
        };
        let mut failed = 0usize;
        let mut synced = 0usize;
        for repo in &repos {
            let name = display_name(repo);
            let Some(slug) = forced.clone().or_else(|| GitHubSlug::from_url(&repo.url)) else {
                if forced.is_none() && repos.len() == 1 {
                    bail!("`{name}` is not watched by a GitHub URL: pass --github OWNER/REPO");
                }
                continue;
            };
            synced += 1;
            let outcome = dashboard_sync::sync_repo(
                &store,
                tenant,
                repo,
                &name,
                &slug,
                client.as_ref(),
                Utc::now(),
            )
            .await;
            match outcome {
                Ok(Outcome::DryRun(body)) => {
                    println!("# {name} → {}\n{body}", slug.as_str());
                }
                Ok(Outcome::Created(issue)) => {
                    println!("{name}: created issue #{} {}", issue.number, issue.html_url);
                }
                Ok(Outcome::Edited(issue)) => {
                    println!("{name}: updated issue #{} {}", issue.number, issue.html_url);
                }
                Ok(Outcome::Recreated(issue)) => println!(
                    "{name}: the stored issue was gone; created issue #{} {}",
                    issue.number, issue.html_url
                ),
                Ok(Outcome::Unchanged { number }) => {
                    println!("{name}: issue #{number} unchanged");
                }
                Err(err) => {
                    failed += 1;
                    eprintln!("{name}: failed: {:#}", anyhow::Error::from(err));
                }
            }
        }
        if synced == 0 {
            eprintln!(
                "no watched GitHub repositories (watch https://github.com/OWNER/REPO, or pass --repo NAME --github OWNER/REPO)"
            );
        }
        Ok(if failed > 0 { EXIT_ERROR } else { EXIT_OK })
    })
}
