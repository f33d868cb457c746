//! Maps use-case outcomes to problems.

use axum::http::StatusCode;

use super::problem::Problem;
use crate::app::AppError;
use crate::policy::PolicyError;

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
            // Before the first version of a policy takes effect (an early `--now`, or a
            // deployment ahead of its rules) nothing can judge the request: say which
            // policy and which instant rather than hide it behind a 500. 503, as the
            // answer changes once the business clock reaches the policy.
            AppError::Policy(PolicyError::NotInForce { name, at }) => {
                tracing::warn!(policy = %name, %at, "no version of the policy is in force");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "policy-not-in-force",
                    format!(
                        "no version of the {name} policy is in force at {}: the rules that \
                         judge this request do not apply yet",
                        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                )
            }
            // Listed one by one, not `_`, so a new cause must be placed here.
            AppError::Store(_)
            | AppError::Policy(_)
            | AppError::Mail(_)
            | AppError::Bus(_)
            | AppError::Render { .. }
            | AppError::Themes(_)
            | AppError::Json { .. }
            | AppError::Invariant(_) => {
                // The cause decides: a throttled or unavailable dependency is worth
                // a retry (503), anything else is ours to fix (500).
                let retryable = e.is_retryable();
                tracing::error!(error = %e.chain(), retryable, "request failed");
                Problem::internal(retryable)
            }
        }
    }
}
