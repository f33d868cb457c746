//! What an adapter provides to the port: reads, conditional writes and listings of
//! the one item layout ([`super::item`]), each as one atomic step of its mechanism
//! (a DynamoDB conditional request, a SQLite `BEGIN IMMEDIATE` transaction).
//!
//! The port's traits are implemented once, over these primitives, in the port
//! modules: what to write, under which [`When`], and what a refused write means
//! are decided there. An adapter only says how a condition is checked
//! (a condition expression, a look at the stored document) and how an item is
//! read and written.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::entities::Entity;
use super::feedback::{FeedbackOutcome, MailEventRecord};
use super::item::Item;
use super::sending::SegmentWrite;
use super::{StoreError, keys};
use crate::domain::campaign::CampaignStatus;
use crate::domain::segment::Segment;

/// A document the store keeps as an item body.
pub(crate) trait Doc: Serialize + DeserializeOwned + Send + Sync + 'static {}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Doc for T {}

/// The condition of a conditional write, on the item stored under the same key.
/// Each adapter checks it its own way; the port decides which one a rule needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum When {
    /// No item yet.
    Absent,
    /// Some item.
    Exists,
    /// The frequency cap is free at this instant (microseconds): no record, or its
    /// `nextAllowedAt` is not after it.
    CapFree(i64),
    /// An idempotency key may be claimed at this instant (epoch seconds): no
    /// record, its retention has passed, or it is in progress past its lease.
    KeyFree(i64),
    /// An idempotency record still in progress.
    InProgress,
    /// A campaign in one of these statuses.
    StatusIn(Vec<CampaignStatus>),
    /// A segment's `seq` is this (`None`: no segment yet).
    Seq(Option<u64>),
    /// A merged entity unchanged since it was read: absent if it was, else with
    /// this `revision` (`None`: none written yet).
    Revision {
        /// Whether the item existed when read.
        exists: bool,
        /// Its revision then.
        revision: Option<i64>,
    },
    /// A due entry may be (re)written by an event at this instant (microseconds):
    /// no entry, or one that is due, refused or expired and was made due earlier.
    Reschedulable(Option<i64>),
    /// A message may be claimed at this instant (microseconds): no entry, a due
    /// one, or a pending one whose lease has passed.
    Claimable(i64),
    /// A message pending and claimed by this owner.
    ClaimedBy(String),
}

/// What a conditional put did.
#[derive(Debug, Clone)]
pub(crate) enum Put<T> {
    /// Written.
    Written,
    /// The condition failed: the stored item, when it could still be read (it may
    /// have been deleted since).
    Refused(Option<Item<T>>),
}

/// Attributes a patch of one item sets (`null` included) and removes; the
/// others are kept.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Patch {
    pub key: Key,
    pub set: Vec<(&'static str, Value)>,
    pub remove: Vec<&'static str>,
    /// A counter to add one to (created at one).
    pub increment: Option<&'static str>,
}

impl Patch {
    pub fn of(key: Key) -> Self {
        Self {
            key,
            set: Vec::new(),
            remove: Vec::new(),
            increment: None,
        }
    }

    pub fn set(mut self, name: &'static str, value: impl Serialize) -> Result<Self, StoreError> {
        let value =
            serde_json::to_value(value).map_err(|e| StoreError::encode("patched attribute", e))?;
        self.set.push((name, value));
        Ok(self)
    }

    pub fn remove(mut self, name: &'static str) -> Self {
        self.remove.push(name);
        self
    }

    /// Adds one to a counter (created at one).
    pub fn increment(mut self, name: &'static str) -> Self {
        self.increment = Some(name);
        self
    }

    /// Sets the attribute to `value`, or removes it when `None`.
    pub fn set_or_remove(
        self,
        name: &'static str,
        value: Option<String>,
    ) -> Result<Self, StoreError> {
        match value {
            Some(v) => self.set(name, v),
            None => Ok(self.remove(name)),
        }
    }

    /// Applies the patch to a stored JSON document.
    pub fn apply(&self, doc: &mut Value) {
        if let Value::Object(map) = doc {
            for (name, value) in &self.set {
                map.insert((*name).to_owned(), value.clone());
            }
            for name in &self.remove {
                map.remove(*name);
            }
            if let Some(name) = self.increment {
                let next = map.get(name).and_then(Value::as_i64).unwrap_or(0) + 1;
                map.insert(name.to_owned(), Value::from(next));
            }
        }
    }
}

/// The index a listing reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Index {
    Table,
    Gsi1,
    Gsi2,
}

impl Index {
    /// Its partition and sort key attributes.
    pub fn attributes(self) -> (&'static str, &'static str) {
        match self {
            Self::Table => ("pk", "sk"),
            Self::Gsi1 => ("gsi1pk", "gsi1sk"),
            Self::Gsi2 => ("gsi2pk", "gsi2sk"),
        }
    }
}

/// The sort keys a listing reads in its partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SortKeys {
    All,
    Prefix(String),
    /// Both bounds included.
    Between(String, String),
}

impl SortKeys {
    /// Inclusive text bounds: every key the scheme writes sorts below U+10FFFF.
    pub fn bounds(&self) -> (String, String) {
        match self {
            Self::All => (String::new(), "\u{10FFFF}".to_owned()),
            Self::Prefix(p) => (p.clone(), format!("{p}\u{10FFFF}")),
            Self::Between(a, b) => (a.clone(), b.clone()),
        }
    }

    /// The bounds of an optional prefix.
    pub fn prefix(prefix: Option<String>) -> Self {
        prefix.map_or(Self::All, Self::Prefix)
    }

    pub fn between((a, b): (String, String)) -> Self {
        Self::Between(a, b)
    }
}

/// One partition of an index, in a range of sort keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Partition {
    pub index: Index,
    pub pk: String,
    pub sort: SortKeys,
    /// Strongly consistent (base table only); an index is always eventually consistent.
    pub consistent: bool,
}

impl Partition {
    pub fn table(pk: String, sort: SortKeys) -> Self {
        Self {
            index: Index::Table,
            pk,
            sort,
            consistent: true,
        }
    }

    pub fn gsi1(pk: String, sort: SortKeys) -> Self {
        Self {
            index: Index::Gsi1,
            pk,
            sort,
            consistent: false,
        }
    }

    pub fn gsi2(pk: String, sort: SortKeys) -> Self {
        Self {
            index: Index::Gsi2,
            ..Self::gsi1(pk, sort)
        }
    }

    /// The items of a GSI1 listing placed between two instants (inclusive).
    pub fn in_period(pk: String, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self::gsi1(pk, SortKeys::between(keys::at_range(from, to)))
    }

    pub fn eventually_consistent(mut self) -> Self {
        self.consistent = false;
        self
    }
}

/// Where a listing resumes: after this item (its index sort key, then its primary key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct After {
    pub index_sk: String,
    pub pk: String,
    pub sk: String,
}

/// A page to read: at most `limit` (at least one) items of a partition after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Span {
    pub part: Partition,
    pub after: Option<After>,
    pub limit: usize,
}

/// One page of a partition: the items with where each stands, and whether more may follow.
#[derive(Debug)]
pub(crate) struct Chunk<T> {
    pub items: Vec<(After, T)>,
    pub more: bool,
}

/// The operation a request serves (named in its errors).
pub(crate) type Op = &'static str;

/// A primary key: partition key, sort key.
pub(crate) type Key = (String, String);

/// What a primitive answers.
pub(crate) type Answer<T> = Result<T, StoreError>;

/// The item after a patch (`Ok`), or the stored one it refused (`Err`, `None`:
/// there is none).
pub(crate) type Patched<T> = Result<Item<T>, Option<Item<T>>>;

/// The primitives every adapter provides (see the module docs).
#[async_trait]
pub(crate) trait Backend: Send + Sync {
    /// Strongly consistent point read.
    async fn get<T: Doc>(&self, op: Op, pk: &str, sk: &str) -> Answer<Option<Item<T>>>;

    /// Writes the whole item when `when` holds.
    async fn put_if<T: Doc>(&self, op: Op, item: Item<T>, when: When) -> Answer<Put<T>>;

    /// Several conditional puts, one result each, in order (SQLite: one transaction).
    async fn put_all_if<T: Doc>(&self, op: Op, puts: Vec<(Item<T>, When)>) -> Vec<Answer<Put<T>>>;

    /// Changes the attributes of `patch` when `when` holds.
    async fn patch_if<T: Doc>(&self, op: Op, patch: Patch, when: When) -> Answer<Patched<T>>;

    /// Deletes the item when `when` holds (else leaves it).
    async fn delete_if(&self, op: Op, key: Key, when: When) -> Answer<()>;

    /// Newest-wins write of an entity: when there is no item or its
    /// `updatedAtMicros` is older, keeping the [`Entity::preserved`] attributes of
    /// an existing one. `false` when the stored one is as new or newer.
    async fn upsert_item(&self, op: Op, item: Item<Entity>) -> Answer<bool>;

    /// Every item of a partition, in sort-key order.
    async fn query<T: Doc>(&self, op: Op, part: Partition) -> Answer<Vec<T>>;

    /// One page of a partition, in sort-key order.
    async fn page<T: Doc>(&self, op: Op, span: Span) -> Answer<Chunk<T>>;

    /// How many items a partition holds, counting no further than `up_to`.
    async fn count(&self, op: Op, part: Partition, up_to: u64) -> Answer<u64>;

    /// Writes `segment` when the stored one's `seq` is `expected` and its campaign
    /// is `SENDING`, as one atomic step.
    async fn checkpoint(&self, segment: Item<Segment>, expected: u64) -> Answer<SegmentWrite>;

    /// Stores the marker of one mail event unless it is there, and adds one to
    /// its brand's counter of its kind when it was not, as one atomic step.
    async fn count_event(&self, marker: Item<MailEventRecord>) -> Answer<FeedbackOutcome>;
}

/// A listing that reads partitions in turn (follower shards, due-index days and
/// shards), resumable from where it stopped.
pub(crate) trait Walk: Send {
    /// The partition to read now and where in it; `None` past the last one.
    fn partition(&self) -> Option<(Partition, Option<After>)>;
    /// The last item read.
    fn read(&mut self, at: After);
    /// Moves to the start of the next partition.
    fn next_partition(&mut self);
}

/// Up to `limit` (at least one) items of a walk, partition after partition.
pub(crate) async fn walk<T: Doc>(
    b: &impl Backend,
    op: Op,
    walk: &mut impl Walk,
    limit: usize,
) -> Answer<Vec<T>> {
    let limit = limit.max(1);
    let mut items = Vec::new();
    while items.len() < limit {
        let Some((part, after)) = walk.partition() else {
            break;
        };
        let span = Span {
            part,
            after,
            limit: limit - items.len(),
        };
        let chunk = b.page::<T>(op, span).await?;
        let more = chunk.more && !chunk.items.is_empty();
        for (at, item) in chunk.items {
            walk.read(at);
            items.push(item);
        }
        if !more {
            walk.next_partition();
        }
    }
    Ok(items)
}

/// The body of a point read.
pub(crate) async fn body<T: Doc>(b: &impl Backend, op: Op, (pk, sk): Key) -> Answer<Option<T>> {
    Ok(b.get::<T>(op, &pk, &sk).await?.map(|i| i.body))
}
