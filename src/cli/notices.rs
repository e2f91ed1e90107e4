//! `ecowatch notices import PATH`: OSV records from a file, a directory tree or an `all.zip`
//! dump into the knowledge store, in batches. `ecowatch notices parse FILE`: the notices a
//! changelog yields (`notices_parse.rs`).

use super::{EXIT_FINDINGS, EXIT_OK};
use crate::osv::{self, OsvError, OsvRecord};
use crate::store::{Notice, NoticeCounts, Store, StoreConfig, StoreError};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// Notices written per transaction: large enough that a 100,000-record dump is a few hundred
/// commits, small enough that one batch's memory does not matter.
const BATCH: usize = 500;

/// Manage the knowledge the store holds: advisories and other OSV-shaped notices.
///
/// The store is SQLite by default (one file under $XDG_DATA_HOME/ecowatch/, or --db FILE, or
/// ECOWATCH_DB), or PostgreSQL when ECOWATCH_DATABASE_URL=postgres://... is set. `ecowatch scan`
/// matches the locked dependencies of a repository against what is imported here.
///
/// Examples:
///   ecowatch notices import ~/Downloads/PyPI-all.zip
///   ecowatch notices import advisory-database/advisories/github-reviewed
///   ecowatch notices --db ./ecowatch.db import advisory-db/crates
///   ecowatch notices parse CHANGELOG.md --package npm:@supabase/supabase-js
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct NoticesArgs {
    /// The SQLite database file (wins over ECOWATCH_DATABASE_URL and ECOWATCH_DB).
    #[arg(long, global = true, value_name = "FILE")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    action: NoticesAction,
}

#[derive(clap::Subcommand, Debug)]
enum NoticesAction {
    Import(ImportArgs),
    Parse(super::notices_parse::ParseArgs),
}

/// Import OSV records: a JSON file, a directory tree, or a zip in OSV.dev's `all.zip` layout.
///
/// Reads OSV JSON (`*.json`: OSV.dev, GitHub's advisory database, RustSec's OSV export), OSV
/// YAML (`*.yaml`: the PyPA advisory database) and RustSec's own advisories
/// (`RUSTSEC-*.md`). Importing the same records again changes nothing; a record whose
/// `modified` time is newer replaces the stored one. A record that cannot be read is reported
/// with its file and the import goes on.
///
/// Prints `imported N new, M updated, K unchanged, E errors from PATH`.
/// Exit codes: 0 every record was read, 1 some records could not be read, 2 error.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
struct ImportArgs {
    /// A record file, a directory of records, or an `all.zip`.
    path: PathBuf,
    /// The source recorded on each notice.
    #[arg(long, default_value = "import", value_name = "NAME")]
    source: String,
}

pub fn run(args: NoticesArgs) -> anyhow::Result<u8> {
    match args.action {
        NoticesAction::Import(import) => run_import(args.db.as_deref(), &import),
        NoticesAction::Parse(parse) => super::notices_parse::run(args.db.as_deref(), &parse),
    }
}

fn run_import(db: Option<&Path>, args: &ImportArgs) -> anyhow::Result<u8> {
    // A missing PATH must not leave an empty database behind.
    std::fs::metadata(&args.path)
        .with_context(|| format!("cannot read `{}`", args.path.display()))?;
    let config = StoreConfig::from_env(db)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let store = runtime
        .block_on(Store::open(&config))
        .with_context(|| format!("cannot open {}", config.describe()))?;

    let progress = super::progress::Progress::on_stderr("importing");
    let counter = progress.counter();
    let mut batch: Vec<Notice> = Vec::with_capacity(BATCH);
    let mut counts = NoticeCounts::default();
    let mut errors = 0usize;
    let mut failure: Option<StoreError> = None;
    let flush = |batch: &mut Vec<Notice>, counts: &mut NoticeCounts| {
        if batch.is_empty() {
            return Ok(());
        }
        let written = runtime.block_on(store.upsert_notices(batch))?;
        counts.inserted += written.inserted;
        counts.updated += written.updated;
        counts.unchanged += written.unchanged;
        batch.clear();
        Ok::<(), StoreError>(())
    };
    let mut visit = |origin: &str, record: Result<OsvRecord, OsvError>| {
        if failure.is_some() {
            return;
        }
        if let Some(c) = &counter {
            c.done.fetch_add(1, Ordering::Relaxed);
        }
        match record {
            Ok(record) => {
                batch.push(record.to_notice(&args.source));
                if batch.len() >= BATCH
                    && let Err(e) = flush(&mut batch, &mut counts)
                {
                    failure = Some(e);
                }
            }
            Err(e) => {
                errors += 1;
                eprintln!("error[osv-invalid] {origin}: {e}");
            }
        }
    };
    let walked = osv::for_each_record(&args.path, &mut visit);
    if failure.is_none()
        && let Err(e) = flush(&mut batch, &mut counts)
    {
        failure = Some(e);
    }
    progress.finish();
    runtime.block_on(store.close());
    walked?;
    if let Some(e) = failure {
        return Err(anyhow::Error::new(e).context(format!("cannot write to {}", config.describe())));
    }
    println!(
        "imported {} new, {} updated, {} unchanged, {errors} errors from {}",
        counts.inserted,
        counts.updated,
        counts.unchanged,
        args.path.display()
    );
    Ok(if errors > 0 { EXIT_FINDINGS } else { EXIT_OK })
}
