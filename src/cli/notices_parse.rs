//! `ecowatch notices parse FILE --package ECOSYSTEM:NAME`: the notices a changelog or release
//! notes file yields, printed for rule authors; `--store` also writes them to the store.

use super::EXIT_OK;
use crate::changelog::{self, Format};
use crate::ecosystem::Ecosystem;
use crate::finding::PackageRef;
use crate::store::{Notice, NoticeKind, Store, StoreConfig};
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Largest changelog read; CHANGELOG.md files of long-lived projects stay far below it.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Show the notices a changelog or release notes file yields, without storing them.
///
/// Reads Markdown (Keep a Changelog, GitHub release notes) or reStructuredText (by extension:
/// .rst and .txt; or --markup). Each entry under a version is classified as deprecated, removed,
/// breaking or security by its verb and its heading; identifiers in it (code spans, dotted
/// names, calls, ENV_NAMES, --flags, config keys) become patterns unless they are generic.
///
/// Prints a JSON array of {"kind", "package", "introduced"|"versions", "identifiers",
/// "replacement", "summary", "confidence", ...}. With --store the notices are also written to
/// the knowledge store, where `ecowatch scan` matches them in code.
///
/// Examples:
///   ecowatch notices parse CHANGELOG.md --package npm:@supabase/supabase-js
///   ecowatch notices parse docs/releases/4.1.txt --package PyPI:Django --format text
///   ecowatch notices parse body.md --package crates.io:foo --tag v2.0.0 --store
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct ParseArgs {
    /// The changelog or release notes file (`-` for stdin).
    file: PathBuf,
    /// The package the file is about, as ECOSYSTEM:NAME (npm:left-pad, PyPI:requests,
    /// crates.io:serde, Go:github.com/x/y, RubyGems:rails, Packagist:vendor/pkg).
    #[arg(long, value_name = "ECOSYSTEM:NAME")]
    package: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ParseFormat::Json)]
    format: ParseFormat,
    /// The URL findings link to (the changelog or release page).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// The release's version, for text without version headings (a GitHub release body).
    #[arg(long, value_name = "VERSION")]
    tag: Option<String>,
    /// The markup [default: by extension: .rst and .txt are rst, the rest markdown].
    #[arg(long, value_name = "markdown|rst")]
    markup: Option<String>,
    /// Also write the notices to the knowledge store (--db, ECOWATCH_DB, ...).
    #[arg(long)]
    store: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ParseFormat {
    Json,
    Text,
}

pub fn run(db: Option<&Path>, args: &ParseArgs) -> anyhow::Result<u8> {
    let package = parse_package(&args.package)?;
    let markup = match &args.markup {
        Some(m) => Format::parse(m).with_context(|| format!("unknown markup `{m}`"))?,
        None => Format::for_path(&args.file.to_string_lossy()),
    };
    let text = read_capped(&args.file)?;
    let sections = match &args.tag {
        Some(tag) => changelog::parse_release(&text, markup, tag),
        None => changelog::parse(&text, markup),
    };
    let notices = changelog::notices_from(&sections, &package, args.url.as_deref());

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        ParseFormat::Json => {
            let items: Vec<Value> = notices.iter().map(|n| describe(n, &package)).collect();
            serde_json::to_writer_pretty(&mut out, &items)?;
            writeln!(out)?;
        }
        ParseFormat::Text => {
            for n in &notices {
                writeln!(out, "{}", text_line(&describe(n, &package)))?;
            }
        }
    }
    out.flush()?;
    drop(out);

    if args.store {
        let config = StoreConfig::from_env(db)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let counts = runtime.block_on(async {
            let store = Store::open(&config).await?;
            let counts = store.upsert_notices(&notices).await;
            store.close().await;
            counts
        });
        let counts = counts.with_context(|| format!("cannot write to {}", config.describe()))?;
        eprintln!(
            "stored {} new, {} updated, {} unchanged in {}",
            counts.inserted,
            counts.updated,
            counts.unchanged,
            config.describe()
        );
    }
    Ok(EXIT_OK)
}

/// `ECOSYSTEM:NAME`, split at the first colon (Go module paths have none before it).
fn parse_package(spec: &str) -> anyhow::Result<PackageRef> {
    let Some((eco, name)) = spec.split_once(':') else {
        bail!("--package `{spec}`: expected ECOSYSTEM:NAME, e.g. npm:left-pad");
    };
    let ecosystem = Ecosystem::parse(eco.trim())
        .filter(|e| !e.is_runtime())
        .with_context(|| format!("--package `{spec}`: unknown package ecosystem `{eco}`"))?;
    let name = name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        bail!("--package `{spec}`: the package name is empty or not printable");
    }
    Ok(PackageRef {
        ecosystem,
        name: name.to_string(),
        version: None,
    })
}

fn read_capped(path: &Path) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    let what = || format!("cannot read `{}`", path.display());
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(what)?;
    } else {
        std::fs::File::open(path)
            .with_context(what)?
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(what)?;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        bail!(
            "`{}` is larger than {} MiB",
            path.display(),
            MAX_FILE_BYTES / (1024 * 1024)
        );
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// One notice as the `notices parse` JSON contract spells it.
fn describe(n: &Notice, package: &PackageRef) -> Value {
    let raw = n.raw.clone().unwrap_or(Value::Null);
    let version = raw.get("version").cloned().unwrap_or(Value::Null);
    let identifiers: Vec<&str> = n.patterns.iter().map(|p| p.pattern.as_str()).collect();
    let ignored: Vec<Value> = raw
        .get("identifiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|i| i.get("generic").and_then(Value::as_bool) == Some(true))
        .filter_map(|i| i.get("text").cloned())
        .collect();
    let mut item = json!({
        "id": n.id,
        "kind": n.kind.as_str(),
        "category": raw.get("category").cloned().unwrap_or(Value::Null),
        "package": format!("{}:{}", package.ecosystem.as_str(), n.affected.first().map_or(package.name.as_str(), |a| a.package.as_str())),
        "identifiers": identifiers,
        "ignored_identifiers": ignored,
        "replacement": raw.get("replacement").cloned().unwrap_or(Value::Null),
        "summary": n.summary,
        "confidence": raw.get("confidence").cloned().unwrap_or(Value::Null),
        "date": raw.get("date").cloned().unwrap_or(Value::Null),
        "url": raw.get("url").cloned().unwrap_or(Value::Null),
        "aliases": n.aliases,
        "patterns": n.patterns.iter().map(|p| json!({
            "pattern": p.pattern,
            "language": p.language,
            "confidence": p.confidence,
            "provenance": p.provenance,
        })).collect::<Vec<_>>(),
    });
    if n.kind == NoticeKind::Deprecation {
        item["introduced"] = version;
    } else if let Some(v) = version.as_str() {
        item["versions"] = json!(format!("<{v}"));
    }
    item
}

/// `deprecation  npm:x  >=2.4.0  a.b, C_D  (0.9)  summary`
fn text_line(item: &Value) -> String {
    let s = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
    let range = match item.get("introduced").and_then(Value::as_str) {
        Some(v) => format!(">={v}"),
        None => s("versions").to_string(),
    };
    let idents: Vec<&str> = item
        .get("identifiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let confidence = item
        .get("confidence")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    format!(
        "{:<12} {} {} [{}] ({confidence:.2}) {}",
        s("kind"),
        s("package"),
        range,
        idents.join(", "),
        s("summary")
    )
}
