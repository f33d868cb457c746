//! Maps use-case outcomes to problems.

use axum::http::StatusCode;

use super::problem::Problem;
use crate::app::AppError;

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        match e {
            AppError::BadRequest(d) => Problem::bad_request(d),
            AppError::Forbidden(_) => Problem::forbidden(e.to_string()),
            AppError::NotFound(_) => Problem::not_found(e.to_string()),
            AppError::Conflict(d) => Problem::conflict(d),
            AppError::Rules {
                detail,
                policy,
                violations,
            } => Problem::rules_violated(detail, policy, violations),
            AppError::IdempotencyMismatch => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                e.to_string(),
            ),
            AppError::Store(_) | AppError::Policy(_) | AppError::Internal(_) => {
                let retryable = e.is_retryable();
                tracing::error!(error = ?e, retryable, "request failed");
                Problem::internal(retryable)
            }
        }
    }
}
