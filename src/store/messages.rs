//! The buyer-message ledger (R-MSG-1, R-MSG-6): at most one message per (order,
//! message type), with the same guarantees as the campaign send ledger, and the
//! due index the sequences job reads.
//!
//! # Due entries
//! When an order event makes a message due (the sequences policy's trigger and
//! delay), the events job writes the ledger entry of (order, type) as `due`, with
//! its due instant, through [`MessageStore::schedule_message`]. While an entry is
//! `due` or `pending` it carries the keys of a sparse index of the due day
//! ([`MessageRecord::keys`], sharded: [`keys::DUE_SHARDS`] partitions per day), and a
//! sequences run lists only that index up to its `now`
//! ([`MessageStore::list_due_messages`]), never every recent order. Once an entry
//! is sent, failed, refused or expired its item is written without those keys and
//! leaves the index.
//!
//! # Claims
//! A sequences run *claims* a (order, type) before it sends, with one conditional
//! put ([`MessageStore::claim_message`]): it succeeds when there is no record, when
//! the record is `due`, or when it is `pending` and its lease has expired (the run
//! that claimed it died before finishing). Two runs never both hold a live claim,
//! and once a record is sent, failed, refused or expired no claim succeeds again.
//! After sending, the run stores the outcome with [`MessageStore::finish_message`],
//! conditional on still holding the claim. The email's message id is deterministic
//! (`msg-<order>-<type>`), so a retry after a crash rewrites the same outbox file.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::backend::{self, After, Partition, Put, SortKeys, Walk, When};
use super::item::Item;
use super::keys::{self, Keys};
use super::{Page, StoreError, UpsertOutcome};
use crate::domain::{BrandId, CustomerId, OrderId};

/// Where a ledger entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Written by the order event that made it due; no run has claimed it yet.
    Due,
    /// Claimed by a run that has not finished (or died: see `lease_until_micros`).
    Pending,
    /// The mail port accepted it.
    Sent,
    /// Refused for good (a permanent mail failure); never tried again.
    Failed,
    /// Refused by a policy when it was due (the reasons are in `note`); not retried.
    Refused,
    /// Its step is no longer up (window closed, cancelled, turned off); never sent.
    Expired,
}

impl MessageStatus {
    /// Whether a run still has something to do: the entry is in the due index.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Due | Self::Pending)
    }
}

/// One ledger entry: the message of one type for one order.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord {
    /// The order.
    pub order_id: OrderId,
    /// The message type (`review_request`, `return_received`, ...).
    pub message_type: String,
    /// The order's brand (known once a run read the order; a due entry written by
    /// an event that does not name it has none).
    pub brand_id: Option<BrandId>,
    /// The buyer (same as `brand_id`).
    pub customer_id: Option<CustomerId>,
    /// The email's deterministic message id (`msg-<order>-<type>`).
    pub message_id: String,
    /// Where it stands.
    pub status: MessageStatus,
    /// The run holding (or that last held) the claim; empty while due.
    #[serde(default)]
    pub owner: String,
    /// Until when the claim holds, in microseconds since the epoch on the business
    /// clock; compared in the claim's condition.
    #[serde(default)]
    pub lease_until_micros: i64,
    /// When it was claimed (business clock).
    pub claimed_at: Option<DateTime<Utc>>,
    /// When it became due: its position in the due index.
    pub due_at: Option<DateTime<Utc>>,
    /// The instant of the event that made it due, in microseconds: a later report of
    /// that event moves the entry, a repeat or an older one does not.
    pub triggered_at_micros: Option<i64>,
    /// The template locale used.
    pub locale: Option<String>,
    /// `name@version` of the policies that allowed (or refused) it.
    pub policy: Option<String>,
    /// When the mail port accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// The SES message id or outbox path.
    pub provider_id: Option<String>,
    /// Why it failed, was refused or expired.
    pub note: Option<String>,
}

impl MessageRecord {
    /// The due entry of (order, type): due at `due_at`, made due by an event at
    /// `triggered_at`.
    pub fn due(
        order_id: OrderId,
        message_type: &str,
        message_id: String,
        triggered_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> Self {
        Self {
            order_id,
            message_type: message_type.to_owned(),
            brand_id: None,
            customer_id: None,
            message_id,
            status: MessageStatus::Due,
            owner: String::new(),
            lease_until_micros: 0,
            claimed_at: None,
            due_at: Some(due_at),
            triggered_at_micros: Some(keys::micros(triggered_at)),
            locale: None,
            policy: None,
            sent_at: None,
            provider_id: None,
            note: None,
        }
    }

    /// The keys the entry is stored under: in the due index while it is open and
    /// has a due instant, out of it once settled.
    pub fn keys(&self) -> Keys {
        let due = self.due_at.filter(|_| self.status.is_open());
        keys::message_entry(&self.order_id, &self.message_type, due)
    }
}

/// What [`MessageStore::claim_message`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageClaim {
    /// This run holds the claim now (a new record, a due one, or an expired pending
    /// one taken over), or settled it when the record written was an outcome.
    Claimed,
    /// Another run holds a live claim, or the message was already sent, failed,
    /// refused or expired: the stored record.
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

port! {
    /// The buyer-message ledger and its due index.
    pub trait MessageStore {
        /// Writes a due entry ([`MessageRecord::due`]) with one conditional put: when no
        /// entry exists, or the stored one is `due`, `refused` or `expired` and was made
        /// due by an earlier event (`triggeredAtMicros` lower). A repeated or older event
        /// is [`UpsertOutcome::Stale`]; a claimed, sent or failed entry is never touched.
        async fn schedule_message(
            &self,
            entry: &MessageRecord,
        ) -> Result<UpsertOutcome, StoreError> {
            let item = Item::new(entry.keys(), entry.clone());
            let when = When::Reschedulable(entry.triggered_at_micros);
            Ok(match self.put_if("schedule_message", item, when).await? {
                Put::Written => UpsertOutcome::Written,
                Put::Refused(_) => UpsertOutcome::Stale,
            })
        }

        /// Writes `record` with one conditional put when its (order, type) is free: no
        /// record, a `due` one, or a `pending` one with `leaseUntilMicros < lease_now`
        /// (microseconds of the business clock). `record` is a claim (`pending`, with
        /// this run's owner and lease) or directly an outcome (`refused`, `expired`)
        /// when nothing is to be sent. Its keys follow [`MessageRecord::keys`].
        async fn claim_message(
            &self,
            record: &MessageRecord,
            lease_now: DateTime<Utc>,
        ) -> Result<MessageClaim, StoreError> {
            let op = "claim_message";
            let item = Item::new(record.keys(), record.clone());
            let (pk, sk) = (item.pk.clone(), item.sk.clone());
            let when = When::Claimable(keys::micros(lease_now));
            match self.put_if(op, item, when).await? {
                Put::Written => Ok(MessageClaim::Claimed),
                Put::Refused(Some(held)) => Ok(MessageClaim::Held(Box::new(held.body))),
                Put::Refused(None) => Err(StoreError::Transient {
                    op,
                    source: format!("message {pk}/{sk} reported as held, then gone").into(),
                }),
            }
        }

        /// Stores `record` (its outcome: `sent`, `failed`, or `pending` with a lease to
        /// release it) on the condition that the stored record is `pending` and owned by
        /// `record.owner`.
        async fn finish_message(
            &self,
            record: &MessageRecord,
        ) -> Result<MessageFinish, StoreError> {
            let item = Item::new(record.keys(), record.clone());
            let when = When::ClaimedBy(record.owner.clone());
            Ok(match self.put_if("finish_message", item, when).await? {
                Put::Written => MessageFinish::Finished,
                Put::Refused(stored) => MessageFinish::Lost(stored.map(|i| Box::new(i.body))),
            })
        }

        /// The ledger entry of (order, type).
        async fn get_message(
            &self,
            order: &OrderId,
            message_type: &str,
        ) -> Result<Option<MessageRecord>, StoreError> {
            backend::body(
                self,
                "get_message",
                keys::message(order, message_type).key(),
            )
            .await
        }

        /// One page of the due index: the open entries due from the start of `from_day`
        /// (UTC) to `until` (inclusive), every shard of every day, at most `limit`,
        /// in (day, shard, due instant) order. Entries due after `until` are not read.
        /// `page_token` is the previous page's `next`. Eventually consistent on
        /// DynamoDB: an entry may be listed just after it was settled, and the claim's
        /// condition decides.
        async fn list_due_messages(
            &self,
            from_day: NaiveDate,
            until: DateTime<Utc>,
            page_token: Option<&str>,
            limit: usize,
        ) -> Result<Page<MessageRecord>, StoreError> {
            let mut walk = DueWalk {
                cursor: DueCursor::parse(page_token, from_day, until)?,
                until,
                due: SortKeys::between(keys::due_until(until)),
            };
            let items = backend::walk(self, "list_due_messages", &mut walk, limit).await?;
            Ok(Page {
                items,
                next: walk.cursor.token(until),
            })
        }
    }
}

/// Technical bound, not a rule: most days one listing of the due index reads (a
/// year), so a mistaken period cannot read without end.
pub(crate) const MAX_DUE_DAYS: i64 = 366;

/// A walk over the due index, partition after partition, up to `until`.
struct DueWalk {
    cursor: DueCursor,
    until: DateTime<Utc>,
    due: SortKeys,
}

impl Walk for DueWalk {
    fn partition(&self) -> Option<(Partition, Option<After>)> {
        let c = &self.cursor;
        (!c.done(self.until)).then(|| {
            let after = c
                .after
                .clone()
                .map(|(index_sk, pk, sk)| After { index_sk, pk, sk });
            (Partition::gsi2(c.partition(), self.due.clone()), after)
        })
    }

    fn read(&mut self, at: After) {
        self.cursor.after = Some((at.index_sk, at.pk, at.sk));
    }

    fn next_partition(&mut self) {
        self.cursor.next_partition();
    }
}

/// A position in the due index: the partition (day, shard) and the last entry read
/// in it (its index sort key and primary key, what DynamoDB resumes from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DueCursor {
    pub day: NaiveDate,
    pub shard: u32,
    pub after: Option<(String, String, String)>,
}

impl DueCursor {
    /// The cursor of `page_token`, or the first partition of `from_day`.
    pub fn parse(
        page_token: Option<&str>,
        from_day: NaiveDate,
        until: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        let first_day = from_day.max(until.date_naive() - chrono::Duration::days(MAX_DUE_DAYS));
        let Some(token) = page_token else {
            return Ok(Self {
                day: first_day,
                shard: 0,
                after: None,
            });
        };
        let bad = || StoreError::InvalidPageToken(token.to_owned());
        let cursor: Self = serde_json::from_str(token).map_err(|_| bad())?;
        if cursor.shard >= keys::DUE_SHARDS || cursor.day < first_day {
            return Err(bad());
        }
        Ok(cursor)
    }

    /// Whether the cursor went past the last partition of the listing.
    pub fn done(&self, until: DateTime<Utc>) -> bool {
        self.day > until.date_naive()
    }

    /// The index partition to read.
    pub fn partition(&self) -> String {
        keys::due_partition(self.day, self.shard)
    }

    /// Moves to the next partition.
    pub fn next_partition(&mut self) {
        self.after = None;
        if self.shard + 1 < keys::DUE_SHARDS {
            self.shard += 1;
        } else {
            self.shard = 0;
            self.day = self.day.succ_opt().unwrap_or(NaiveDate::MAX);
        }
    }

    /// The next page's token (none once every partition was read).
    pub fn token(&self, until: DateTime<Utc>) -> Option<String> {
        if self.done(until) {
            return None;
        }
        serde_json::to_string(self).ok()
    }
}
