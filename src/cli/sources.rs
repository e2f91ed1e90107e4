//! `ecowatch sources`: where each crawl stands, from the store's crawl state.

use super::EXIT_OK;
use crate::source::settings::{Origin, SourceSettings, UrlKey};
use crate::store::{SourceState, Store, StoreConfig};
use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

/// Show every source's crawl state: when it last succeeded, and its last error; then the base
/// URL each source is configured to crawl and where that came from (the environment variable,
/// [sources] in ecowatch.toml, or the default), which is what the next `ecowatch crawl` uses.
///
/// Examples:
///   ecowatch sources
///   ecowatch sources --format json --db ./ecowatch.db
///   ecowatch sources --config /etc/ecowatch/ecowatch.toml
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct SourcesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The SQLite database file (wins over ECOWATCH_DATABASE_URL and ECOWATCH_DB).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// The configuration file whose [sources] table names the base URLs [default:
    /// ./ecowatch.toml when present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

pub fn run(args: SourcesArgs) -> anyhow::Result<u8> {
    let settings = super::crawl::load_settings(args.config.as_deref())?;
    let configured = configured_urls(&settings);
    let store_config = StoreConfig::from_env(args.db.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let sources = runtime.block_on(async {
        let store = Store::open(&store_config)
            .await
            .with_context(|| format!("cannot open {}", store_config.describe()))?;
        let sources = store.list_sources().await;
        store.close().await;
        sources.context("cannot read the crawl state")
    })?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let rows: Vec<_> = sources.iter().map(as_json).collect();
            let configured: Vec<_> = configured
                .iter()
                .map(|c| json!({"source": c.source, "key": c.key, "url": c.url, "from": c.from}))
                .collect();
            serde_json::to_writer_pretty(
                &mut out,
                &json!({ "sources": rows, "configured": configured }),
            )?;
            writeln!(out)?;
        }
        Format::Text => {
            write_text(&mut out, &sources)?;
            write_configured(&mut out, &configured)?;
        }
    }
    out.flush()?;
    Ok(EXIT_OK)
}

fn time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn as_json(s: &SourceState) -> serde_json::Value {
    json!({
        "id": s.id,
        "kind": s.kind,
        "url": s.url,
        "last_success_at": time(s.last_success_at),
        "last_error_at": time(s.last_error_at),
        "last_error": s.last_error,
    })
}

/// One row per source; a stored error is one line, cut short, with control characters removed.
fn write_text(out: &mut impl Write, sources: &[SourceState]) -> anyhow::Result<()> {
    if sources.is_empty() {
        writeln!(
            out,
            "no source has been crawled yet (run `ecowatch crawl --source ...`)"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<12} {:<12} {:<22} {:<22} LAST ERROR",
        "SOURCE", "KIND", "LAST SUCCESS", "LAST ERROR AT"
    )?;
    for s in sources {
        let error = s
            .last_error
            .as_deref()
            .map(|e| crate::source::registry::clean_text(e, 160))
            .unwrap_or_else(|| "-".to_string());
        writeln!(
            out,
            "{:<12} {:<12} {:<22} {:<22} {}",
            crate::source::registry::clean_text(&s.id, 40),
            crate::source::registry::clean_text(&s.kind, 40),
            time(s.last_success_at).unwrap_or_else(|| "never".to_string()),
            time(s.last_error_at).unwrap_or_else(|| "-".to_string()),
            error
        )?;
    }
    Ok(())
}

/// One configured base URL, as `sources` shows it.
struct Configured {
    source: &'static str,
    key: &'static str,
    /// Without credentials or query: a URL may carry a secret.
    url: String,
    from: String,
}

fn configured_urls(settings: &SourceSettings) -> Vec<Configured> {
    UrlKey::ALL
        .into_iter()
        .map(|key| {
            let (url, from) = match settings.setting(key) {
                Some(setting) => (
                    crate::source::settings::display_url(&setting.value),
                    setting.origin.to_string(),
                ),
                None => (
                    "(under github-api-url)".to_string(),
                    Origin::Default.to_string(),
                ),
            };
            Configured {
                source: key.source_id(),
                key: key.file_key(),
                url: crate::source::registry::clean_text(&url, 200),
                from: crate::source::registry::clean_text(&from, 200),
            }
        })
        .collect()
}

/// Indented under the table, so a line per source still starts with the source's id only there.
fn write_configured(out: &mut impl Write, configured: &[Configured]) -> anyhow::Result<()> {
    writeln!(
        out,
        "\nbase URLs (environment > [sources] in ecowatch.toml > default):"
    )?;
    for c in configured {
        writeln!(out, "  {:<20} {}  ({})", c.key, c.url, c.from)?;
    }
    Ok(())
}
