//! `ecowatch serve`: the schedules (crawl, rescan, relay, digest) run unattended, by any number
//! of replicas on one PostgreSQL, next to an HTTP server for health and metrics.
//!
//! - [`config`]: `[schedule]` and `[serve]` in ecowatch.toml.
//! - [`ticks`]: the scheduler: ticks under leases with a heartbeat, takeover, backfill, drain.
//! - [`jobs`]: what each schedule runs (the CLI's own library code).
//! - [`crawl_parts`]: a crawl tick's sources shared out between replicas.
//! - [`http`]: `/healthz`, `/readyz`, `/metrics`, and the limits every route gets.
//! - [`alerts`]: the operator's email when a source goes stale or deliveries die.
//! - [`metrics`]: the Prometheus exposition.
//! - [`shutdown`]: SIGTERM/SIGINT to a flag.

pub mod alerts;
pub mod config;
pub mod crawl_parts;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod shutdown;
pub mod ticks;

use crate::store::{Store, StoreError};
use config::ServeConfig;
use jobs::JobContext;
use metrics::Metrics;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Why the service could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot record the schedules")]
    Schedules(#[source] StoreError),
    #[error("the HTTP server failed")]
    Http(#[source] std::io::Error),
}

/// This process's name in lease tokens: host and pid, so an operator can tell replicas apart.
pub fn replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "ecowatch".into());
    format!("{host}:{}", std::process::id())
}

/// Runs the scheduler, the operator check and the HTTP server until SIGTERM/SIGINT, then drains.
/// `extra` routes (the tenant API, unsubscribe) are merged next to the health endpoints.
pub async fn run(
    store: Store,
    config: ServeConfig,
    listener: TcpListener,
    email: Option<crate::notify::email_config::EmailSettings>,
    send_empty_digest: bool,
    sources: crate::source::settings::SourceSettings,
    extra: Option<axum::Router>,
) -> Result<(), ServeError> {
    for schedule in &config.schedules {
        store
            .ensure_schedule(&schedule.id, &schedule.expression, config.timezone.name())
            .await
            .map_err(ServeError::Schedules)?;
    }
    let config = Arc::new(config);
    let metrics = Arc::new(Metrics::default());
    let mut jobs = JobContext::new(store.clone(), config.tenants.clone(), email);
    jobs.send_empty_digest = send_empty_digest;
    jobs.feeds = config.feeds.clone();
    jobs.sources = sources;
    let (flag, stop) = shutdown::channel();
    tokio::spawn(shutdown::on_signal(flag));

    let scheduler = ticks::Scheduler::new(
        store.clone(),
        config.clone(),
        jobs.clone(),
        metrics.clone(),
        replica_name(),
    );
    let scheduler = tokio::spawn(scheduler.run(stop.clone()));
    // On PostgreSQL every replica takes a share of each crawl tick's parts; on SQLite (one
    // process) the tick's own run does them all.
    let crawl_parts = config
        .schedules
        .iter()
        .find(|s| s.job == config::Job::Crawl)
        .filter(|_| matches!(store, Store::Postgres(_)))
        .map(|schedule| {
            let worker = crawl_parts::PartWorker::new(
                jobs.clone(),
                schedule.id.clone(),
                replica_name(),
                config.lease,
            );
            tokio::spawn(crawl_parts::work(worker, stop.clone(), config.grace))
        });
    let alerts = tokio::spawn(alerts::watch(
        jobs.clone(),
        config.clone(),
        metrics.clone(),
        stop.clone(),
    ));

    let mut app = http::router(http::ServeState { jobs, metrics });
    if let Some(extra) = extra {
        app = app.merge(extra);
    }
    let server = axum::serve(listener, http::harden(app))
        .with_graceful_shutdown(shutdown::raised(stop.clone()));
    let served = server.await.map_err(ServeError::Http);
    // The scheduler drains within the grace period on its own.
    let _ = scheduler.await;
    let _ = alerts.await;
    if let Some(crawl_parts) = crawl_parts {
        let _ = crawl_parts.await;
    }
    eprintln!("serve: stopped");
    served
}
