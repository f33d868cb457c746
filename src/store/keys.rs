//! The one key scheme both adapters use (DynamoDB single table; SQLite mirrors it).
//!
//! | item | pk | sk | gsi1pk / gsi1sk | gsi2pk / gsi2sk |
//! |---|---|---|---|---|
//! | brand | `BRAND#{brand}` | `PROFILE` | | |
//! | follower | `BRAND#{brand}#FOLLOWERS#{shard}` | `CUSTOMER#{bucket}#{customer}` | | |
//! | suppression | `BRAND#{brand}#SUPPRESSIONS` | `CUSTOMER#{customer}` | | |
//! | campaign | `CAMPAIGN#{id}` | `CAMPAIGN` | `BRAND#{brand}#CAMPAIGNS` / `STATUS#{status}#CAMPAIGN#{id}` | `CAMPAIGNS#{status}` / `CAMPAIGN#{id}` (non-terminal statuses only: a sparse index of live campaigns) |
//! | send ledger | `CAMPAIGN#{id}` | `SEND#{customer}` | | |
//! | send plan (segment count) | `CAMPAIGN#{id}` | `PLAN` | | |
//! | send segment | `CAMPAIGN#{id}` | `SEGMENT#{index}` (zero-padded) | | |
//! | promotion | `PROMOTION#{id}` | `PROMOTION` | `BRAND#{brand}#PROMOTIONS` / `ASIN#{asin}#PROMOTION#{id}` | |
//! | order | `ORDER#{id}` | `ORDER` | `BRAND#{brand}#ORDERS` / `AT#{purchasedAt}#ORDER#{id}` | |
//! | buyer-message ledger | `ORDER#{id}` | `MESSAGE#{type}` | | `DUE#{day of dueAt}#{shard}` / `AT#{dueAt}#ORDER#{id}#{type}` (while due or claimed only: the sparse due index the sequences job reads) |
//! | review | `REVIEW#{id}` | `REVIEW` | `BRAND#{brand}#REVIEWS` / `AT#{postedAt}#REVIEW#{id}` | |
//! | contact | `REVIEW#{review}` | `CONTACT` | | |
//! | frequency cap | `CAP#{brand}#{customer}` | `CAP` | | |
//! | idempotency | `IDEMPOTENCY#{scope}#{key}` | `IDEMPOTENCY` | | |
//! | mail feedback counters | `BRAND#{brand}` | `FEEDBACK` | | |
//! | mail event seen (TTL) | `MAILEVENT#{key}` | `MAILEVENT` | | |
//!
//! Followers of a brand are spread over [`FOLLOWER_SHARDS`] partitions (by a
//! stable hash of the customer id) so writes do not heat one partition, and
//! inside a partition their sort key starts with a 16-bit bucket of the same
//! hash ([`follower_bucket`], four hex digits). A follower's *position*
//! (shard, bucket) is uniformly distributed, so any number of send segments can
//! cut the brand's followers into equal key ranges without counting them first
//! (`domain::segment`), each range read by one `Query ... BETWEEN`.
//! The due index of buyer messages is spread the same way over [`DUE_SHARDS`]
//! partitions per UTC day (by a stable hash of the order id).
//! Instants inside sort keys use [`sortable_instant`] (fixed width, UTC) so
//! that string order is time order.

use std::fmt::Display;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::domain::campaign::CampaignStatus;
use crate::domain::{BrandId, CampaignId, CustomerId, OrderId, PromotionId, ReviewId};

pub use crate::domain::segment::{FOLLOWER_BUCKETS, FOLLOWER_SHARDS};

/// A primary key plus the secondary index keys an item carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keys {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
    /// GSI1 partition and sort keys (listings by brand).
    pub gsi1: Option<(String, String)>,
    /// GSI2 partition and sort keys (live campaigns by status).
    pub gsi2: Option<(String, String)>,
}

impl Keys {
    fn primary(pk: String, sk: &str) -> Self {
        Self {
            pk,
            sk: sk.to_owned(),
            ..Self::default()
        }
    }

    /// The primary key alone.
    pub fn key(&self) -> (String, String) {
        (self.pk.clone(), self.sk.clone())
    }
}

impl From<(String, String)> for Keys {
    /// A primary key without index keys (an item not yet known well enough to index).
    fn from((pk, sk): (String, String)) -> Self {
        Self::primary(pk, &sk)
    }
}

/// A primary key listed in GSI1.
fn listed(primary: (String, String), gsi1: (String, String)) -> Keys {
    Keys {
        gsi1: Some(gsi1),
        ..primary.into()
    }
}

/// An index sort key placing `id` at an instant: `AT#{instant}#{kind}#{id}`.
fn at_key(at: DateTime<Utc>, kind: &str, id: &str) -> String {
    format!("AT#{}#{kind}#{id}", sortable_instant(at))
}

/// A kind of item with a partition of its own per item, `{KIND}#{id}`, where the
/// item itself has the sort key `{KIND}` (what it owns shares the partition), and
/// which is listed by brand in GSI1 under `BRAND#{brand}#{KIND}S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind(&'static str);

/// Campaigns (with their send ledger, plan and segments).
pub const CAMPAIGN: Kind = Kind("CAMPAIGN");
/// Promotions.
pub const PROMOTION: Kind = Kind("PROMOTION");
/// Orders (with their buyer-message ledger).
pub const ORDER: Kind = Kind("ORDER");
/// Reviews (with their contact).
pub const REVIEW: Kind = Kind("REVIEW");

impl Kind {
    /// The partition of one item.
    pub fn partition(self, id: impl Display) -> String {
        format!("{}#{id}", self.0)
    }

    /// The primary key of the item itself.
    pub fn primary(self, id: impl Display) -> (String, String) {
        (self.partition(id), self.0.to_owned())
    }

    /// GSI1 partition of a brand's items of this kind.
    pub fn of_brand(self, brand: &BrandId) -> String {
        format!("BRAND#{brand}#{}S", self.0)
    }

    /// The item, listed among its brand's by an instant (GSI1).
    fn dated(self, id: &str, brand: &BrandId, at: DateTime<Utc>) -> Keys {
        let sk = at_key(at, self.0, id);
        listed(self.primary(id), (self.of_brand(brand), sk))
    }
}

/// An instant as fixed-width RFC 3339 UTC with microseconds: sorts as text.
pub fn sortable_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Microseconds since the epoch: the numeric form instants take in conditions.
pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A brand profile.
pub fn brand(brand: &BrandId) -> Keys {
    Keys::primary(format!("BRAND#{brand}"), "PROFILE")
}

/// FNV-1a: stable across processes and versions.
fn fnv1a(text: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

fn customer_hash(customer: &CustomerId) -> u32 {
    fnv1a(customer.as_str())
}

/// The follower shard a customer lives in (the hash's low bits).
pub fn follower_shard(customer: &CustomerId) -> u32 {
    customer_hash(customer) % FOLLOWER_SHARDS
}

/// The bucket of a customer inside its shard: the hash's high 16 bits, in
/// `0..FOLLOWER_BUCKETS` (independent of the shard, which takes the low bits).
pub fn follower_bucket(customer: &CustomerId) -> u32 {
    customer_hash(customer) >> 16
}

/// The follower sort key of a customer.
pub fn follower_sk(customer: &CustomerId) -> String {
    format!("CUSTOMER#{:04x}#{customer}", follower_bucket(customer))
}

/// Inclusive sort-key bounds of the followers whose bucket is in `lo..hi`
/// (`hi` exclusive, at most [`FOLLOWER_BUCKETS`]; `lo < hi`).
pub fn follower_bucket_range(lo: u32, hi: u32) -> (String, String) {
    (
        format!("CUSTOMER#{lo:04x}#"),
        format!("CUSTOMER#{:04x}#\u{10FFFF}", hi.saturating_sub(1)),
    )
}

/// The partition of one follower shard of a brand.
pub fn follower_partition(brand: &BrandId, shard: u32) -> String {
    format!("BRAND#{brand}#FOLLOWERS#{shard}")
}

/// A follower.
pub fn follower(brand: &BrandId, customer: &CustomerId) -> Keys {
    Keys::primary(
        follower_partition(brand, follower_shard(customer)),
        &follower_sk(customer),
    )
}

/// A suppression.
pub fn suppression(brand: &BrandId, customer: &CustomerId) -> Keys {
    Keys::primary(
        format!("BRAND#{brand}#SUPPRESSIONS"),
        &format!("CUSTOMER#{customer}"),
    )
}

/// GSI1 sort-key prefix of a brand's campaigns in one status.
pub fn campaign_status_prefix(status: CampaignStatus) -> String {
    format!("STATUS#{status}#")
}

/// GSI2 partition of the live campaigns in one status.
pub fn live_campaigns(status: CampaignStatus) -> String {
    format!("CAMPAIGNS#{status}")
}

/// GSI1 sort key of a campaign in a status.
pub fn campaign_gsi1sk(id: &CampaignId, status: CampaignStatus) -> String {
    format!("{}CAMPAIGN#{id}", campaign_status_prefix(status))
}

/// GSI2 keys of a campaign in a status: none once terminal (sparse index).
pub fn campaign_gsi2(id: &CampaignId, status: CampaignStatus) -> Option<(String, String)> {
    (!status.is_terminal()).then(|| (live_campaigns(status), format!("CAMPAIGN#{id}")))
}

/// A campaign in a given status (the GSI keys move with the status).
pub fn campaign(id: &CampaignId, brand: &BrandId, status: CampaignStatus) -> Keys {
    Keys {
        gsi2: campaign_gsi2(id, status),
        ..listed(
            CAMPAIGN.primary(id),
            (CAMPAIGN.of_brand(brand), campaign_gsi1sk(id, status)),
        )
    }
}

/// A send-ledger entry.
pub fn send(campaign: &CampaignId, customer: &CustomerId) -> Keys {
    Keys::primary(CAMPAIGN.partition(campaign), &format!("SEND#{customer}"))
}

/// The send plan of a campaign (how many segments it was cut into).
pub fn send_plan(campaign: &CampaignId) -> Keys {
    Keys::primary(CAMPAIGN.partition(campaign), "PLAN")
}

/// Sort-key prefix of a campaign's send segments.
pub const SEGMENT_PREFIX: &str = "SEGMENT#";

/// One send segment of a campaign.
pub fn segment(campaign: &CampaignId, index: u32) -> Keys {
    Keys::primary(
        CAMPAIGN.partition(campaign),
        &format!("{SEGMENT_PREFIX}{index:05}"),
    )
}

/// GSI1 sort-key prefix of a brand's promotions on one product.
pub fn promotion_asin_prefix(asin: &str) -> String {
    format!("ASIN#{asin}#")
}

/// A promotion.
pub fn promotion(id: &PromotionId, brand: &BrandId, asin: &str) -> Keys {
    let sk = format!("{}PROMOTION#{id}", promotion_asin_prefix(asin));
    listed(PROMOTION.primary(id), (PROMOTION.of_brand(brand), sk))
}

/// An order: listed by brand and purchase instant (GSI1). Orders are not indexed by
/// day any more: the sequences job reads the due index of buyer messages instead.
pub fn order(id: &OrderId, brand: &BrandId, purchased_at: DateTime<Utc>) -> Keys {
    ORDER.dated(id.as_str(), brand, purchased_at)
}

/// The buyer-message ledger entry of (order, message type): one per pair
/// (same partition as the order).
pub fn message(order: &OrderId, message_type: &str) -> Keys {
    Keys::primary(ORDER.partition(order), &format!("MESSAGE#{message_type}"))
}

/// A review.
pub fn review(id: &ReviewId, brand: &BrandId, posted_at: DateTime<Utc>) -> Keys {
    REVIEW.dated(id.as_str(), brand, posted_at)
}

/// GSI1 sort-key bounds for items of a brand between two instants (inclusive).
pub fn at_range(from: DateTime<Utc>, to: DateTime<Utc>) -> (String, String) {
    (
        format!("AT#{}", sortable_instant(from)),
        format!("AT#{}#\u{10FFFF}", sortable_instant(to)),
    )
}

/// The contact answering a review (one per review: same partition as the review).
pub fn contact(review: &ReviewId) -> Keys {
    Keys::primary(REVIEW.partition(review), "CONTACT")
}

/// The GSI1 partition of every contact, by creation instant (few: each is a
/// person's action), read to find deliveries a crash left pending.
pub const CONTACTS: &str = "CONTACTS";

/// A contact as stored: its primary key and its place among [`CONTACTS`].
pub fn contact_item(review: &ReviewId, sent_at: DateTime<Utc>) -> Keys {
    let sk = at_key(sent_at, "REVIEW", review.as_str());
    listed(contact(review).key(), (CONTACTS.to_owned(), sk))
}

/// The frequency-cap record of a (brand, customer).
pub fn cap(brand: &BrandId, customer: &CustomerId) -> Keys {
    Keys::primary(format!("CAP#{brand}#{customer}"), "CAP")
}

/// A brand's mail feedback counters (deliveries, complaints, bounces).
pub fn feedback(brand: &BrandId) -> Keys {
    Keys::primary(format!("BRAND#{brand}"), "FEEDBACK")
}

/// The marker of one counted mail event (SES message id and event type).
pub fn mail_event(key: &str) -> Keys {
    Keys::primary(format!("MAILEVENT#{key}"), "MAILEVENT")
}

/// An idempotency record.
pub fn idempotency(scope: &str, key: &str) -> Keys {
    Keys::primary(format!("IDEMPOTENCY#{scope}#{key}"), "IDEMPOTENCY")
}

/// Number of due-index partitions per day. Changing it re-homes due entries: a migration.
pub const DUE_SHARDS: u32 = 8;

/// Technical, not a rule: how long a frequency-cap record outlives the end of
/// its cap before its TTL lets the store delete it. The record's own
/// `nextAllowedAt` decides (the conditional write compares it), never the TTL,
/// whose sweep is lazy; the margin keeps an ended cap readable a while.
pub fn cap_ttl_margin() -> chrono::Duration {
    chrono::Duration::hours(24)
}

/// The due-index shard of an order (FNV-1a, as [`follower_shard`]).
pub fn due_shard(order: &OrderId) -> u32 {
    fnv1a(order.as_str()) % DUE_SHARDS
}

/// GSI2 partition of the buyer messages due on a (UTC) day, one shard of it.
pub fn due_partition(day: chrono::NaiveDate, shard: u32) -> String {
    format!("DUE#{}#{shard}", day.format("%Y-%m-%d"))
}

/// The buyer-message ledger entry of (order, message type), in the due index at
/// `due` when given.
pub fn message_entry(order: &OrderId, message_type: &str, due: Option<DateTime<Utc>>) -> Keys {
    Keys {
        gsi2: due.map(|at| {
            (
                due_partition(at.date_naive(), due_shard(order)),
                at_key(at, "ORDER", &format!("{order}#{message_type}")),
            )
        }),
        ..message(order, message_type)
    }
}

/// GSI2 sort-key bounds of the due entries of one partition due at or before `until`.
pub fn due_until(until: DateTime<Utc>) -> (String, String) {
    (
        "AT#".to_owned(),
        format!("AT#{}#\u{10FFFF}", sortable_instant(until)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_in_range() {
        let c = CustomerId::new("c-1");
        assert_eq!(follower_shard(&c), follower_shard(&CustomerId::new("c-1")));
        assert!(
            (0..200).all(|i| follower_shard(&CustomerId::new(format!("c{i}"))) < FOLLOWER_SHARDS)
        );
    }

    #[test]
    fn sortable_instants_sort_as_time() {
        let a = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let b = DateTime::from_timestamp(1_700_000_000, 500_000_000).unwrap_or_default();
        assert!(sortable_instant(a) < sortable_instant(b));
    }

    #[test]
    fn items_of_their_own_partition_keep_the_documented_keys() {
        let (brand, at) = (BrandId::new("b"), DateTime::UNIX_EPOCH);
        let at_text = sortable_instant(at);
        let c = campaign(&CampaignId::new("c"), &brand, CampaignStatus::Sending);
        assert_eq!((c.pk.as_str(), c.sk.as_str()), ("CAMPAIGN#c", "CAMPAIGN"));
        let gsi1 = (
            "BRAND#b#CAMPAIGNS".to_owned(),
            "STATUS#SENDING#CAMPAIGN#c".to_owned(),
        );
        assert_eq!(c.gsi1, Some(gsi1));
        assert_eq!(send_plan(&CampaignId::new("c")).pk, "CAMPAIGN#c");
        let p = promotion(&PromotionId::new("p"), &brand, "A1");
        assert_eq!((p.pk.as_str(), p.sk.as_str()), ("PROMOTION#p", "PROMOTION"));
        let gsi1 = (
            "BRAND#b#PROMOTIONS".to_owned(),
            "ASIN#A1#PROMOTION#p".to_owned(),
        );
        assert_eq!(p.gsi1, Some(gsi1));
        let o = order(&OrderId::new("o"), &brand, at);
        assert_eq!((o.pk.as_str(), o.sk.as_str()), ("ORDER#o", "ORDER"));
        let gsi1 = ("BRAND#b#ORDERS".to_owned(), format!("AT#{at_text}#ORDER#o"));
        assert_eq!(o.gsi1, Some(gsi1));
        assert_eq!(message(&OrderId::new("o"), "t").pk, "ORDER#o");
        let r = review(&ReviewId::new("r"), &brand, at);
        assert_eq!((r.pk.as_str(), r.sk.as_str()), ("REVIEW#r", "REVIEW"));
        let gsi1 = (
            "BRAND#b#REVIEWS".to_owned(),
            format!("AT#{at_text}#REVIEW#r"),
        );
        assert_eq!(r.gsi1, Some(gsi1));
        assert_eq!(contact(&ReviewId::new("r")).pk, "REVIEW#r");
    }

    #[test]
    fn due_entries_spread_over_shards_and_stay_in_bounds() {
        let shards: std::collections::HashSet<u32> = (0..200)
            .map(|i| due_shard(&OrderId::new(format!("O-{i}"))))
            .collect();
        assert_eq!(shards.len(), DUE_SHARDS as usize);
        assert!(shards.iter().all(|s| *s < DUE_SHARDS));
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let k = message_entry(&OrderId::new("O-1"), "review_request", Some(at));
        let (pk, sk) = k.gsi2.unwrap_or_default();
        assert!(pk.starts_with("DUE#2023-11-14#"), "{pk}");
        let (lo, hi) = due_until(at);
        assert!(lo <= sk && sk <= hi, "due at `until` is listed");
        let (_, before) = due_until(at - chrono::Duration::microseconds(1));
        assert!(sk > before, "due after `until` is not");
        assert_eq!(message_entry(&OrderId::new("O-1"), "x", None).gsi2, None);
    }
}
