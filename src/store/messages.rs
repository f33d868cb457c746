//! The buyer-message ledger (R-MSG-1, R-MSG-6): at most one message per (order,
//! message type), with the same guarantees as the campaign send ledger.
//!
//! A sequences run *claims* a (order, type) before it sends, with one conditional
//! put ([`MessageStore::claim_message`]): it succeeds when there is no record, or
//! when the record is still `pending` and its lease has expired (the run that
//! claimed it died before finishing). Two runs never both hold a live claim, and
//! once a record is `sent` or `failed` no claim succeeds again. After sending, the
//! run stores the outcome with [`MessageStore::finish_message`], conditional on
//! still holding the claim. The email's message id is deterministic
//! (`msg-<order>-<type>`), so a retry after a crash rewrites the same outbox file.
//!
//! [`MessageStore::list_orders_updated`] is the listing the sequences job scans:
//! orders whose newest event happened in a period, across brands (GSI2, one
//! partition per UTC day).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::domain::order::Order;
use crate::domain::{BrandId, CustomerId, OrderId};

/// Where a ledger entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Claimed by a run that has not finished (or died: see `lease_until_micros`).
    Pending,
    /// The mail port accepted it.
    Sent,
    /// Refused for good (a permanent mail failure); never tried again.
    Failed,
}

/// One ledger entry: the message of one type for one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord {
    /// The order.
    pub order_id: OrderId,
    /// The message type (`review_request`, `return_received`, ...).
    pub message_type: String,
    /// The order's brand.
    pub brand_id: BrandId,
    /// The buyer.
    pub customer_id: CustomerId,
    /// The email's deterministic message id (`msg-<order>-<type>`).
    pub message_id: String,
    /// Where it stands.
    pub status: MessageStatus,
    /// The run holding (or that last held) the claim.
    pub owner: String,
    /// Until when the claim holds, in microseconds since the epoch on the lease
    /// (wall) clock; compared in the claim's condition.
    pub lease_until_micros: i64,
    /// When it was claimed (business clock).
    pub claimed_at: DateTime<Utc>,
    /// The template locale used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `name@version` of the policies that allowed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// When the mail port accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    /// The SES message id or outbox path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What [`MessageStore::claim_message`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageClaim {
    /// This run holds the claim now (a new record, or an expired pending one taken over).
    Claimed,
    /// Another run holds a live claim, or the message was already sent or failed:
    /// the stored record.
    Held(Box<MessageRecord>),
}

/// What [`MessageStore::finish_message`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageFinish {
    /// The outcome is stored.
    Finished,
    /// This run no longer held the claim (it expired and another run took it over):
    /// the stored record, unchanged.
    Lost(Option<Box<MessageRecord>>),
}

/// The buyer-message ledger and the listing the sequences job scans.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Claims `record`'s (order, type) with one conditional put: written when no
    /// record exists, or when the stored one is `pending` with
    /// `leaseUntilMicros < lease_now` (microseconds of the lease clock).
    async fn claim_message(
        &self,
        record: &MessageRecord,
        lease_now: DateTime<Utc>,
    ) -> Result<MessageClaim, StoreError>;

    /// Stores `record` (its outcome: `sent`, `failed`, or `pending` with a lease to
    /// release it) on the condition that the stored record is `pending` and owned by
    /// `record.owner`.
    async fn finish_message(&self, record: &MessageRecord) -> Result<MessageFinish, StoreError>;

    /// The ledger entry of (order, type).
    async fn get_message(
        &self,
        order: &OrderId,
        message_type: &str,
    ) -> Result<Option<MessageRecord>, StoreError>;

    /// Every placed order whose newest event happened between two instants
    /// (inclusive), across brands, oldest first. Reads one index partition per UTC
    /// day of the period (eventually consistent on DynamoDB).
    async fn list_orders_updated(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Order>, StoreError>;
}

/// The UTC days from `from` to `to` (inclusive), at most `max` of them.
pub(crate) fn days_between(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    max: usize,
) -> Vec<chrono::NaiveDate> {
    let mut out = Vec::new();
    let mut day = from.date_naive();
    let last = to.date_naive();
    while day <= last && out.len() < max {
        out.push(day);
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

/// Most days one listing reads (a year): bounds a mistaken period.
pub(crate) const MAX_LISTED_DAYS: usize = 366;

/// Keeps the placed orders of stored order records, sorted by newest event.
pub(crate) fn placed(records: Vec<crate::domain::order::OrderRecord>) -> Vec<Order> {
    let mut orders: Vec<Order> = records.iter().filter_map(|r| r.order()).collect();
    orders.sort_by(|a, b| (a.updated_at, &a.order_id).cmp(&(b.updated_at, &b.order_id)));
    orders
}
