//! Store failures. Conflicts are not failures: they are typed outcomes.

use crate::domain::campaign::CampaignStatus;

/// A boxed error kept as the source of a [`StoreError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttling, a timeout, a busy database, a dropped connection: retry with backoff.
    #[error("store temporarily unavailable during {op}")]
    Transient {
        /// The operation that failed.
        op: &'static str,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// Anything a retry will not fix (validation, missing table, permissions).
    #[error("store request failed during {op}")]
    Permanent {
        /// The operation that failed.
        op: &'static str,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// A stored item could not be decoded into its domain type.
    #[error("stored item {pk}/{sk} cannot be decoded")]
    Malformed {
        /// Partition key of the item.
        pk: String,
        /// Sort key of the item.
        sk: String,
        /// The decoding error.
        #[source]
        source: BoxError,
    },
    /// A value could not be encoded into an item.
    #[error("cannot encode {what} for the store")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The encoding error.
        #[source]
        source: BoxError,
    },
    /// The caller asked for a transition the campaign lifecycle does not have.
    #[error("campaign status cannot move from {from:?} to {to}")]
    IllegalTransition {
        /// The expected current statuses.
        from: Vec<CampaignStatus>,
        /// The requested status.
        to: CampaignStatus,
    },
    /// An update targeted an item that does not exist (e.g. completing an unknown idempotency key).
    #[error("no {what} to update")]
    Missing {
        /// What was missing.
        what: String,
    },
    /// The caller passed a page token this store did not issue.
    #[error("invalid page token {0:?}")]
    InvalidPageToken(String),
}

impl StoreError {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    pub(crate) fn encode(what: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Encode {
            what,
            source: source.into(),
        }
    }

    pub(crate) fn malformed(pk: &str, sk: &str, source: impl Into<BoxError>) -> Self {
        Self::Malformed {
            pk: pk.to_owned(),
            sk: sk.to_owned(),
            source: source.into(),
        }
    }
}
