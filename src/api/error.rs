//! The API's error answers: a status and `{"error": "..."}`, never a stack trace, SQL or a
//! database message (those go to the server's log, without secrets).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// What went wrong with a request, as the client may learn it.
#[derive(Debug)]
pub enum ApiError {
    /// No bearer token (`presented: false`), or one that is unknown, malformed or revoked.
    Unauthorized {
        presented: bool,
    },
    /// A valid token without the admin right.
    Forbidden,
    /// No such object for this tenant: the same answer whether it does not exist at all or
    /// belongs to another tenant.
    NotFound,
    BadRequest(String),
    PayloadTooLarge,
    Timeout,
    /// The store failed; the details are logged, not returned.
    Internal,
}

impl ApiError {
    /// Logs a store failure (its message and causes: no URLs, no tokens) and hides it.
    pub fn internal(context: &str, err: &dyn std::error::Error) -> ApiError {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        eprintln!("ecowatch api: {context}: {message}");
        ApiError::Internal
    }

    fn status_and_message(&self) -> (StatusCode, &str) {
        match self {
            ApiError::Unauthorized { .. } => (
                StatusCode::UNAUTHORIZED,
                "a valid API token is required (Authorization: Bearer ecw_...)",
            ),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "this needs an admin token"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not found"),
            ApiError::BadRequest(message) => (StatusCode::BAD_REQUEST, message),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            ),
            ApiError::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the request took too long; try again",
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; try again later",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = self.status_and_message();
        let mut response = (status, Json(json!({ "error": message }))).into_response();
        if let ApiError::Unauthorized { presented } = self {
            // RFC 6750 §3: say which scheme, and whether the token offered was the problem.
            let challenge = if presented {
                "Bearer realm=\"ecowatch\", error=\"invalid_token\""
            } else {
                "Bearer realm=\"ecowatch\""
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}
