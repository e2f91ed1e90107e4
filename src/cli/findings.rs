//! `ecowatch findings`: what `rescan` recorded, per tenant, repository and status.

use super::EXIT_OK;
use super::watch::{Scope, display_name, find_repo, with_store};
use crate::store::{FindingFilter, FindingStatus};
use anyhow::Context;
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;

/// List the findings `ecowatch rescan` recorded, with their status and first/last seen.
///
/// Examples:
///   ecowatch findings --status new
///   ecowatch findings --repo api --tenant acme --format json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct FindingsArgs {
    #[command(flatten)]
    scope: Scope,
    /// Only this watched repository's findings.
    #[arg(long, value_name = "NAME")]
    repo: Option<String>,
    /// Only findings with this status.
    #[arg(long, value_enum)]
    status: Option<StatusArg>,
    /// text for people, json for programs.
    #[arg(long, value_enum, default_value_t = FindingsFormat::Text)]
    format: FindingsFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum StatusArg {
    New,
    Open,
    Fixed,
    Suppressed,
}

impl StatusArg {
    fn status(self) -> FindingStatus {
        match self {
            StatusArg::New => FindingStatus::New,
            StatusArg::Open => FindingStatus::Open,
            StatusArg::Fixed => FindingStatus::Fixed,
            StatusArg::Suppressed => FindingStatus::Suppressed,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum FindingsFormat {
    Text,
    Json,
}

pub fn run(args: FindingsArgs) -> anyhow::Result<u8> {
    with_store(&args.scope, |store, tenant| async move {
        let repos = store.list_repos(tenant).await?;
        let repo_id = match &args.repo {
            Some(name) => Some(find_repo(&repos, name)?.id),
            None => None,
        };
        let filter = FindingFilter {
            repo_id,
            status: args.status.map(StatusArg::status),
        };
        let findings = store.list_findings(tenant, &filter).await?;
        let names: HashMap<i64, String> = repos.iter().map(|r| (r.id, display_name(r))).collect();
        let repo_name = |id: i64| names.get(&id).cloned().unwrap_or_default();
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        match args.format {
            FindingsFormat::Json => {
                let rows: Vec<_> = findings
                    .iter()
                    .map(|f| {
                        json!({
                            "repo": repo_name(f.repo_id),
                            "fingerprint": f.fingerprint,
                            "rule": f.rule_id,
                            "severity": f.severity,
                            "title": f.title,
                            "path": f.path,
                            "line": f.line,
                            "status": f.status.as_str(),
                            "first_seen": f.first_seen.to_rfc3339(),
                            "last_seen": f.last_seen.to_rfc3339(),
                        })
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut out, &rows)?;
                writeln!(out)?;
            }
            FindingsFormat::Text => {
                for f in &findings {
                    let location = match (&f.path, f.line) {
                        (Some(path), Some(line)) => format!("{path}:{line}"),
                        (Some(path), None) => path.clone(),
                        _ => "-".into(),
                    };
                    writeln!(
                        out,
                        "{:<6} {:<8} {} {} {} {} (first seen {}, last seen {})",
                        f.status.as_str(),
                        f.severity,
                        repo_name(f.repo_id),
                        f.rule_id,
                        location,
                        f.title,
                        f.first_seen.format("%Y-%m-%d %H:%M:%S"),
                        f.last_seen.format("%Y-%m-%d %H:%M:%S"),
                    )?;
                }
            }
        }
        out.flush().context("cannot write the findings")?;
        Ok(EXIT_OK)
    })
}
