//! RFC 9457 problem details: the one error shape of every route.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::policy::Violation;

/// An `application/problem+json` body.
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Every rule that failed, for rule failures.
    #[serde(skip_serializing_if = "Option::is_none")]
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
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}
