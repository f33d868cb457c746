//! Idempotency records (`Idempotency-Key`).

use chrono::{DateTime, Duration, Utc};

use serde_json::Value;

use super::backend::{Patch, Put, When};
use super::item::{IdemRecord, IdemState, Item};
use super::{StoreError, keys};

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

port! {
    /// Idempotency records, per (scope, key).
    pub trait IdempotencyStore {
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
        ) -> Result<IdempotencyOutcome, StoreError> {
            let record = IdemRecord {
                scope: scope.to_owned(),
                key: key.to_owned(),
                request_hash: request_hash.to_owned(),
                state: IdemState::InProgress,
                response: None,
                created_at: at,
                lease_until: Some((at + lease).timestamp()),
            };
            let item = Item::new(keys::idempotency(scope, key), record).expiring(at + ttl);
            for _ in 0..CLAIM_ATTEMPTS {
                let free = When::KeyFree(at.timestamp());
                match self.put_if("idempotency_begin", item.clone(), free).await? {
                    Put::Written => return Ok(IdempotencyOutcome::New),
                    Put::Refused(Some(stored)) => return resolve(stored, request_hash),
                    // Deleted since the condition failed: the key is free again.
                    Put::Refused(None) => {}
                }
            }
            Err(StoreError::Transient {
                op: "idempotency_begin",
                source: "the idempotency record kept vanishing under the claim".into(),
            })
        }

        /// Stores the response of a claimed key; [`StoreError::Missing`] if it was never claimed.
        async fn complete(
            &self,
            scope: &str,
            key: &str,
            response: &serde_json::Value,
        ) -> Result<(), StoreError> {
            let patch = Patch::of(keys::idempotency(scope, key).key())
                .set("state", IdemState::Complete)?
                .set("response", response.to_string())?
                .remove("leaseUntil");
            match self
                .patch_if::<IdemRecord>("idempotency_complete", patch, When::Exists)
                .await?
            {
                Ok(_) => Ok(()),
                Err(_) => Err(StoreError::Missing {
                    what: format!("idempotency record {scope}/{key}"),
                }),
            }
        }

        /// Drops an in-progress claim (the work failed and may be retried); completed records stay.
        async fn release(&self, scope: &str, key: &str) -> Result<(), StoreError> {
            let key = keys::idempotency(scope, key).key();
            self.delete_if("idempotency_release", key, When::InProgress)
                .await
        }
    }
}

/// How many times a claim refused by a record deleted since is tried again.
const CLAIM_ATTEMPTS: usize = 4;

/// What a live record found by a claim means for this request.
fn resolve(stored: Item<IdemRecord>, request_hash: &str) -> Result<IdempotencyOutcome, StoreError> {
    let record = stored.body;
    if record.request_hash != request_hash {
        return Ok(IdempotencyOutcome::Mismatch);
    }
    if record.state == IdemState::InProgress {
        return Ok(IdempotencyOutcome::InProgress);
    }
    let value = match record.response {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::malformed(&stored.pk, &stored.sk, e))?,
        None => Value::Null,
    };
    Ok(IdempotencyOutcome::Replay(value))
}
