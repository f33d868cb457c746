//! What the send-window job needs beyond the campaign lifecycle: a lease so one
//! run at a time sends a campaign, the per-batch checkpoint (follower position,
//! retries, counters) kept on the campaign item, and the frequency cap taken
//! for a whole batch at once (still one conditional write per recipient).
//!
//! Item attributes on the campaign item (beside the campaign document):
//! `sendProgress` (the [`SendProgress`] map), `progressSeq` (its `seq`, what the
//! checkpoint condition compares), `leaseOwner` and `leaseUntil` (microseconds
//! since the epoch on the lease clock). A campaign's status transitions keep them.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::entities::FollowerCursor;
use super::{CapOutcome, StoreError, keys};
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::send::SendProgress;
use crate::domain::{BrandId, CampaignId, CustomerId};

/// Attributes of the campaign item the lifecycle transitions must carry over.
pub(crate) const SEND_ATTRIBUTES: [&str; 4] =
    ["sendProgress", "progressSeq", "leaseOwner", "leaseUntil"];

/// The send attributes of a campaign item, decoded beside the campaign.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SendAttrs {
    #[serde(default)]
    pub send_progress: Option<SendProgress>,
    #[serde(default)]
    pub lease_owner: Option<String>,
    #[serde(default)]
    pub lease_until: Option<i64>,
}

/// One (brand, customer) cap a campaign wants to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapTake {
    /// The brand.
    pub brand: BrandId,
    /// The customer.
    pub customer: CustomerId,
    /// The campaign taking it.
    pub campaign: CampaignId,
}

/// What [`SendStore::claim_send`] did.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a short-lived return value; boxing would only burden every caller"
)]
pub enum ClaimOutcome {
    /// This owner holds the lease until the given instant; the campaign and its checkpoint.
    Claimed {
        /// The campaign as stored.
        campaign: Campaign,
        /// Its checkpoint (the default when sending has not started).
        progress: SendProgress,
    },
    /// Another run holds the lease.
    Busy {
        /// That run.
        owner: String,
        /// Until when.
        until: DateTime<Utc>,
    },
    /// The campaign is not `SENDING` (suspended, cancelled, sent...).
    NotSending {
        /// Its status.
        status: CampaignStatus,
    },
    /// No such campaign.
    NotFound,
}

/// What [`SendStore::checkpoint_send`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointOutcome {
    /// Stored (or it was already stored by this owner: a retried call).
    Saved,
    /// The campaign left `SENDING` (suspension, cancellation): stop sending.
    Stopped {
        /// Its status now.
        status: CampaignStatus,
    },
    /// Another run took the lease (this one was too slow): stop sending.
    LostLease,
    /// No such campaign.
    NotFound,
}

/// The sending side of the store (see the module docs).
#[async_trait]
pub trait SendStore: Send + Sync {
    /// One campaign with its send checkpoint (one strongly consistent read).
    async fn campaign_progress(
        &self,
        id: &CampaignId,
    ) -> Result<Option<(Campaign, SendProgress)>, StoreError>;

    /// Takes the send lease of a `SENDING` campaign with one conditional update:
    /// succeeds when no lease is held, it ended at or before `now`, or `owner`
    /// holds it already; then it is held until `until`.
    async fn claim_send(
        &self,
        id: &CampaignId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError>;

    /// Stores `progress` (whose `seq` must be the stored one plus one) and moves the
    /// lease end to `lease_until`, with one conditional update on `status = SENDING`,
    /// the lease owner and the previous `seq`.
    async fn checkpoint_send(
        &self,
        id: &CampaignId,
        owner: &str,
        progress: &SendProgress,
        lease_until: DateTime<Utc>,
    ) -> Result<CheckpointOutcome, StoreError>;

    /// Takes the cap of every (brand, customer) of `takes` exactly as
    /// [`super::CapStore::take_cap`] does (one conditional write each; the embedded
    /// store does them in one transaction), one result per take, in order.
    async fn take_caps(
        &self,
        takes: &[CapTake],
        at: DateTime<Utc>,
        cap: Duration,
    ) -> Vec<Result<CapOutcome, StoreError>>;
}

/// The follower page token that resumes a walk right after `customer`
/// (see [`super::EntityStore::list_followers`]).
pub fn follower_token_after(customer: &CustomerId) -> String {
    let k = keys::follower(&BrandId::new(""), customer);
    FollowerCursor {
        shard: keys::follower_shard(customer),
        after: Some(k.sk),
    }
    .token()
    .unwrap_or_default()
}
