//! The command line: clap definitions and dispatch. Each subcommand lives in its own file and
//! returns the exit code it wants; errors become exit code 2 with the whole cause chain.

mod advisory_store;
pub(crate) mod crawl;
mod crawl_github;
mod crawl_pages;
mod dashboard;
mod db;
mod deliveries;
pub(crate) mod digest;
mod feeds;
mod findings;
mod inventory;
mod notices;
mod notices_parse;
mod progress;
pub(crate) mod rescan;
mod rescan_notices;
mod scan;
mod serve;
mod sources;
mod subscribe;
mod tokens;
mod watch;
mod watch_source;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit code for "ran, and nothing at or above the threshold was found".
pub const EXIT_OK: u8 = 0;
/// Exit code for "found something at or above the threshold".
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for "could not do the job".
pub const EXIT_ERROR: u8 = 2;

/// ecowatch watches the ecosystems your code depends on: advisories, deprecations,
/// announcements, yanked packages and end-of-life runtimes, matched against your manifests,
/// lockfiles and code.
#[derive(Parser, Debug)]
#[command(
    name = "ecowatch",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Inventory(inventory::InventoryArgs),
    Scan(scan::ScanArgs),
    Feeds(feeds::FeedsArgs),
    Dashboard(dashboard::DashboardArgs),
    Db(db::DbArgs),
    Crawl(crawl::CrawlArgs),
    Notices(notices::NoticesArgs),
    Watch(watch::WatchArgs),
    Rescan(rescan::RescanArgs),
    Findings(findings::FindingsArgs),
    Subscribe(subscribe::SubscribeArgs),
    Unsubscribe(subscribe::UnsubscribeArgs),
    Subscriptions(subscribe::SubscriptionsArgs),
    Deliveries(deliveries::DeliveriesArgs),
    Serve(serve::ServeArgs),
    Tokens(tokens::TokensArgs),
    Digest(digest::DigestArgs),
    Sources(sources::SourcesArgs),
}

/// Parses the process arguments, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inventory(args) => inventory::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Feeds(args) => feeds::run(args),
        Command::Dashboard(args) => dashboard::run(args),
        Command::Db(args) => db::run(args),
        Command::Crawl(args) => crawl::run(args),
        Command::Notices(args) => notices::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Rescan(args) => rescan::run(args),
        Command::Findings(args) => findings::run(args),
        Command::Subscribe(args) => subscribe::subscribe(args),
        Command::Unsubscribe(args) => subscribe::unsubscribe(args),
        Command::Subscriptions(args) => subscribe::list(args),
        Command::Deliveries(args) => deliveries::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Tokens(args) => tokens::run(args),
        Command::Digest(args) => digest::run(args),
        Command::Sources(args) => sources::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::from(EXIT_OK);
            }
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `ecowatch inventory | head` must not print an error when `head` closes the pipe.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Opens `--output FILE`, or stdout when absent.
fn open_output(path: Option<&std::path::Path>) -> anyhow::Result<Box<dyn std::io::Write>> {
    use anyhow::Context;
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create `{}`", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}
