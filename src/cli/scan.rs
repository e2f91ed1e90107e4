//! `ecowatch scan`: join the inventory, the rules in `feeds/` and the code, and report.

use super::{EXIT_FINDINGS, EXIT_OK, open_output};
use crate::config::Config;
use crate::finding::{Confidence, Severity};
use crate::report;
use crate::rules::{Rule, bundled, load_feed_files, read_feeds_dir};
use crate::scan::{self, DEFAULT_MAX_SCAN_BYTES, ScanOptions};
use anyhow::{Context, bail};
use chrono::NaiveDate;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

/// Scan a repository's dependencies, pins, config and code against the rules in feeds/.
///
/// Every finding comes with evidence (file, line, the matched text), why it matters and the fix.
///
/// Locked dependencies (a lockfile's version or an exact pin) are also checked against the
/// advisories in the knowledge store (`ecowatch notices import`), when there is one: --db FILE,
/// ECOWATCH_DB, ECOWATCH_DATABASE_URL, or the default file if it exists. A scan never creates
/// a database.
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
///   ecowatch scan --refresh path/to/repo      # crawl what it depends on first
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct ScanArgs {
    /// The repository to scan.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Output format: text for people, json for programs (`"schema": 1`), sarif for GitHub
    /// code scanning, markdown for pull-request comments.
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    format: ScanFormat,
    /// Read settings and `[[ignore]]` entries from this file (default: PATH/ecowatch.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Exit with 1 when a finding is at or above this severity (`never`: always exit 0)
    /// [default: `[scan] fail-on` in ecowatch.toml, else high].
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Report only findings at or above this confidence
    /// [default: `[scan] min-confidence` in ecowatch.toml, else low].
    #[arg(long, value_enum)]
    min_confidence: Option<Confidence>,
    /// Run only these rules: a rule id, a namespace, or `tag:NAME` (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID|tag:T")]
    select: Vec<String>,
    /// Skip these rules: a rule id, a namespace, or `tag:NAME` (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID|tag:T")]
    ignore: Vec<String>,
    /// Read rules from this feeds directory instead of the rules built into ecowatch.
    #[arg(long, value_name = "DIR")]
    feeds: Option<PathBuf>,
    /// Crawl first for this repository's packages (OSV, registries, endoflife.date, GitHub: what
    /// `ecowatch crawl --for PATH` does), creating the store if needed, then scan. Crawl errors
    /// are reported and the scan still runs on what is known.
    #[arg(long)]
    refresh: bool,
    /// The knowledge store to read advisories from (default: ECOWATCH_DATABASE_URL, ECOWATCH_DB,
    /// or the default SQLite file when it exists).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
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

/// Output formats for `scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ScanFormat {
    /// Grouped by severity and rule, with the matched line, why and the fix.
    Text,
    /// The versioned JSON contract (`"schema": 1`).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// Markdown, for pull-request comments and digests.
    Markdown,
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
    let config = Config::discover(&args.path, args.config.as_deref())?;
    if args.refresh {
        eprintln!("refreshing knowledge for {} ...", args.path.display());
        match super::crawl::refresh_for(
            &args.path,
            args.db.as_deref(),
            args.feeds.as_deref(),
            args.config.as_deref(),
        ) {
            Ok(0) => {}
            Ok(_) => eprintln!("warning: parts of the refresh failed; scanning with what is known"),
            Err(err) => {
                eprintln!("warning: the refresh failed, scanning with what is known: {err:#}")
            }
        }
    }
    let loaded = load(args.feeds.as_ref())?;
    let loaded_count = loaded.len();
    // The command line wins over ecowatch.toml: `--select` replaces `[scan] select`, and both
    // ignore lists apply.
    let selected = if args.select.is_empty() {
        &config.scan.select
    } else {
        &args.select
    };
    let ignored: Vec<String> = args
        .ignore
        .iter()
        .chain(&config.scan.ignore)
        .cloned()
        .collect();
    let rules = select(loaded, selected, &ignored)?;
    let mut options = ScanOptions::new(args.now.unwrap_or_else(today));
    options.walk.threads = args.threads;
    options.walk.respect_gitignore = !args.no_ignore;
    options.max_file_bytes = args.max_file_size.saturating_mul(1024 * 1024);
    options.min_confidence = args
        .min_confidence
        .or(config.scan.min_confidence)
        .unwrap_or(Confidence::Low);
    options.fail_on = match args.fail_on {
        Some(flag) => flag.threshold(),
        None => Some(config.scan.fail_on.unwrap_or(Severity::High)),
    };
    options.ignores = config.ignores.clone();
    options.exclude = config.scan.exclude.clone();
    let advisories = super::advisory_store::AdvisoryStore::open(args.db.as_deref()).map(Arc::new);
    options.notices = advisories
        .clone()
        .map(|a| a as Arc<dyn scan::advisories::NoticeLookup>);
    let progress = super::progress::Progress::on_stderr("scanning");
    options.progress = progress.counter();
    let scanned = scan::scan(&args.path, &rules, &options);
    progress.finish();
    options.notices = None;
    if let Some(store) = advisories.and_then(Arc::into_inner) {
        store.close();
    }
    let mut report = scanned?;
    // Selection happens before the scan; the summary still counts every rule loaded.
    report.summary.rules_loaded = loaded_count;
    let color = args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let mut out = open_output(args.output.as_deref())?;
    match args.format {
        ScanFormat::Json => report::scan_json::write_json(&report, &mut out),
        ScanFormat::Text => report::terminal::write(
            &report,
            &mut out,
            &report::terminal::TerminalOptions { color },
        ),
        ScanFormat::Sarif => {
            report::sarif::write(&report, &mut out, &report::sarif::SarifOptions::default())
        }
        ScanFormat::Markdown => report::markdown::write(
            &report,
            &mut out,
            &report::markdown::MarkdownOptions::default(),
        ),
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
