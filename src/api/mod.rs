//! The HTTP side `ecowatch serve` offers to tenants and subscribers: the bearer-token tenant API
//! under `/api/v1` ([`tenant`], [`auth`]) and one-click unsubscribe ([`unsubscribe`]).
//!
//! [`routes`] returns a router with its state applied and its own layers, so `serve` merges it
//! next to health and metrics without those layers reaching them. It sets no router-wide
//! fallback (merging two routers with fallbacks panics); unknown `/api/v1/...` paths get a JSON
//! 404 from a catch-all route instead.
//!
//! Every response carries `X-Content-Type-Options: nosniff`, `Cache-Control: no-store` and a
//! Content-Security-Policy that allows nothing but inline style. Bodies are capped at
//! [`MAX_BODY_BYTES`] (413) and each request at [`ApiState::request_timeout`] (503).

pub mod auth;
mod error;
pub mod tenant;
pub mod unsubscribe;

pub use error::ApiError;

use crate::notify::unsubscribe::UnsubscribeKeys;
use crate::store::Store;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use std::time::Duration;

/// The largest request body accepted: far more than any request here needs.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long one request may take before it is answered 503.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Allows inline style for the unsubscribe pages and nothing else: no scripts, images, frames
/// or plugins, and no framing of our pages by others.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub store: Store,
    /// Verifies unsubscribe tokens; `None` when no keys are configured, and then every
    /// unsubscribe link is answered as not valid.
    pub unsubscribe_keys: Option<UnsubscribeKeys>,
    pub request_timeout: Duration,
}

impl ApiState {
    pub fn new(store: Store, unsubscribe_keys: Option<UnsubscribeKeys>) -> ApiState {
        ApiState {
            store,
            unsubscribe_keys,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// The tenant API and the unsubscribe pages, ready to merge into `serve`'s router.
pub fn routes(state: ApiState) -> Router {
    let timeout = state.request_timeout;
    Router::new()
        .route("/api/v1/repos", get(tenant::repos))
        .route("/api/v1/findings", get(tenant::findings))
        .route("/api/v1/findings/{id}", get(tenant::finding))
        .route("/api/v1/subscriptions", get(tenant::subscriptions))
        .route("/api/v1/deliveries/{id}/redrive", post(tenant::redrive))
        .route("/api/v1/crawl", post(tenant::crawl))
        .route("/api/v1/rescan", post(tenant::rescan))
        .route("/api/v1/{*rest}", any(not_found))
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe::confirm).post(unsubscribe::unsubscribe),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .layer(middleware::from_fn(refuse_declared_large_body))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Answers 503 when the handler has not finished in time; dropping it rolls back any open
/// transaction.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// A moderately oversized body is read and thrown away before the 413, so the client, still
/// sending, gets the answer instead of a reset connection; beyond this the connection is cut.
const MAX_DRAIN_BYTES: usize = 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// A body announced larger than the cap is refused before any handler sees it (bodies without
/// a length are cut off by [`DefaultBodyLimit`] where a handler reads them).
async fn refuse_declared_large_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(declared) = declared.filter(|n| *n > MAX_BODY_BYTES as u64) else {
        return next.run(request).await;
    };
    if declared <= MAX_DRAIN_BYTES as u64 {
        let drain = axum::body::to_bytes(request.into_body(), MAX_DRAIN_BYTES);
        let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    }
    ApiError::PayloadTooLarge.into_response()
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}
