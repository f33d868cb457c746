//! Merged entities: changes that update part of an item (a follow, an order's
//! shipment, a promotion's end) and may arrive before, after or instead of the
//! event that creates the item. The item is read, the change folded in with the
//! pure functions of [`crate::domain`], and the result written back under an
//! optimistic-concurrency check on the item's `revision` ([`When::Revision`]),
//! retried with the item that won when another write came first.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::backend::{Backend, Put, When};
use super::item::Item;
use super::keys::{self, Keys};
use super::{StoreError, UpsertOutcome};
use crate::domain::follower::{FollowChange, Follower};
use crate::domain::order::{OrderChange, OrderRecord};
use crate::domain::promotion::{PromotionChange, PromotionRecord};
use crate::domain::suppression::Suppression;

/// A partial change to a stored entity (see [`super::EntityStore::merge`]).
#[derive(Debug, Clone, PartialEq)]
pub enum EntityChange {
    /// Brand Followed or Brand Unfollowed.
    Follow(FollowChange),
    /// Promotion Created, Updated, Canceled or Rejected.
    Promotion(PromotionChange),
    /// Order Placed, Shipped, Delivered or Return Received.
    Order(OrderChange),
}

impl EntityChange {
    /// The primary key of the item the change folds into.
    pub fn primary(&self) -> (String, String) {
        match self {
            Self::Follow(c) => {
                let k = keys::follower(&c.brand_id, &c.customer_id);
                (k.pk, k.sk)
            }
            Self::Promotion(c) => keys::PROMOTION.primary(&c.promotion_id),
            Self::Order(c) => keys::ORDER.primary(&c.order_id),
        }
    }
}

/// A stored document a change folds into.
pub(crate) trait Merged: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The keys the document is stored under (index keys once known).
    fn keys(&self) -> Keys;
    /// The version newest-wins upserts compare.
    fn version(&self) -> DateTime<Utc>;
}

impl Merged for Follower {
    fn keys(&self) -> Keys {
        keys::follower(&self.brand_id, &self.customer_id)
    }
    fn version(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

impl Merged for OrderRecord {
    fn keys(&self) -> Keys {
        match (&self.brand_id, self.purchased_at) {
            (Some(brand), Some(at)) => keys::order(&self.order_id, brand, at),
            _ => keys::ORDER.primary(&self.order_id).into(),
        }
    }
    fn version(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

impl Merged for PromotionRecord {
    fn keys(&self) -> Keys {
        match &self.asin {
            Some(asin) => keys::promotion(&self.promotion_id, &self.brand_id, asin),
            None => keys::PROMOTION.primary(&self.promotion_id).into(),
        }
    }
    fn version(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

impl Merged for Suppression {
    fn keys(&self) -> Keys {
        keys::suppression(&self.brand_id, &self.customer_id)
    }
    fn version(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

/// Folds a suppression (an unsubscribe, a bounce, a complaint) into the stored record:
/// the strongest reason and every scope ([`Suppression::combine`]), `None` when the
/// record already says it. Written under the revision check, so a bounce and an
/// unsubscribe racing each other both end up in the record, whatever their instants.
pub(crate) fn suppression(
    change: &Suppression,
    stored: Option<Suppression>,
) -> Option<Suppression> {
    change.clone().combine(stored.as_ref())
}

/// Folds a follow change into the stored follower: the new document, or `None` if unchanged.
///
/// `suppressed` says whether the (brand, customer) has a suppression record:
/// a customer who unsubscribed, bounced or complained before (re)following is
/// flagged from the first follower item on, not only when `suppress` finds an
/// existing one.
pub(crate) fn follow(
    change: &FollowChange,
    stored: Option<Follower>,
    suppressed: bool,
) -> Option<Follower> {
    change.apply(stored.as_ref()).map(|mut f| {
        f.suppressed |= suppressed;
        f
    })
}

/// Folds an order change into the stored record.
pub(crate) fn order(change: &OrderChange, stored: Option<OrderRecord>) -> Option<OrderRecord> {
    let mut record = stored.unwrap_or_else(|| OrderRecord::new(change.order_id.clone()));
    record.apply(change).then_some(record)
}

/// Folds a promotion change into the stored record.
pub(crate) fn promotion(
    change: &PromotionChange,
    stored: Option<PromotionRecord>,
) -> Option<PromotionRecord> {
    let mut record = stored.unwrap_or_else(|| {
        PromotionRecord::new(change.promotion_id.clone(), change.brand_id.clone())
    });
    record.apply(change).then_some(record)
}

/// How many times a merge re-reads and retries after losing a concurrent write.
const MERGE_ATTEMPTS: usize = 16;

/// The item a merge writes: the keys the document now knows, the version
/// newest-wins compares, and the next revision.
fn stamped<T: Merged>(body: T, revision: Option<i64>) -> Item<T> {
    let version = body.version();
    let mut item = Item::new(body.keys(), body).versioned(version);
    item.revision = Some(revision.unwrap_or(0) + 1);
    item
}

/// Read, fold, write back on the revision read; on a lost race, fold again into
/// the item that won. `Stale` when the fold changes nothing.
pub(crate) async fn merge_item<T: Merged>(
    store: &impl Backend,
    op: &'static str,
    (pk, sk): (String, String),
    fold: impl Fn(Option<T>) -> Option<T> + Send + Sync,
) -> Result<UpsertOutcome, StoreError> {
    let mut current: Option<Item<T>> = store.get(op, &pk, &sk).await?;
    for _ in 0..MERGE_ATTEMPTS {
        let revision = current.as_ref().and_then(|i| i.revision);
        let exists = current.is_some();
        let Some(body) = fold(current.take().map(|i| i.body)) else {
            return Ok(UpsertOutcome::Stale);
        };
        let when = When::Revision { exists, revision };
        match store.put_if(op, stamped(body, revision), when).await? {
            Put::Written => return Ok(UpsertOutcome::Written),
            Put::Refused(winner) => current = winner,
        }
    }
    Err(StoreError::Transient {
        op,
        source: format!("{MERGE_ATTEMPTS} concurrent writes won over this merge").into(),
    })
}

/// Folds a change into its item ([`super::EntityStore::merge`]).
pub(crate) async fn merge(
    store: &impl Backend,
    change: &EntityChange,
) -> Result<UpsertOutcome, StoreError> {
    let key = change.primary();
    match change {
        EntityChange::Follow(c) => {
            let k = keys::suppression(&c.brand_id, &c.customer_id);
            let suppressed = store
                .get::<Suppression>("merge", &k.pk, &k.sk)
                .await?
                .is_some();
            merge_item(store, "merge", key, |old| follow(c, old, suppressed)).await
        }
        EntityChange::Order(c) => merge_item(store, "merge", key, |old| order(c, old)).await,
        EntityChange::Promotion(c) => {
            merge_item(store, "merge", key, |old| promotion(c, old)).await
        }
    }
}
