//! What sending needs beyond the campaign lifecycle: the campaign's send plan
//! and segments (`domain::segment`), the followers of one key range, and the
//! frequency cap taken for a whole wave at once (still one conditional write
//! per recipient).
//!
//! The adapters provide primitives only ([`super::backend`]): a put-if-absent
//! plan, a segment write conditional on its `seq`, point and range reads. The
//! decisions (who may claim a segment, when a checkpoint counts as saved, what a
//! campaign's progress is) are written once here, over those primitives.

use chrono::{DateTime, Duration, Utc};

use super::backend::{self, After, Partition, Put, SortKeys, Span, When};
use super::item::Item;
use super::{CapOutcome, Page, StoreError, keys};
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::follower::Follower;
use crate::domain::segment::{FollowerRange, Segment, SendPlan};
use crate::domain::send::SendProgress;
use crate::domain::{BrandId, CampaignId, CustomerId};

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

port! {
    /// The sending side of the store (see the module docs).
    pub trait SendStore {
        /// Takes the cap of every (brand, customer) of `takes` exactly as
        /// [`super::CapStore::take_cap`] does (one conditional write each; the embedded
        /// store does them in one transaction), one result per take, in order.
        async fn take_caps(
            &self,
            takes: &[CapTake],
            at: DateTime<Utc>,
            cap: Duration,
        ) -> Vec<Result<CapOutcome, StoreError>> {
            super::records::take_caps(self, takes, at, cap).await
        }

        /// Followers of `brand` in `range`, in sort-key order, after `after` (excluded),
        /// at most `limit`; `next` is `Some` when more may follow (its value is opaque).
        async fn list_follower_range(
            &self,
            brand: &BrandId,
            range: FollowerRange,
            after: Option<&CustomerId>,
            limit: usize,
        ) -> Result<Page<Follower>, StoreError> {
            let part = follower_range(brand, range);
            let after = after.map(|c| {
                let sk = keys::follower_sk(c);
                After {
                    index_sk: sk.clone(),
                    pk: part.pk.clone(),
                    sk,
                }
            });
            let span = Span {
                part,
                after,
                limit: limit.max(1),
            };
            let chunk = self.page::<Follower>("list_follower_range", span).await?;
            let items: Vec<Follower> = chunk.items.into_iter().map(|(_, f)| f).collect();
            let next = chunk
                .more
                .then(|| items.last().map(|f| f.customer_id.to_string()))
                .flatten();
            Ok(Page { items, next })
        }

        /// How many followers of `brand` are in `range`, counting no further than `up_to`.
        async fn count_follower_range(
            &self,
            brand: &BrandId,
            range: FollowerRange,
            up_to: u64,
        ) -> Result<u64, StoreError> {
            let part = follower_range(brand, range);
            self.count("count_follower_range", part, up_to).await
        }

        /// Stores `plan` unless the campaign has one; returns the stored plan.
        async fn create_plan(&self, plan: &SendPlan) -> Result<SendPlan, StoreError> {
            let item = Item::new(keys::send_plan(&plan.campaign_id), plan.clone());
            Ok(
                match self.put_if("create_plan", item, When::Absent).await? {
                    Put::Refused(Some(stored)) => stored.body,
                    Put::Written | Put::Refused(None) => plan.clone(),
                },
            )
        }

        /// The campaign's plan.
        async fn get_plan(&self, campaign: &CampaignId) -> Result<Option<SendPlan>, StoreError> {
            backend::body(self, "get_plan", keys::send_plan(campaign).key()).await
        }

        /// Writes `segment` when the stored one's `seq` is `expected` (`None`: when
        /// there is none); `false` when that condition failed.
        async fn put_segment(
            &self,
            segment: &Segment,
            expected: Option<u64>,
        ) -> Result<bool, StoreError> {
            let put = self
                .put_if("put_segment", segment_item(segment), When::Seq(expected))
                .await?;
            Ok(matches!(put, Put::Written))
        }

        /// A wave's checkpoint: writes `segment` when the stored one's `seq` is
        /// `expected` and its campaign is still `SENDING`, in one conditional
        /// request (the condition on the campaign is how a worker sees a
        /// suspension or cancellation, within one wave, without reading it).
        async fn checkpoint_while_sending(
            &self,
            segment: &Segment,
            expected: u64,
        ) -> Result<SegmentWrite, StoreError> {
            self.checkpoint(segment_item(segment), expected).await
        }

        /// One segment (strongly consistent).
        async fn get_segment(
            &self,
            campaign: &CampaignId,
            index: u32,
        ) -> Result<Option<Segment>, StoreError> {
            backend::body(self, "get_segment", keys::segment(campaign, index).key()).await
        }

        /// Every segment of a campaign, by index (strongly consistent).
        async fn list_segments(&self, campaign: &CampaignId) -> Result<Vec<Segment>, StoreError> {
            let pk = keys::segment(campaign, 0).pk;
            let part = Partition::table(pk, SortKeys::Prefix(keys::SEGMENT_PREFIX.to_owned()));
            self.query("list_segments", part).await
        }
    }
}

/// A campaign with the progress of all its segments added up
/// ([`progress_of`]); the default progress before it is planned.
pub async fn campaign_progress(
    store: &dyn super::Store,
    id: &CampaignId,
) -> Result<Option<(Campaign, SendProgress)>, StoreError> {
    let Some(campaign) = store.get_campaign(id).await? else {
        return Ok(None);
    };
    let segments = store.list_segments(id).await?;
    Ok(Some((campaign, progress_of(&segments))))
}

/// A campaign's progress: the sum of its segments' counters and retry lists;
/// walked when every segment was walked.
pub fn progress_of(segments: &[Segment]) -> SendProgress {
    let mut p = SendProgress {
        walked: !segments.is_empty() && segments.iter().all(|s| s.walked),
        ..SendProgress::default()
    };
    for s in segments {
        p.seq += s.seq;
        p.counters.add(&s.counters);
        p.retry.extend(s.retry.iter().cloned());
    }
    p
}

/// What [`SendStore::checkpoint_while_sending`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentWrite {
    /// Stored.
    Written,
    /// The segment's `seq` was not the expected one.
    Conflict,
    /// The campaign is no longer `SENDING` (its status, when it still exists).
    Stopped(Option<CampaignStatus>),
}

/// What [`claim_segment`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentClaim {
    /// This owner holds the segment's lease; its state as stored.
    Claimed(Segment),
    /// Another worker holds it, or it is backing off, until the given instant.
    Busy {
        /// The holder (`None`: backing off after throttling).
        owner: Option<String>,
        /// Until when.
        until: DateTime<Utc>,
    },
    /// Nothing left to send in it.
    Finished(Segment),
    /// No such segment.
    NotFound,
}

/// How many times a lost optimistic race is re-read before giving up.
const RACE_ATTEMPTS: u32 = 4;

/// Takes the lease of a segment for `owner` until `until` (business clock):
/// possible when it is free at `now` ([`Segment::free_at`]) or `owner` holds it.
/// One conditional write; a concurrent claim makes exactly one winner.
pub async fn claim_segment(
    store: &dyn SendStore,
    campaign: &CampaignId,
    index: u32,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<SegmentClaim, StoreError> {
    for _ in 0..RACE_ATTEMPTS {
        let Some(stored) = store.get_segment(campaign, index).await? else {
            return Ok(SegmentClaim::NotFound);
        };
        if stored.finished() {
            return Ok(SegmentClaim::Finished(stored));
        }
        let ours = stored.lease_owner.as_deref() == Some(owner);
        if !ours && !stored.free_at(now) {
            return Ok(SegmentClaim::Busy {
                owner: stored.lease_owner.clone(),
                until: stored.lease_until.unwrap_or(now),
            });
        }
        let mut next = stored.next();
        next.lease_owner = Some(owner.to_owned());
        next.lease_until = Some(until);
        if store.put_segment(&next, Some(stored.seq)).await? {
            return Ok(SegmentClaim::Claimed(next));
        }
    }
    Ok(SegmentClaim::Busy {
        owner: None,
        until: now,
    })
}

/// What [`checkpoint_segment`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointOutcome {
    /// Stored (or it had been stored by this very call before a retry).
    Saved,
    /// Another worker wrote the segment since it was read: this one must stop.
    LostLease,
    /// The campaign left `SENDING` (suspended, cancelled...): stop sending it.
    Stopped(Option<CampaignStatus>),
}

/// Stores `next` (read as `next.seq - 1` by its lease holder), conditional on
/// the stored `seq` and on the campaign still `SENDING`. A retried call whose
/// first attempt was applied finds its own write and answers `Saved`.
pub async fn checkpoint_segment(
    store: &dyn SendStore,
    next: &Segment,
) -> Result<CheckpointOutcome, StoreError> {
    let expected = next.seq.saturating_sub(1);
    match store.checkpoint_while_sending(next, expected).await? {
        SegmentWrite::Written => Ok(CheckpointOutcome::Saved),
        SegmentWrite::Stopped(status) => Ok(CheckpointOutcome::Stopped(status)),
        SegmentWrite::Conflict => match store.get_segment(&next.campaign_id, next.index).await? {
            Some(stored) if stored == *next => Ok(CheckpointOutcome::Saved),
            _ => Ok(CheckpointOutcome::LostLease),
        },
    }
}

/// Hands a segment's lease back (or sets an ownerless back-off lease): a plain
/// conditional write on `seq`, whatever the campaign's status.
pub async fn release_segment(store: &dyn SendStore, next: &Segment) -> Result<bool, StoreError> {
    store.put_segment(next, next.seq.checked_sub(1)).await
}

/// The follower partition of a range, in its sort-key bounds; eventually
/// consistent: a follower written a moment ago may be missed by a walk exactly
/// as if it had followed a moment later.
fn follower_range(brand: &BrandId, range: FollowerRange) -> Partition {
    let pk = keys::follower_partition(brand, range.shard);
    let bounds = keys::follower_bucket_range(range.lo, range.hi);
    Partition::table(pk, SortKeys::between(bounds)).eventually_consistent()
}

fn segment_item(segment: &Segment) -> Item<Segment> {
    Item::new(
        keys::segment(&segment.campaign_id, segment.index),
        segment.clone(),
    )
}

/// Whether a campaign in `status` may still be checkpointed; the write's answer when not.
pub(crate) fn still_sending(status: Option<CampaignStatus>) -> Result<(), SegmentWrite> {
    match status {
        Some(CampaignStatus::Sending) => Ok(()),
        other => Err(SegmentWrite::Stopped(other)),
    }
}
