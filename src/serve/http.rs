//! The service's own HTTP endpoints: `/healthz` (the process answers), `/readyz` (the database
//! answers and its schema is current), `/metrics` (Prometheus text). Other routers (the tenant
//! API, unsubscribe) are merged into [`router`]'s result before [`harden`] wraps them all.
//!
//! Error bodies are short fixed sentences: causes (SQL, paths) go to the log, never to clients.

use super::jobs::JobContext;
use super::metrics::Metrics;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;

/// Largest request body any endpoint reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A request that takes longer gets 503 (a slow database must not pile up connections).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the handlers read.
#[derive(Debug, Clone)]
pub struct ServeState {
    pub jobs: JobContext,
    pub metrics: Arc<Metrics>,
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn router(state: ServeState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Wraps the merged routers: body limit, per-request timeout, a plain 404.
pub fn harden(router: Router) -> Router {
    router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(limits))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<ServeState>) -> Response {
    match state.jobs.store.schema_status().await {
        Ok(status) if status.current == Some(status.latest) => "ready\n".into_response(),
        Ok(status) => {
            eprintln!(
                "serve: not ready: schema version {:?}, this build needs {}",
                status.current, status.latest
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database schema is not current\n",
            )
                .into_response()
        }
        Err(err) => {
            eprintln!("serve: not ready: {}", chain(&err));
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable\n",
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<ServeState>) -> Response {
    match state.metrics.render(&state.jobs).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(err) => {
            eprintln!("serve: /metrics: {err}");
            (StatusCode::SERVICE_UNAVAILABLE, "metrics are unavailable\n").into_response()
        }
    }
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

/// Refuses oversized bodies up front and bounds each request's time.
async fn limits(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response();
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "request timed out\n").into_response(),
    }
}

/// An error and its causes on one line, for the log.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
