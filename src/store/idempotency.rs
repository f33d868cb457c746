//! Idempotency records (`Idempotency-Key`).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use serde_json::Value;

use super::StoreError;
use super::item::{IdemRecord, IdemState, Item};

/// What [`IdempotencyStore::begin`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyOutcome {
    /// First use of the key: the caller does the work, then calls `complete`.
    New,
    /// The key was used with the same request and completed: return this response.
    Replay(serde_json::Value),
    /// The key was used with the same request, still being processed.
    InProgress,
    /// The key was used with another request (CONTRACT: 422).
    Mismatch,
}

/// Idempotency records, per (scope, key).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims the key for a request (conditional put). A record whose retention
    /// (`ttl` from its creation) has passed counts as absent, whatever the TTL
    /// sweeper has done; so does a claim still in progress whose `lease` (from its
    /// creation) has passed: the attempt that took it died, and a repeat takes over
    /// instead of meeting "in progress" for the whole retention.
    async fn begin(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        at: DateTime<Utc>,
        lease: Duration,
        ttl: Duration,
    ) -> Result<IdempotencyOutcome, StoreError>;

    /// Stores the response of a claimed key; [`StoreError::Missing`] if it was never claimed.
    async fn complete(
        &self,
        scope: &str,
        key: &str,
        response: &serde_json::Value,
    ) -> Result<(), StoreError>;

    /// Drops an in-progress claim (the work failed and may be retried); completed records stay.
    async fn release(&self, scope: &str, key: &str) -> Result<(), StoreError>;
}

/// What an existing, live idempotency record means, before comparing the request hash.
pub(crate) enum Found {
    New,
    Existing {
        hash: String,
        state: IdemState,
        response: Option<String>,
        pk: String,
        sk: String,
    },
}

impl Found {
    pub(crate) fn resolve(self, request_hash: &str) -> Result<IdempotencyOutcome, StoreError> {
        match self {
            Self::New => Ok(IdempotencyOutcome::New),
            Self::Existing { hash, .. } if hash != request_hash => Ok(IdempotencyOutcome::Mismatch),
            Self::Existing {
                state: IdemState::InProgress,
                ..
            } => Ok(IdempotencyOutcome::InProgress),
            Self::Existing {
                response, pk, sk, ..
            } => {
                let value = match response {
                    Some(text) => serde_json::from_str(&text)
                        .map_err(|e| StoreError::malformed(&pk, &sk, e))?,
                    None => Value::Null,
                };
                Ok(IdempotencyOutcome::Replay(value))
            }
        }
    }
}

pub(crate) fn outcome_of(old: &Item<IdemRecord>) -> Result<Found, StoreError> {
    Ok(Found::Existing {
        hash: old.body.request_hash.clone(),
        state: old.body.state,
        response: old.body.response.clone(),
        pk: old.pk.clone(),
        sk: old.sk.clone(),
    })
}
