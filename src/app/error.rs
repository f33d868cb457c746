//! The outcomes of a use case that are not a success.

use crate::auth::Role;
use crate::policy::{PolicyError, Violation};
use crate::store::StoreError;

/// Why a use case did not succeed; each variant is one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: a parameter or body field is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 403: the caller lacks a role.
    #[error("the {0:?} role is required")]
    Forbidden(Role),
    /// 404: unknown, or not the caller's.
    #[error("{0} not found")]
    NotFound(String),
    /// 409: the resource's state does not allow it.
    #[error("{0}")]
    Conflict(String),
    /// 422: rules violated.
    #[error("{detail}")]
    Rules {
        /// A summary.
        detail: String,
        /// `name@version` of the deciding policy.
        policy: String,
        /// Every violation.
        violations: Vec<Violation>,
    },
    /// 422: an `Idempotency-Key` reused with another body.
    #[error("the Idempotency-Key was already used with a different request body")]
    IdempotencyMismatch,
    /// A storage failure (503 when retryable, else 500).
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// A policy could not be applied (500: policies are checked at build time).
    #[error("policy failed")]
    Policy(#[from] PolicyError),
    /// Anything else on our side (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// Whether retrying the same request may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_retryable())
    }
}
