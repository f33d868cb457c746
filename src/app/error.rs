//! The outcomes of a use case that are not a success.
//!
//! Failures on our side keep their cause as a typed source (never flattened into
//! a string), so the API can tell a retryable cause (503) from a bug or a broken
//! deployment (500) and log the whole chain.

use crate::auth::Role;
use crate::bus::BusError;
use crate::domain::theme::ThemeError;
use crate::domain::{CampaignId, ContactId, ReviewId};
use crate::mail::MailError;
use crate::mail::render::RenderError;
use crate::policy::{PolicyError, Violation};
use crate::store::StoreError;

/// Why a use case did not succeed; each variant is one HTTP status, or for
/// failures on our side, 503 when [`AppError::is_retryable`] and 500 otherwise.
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
    /// A storage failure.
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// A policy could not be applied (policies are checked at build time, so never
    /// retryable).
    #[error("policy failed")]
    Policy(#[from] PolicyError),
    /// The mail port did not take an email, or the email cannot be built.
    #[error("mail failed")]
    Mail(#[from] MailError),
    /// An event was not published.
    #[error("event publishing failed")]
    Bus(#[from] BusError),
    /// An email could not be rendered.
    #[error("cannot render the {email} email")]
    Render {
        /// Which email: `campaign`, `contact`.
        email: &'static str,
        /// Why.
        #[source]
        source: RenderError,
    },
    /// The embedded themes are invalid.
    #[error("the bundled themes are invalid")]
    Themes(#[from] ThemeError),
    /// A value could not be turned into JSON or read back.
    #[error("cannot {op} {what} as json")]
    Json {
        /// `write` or `read`.
        op: &'static str,
        /// What was being converted.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Something that cannot happen did: a bug or corrupted data.
    #[error("broken invariant")]
    Invariant(#[from] Invariant),
}

impl AppError {
    /// Whether retrying the same request may succeed: a store, mail port or bus
    /// failure that says so (throttling, a 5xx, a timeout). Everything else on our
    /// side is a bug or a broken deployment that a retry would only repeat.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Store(e) => e.is_retryable(),
            Self::Mail(e) => e.is_retryable(),
            Self::Bus(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// The error and every source, `: `-joined, with email addresses redacted (a
    /// provider's message may quote the recipient): what a log line carries.
    pub fn chain(&self) -> String {
        crate::mail::redact_addresses(&crate::jobs::events::error_chain(self))
    }

    /// Serialising `what` failed.
    pub fn json_write(what: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| Self::Json {
            op: "write",
            what,
            source,
        }
    }

    /// Reading `what` back failed.
    pub fn json_read(what: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| Self::Json {
            op: "read",
            what,
            source,
        }
    }
}

/// A named invariant a use case found broken: each is a bug or corrupted data,
/// never the caller's mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invariant {
    /// A new campaign's random (or key-derived) id names a campaign that exists.
    #[error("campaign id {0} collides with an existing campaign")]
    CampaignIdCollision(CampaignId),
    /// The contact policy allowed a contact for a review whose order is unknown.
    #[error("the contact policy allowed review {0} without an order")]
    ContactAllowedWithoutOrder(ReviewId),
    /// A recorded contact's review is gone.
    #[error("contact {0} has no review")]
    ContactWithoutReview(ContactId),
    /// A recorded contact's order is gone.
    #[error("contact {0} has no order")]
    ContactWithoutOrder(ContactId),
    /// A contact's delivery was claimed with another message id than its own.
    #[error("contact {0} delivery claimed under another message id")]
    DeliveryUnderAnotherMessageId(ContactId),
}
