//! `ecowatch scan`: join the inventory, the rules in `feeds/` and the code, and report.

use super::{EXIT_FINDINGS, EXIT_OK, open_output};
use crate::finding::{Confidence, Severity};
use crate::report::{self, Format};
use crate::rules::{Rule, bundled, load_feed_files, read_feeds_dir};
use crate::scan::{self, DEFAULT_MAX_SCAN_BYTES, ScanOptions};
use anyhow::{Context, bail};
use chrono::NaiveDate;
use std::path::PathBuf;

/// Scan a repository: dependencies, runtime pins, config and code against the curated rules
/// in feeds/, with evidence and a fix for every finding.
///
/// Rules whose [when] gates fail for this repository are dropped before any file is read.
/// Files over --max-file-size, binary files and files that are not valid UTF-8 are skipped
/// with a diagnostic.
///
/// Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 error.
///
/// Examples:
///   ecowatch scan
///   ecowatch scan path/to/repo --format json --fail-on medium
///   ecowatch scan --select tag:supabase --ignore python/datetime-utcnow
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct ScanArgs {
    /// The repository to scan.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Output format: text for people, json for programs (`"schema": 1`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Exit with 1 when a finding is at or above this severity (`never`: always exit 0).
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    fail_on: FailOn,
    /// Report only findings at or above this confidence.
    #[arg(long, value_enum, default_value_t = Confidence::Low)]
    min_confidence: Confidence,
    /// Run only these rules: a rule id, a namespace, or `tag:NAME` (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID|tag:T")]
    select: Vec<String>,
    /// Skip these rules: a rule id, a namespace, or `tag:NAME` (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID|tag:T")]
    ignore: Vec<String>,
    /// Read rules from this feeds directory instead of the rules built into ecowatch.
    #[arg(long, value_name = "DIR")]
    feeds: Option<PathBuf>,
    /// Worker threads for the walk (0 = one per core).
    #[arg(long, default_value_t = 0, env = "ECOWATCH_THREADS")]
    threads: usize,
    /// Largest file the code matchers read, in MiB; larger files become a diagnostic.
    #[arg(long, default_value_t = DEFAULT_MAX_SCAN_BYTES / (1024 * 1024), value_name = "MIB")]
    max_file_size: u64,
    /// Also scan files that .gitignore excludes.
    #[arg(long)]
    no_ignore: bool,
    /// The date to evaluate timelines against (for tests; default: today; the last one wins).
    #[arg(long, hide = true, value_name = "YYYY-MM-DD", overrides_with = "now")]
    now: Option<NaiveDate>,
}

/// `--fail-on`: a severity, or `never`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Info => Some(Severity::Info),
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}

pub fn run(args: ScanArgs) -> anyhow::Result<u8> {
    let loaded = load(args.feeds.as_ref())?;
    let loaded_count = loaded.len();
    let rules = select(loaded, &args.select, &args.ignore)?;
    let mut options = ScanOptions::new(args.now.unwrap_or_else(today));
    options.walk.threads = args.threads;
    options.walk.respect_gitignore = !args.no_ignore;
    options.max_file_bytes = args.max_file_size.saturating_mul(1024 * 1024);
    options.min_confidence = args.min_confidence;
    options.fail_on = args.fail_on.threshold();
    let mut report = scan::scan(&args.path, &rules, &options)?;
    // Selection happens before the scan; the summary still counts every rule loaded.
    report.summary.rules_loaded = loaded_count;
    let mut out = open_output(args.output.as_deref())?;
    match args.format {
        Format::Json => report::scan_json::write_json(&report, &mut out),
        Format::Text => report::scan_text::write_text(&report, &mut out),
    }
    .and_then(|()| out.flush())
    .context("cannot write the report")?;
    Ok(if report.summary.failed {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// The only place the scan reads the clock.
fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Loads the bundled rules or `--feeds DIR`; any broken rule is an error, never skipped.
pub fn load(feeds: Option<&PathBuf>) -> anyhow::Result<Vec<Rule>> {
    let files = match feeds {
        Some(dir) => read_feeds_dir(dir)
            .with_context(|| format!("cannot read feeds from `{}`", dir.display()))?,
        None => bundled::files(),
    };
    let (rules, problems) = load_feed_files(&files);
    if !problems.is_empty() {
        let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        bail!(
            "{} problem(s) in the rule files (run `ecowatch feeds lint`):\n{}",
            problems.len(),
            listed.join("\n")
        );
    }
    Ok(rules)
}

/// Applies `--select` (a selector that names no rule is an error: it is a typo) and `--ignore`.
fn select(rules: Vec<Rule>, select: &[String], ignore: &[String]) -> anyhow::Result<Vec<Rule>> {
    for s in select.iter().filter(|s| !s.is_empty()) {
        if !rules.iter().any(|r| r.is_selected_by(s)) {
            bail!(
                "--select `{s}` matches no rule (rule ids look like `python/datetime-utcnow`, tags like `tag:python`)"
            );
        }
    }
    Ok(rules
        .into_iter()
        .filter(|r| select.is_empty() || select.iter().any(|s| r.is_selected_by(s)))
        .filter(|r| !ignore.iter().any(|s| r.is_selected_by(s)))
        .collect())
}
