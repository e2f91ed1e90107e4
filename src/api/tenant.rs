//! The tenant API under `/api/v1`: repositories, findings and subscriptions for any valid
//! token; redriving dead deliveries and requesting a crawl or rescan for admin tokens.
//!
//! Every read goes through the store's tenant-scoped methods with the tenant the token belongs
//! to, so an id of another tenant reads as missing: the answer is the same 404 as for an id that
//! never existed.

use super::ApiState;
use super::auth::{Admin, Authenticated};
use super::error::ApiError;
use crate::notify::subscription::SEVERITIES;
use crate::store::{Channel, FindingPageQuery, FindingStatus, FindingWithRepo, MAX_PAGE};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SubsecRound, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Findings per page when the client does not say.
const DEFAULT_PAGE: i64 = 100;

/// The cron expressions a `crawl` or `rescan` schedule gets if a request creates it before
/// `serve` has configured it (the defaults of `ecowatch.toml`); an existing one is kept.
const DEFAULT_CRAWL_CRON: &str = "0 */6 * * *";
const DEFAULT_RESCAN_CRON: &str = "30 * * * *";

pub async fn repos(
    State(state): State<ApiState>,
    Authenticated(who): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let repos = state
        .store
        .list_repos(who.tenant)
        .await
        .map_err(|e| ApiError::internal("list repositories", &e))?;
    let repos: Vec<Value> = repos
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "url": strip_userinfo(&r.url),
                "default_branch": r.default_branch,
                "added_at": r.added_at,
            })
        })
        .collect();
    Ok(Json(json!({ "repos": repos })))
}

/// `GET /api/v1/findings` parameters, as text so that a bad value gets a clear 400.
#[derive(Debug, Deserialize)]
pub struct FindingsParams {
    status: Option<String>,
    severity: Option<String>,
    repo: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

impl FindingsParams {
    fn query(self) -> Result<FindingPageQuery, ApiError> {
        let bad = |message: String| ApiError::BadRequest(message);
        let status = match self.status.as_deref() {
            None | Some("") => None,
            Some("new") => Some(FindingStatus::New),
            Some("open") => Some(FindingStatus::Open),
            Some("fixed") => Some(FindingStatus::Fixed),
            Some("suppressed") => Some(FindingStatus::Suppressed),
            Some(_) => {
                return Err(bad(
                    "status must be one of new, open, fixed, suppressed".into()
                ));
            }
        };
        let severity = match self.severity.filter(|s| !s.is_empty()) {
            Some(s) if !SEVERITIES.contains(&s.as_str()) => {
                return Err(bad(format!(
                    "severity must be one of {}",
                    SEVERITIES.join(", ")
                )));
            }
            other => other,
        };
        let repo = self.repo.filter(|r| !r.is_empty());
        if repo.as_ref().is_some_and(|r| r.len() > 200) {
            return Err(bad("repo names have at most 200 bytes".into()));
        }
        let limit = match self.limit.as_deref() {
            None | Some("") => DEFAULT_PAGE,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| bad(format!("limit must be a number from 1 to {MAX_PAGE}")))?,
        };
        let after = match self.after.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                text.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| bad("after must be a finding id".into()))?,
            ),
        };
        Ok(FindingPageQuery {
            status,
            severity,
            repo,
            after,
            limit,
        })
    }
}

pub async fn findings(
    State(state): State<ApiState>,
    Authenticated(who): Authenticated,
    params: Result<Query<FindingsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) =
        params.map_err(|_| ApiError::BadRequest("the query string is malformed".into()))?;
    let query = params.query()?;
    let page = state
        .store
        .findings_page(who.tenant, &query)
        .await
        .map_err(|e| ApiError::internal("list findings", &e))?;
    // A full page may have a successor; the client asks for it with `after`.
    let next_after = (page.len() as i64 == query.limit)
        .then(|| page.last().map(|f| f.finding.id))
        .flatten();
    let body = FindingsPage {
        findings: page.iter().map(|f| finding_json(f, false)).collect(),
        next_after,
    };
    Ok(Json(body).into_response())
}

pub async fn finding(
    State(state): State<ApiState>,
    Authenticated(who): Authenticated,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let id = object_id(id)?;
    match state.store.get_finding(who.tenant, id).await {
        Ok(Some(f)) => Ok(Json(finding_json(&f, true)).into_response()),
        Ok(None) => Err(ApiError::NotFound),
        Err(e) => Err(ApiError::internal("get finding", &e)),
    }
}

pub async fn subscriptions(
    State(state): State<ApiState>,
    Authenticated(who): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let subscriptions = state
        .store
        .list_subscriptions(who.tenant)
        .await
        .map_err(|e| ApiError::internal("list subscriptions", &e))?;
    let subscriptions: Vec<Value> = subscriptions
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id,
                "channel": s.channel.as_str(),
                "target": display_target(s.channel, &s.target),
                "filter": s.filter,
                "created_at": s.created_at,
            })
        })
        .collect();
    Ok(Json(json!({ "subscriptions": subscriptions })))
}

pub async fn redrive(
    State(state): State<ApiState>,
    Admin(who): Admin,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = object_id(id)?;
    match state
        .store
        .redrive_delivery(who.tenant, id, Utc::now())
        .await
    {
        Ok(true) => Ok(Json(json!({ "delivery": id, "status": "pending" }))),
        // Not the tenant's, not dead, or not there: one answer.
        Ok(false) => Err(ApiError::NotFound),
        Err(e) => Err(ApiError::internal("redrive delivery", &e)),
    }
}

pub async fn crawl(State(state): State<ApiState>, Admin(_): Admin) -> Result<Response, ApiError> {
    request_run(&state, "crawl", DEFAULT_CRAWL_CRON).await
}

pub async fn rescan(State(state): State<ApiState>, Admin(_): Admin) -> Result<Response, ApiError> {
    request_run(&state, "rescan", DEFAULT_RESCAN_CRON).await
}

/// Records the request as a tick of the schedule at the current minute, which the `serve`
/// loop claims and runs under a lease like a cron tick (so with several replicas it runs once).
/// Requests in the same minute collapse into one tick, which also bounds how often a token can
/// make the service crawl. The schedules are the service's, not the tenant's: a crawl refreshes
/// shared knowledge and a rescan tick covers every tenant's repositories.
async fn request_run(state: &ApiState, schedule: &str, cron: &str) -> Result<Response, ApiError> {
    let at = this_minute(Utc::now());
    let new = state
        .store
        .request_schedule_run(schedule, cron, at)
        .await
        .map_err(|e| ApiError::internal("request a run", &e))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "schedule": schedule, "scheduled_at": at, "already_requested": !new })),
    )
        .into_response())
}

fn this_minute(now: DateTime<Utc>) -> DateTime<Utc> {
    let whole = now.trunc_subsecs(0);
    whole.with_second(0).unwrap_or(whole)
}

/// A path id; one that is not a positive number names nothing, so it is a 404 like any other.
fn object_id(
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<i64, ApiError> {
    id.ok()
        .and_then(|Path(text)| text.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or(ApiError::NotFound)
}

/// A finding as the API shows it, serialized straight from the stored row (no intermediate
/// `Value` tree: a page of findings is the hot path of the API). Keys in alphabetical order,
/// as clients have always seen them.
#[derive(Serialize)]
struct FindingOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Value>,
    fingerprint: &'a str,
    first_seen: DateTime<Utc>,
    id: i64,
    last_seen: DateTime<Utc>,
    line: Option<i64>,
    path: Option<&'a str>,
    repo: Option<&'a str>,
    repo_id: i64,
    rule_id: &'a str,
    severity: &'a str,
    status: &'static str,
    title: &'a str,
}

/// `GET /api/v1/findings`: a page and the id to continue after.
#[derive(Serialize)]
struct FindingsPage<'a> {
    findings: Vec<FindingOut<'a>>,
    next_after: Option<i64>,
}

fn finding_json(f: &FindingWithRepo, with_details: bool) -> FindingOut<'_> {
    let finding = &f.finding;
    FindingOut {
        details: with_details.then_some(&finding.details),
        fingerprint: &finding.fingerprint,
        first_seen: finding.first_seen,
        id: finding.id,
        last_seen: finding.last_seen,
        line: finding.line,
        path: finding.path.as_deref(),
        repo: f.repo_name.as_deref(),
        repo_id: finding.repo_id,
        rule_id: &finding.rule_id,
        severity: &finding.severity,
        status: finding.status.as_str(),
        title: &finding.title,
    }
}

/// A subscription's target as the API shows it: an address as is, a webhook URL (whose path
/// and query are the secret) as `scheme://host/…`.
pub fn display_target(channel: Channel, target: &str) -> String {
    match channel {
        Channel::Email => target.to_string(),
        Channel::Slack | Channel::Discord | Channel::Webhook => redact_endpoint(target),
    }
}

/// `scheme://host[:port]/…`, or `…` when `url` has no recognisable scheme and host.
pub fn redact_endpoint(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "…".into();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let scheme_ok = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || host.is_empty() {
        return "…".into();
    }
    format!("{scheme}://{host}/…")
}

/// `url` without `user:password@` after its scheme (clone URLs may carry credentials).
pub fn strip_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_keep_only_scheme_and_host() {
        assert_eq!(
            redact_endpoint("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact_endpoint("https://user:pw@example.com:8443?token=x"),
            "https://example.com:8443/…"
        );
        assert_eq!(redact_endpoint("not a url"), "…");
        assert_eq!(redact_endpoint("https:///path"), "…");
        assert_eq!(
            display_target(Channel::Email, "dev@example.com"),
            "dev@example.com"
        );
    }

    #[test]
    fn clone_urls_lose_their_credentials_only() {
        assert_eq!(
            strip_userinfo("https://x:ghp_secret@github.com/a/b.git"),
            "https://github.com/a/b.git"
        );
        assert_eq!(
            strip_userinfo("https://github.com/a/b@c"),
            "https://github.com/a/b@c"
        );
        assert_eq!(strip_userinfo("/srv/repos/api"), "/srv/repos/api");
    }

    #[test]
    fn finding_parameters_are_checked() {
        let params = |status: &str, severity: &str, limit: &str, after: &str| FindingsParams {
            status: Some(status.into()),
            severity: Some(severity.into()),
            repo: None,
            limit: Some(limit.into()),
            after: Some(after.into()),
        };
        let q = params("new", "high", "10", "5").query().unwrap();
        assert_eq!(
            (q.status, q.severity.as_deref(), q.limit, q.after),
            (Some(FindingStatus::New), Some("high"), 10, Some(5))
        );
        let q = params("", "", "", "").query().unwrap();
        assert_eq!((q.status, q.limit, q.after), (None, DEFAULT_PAGE, None));
        for bad in [
            params("gone", "", "", ""),
            params("", "urgent", "", ""),
            params("", "", "501", ""),
            params("", "", "0", ""),
            params("", "", "x", ""),
            params("", "", "", "-1"),
        ] {
            assert!(matches!(bad.query(), Err(ApiError::BadRequest(_))));
        }
    }

    #[test]
    fn requests_collapse_to_the_minute() {
        let at = DateTime::parse_from_rfc3339("2026-06-01T10:11:12.345Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(this_minute(at).to_rfc3339(), "2026-06-01T10:11:00+00:00");
    }
}
