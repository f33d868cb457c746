//! Why a scheduled pass (the send planner and its workers, the buyer-message
//! sequences) could not run at all; what happened to each campaign or message is in
//! the pass's report instead.

use crate::app::AppError;
use crate::jobs::sequences::DefinitionError;
use crate::policy::PolicyError;
use crate::queue::QueueError;
use crate::store::StoreError;

/// Why a pass, or a slice of one, could not run.
#[derive(Debug, thiserror::Error)]
pub enum PassError {
    /// The store failed.
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// A policy in force could not be read or evaluated.
    #[error("policy failed")]
    Policy(#[from] PolicyError),
    /// The sequences policy is missing or malformed.
    #[error("sequences policy unusable")]
    Definition(#[from] DefinitionError),
    /// An email could not be built.
    #[error("cannot build the email")]
    App(#[from] AppError),
    /// The send queue refused the messages.
    #[error("send queue failed")]
    Queue(#[from] QueueError),
}

impl PassError {
    /// Whether running the pass again later may succeed: policies and their definitions
    /// stay broken until a deploy fixes them.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Store(e) => e.is_retryable(),
            Self::App(e) => e.is_retryable(),
            Self::Queue(e) => e.is_retryable(),
            Self::Policy(_) | Self::Definition(_) => false,
        }
    }
}
