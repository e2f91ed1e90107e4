//! One-click unsubscribe (RFC 8058) behind the `List-Unsubscribe` links in alert email.
//!
//! `GET /unsubscribe/{token}` only shows a confirmation page with a POST form: mail scanners and
//! link previews fetch URLs, and a fetch must never unsubscribe anyone. `POST` (the mail
//! client's `List-Unsubscribe=One-Click`, or the form) removes the subscription and answers 200
//! with a small page: no redirect, no cookie. Every POST gets the same page, whether the token
//! was genuine, already used, tampered with or made up, so the answer tells nothing about which.

use super::ApiState;
use super::error::ApiError;
use super::tenant::display_target;
use crate::notify::email::html_escape;
use crate::notify::subscription::AlertFilter;
use crate::store::Subscription;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const DONE_TITLE: &str = "You are unsubscribed";
const DONE_BODY: &str = "<p>This address gets no more ecowatch alerts from that subscription. \
     If it was already removed, nothing changed.</p>";
const GONE_TITLE: &str = "Nothing to unsubscribe";
const GONE_BODY: &str = "<p>This link is not valid, or the subscription has already been \
     removed. Either way, it sends nothing more.</p>";
const FAILED_TITLE: &str = "Please try again";
const FAILED_BODY: &str = "<p>ecowatch could not reach its database just now. Nothing was \
     changed; please try again in a few minutes.</p>";

pub async fn confirm(
    State(state): State<ApiState>,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    let Some((tenant, id)) = verified(&state, token) else {
        return page(StatusCode::OK, GONE_TITLE, GONE_BODY);
    };
    match state.store.get_subscription(tenant, id).await {
        Ok(Some(subscription)) => page(
            StatusCode::OK,
            "Unsubscribe from ecowatch alerts?",
            &confirmation(&subscription),
        ),
        Ok(None) => page(StatusCode::OK, GONE_TITLE, GONE_BODY),
        Err(e) => {
            ApiError::internal("unsubscribe page", &e);
            page(StatusCode::SERVICE_UNAVAILABLE, FAILED_TITLE, FAILED_BODY)
        }
    }
}

/// The body is read only so that the size limit holds for chunked uploads too; what it says
/// does not matter (RFC 8058 fixes it to `List-Unsubscribe=One-Click`, the form sends the same).
pub async fn unsubscribe(
    State(state): State<ApiState>,
    token: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(rejection) = body
        && rejection.status() == StatusCode::PAYLOAD_TOO_LARGE
    {
        return ApiError::PayloadTooLarge.into_response();
    }
    if let Some((tenant, id)) = verified(&state, token)
        && let Err(e) = state.store.delete_subscription(tenant, id).await
    {
        ApiError::internal("unsubscribe", &e);
        return page(StatusCode::SERVICE_UNAVAILABLE, FAILED_TITLE, FAILED_BODY);
    }
    page(StatusCode::OK, DONE_TITLE, DONE_BODY)
}

/// The (tenant, subscription) of a genuine token under the configured keys.
fn verified(
    state: &ApiState,
    token: Result<Path<String>, PathRejection>,
) -> Option<(crate::store::TenantId, i64)> {
    let Path(token) = token.ok()?;
    state.unsubscribe_keys.as_ref()?.verify(&token)
}

/// What the GET page asks about; every stored string escaped, and isolated from the page's
/// text direction (`<bdi>`) so bidi overrides in it cannot reorder the sentence around it.
fn confirmation(subscription: &Subscription) -> String {
    let target = display_target(subscription.channel, &subscription.target);
    let scope = match AlertFilter::from_json(&subscription.filter).and_then(|f| f.repo) {
        Some(repo) => format!(
            " for the repository <bdi>{}</bdi>",
            html_escape(&truncate(&repo, 200))
        ),
        None => String::new(),
    };
    format!(
        "<p>Stop sending ecowatch alerts to <strong><bdi>{}</bdi></strong>{scope}?</p>\
         <form method=\"post\">\
         <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\">Unsubscribe</button></form>",
        html_escape(&truncate(&target, 320))
    )
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A complete page; `body` is trusted markup (built above with every stored string escaped).
/// The security headers (CSP, nosniff, no-store) come from the router's layer; the referrer
/// policy is set here too because the URL carries the token.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title} · ecowatch</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;\
         padding:0 1rem;line-height:1.5;color:#1b1b1b}}h1{{font-size:1.4rem}}\
         button{{font:inherit;padding:.5rem 1.2rem;cursor:pointer}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>\n"
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Channel;
    use chrono::Utc;
    use serde_json::json;

    #[test]
    fn hostile_targets_and_repository_names_are_inert() {
        let subscription = Subscription {
            id: 1,
            channel: Channel::Email,
            target: "\"<script>alert(1)</script>\"@example.com".into(),
            filter: json!({"repo": "<img src=x onerror=alert(1)>\u{202e}", "min_severity": "info", "cadence": "weekly"}),
            created_at: Utc::now(),
        };
        let html = confirmation(&subscription);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("ééé", 2), "éé…");
        assert_eq!(truncate("ab", 2), "ab");
    }
}
