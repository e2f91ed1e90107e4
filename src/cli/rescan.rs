//! `ecowatch rescan`: scan every watched repository (or one) and record its findings' history.
//!
//! Lifecycle, by fingerprint per tenant and repository: seen for the first time → `new`
//! (first_seen = last_seen = this scan); seen again → `open` (last_seen moves, first_seen stays);
//! recorded `new`/`open` but absent from this scan → `fixed`; `fixed` and seen again → `new`
//! again, keeping the original first_seen (so "new" means "needs attention again", while the
//! history still shows when it first appeared). `suppressed` stays suppressed.
//!
//! A `new` finding queues one delivery per matching subscription in the same transaction
//! (the outbox). Its key is (subscription, fingerprint), so a finding that was fixed and came
//! back is not emailed again.

use super::rescan_notices::scan_with_notices;
use super::watch::{Scope, display_name, find_repo, scan_dir, with_store};
use super::watch_source::{WatchSource, redact, sync_checkout};
use super::{EXIT_ERROR, EXIT_OK};
use crate::finding::Finding;
use crate::notify::subscription::deliveries_for;
use crate::rules::Rule;
use crate::scan::ScanOptions;
use crate::store::{
    FindingFilter, FindingStatus, FindingUpsert, ScanRecord, Store, TenantId, WatchedRepo,
};
use anyhow::Context;
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Scan the watched repositories and record what is new, still open and fixed.
///
/// Git repositories are fetched first. Prints one line per repository:
/// `NAME: N new, M open, K fixed`. A repository that cannot be fetched or scanned is reported
/// and the others still run.
///
/// Exit codes: 0 every repository scanned, 2 at least one failed.
///
/// Examples:
///   ecowatch rescan
///   ecowatch rescan --repo api --tenant acme
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct RescanArgs {
    #[command(flatten)]
    scope: Scope,
    /// Scan only this watched repository.
    #[arg(long, value_name = "NAME")]
    repo: Option<String>,
    /// The date to evaluate timelines against (for tests; default: today).
    #[arg(long, hide = true, value_name = "YYYY-MM-DD")]
    now: Option<NaiveDate>,
}

/// What one repository's rescan changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub new: usize,
    pub open: usize,
    pub fixed: u64,
}

pub fn run(args: RescanArgs) -> anyhow::Result<u8> {
    let rules = Arc::new(super::scan::load(None)?);
    let today = args
        .now
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let scope = args.scope.clone();
    with_store(&scope, |store, tenant| async move {
        let failed = rescan_tenant(
            &store,
            tenant,
            &args.scope.tenant,
            args.repo.as_deref(),
            &rules,
            today,
            &|name, outcome| match outcome {
                Ok(counts) => println!(
                    "{name}: {} new, {} open, {} fixed",
                    counts.new, counts.open, counts.fixed
                ),
                Err(message) => eprintln!("{name}: failed: {message}"),
            },
        )
        .await?;
        Ok(if failed > 0 { EXIT_ERROR } else { EXIT_OK })
    })
}

/// The bundled rules a rescan runs (what `serve`'s rescan schedule loads each tick).
pub(crate) fn load_rules() -> anyhow::Result<Arc<Vec<Rule>>> {
    super::scan::load(None).map(Arc::new)
}

/// Rescans the tenant's repositories (or the one called `only`), recording each scan; returns
/// how many failed. `report` hears each repository's outcome as it finishes. `rescan` and
/// `serve`'s rescan schedule both run this.
pub(crate) async fn rescan_tenant(
    store: &Store,
    tenant: TenantId,
    tenant_name: &str,
    only: Option<&str>,
    rules: &Arc<Vec<Rule>>,
    today: NaiveDate,
    report: &(dyn Fn(&str, Result<&Counts, &str>) + Sync),
) -> anyhow::Result<usize> {
    let repos = store.list_repos(tenant).await?;
    let repos = match only {
        Some(name) => vec![find_repo(&repos, name)?],
        None => repos,
    };
    if repos.is_empty() {
        eprintln!("no watched repositories (add one with `ecowatch watch add PATH|GIT_URL`)");
    }
    let mut failed = 0usize;
    for repo in &repos {
        let started_at = Utc::now();
        let outcome = rescan_one(store, tenant, tenant_name, repo, rules, today).await;
        let name = display_name(repo);
        let record = match &outcome {
            Ok(counts) => {
                report(&name, Ok(counts));
                ScanRecord {
                    repo_id: repo.id,
                    started_at,
                    finished_at: Utc::now(),
                    status: "ok".into(),
                    error: None,
                    summary: json!({
                        "new": counts.new, "open": counts.open, "fixed": counts.fixed,
                    }),
                }
            }
            Err(err) => {
                failed += 1;
                let message = redact(&format!("{err:#}"));
                report(&name, Err(&message));
                ScanRecord {
                    repo_id: repo.id,
                    started_at,
                    finished_at: Utc::now(),
                    status: "failed".into(),
                    error: Some(message),
                    summary: json!({}),
                }
            }
        };
        if let Err(err) = store.record_scan(tenant, &record).await {
            eprintln!("{name}: warning: cannot record the scan: {err}");
        }
    }
    Ok(failed)
}

async fn rescan_one(
    store: &Store,
    tenant: TenantId,
    tenant_name: &str,
    repo: &WatchedRepo,
    rules: &Arc<Vec<Rule>>,
    today: NaiveDate,
) -> anyhow::Result<Counts> {
    let (source, dir) = scan_dir(tenant_name, repo)?;
    match &source {
        WatchSource::Git(url) => sync_checkout(url, &dir).context("cannot fetch")?,
        WatchSource::Local(path) if !path.is_dir() => {
            anyhow::bail!("`{}` is no longer a directory", path.display())
        }
        WatchSource::Local(_) => {}
    }
    // The crawl's notices too: deprecations and announcements become findings here.
    let report = scan_with_notices(store, dir, Arc::clone(rules), ScanOptions::new(today)).await?;
    let known: HashMap<String, FindingStatus> = store
        .list_findings(
            tenant,
            &FindingFilter {
                repo_id: Some(repo.id),
                status: None,
            },
        )
        .await?
        .into_iter()
        .map(|f| (f.fingerprint, f.status))
        .collect();
    // One stamp for the whole scan: `mark_unseen_fixed` tells seen from unseen by it.
    // Microseconds, which both backends store exactly.
    let seen_at: DateTime<Utc> = Utc::now().trunc_subsecs(6);
    let unique: BTreeMap<&str, &Finding> =
        report.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    // A subscription whose endpoint is gone (HTTP 410) is owed nothing new.
    let disabled: std::collections::HashSet<i64> = store
        .subscription_states(tenant)
        .await?
        .into_iter()
        .filter(|s| s.is_disabled())
        .map(|s| s.id)
        .collect();
    let subscriptions: Vec<_> = store
        .list_subscriptions(tenant)
        .await?
        .into_iter()
        .filter(|s| !disabled.contains(&s.id))
        .collect();
    let repo_name = display_name(repo);
    let mut counts = Counts::default();
    for finding in unique.values() {
        let status = next_status(known.get(&finding.id).copied());
        match status {
            FindingStatus::New => counts.new += 1,
            FindingStatus::Open => counts.open += 1,
            FindingStatus::Fixed | FindingStatus::Suppressed => {}
        }
        let record = upsert(repo.id, finding, status, seen_at);
        if status == FindingStatus::New {
            // The finding and the promise to tell its subscribers commit together (outbox).
            let deliveries = deliveries_for(&subscriptions, &repo_name, &record, Utc::now());
            store
                .record_new_finding_with_deliveries(tenant, &record, &deliveries)
                .await?;
        } else {
            store.upsert_finding(tenant, &record).await?;
        }
    }
    counts.fixed = store.mark_unseen_fixed(tenant, repo.id, seen_at).await?;
    Ok(counts)
}

/// The status of a finding this scan saw, given what was recorded before.
fn next_status(recorded: Option<FindingStatus>) -> FindingStatus {
    match recorded {
        None | Some(FindingStatus::Fixed) => FindingStatus::New,
        Some(FindingStatus::New | FindingStatus::Open) => FindingStatus::Open,
        Some(FindingStatus::Suppressed) => FindingStatus::Suppressed,
    }
}

fn upsert(
    repo_id: i64,
    finding: &Finding,
    status: FindingStatus,
    seen_at: DateTime<Utc>,
) -> FindingUpsert {
    let location = finding.locations.first();
    FindingUpsert {
        repo_id,
        fingerprint: finding.id.clone(),
        rule_id: finding.rule.clone(),
        severity: finding.severity.as_str().to_string(),
        title: finding.title.clone(),
        path: location.map(|l| l.path.clone()),
        line: location.map(|l| i64::from(l.line)),
        status,
        seen_at,
        // The whole finding (message, fix, references, ...) in the contract's own shape.
        details: serde_json::to_value(finding).unwrap_or_else(|_| json!({})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_moves_new_to_open_and_fixed_back_to_new() {
        assert_eq!(next_status(None), FindingStatus::New);
        assert_eq!(next_status(Some(FindingStatus::New)), FindingStatus::Open);
        assert_eq!(next_status(Some(FindingStatus::Open)), FindingStatus::Open);
        assert_eq!(next_status(Some(FindingStatus::Fixed)), FindingStatus::New);
        assert_eq!(
            next_status(Some(FindingStatus::Suppressed)),
            FindingStatus::Suppressed
        );
    }
}
