//! `ecowatch inventory`: list every dependency and runtime pin a repository declares or locks.

use super::{EXIT_OK, open_output};
use crate::inventory::{self, InventoryOptions};
use crate::report::{self, Format};
use anyhow::Context;
use std::path::PathBuf;

/// List every dependency and runtime pin a repository declares or locks, by file.
///
/// Groups entries by the file that declares them, with totals per ecosystem.
/// Reads npm, PyPI, crates.io, Go, RubyGems, Packagist and GitHub Actions manifests and
/// lockfiles plus runtime pins (.nvmrc, .python-version, requires-python, Dockerfile FROM, ...).
/// Honours .gitignore and skips node_modules, vendor, .venv and .git. Files it cannot read are
/// reported as diagnostics; the run goes on.
///
/// Examples:
///   ecowatch inventory examples/supabase-app
///   ecowatch inventory . --format json | jq '.dependencies[] | select(.direct)'
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct InventoryArgs {
    /// The repository to read.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Output format: text for people, json for programs (`"schema": 1`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Worker threads for the walk (0 = one per core).
    #[arg(long, default_value_t = 0, env = "ECOWATCH_THREADS")]
    threads: usize,
    /// Largest manifest or lockfile read, in MiB; larger files become a diagnostic.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    max_file_size: u64,
    /// Also read files that .gitignore excludes.
    #[arg(long)]
    no_ignore: bool,
}

pub fn run(args: InventoryArgs) -> anyhow::Result<u8> {
    let mut options = InventoryOptions {
        max_file_bytes: args.max_file_size.saturating_mul(1024 * 1024),
        ..InventoryOptions::default()
    };
    options.walk.threads = args.threads;
    options.walk.respect_gitignore = !args.no_ignore;
    let inv = inventory::run(&args.path, &options)?;
    let mut out = open_output(args.output.as_deref())?;
    match args.format {
        Format::Json => report::inventory::write_json(&inv, &mut out),
        Format::Text => report::inventory::write_text(&inv, &mut out),
    }
    .and_then(|()| out.flush())
    .context("cannot write the report")?;
    Ok(EXIT_OK)
}
