//! RFC 9457 problem details: the one error shape of every route.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::policy::Violation;

/// An `application/problem+json` body.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// `name@version` of the policy that decided, for rule failures.
    pub policy: Option<String>,
    /// Every rule that failed, for rule failures.
    pub violations: Option<Vec<Violation>>,
}

impl Problem {
    /// A problem of `status` with a slug naming its kind and a detail.
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("https://engage.dev/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            policy: None,
            violations: None,
        }
    }

    /// 400: the body or a parameter is malformed or mistyped.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// 401: no token, or a bad one.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 403: the caller lacks the role the route needs.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404: unknown, or not the caller's.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// 409: the resource's state does not allow the action.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }

    /// 413: the body is over the size limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            format!("the request body is over the limit of {limit} bytes"),
        )
    }

    /// 422: rules violated, with the deciding policy and every violation.
    pub fn rules_violated(
        detail: impl Into<String>,
        policy: impl Into<String>,
        violations: Vec<Violation>,
    ) -> Self {
        let mut p = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "rules-violated", detail);
        p.policy = Some(policy.into());
        p.violations = Some(violations);
        p
    }

    /// 500/503: a failure on our side (never for bad input). The detail is
    /// generic so no internal state leaks; the cause goes to the log.
    pub fn internal(retryable: bool) -> Self {
        if retryable {
            Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the service is busy; retry later",
            )
        } else {
            Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred",
            )
        }
    }

    /// The status as a [`StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, PROBLEM_JSON)], body).into_response()
    }
}

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The most of a framework rejection's text kept as a problem's detail.
const MAX_DETAIL_BYTES: usize = 4096;

/// Middleware, the last net under the routes' own extractors: an error answer
/// that is not problem+json (a rejection of the framework or of a layer) becomes
/// one, with the same status and its text as the detail.
pub async fn every_error_is_a_problem(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return resp;
    }
    let detail = match axum::body::to_bytes(resp.into_body(), MAX_DETAIL_BYTES).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).into_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let slug = status
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase()
        .replace(' ', "-");
    Problem::new(status, &slug, detail).into_response()
}
