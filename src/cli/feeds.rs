//! `ecowatch feeds lint` and `ecowatch feeds test`: keep the rule files honest.

use super::{EXIT_FINDINGS, EXIT_OK};
use crate::rules::fixtures;
use crate::rules::lint::lint_dir;
use anyhow::{Context, bail};
use chrono::NaiveDate;
use std::path::PathBuf;

/// Check and test the rule files in feeds/.
#[derive(clap::Args, Debug)]
pub struct FeedsArgs {
    #[command(subcommand)]
    command: FeedsCommand,
}

#[derive(clap::Subcommand, Debug)]
enum FeedsCommand {
    /// Check every rule file: schema, unknown keys, id = path, regexes, ranges, dates,
    /// references, and at least one `ruleid` and one `ok` fixture annotation per rule.
    /// Prints `path:line:column: message`; exit 1 when anything is wrong.
    Lint {
        /// The feeds directory (default: ./feeds, else the feeds/ of this checkout).
        dir: Option<PathBuf>,
    },
    /// Run every rule's fixtures and show expected vs got lines; exit 1 when one fails.
    Test {
        /// The feeds directory (default: ./feeds, else the feeds/ of this checkout).
        dir: Option<PathBuf>,
        /// The date timelines are evaluated against (default: today).
        #[arg(long, hide = true, value_name = "YYYY-MM-DD")]
        now: Option<NaiveDate>,
    },
}

pub fn run(args: FeedsArgs) -> anyhow::Result<u8> {
    match args.command {
        FeedsCommand::Lint { dir } => lint(&feeds_dir(dir)?),
        FeedsCommand::Test { dir, now } => test(
            &feeds_dir(dir)?,
            now.unwrap_or_else(|| chrono::Local::now().date_naive()),
        ),
    }
}

fn lint(dir: &std::path::Path) -> anyhow::Result<u8> {
    let report = lint_dir(dir).with_context(|| format!("cannot read `{}`", dir.display()))?;
    for p in &report.problems {
        println!("{p}");
    }
    if report.problems.is_empty() {
        println!("{} rules, no problems", report.rules.len());
        Ok(EXIT_OK)
    } else {
        println!("{} problem(s)", report.problems.len());
        Ok(EXIT_FINDINGS)
    }
}

fn test(dir: &std::path::Path, now: NaiveDate) -> anyhow::Result<u8> {
    let files = crate::rules::read_feeds_dir(dir)
        .with_context(|| format!("cannot read `{}`", dir.display()))?;
    let (rules, problems) = crate::rules::load_feed_files(&files);
    for p in &problems {
        println!("{p}");
    }
    let results = fixtures::run_all(dir, &rules, now);
    print!("{}", fixtures::render(&results));
    let failed = !problems.is_empty() || results.iter().any(|r| !r.passed());
    Ok(if failed { EXIT_FINDINGS } else { EXIT_OK })
}

/// `DIR`, else `./feeds`, else the `feeds/` of the checkout this binary was built from.
fn feeds_dir(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = dir {
        if !dir.is_dir() {
            bail!("`{}` is not a directory", dir.display());
        }
        return Ok(dir);
    }
    let local = PathBuf::from("feeds");
    if local.is_dir() {
        return Ok(local);
    }
    let checkout = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("feeds");
    if checkout.is_dir() {
        return Ok(checkout);
    }
    bail!("no feeds directory here; pass one: `ecowatch feeds lint path/to/feeds`")
}
