//! The item layout both adapters store: keys, index keys, the numeric instants
//! conditions compare, the TTL attribute, and the domain document flattened in.
//!
//! DynamoDB gets it through `serde_dynamo`; SQLite stores the same document as JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::keys::Keys;
use crate::domain::{BrandId, CampaignId, CustomerId};

/// One stored item.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Item<T> {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: Option<String>,
    pub gsi1sk: Option<String>,
    pub gsi2pk: Option<String>,
    pub gsi2sk: Option<String>,
    /// The entity's `updatedAt` in microseconds: what newest-wins upserts compare.
    pub updated_at_micros: Option<i64>,
    /// Optimistic-concurrency counter of merged entities: each merge writes
    /// `revision + 1` on the condition that the stored revision is unchanged.
    pub revision: Option<i64>,
    /// TTL attribute (epoch seconds): DynamoDB deletes the item some time after it.
    pub expires_at: Option<i64>,
    #[serde(flatten)]
    pub body: T,
}

impl<T> Item<T> {
    pub fn new(keys: Keys, body: T) -> Self {
        let (gsi1pk, gsi1sk) = keys.gsi1.map_or((None, None), |(p, s)| (Some(p), Some(s)));
        let (gsi2pk, gsi2sk) = keys.gsi2.map_or((None, None), |(p, s)| (Some(p), Some(s)));
        Self {
            pk: keys.pk,
            sk: keys.sk,
            gsi1pk,
            gsi1sk,
            gsi2pk,
            gsi2sk,
            updated_at_micros: None,
            revision: None,
            expires_at: None,
            body,
        }
    }

    pub fn versioned(mut self, at: DateTime<Utc>) -> Self {
        self.updated_at_micros = Some(at.timestamp_micros());
        self
    }

    pub fn expiring(mut self, at: DateTime<Utc>) -> Self {
        self.expires_at = Some(at.timestamp());
        self
    }
}

/// The frequency-cap record of a (brand, customer).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CapRecord {
    pub brand_id: BrandId,
    pub customer_id: CustomerId,
    /// The campaign that holds the cap.
    pub campaign_id: CampaignId,
    pub taken_at: DateTime<Utc>,
    /// Microseconds since the epoch: compared in the condition.
    pub next_allowed_at: i64,
}

/// The state of an idempotency record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum IdemState {
    InProgress,
    Complete,
}

/// An idempotency record.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IdemRecord {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
    pub state: IdemState,
    /// The stored response as JSON text (kept byte for byte).
    pub response: Option<String>,
    pub created_at: DateTime<Utc>,
    /// While in progress, the claim holds until then (epoch seconds, business
    /// clock); past it a repeat takes the claim over (its holder died).
    pub lease_until: Option<i64>,
}

/// Instant from microseconds since the epoch.
pub(crate) fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}
