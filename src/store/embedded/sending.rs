//! [`SendStore`] on SQLite: every conditional write reads and writes inside
//! one `BEGIN IMMEDIATE` transaction; a follower range is one indexed range
//! read of the follower partition.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rusqlite::params;

use super::{EmbeddedStore, read, sql, write};
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::follower::Follower;
use crate::domain::segment::{FollowerRange, Segment, SendPlan};
use crate::domain::{BrandId, CampaignId, CustomerId};
use crate::store::item::{CapRecord, Item, from_micros};
use crate::store::keys;
use crate::store::sending::{CapTake, SegmentWrite, SendStore, range_bounds};
use crate::store::{CapOutcome, Page, StoreError};

/// The sort-key bounds of a range read after `after` (excluded).
fn bounds(range: FollowerRange, after: Option<&CustomerId>) -> (String, String, String) {
    let pk_lo_hi = range_bounds(range);
    let after = after.map(keys::follower_sk).unwrap_or_default();
    (pk_lo_hi.0, pk_lo_hi.1, after)
}

#[async_trait]
impl SendStore for EmbeddedStore {
    async fn list_follower_range(
        &self,
        brand: &BrandId,
        range: FollowerRange,
        after: Option<&CustomerId>,
        limit: usize,
    ) -> Result<Page<Follower>, StoreError> {
        let pk = keys::follower_partition(brand, range.shard);
        let (lo, hi, after) = bounds(range, after);
        let limit = limit.max(1);
        self.run("list_follower_range", move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT sk, doc FROM items WHERE pk = ?1 AND sk >= ?2 AND sk <= ?3 AND sk > ?4 \
                     ORDER BY sk LIMIT ?5",
                )
                .map_err(sql("list_follower_range"))?;
            let rows = stmt
                .query_map(params![pk, lo, hi, after, limit as i64], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(sql("list_follower_range"))?;
            let mut items = Vec::new();
            for row in rows {
                let (sk, doc) = row.map_err(sql("list_follower_range"))?;
                let item: Item<Follower> =
                    serde_json::from_str(&doc).map_err(|e| StoreError::malformed(&pk, &sk, e))?;
                items.push(item.body);
            }
            let next = (items.len() == limit)
                .then(|| items.last().map(|f| f.customer_id.to_string()))
                .flatten();
            Ok(Page { items, next })
        })
        .await
    }

    async fn count_follower_range(
        &self,
        brand: &BrandId,
        range: FollowerRange,
        up_to: u64,
    ) -> Result<u64, StoreError> {
        let pk = keys::follower_partition(brand, range.shard);
        let (lo, hi, _) = bounds(range, None);
        let up_to = i64::try_from(up_to).unwrap_or(i64::MAX);
        self.run("count_follower_range", move |conn| {
            let n: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM items WHERE pk = ?1 AND sk >= ?2 \
                     AND sk <= ?3 LIMIT ?4)",
                    params![pk, lo, hi, up_to],
                    |row| row.get(0),
                )
                .map_err(sql("count_follower_range"))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }

    async fn create_plan(&self, plan: &SendPlan) -> Result<SendPlan, StoreError> {
        let item = Item::new(keys::send_plan(&plan.campaign_id), plan.clone());
        self.tx("create_plan", move |conn| {
            if let Some(old) = read::<SendPlan>(conn, "create_plan", &item.pk, &item.sk)? {
                return Ok(old.body);
            }
            write(conn, "create_plan", &item)?;
            Ok(item.body)
        })
        .await
    }

    async fn get_plan(&self, campaign: &CampaignId) -> Result<Option<SendPlan>, StoreError> {
        let k = keys::send_plan(campaign);
        self.get_doc("get_plan", k.pk, k.sk).await
    }

    async fn put_segment(
        &self,
        segment: &Segment,
        expected: Option<u64>,
    ) -> Result<bool, StoreError> {
        let item = Item::new(
            keys::segment(&segment.campaign_id, segment.index),
            segment.clone(),
        );
        self.tx("put_segment", move |conn| {
            let stored = read::<Segment>(conn, "put_segment", &item.pk, &item.sk)?;
            if stored.map(|s| s.body.seq) != expected {
                return Ok(false);
            }
            write(conn, "put_segment", &item)?;
            Ok(true)
        })
        .await
    }

    async fn checkpoint_while_sending(
        &self,
        segment: &Segment,
        expected: u64,
    ) -> Result<SegmentWrite, StoreError> {
        let item = Item::new(
            keys::segment(&segment.campaign_id, segment.index),
            segment.clone(),
        );
        let (cpk, csk) = keys::campaign_primary(&segment.campaign_id);
        self.tx("checkpoint_while_sending", move |conn| {
            let status = read::<Campaign>(conn, "checkpoint_while_sending", &cpk, &csk)?
                .map(|c| c.body.status);
            if status != Some(CampaignStatus::Sending) {
                return Ok(SegmentWrite::Stopped(status));
            }
            let stored = read::<Segment>(conn, "checkpoint_while_sending", &item.pk, &item.sk)?;
            if stored.map(|s| s.body.seq) != Some(expected) {
                return Ok(SegmentWrite::Conflict);
            }
            write(conn, "checkpoint_while_sending", &item)?;
            Ok(SegmentWrite::Written)
        })
        .await
    }

    async fn get_segment(
        &self,
        campaign: &CampaignId,
        index: u32,
    ) -> Result<Option<Segment>, StoreError> {
        let k = keys::segment(campaign, index);
        self.get_doc("get_segment", k.pk, k.sk).await
    }

    async fn list_segments(&self, campaign: &CampaignId) -> Result<Vec<Segment>, StoreError> {
        let pk = keys::segment(campaign, 0).pk;
        let (from, to) = (
            keys::SEGMENT_PREFIX.to_owned(),
            format!("{}\u{10FFFF}", keys::SEGMENT_PREFIX),
        );
        self.run("list_segments", move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT sk, doc FROM items WHERE pk = ?1 AND sk >= ?2 AND sk <= ?3 ORDER BY sk",
                )
                .map_err(sql("list_segments"))?;
            let rows = stmt
                .query_map(params![pk, from, to], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(sql("list_segments"))?;
            let mut out = Vec::new();
            for row in rows {
                let (sk, doc) = row.map_err(sql("list_segments"))?;
                let item: Item<Segment> =
                    serde_json::from_str(&doc).map_err(|e| StoreError::malformed(&pk, &sk, e))?;
                out.push(item.body);
            }
            Ok(out)
        })
        .await
    }

    async fn take_caps(
        &self,
        takes: &[CapTake],
        at: DateTime<Utc>,
        cap: Duration,
    ) -> Vec<Result<CapOutcome, StoreError>> {
        let n = takes.len();
        let next = at + cap;
        let now = keys::micros(at);
        let items: Vec<Item<CapRecord>> = takes
            .iter()
            .map(|t| {
                Item::new(
                    keys::cap(&t.brand, &t.customer),
                    CapRecord {
                        brand_id: t.brand.clone(),
                        customer_id: t.customer.clone(),
                        campaign_id: t.campaign.clone(),
                        taken_at: at,
                        next_allowed_at: keys::micros(next),
                    },
                )
                .expiring(next + keys::cap_ttl_margin())
            })
            .collect();
        let result = self
            .tx("take_cap", move |conn| {
                let mut out = Vec::with_capacity(items.len());
                for item in &items {
                    if let Some(old) = read::<CapRecord>(conn, "take_cap", &item.pk, &item.sk)?
                        && old.body.next_allowed_at > now
                    {
                        out.push(if old.body.campaign_id == item.body.campaign_id {
                            CapOutcome::AlreadyHeld
                        } else {
                            CapOutcome::Capped {
                                until: from_micros(old.body.next_allowed_at),
                            }
                        });
                        continue;
                    }
                    write(conn, "take_cap", item)?;
                    out.push(CapOutcome::Taken);
                }
                Ok(out)
            })
            .await;
        match result {
            Ok(v) => v.into_iter().map(Ok).collect(),
            // The transaction rolled back: nothing was taken.
            Err(e) => {
                let retryable = e.is_retryable();
                let shared = std::sync::Arc::new(e);
                (0..n)
                    .map(|_| {
                        let source = Box::new(SharedError(shared.clone()));
                        Err(if retryable {
                            StoreError::Transient {
                                op: "take_cap",
                                source,
                            }
                        } else {
                            StoreError::Permanent {
                                op: "take_cap",
                                source,
                            }
                        })
                    })
                    .collect()
            }
        }
    }
}

/// One store error reported for every take of a rolled-back batch.
#[derive(Debug)]
struct SharedError(std::sync::Arc<StoreError>);

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the batch of cap takes failed: {}", self.0)
    }
}

impl std::error::Error for SharedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}
