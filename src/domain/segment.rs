//! Send segments: a campaign's followers cut into equal key ranges, each sent
//! by one worker at a time with its own cursor, counters, retry list and lease.
//!
//! A follower's *position* is (shard, bucket): its partition among
//! [`FOLLOWER_SHARDS`] and a 16-bit bucket inside it, both from a stable hash
//! of the customer id, so positions are uniformly spread whatever the ids look
//! like. Segment `i` of `n` owns the positions `[i * P / n, (i + 1) * P / n)`
//! of the `P = FOLLOWER_SHARDS * FOLLOWER_BUCKETS` positions, shard-major: a
//! few contiguous sort-key ranges ([`FollowerRange`]), read page by page.
//! Segments never overlap and together cover every position, whatever `n`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::send::SendCounters;
use super::{BrandId, CampaignId, CustomerId};

/// Number of follower partitions per brand. Changing it re-homes followers: a migration.
pub const FOLLOWER_SHARDS: u32 = 4;

/// Number of buckets in a follower partition (the sort key's 16-bit hash prefix).
pub const FOLLOWER_BUCKETS: u32 = 1 << 16;

/// Segments a campaign can be cut into at most (one bucket each).
pub const MAX_SEGMENTS: u32 = FOLLOWER_SHARDS * FOLLOWER_BUCKETS;

/// The followers of one shard whose bucket is in `lo..hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerRange {
    /// The shard (partition).
    pub shard: u32,
    /// First bucket.
    pub lo: u32,
    /// One past the last bucket.
    pub hi: u32,
}

/// The key ranges segment `index` of `of` walks, in order.
pub fn ranges(index: u32, of: u32) -> Vec<FollowerRange> {
    let of = u64::from(of.clamp(1, MAX_SEGMENTS));
    let index = u64::from(index).min(of - 1);
    let total = u64::from(MAX_SEGMENTS);
    let (start, end) = (index * total / of, (index + 1) * total / of);
    let buckets = u64::from(FOLLOWER_BUCKETS);
    (0..FOLLOWER_SHARDS)
        .filter_map(|shard| {
            let base = u64::from(shard) * buckets;
            let lo = start.max(base);
            let hi = end.min(base + buckets);
            (lo < hi).then(|| FollowerRange {
                shard,
                // Both are at most FOLLOWER_BUCKETS: they fit.
                lo: u32::try_from(lo - base).unwrap_or(0),
                hi: u32::try_from(hi - base).unwrap_or(FOLLOWER_BUCKETS),
            })
        })
        .collect()
}

/// How many segments a campaign is cut into: enough that each holds about
/// `per_segment` followers, at least one, at most `max`.
pub fn segment_count(estimated_followers: u64, per_segment: u64, max: u32) -> u32 {
    let n = estimated_followers.div_ceil(per_segment.max(1));
    u32::try_from(n)
        .unwrap_or(u32::MAX)
        .clamp(1, max.clamp(1, MAX_SEGMENTS))
}

/// The range whose followers are counted to estimate a brand's size: one
/// sixteenth of the first shard, 1/64 of all positions.
pub const SAMPLE: FollowerRange = FollowerRange {
    shard: 0,
    lo: 0,
    hi: FOLLOWER_BUCKETS / 16,
};

/// What the followers in [`SAMPLE`] stand for.
pub const SAMPLE_SCALE: u64 = (FOLLOWER_SHARDS as u64) * 16;

/// How a campaign's sending was cut, fixed once (the first planner to store it wins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendPlan {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Its brand.
    pub brand_id: BrandId,
    /// How many segments.
    pub segments: u32,
    /// The follower estimate the count came from.
    pub estimated_followers: u64,
    /// When it was planned (business clock).
    pub created_at: DateTime<Utc>,
}

/// Which segment a queue message names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentRef {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Its brand (queues are fair by brand).
    pub brand_id: BrandId,
    /// The segment index.
    pub segment: u32,
}

/// One segment's state: its cursor, counters, bounded retry list and lease.
/// Every write is conditional on `seq` (the stored one plus one).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Its brand.
    pub brand_id: BrandId,
    /// This segment's index.
    pub index: u32,
    /// Of how many.
    pub of: u32,
    /// Optimistic version: every write stores `seq + 1` on the condition that `seq` is unchanged.
    pub seq: u64,
    /// The range of [`ranges`] being walked.
    #[serde(default)]
    pub range: u32,
    /// The last follower handled in that range (`None`: from its start).
    pub after: Option<CustomerId>,
    /// Every range was walked.
    #[serde(default)]
    pub walked: bool,
    /// Customers whose cap this campaign holds but whose send failed transiently
    /// (bounded: the walk pauses while it is full).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retry: Vec<CustomerId>,
    /// What this segment did so far.
    #[serde(default)]
    pub counters: SendCounters,
    /// The worker holding the lease.
    pub lease_owner: Option<String>,
    /// Until when (business clock); a segment whose lease has passed may be taken over.
    pub lease_until: Option<DateTime<Utc>>,
    /// When a queue message last named it (the planner re-queues stranded segments).
    pub queued_at: Option<DateTime<Utc>>,
}

impl Segment {
    /// Segment `index` of `plan`, not started.
    pub fn new(plan: &SendPlan, index: u32) -> Self {
        Self {
            campaign_id: plan.campaign_id.clone(),
            brand_id: plan.brand_id.clone(),
            index,
            of: plan.segments,
            seq: 0,
            range: 0,
            after: None,
            walked: false,
            retry: Vec::new(),
            counters: SendCounters::default(),
            lease_owner: None,
            lease_until: None,
            queued_at: None,
        }
    }

    /// The queue message naming it.
    pub fn reference(&self) -> SegmentRef {
        SegmentRef {
            campaign_id: self.campaign_id.clone(),
            brand_id: self.brand_id.clone(),
            segment: self.index,
        }
    }

    /// Nothing left: every follower walked and no retry pending.
    pub fn finished(&self) -> bool {
        self.walked && self.retry.is_empty()
    }

    /// Whether a worker may take it at `now`: nobody holds an unexpired lease
    /// (a throttled segment keeps an ownerless lease for its back-off).
    pub fn free_at(&self, now: DateTime<Utc>) -> bool {
        self.lease_until.is_none_or(|until| until <= now)
    }

    /// The next version of this state (what a conditional write stores).
    pub fn next(&self) -> Self {
        Self {
            seq: self.seq + 1,
            ..self.clone()
        }
    }

    /// The ranges it walks.
    pub fn ranges(&self) -> Vec<FollowerRange> {
        ranges(self.index, self.of)
    }
}

#[cfg(test)]
#[path = "segment_test.rs"]
mod tests;
