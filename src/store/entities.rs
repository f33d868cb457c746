//! Marketplace entities kept from events: newest wins.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::backend::{self, After, Backend, Partition, Patch, SortKeys, Walk, When};
use super::item::Item;
use super::keys::{self, Keys};
use super::merge::{self, merge_item};
use super::{EntityChange, StoreError};
use crate::domain::brand::Brand;
use crate::domain::follower::Follower;
use crate::domain::order::{Order, OrderRecord};
use crate::domain::promotion::{Promotion, PromotionRecord};
use crate::domain::review::Review;
use crate::domain::suppression::Suppression;
use crate::domain::{BrandId, CustomerId, OrderId, PromotionId, ReviewId};

/// An entity the marketplace events maintain.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Entity {
    /// A brand profile.
    Brand(Brand),
    /// A follower (its `suppressed` flag is kept by the store; see [`EntityStore::upsert`]).
    Follower(Follower),
    /// A promotion.
    Promotion(Promotion),
    /// An order.
    Order(Order),
    /// A review.
    Review(Review),
    /// A suppression (prefer [`EntityStore::suppress`], which also flags the follower).
    Suppression(Suppression),
}

impl Entity {
    /// The keys the entity is stored under.
    pub fn keys(&self) -> Keys {
        match self {
            Self::Brand(b) => keys::brand(&b.brand_id),
            Self::Follower(f) => keys::follower(&f.brand_id, &f.customer_id),
            Self::Promotion(p) => keys::promotion(&p.promotion_id, &p.brand_id, &p.asin),
            Self::Order(o) => keys::order(&o.order_id, &o.brand_id, o.purchased_at),
            Self::Review(r) => keys::review(&r.review_id, &r.brand_id, r.posted_at),
            Self::Suppression(s) => keys::suppression(&s.brand_id, &s.customer_id),
        }
    }

    /// The instant newest-wins compares.
    pub fn updated_at(&self) -> DateTime<Utc> {
        match self {
            Self::Brand(b) => b.updated_at,
            Self::Follower(f) => f.updated_at,
            Self::Promotion(p) => p.updated_at,
            Self::Order(o) => o.updated_at,
            Self::Review(r) => r.updated_at,
            Self::Suppression(s) => s.updated_at,
        }
    }

    /// Attributes an upsert never overwrites on an existing item.
    pub(crate) fn preserved(&self) -> &'static [&'static str] {
        match self {
            Self::Follower(_) => &["suppressed"],
            _ => &[],
        }
    }
}

/// What [`EntityStore::upsert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// The item is now this version.
    Written,
    /// The stored item is as new or newer (a repeated or out-of-order event): unchanged.
    Stale,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass back to get the next page; `None` after the last page.
    pub next: Option<String>,
}

/// Marketplace entities.
#[async_trait]
pub trait EntityStore: Send + Sync {
    /// Writes the entity unless the stored one is as new or newer
    /// (`attribute_not_exists(pk) OR updatedAtMicros < :at`). The whole item is
    /// replaced, except that an existing follower keeps its `suppressed` flag.
    async fn upsert(&self, entity: &Entity) -> Result<UpsertOutcome, StoreError>;

    /// Folds a partial change (a follow, an order's shipment, a promotion's end, ...)
    /// into its item: read, merge with the domain's commutative merge, and write back
    /// only if the item's `revision` is unchanged (retried on conflict). Any arrival
    /// order of the same changes, repeats included, ends in the same item. `Stale`
    /// when the change adds nothing. An existing follower keeps its `suppressed` flag.
    async fn merge(&self, change: &EntityChange) -> Result<UpsertOutcome, StoreError>;

    /// Suppresses a customer for a brand: folds `suppression` into the stored record
    /// ([`Suppression::combine`]: the strongest reason, every scope) under the same
    /// revision check as [`EntityStore::merge`], so concurrent suppressions never lose
    /// one another (a bounce is never undone by an unsubscribe stamped later), and sets
    /// `suppressed` on the follower item if there is one, so send runs see it for free.
    /// `Written` when the record changed, `Stale` when it already said all of it (the
    /// follower flag is set either way).
    async fn suppress(&self, suppression: &Suppression) -> Result<UpsertOutcome, StoreError>;

    /// A brand profile.
    async fn get_brand(&self, brand: &BrandId) -> Result<Option<Brand>, StoreError>;

    /// A follower (also unfollowed or suppressed ones).
    async fn get_follower(
        &self,
        brand: &BrandId,
        customer: &CustomerId,
    ) -> Result<Option<Follower>, StoreError>;

    /// A suppression.
    async fn get_suppression(
        &self,
        brand: &BrandId,
        customer: &CustomerId,
    ) -> Result<Option<Suppression>, StoreError>;

    /// A promotion.
    async fn get_promotion(&self, id: &PromotionId) -> Result<Option<Promotion>, StoreError>;

    /// An order.
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError>;

    /// A review.
    async fn get_review(&self, id: &ReviewId) -> Result<Option<Review>, StoreError>;

    /// A brand's followers, every shard in turn, at most `limit` per page (unfollowed and
    /// suppressed ones included: their flags say so). Start with `None`, then pass
    /// `next` until it is `None`; every follower present for the whole walk comes
    /// exactly once. The token is opaque text, safe to checkpoint.
    async fn list_followers(
        &self,
        brand: &BrandId,
        page_token: Option<&str>,
        limit: usize,
    ) -> Result<Page<Follower>, StoreError>;

    /// A brand's promotions, optionally on one product.
    async fn list_promotions(
        &self,
        brand: &BrandId,
        asin: Option<&str>,
    ) -> Result<Vec<Promotion>, StoreError>;

    /// A brand's orders placed between two instants (inclusive), oldest first.
    async fn list_orders(
        &self,
        brand: &BrandId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Order>, StoreError>;

    /// A brand's reviews posted between two instants (inclusive), oldest first.
    async fn list_reviews(
        &self,
        brand: &BrandId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Review>, StoreError>;
}

/// A walk over a brand's follower shards.
struct FollowerWalk<'a> {
    brand: &'a BrandId,
    cursor: FollowerCursor,
}

impl Walk for FollowerWalk<'_> {
    fn partition(&self) -> Option<(Partition, Option<After>)> {
        let c = &self.cursor;
        (c.shard < keys::FOLLOWER_SHARDS).then(|| {
            let pk = keys::follower_partition(self.brand, c.shard);
            let after = c.after.clone().map(|sk| After {
                index_sk: sk.clone(),
                pk: pk.clone(),
                sk,
            });
            (Partition::table(pk, SortKeys::All), after)
        })
    }

    fn read(&mut self, at: After) {
        self.cursor.after = Some(at.sk);
    }

    fn next_partition(&mut self) {
        self.cursor.shard += 1;
        self.cursor.after = None;
    }
}

/// A follower page position: the shard and the last sort key read in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FollowerCursor {
    pub shard: u32,
    pub after: Option<String>,
}

impl FollowerCursor {
    pub fn parse(token: Option<&str>) -> Result<Self, StoreError> {
        let Some(token) = token else {
            return Ok(Self {
                shard: 0,
                after: None,
            });
        };
        let bad = || StoreError::InvalidPageToken(token.to_owned());
        let (shard, after) = token.split_once(':').ok_or_else(bad)?;
        let shard: u32 = shard.parse().map_err(|_| bad())?;
        if shard >= keys::FOLLOWER_SHARDS {
            return Err(bad());
        }
        Ok(Self {
            shard,
            after: (!after.is_empty()).then(|| after.to_owned()),
        })
    }

    pub fn token(&self) -> Option<String> {
        (self.shard < keys::FOLLOWER_SHARDS)
            .then(|| format!("{}:{}", self.shard, self.after.as_deref().unwrap_or("")))
    }
}

#[async_trait]
impl<B: Backend> EntityStore for B {
    async fn upsert(&self, entity: &Entity) -> Result<UpsertOutcome, StoreError> {
        let item = Item::new(entity.keys(), entity.clone()).versioned(entity.updated_at());
        let written = self.upsert_item("upsert", item).await?;
        Ok(if written {
            UpsertOutcome::Written
        } else {
            UpsertOutcome::Stale
        })
    }

    async fn merge(&self, change: &EntityChange) -> Result<UpsertOutcome, StoreError> {
        merge::merge(self, change).await
    }

    async fn suppress(&self, suppression: &Suppression) -> Result<UpsertOutcome, StoreError> {
        let k = keys::suppression(&suppression.brand_id, &suppression.customer_id);
        let outcome = merge_item(self, "suppress", k.key(), |old| {
            merge::suppression(suppression, old)
        })
        .await?;
        // Flag the follower if there is one (none is fine: the condition fails). The
        // revision moves too, so a concurrent merge of the follower re-reads the flag.
        let k = keys::follower(&suppression.brand_id, &suppression.customer_id);
        let flag = Patch::of(k.key())
            .set("suppressed", true)?
            .increment("revision");
        let _flagged = self
            .patch_if::<Follower>("suppress", flag, When::Exists)
            .await?;
        Ok(outcome)
    }

    async fn get_brand(&self, brand: &BrandId) -> Result<Option<Brand>, StoreError> {
        backend::body(self, "get_brand", keys::brand(brand).key()).await
    }

    async fn get_follower(
        &self,
        brand: &BrandId,
        customer: &CustomerId,
    ) -> Result<Option<Follower>, StoreError> {
        backend::body(self, "get_follower", keys::follower(brand, customer).key()).await
    }

    async fn get_suppression(
        &self,
        brand: &BrandId,
        customer: &CustomerId,
    ) -> Result<Option<Suppression>, StoreError> {
        let key = keys::suppression(brand, customer).key();
        backend::body(self, "get_suppression", key).await
    }

    async fn get_promotion(&self, id: &PromotionId) -> Result<Option<Promotion>, StoreError> {
        let key = keys::PROMOTION.primary(id);
        let record: Option<PromotionRecord> = backend::body(self, "get_promotion", key).await?;
        Ok(record.and_then(|r| r.promotion()))
    }

    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let record: Option<OrderRecord> =
            backend::body(self, "get_order", keys::ORDER.primary(id)).await?;
        Ok(record.and_then(|r| r.order()))
    }

    async fn get_review(&self, id: &ReviewId) -> Result<Option<Review>, StoreError> {
        backend::body(self, "get_review", keys::REVIEW.primary(id)).await
    }

    async fn list_followers(
        &self,
        brand: &BrandId,
        page_token: Option<&str>,
        limit: usize,
    ) -> Result<Page<Follower>, StoreError> {
        let mut walk = FollowerWalk {
            brand,
            cursor: FollowerCursor::parse(page_token)?,
        };
        let items = backend::walk(self, "list_followers", &mut walk, limit).await?;
        Ok(Page {
            items,
            next: walk.cursor.token(),
        })
    }

    async fn list_promotions(
        &self,
        brand: &BrandId,
        asin: Option<&str>,
    ) -> Result<Vec<Promotion>, StoreError> {
        let sort = SortKeys::prefix(asin.map(keys::promotion_asin_prefix));
        let part = Partition::gsi1(keys::PROMOTION.of_brand(brand), sort);
        self.query("list_promotions", part).await
    }

    async fn list_orders(
        &self,
        brand: &BrandId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Order>, StoreError> {
        let pk = keys::ORDER.of_brand(brand);
        self.query("list_orders", Partition::in_period(pk, from, to))
            .await
    }

    async fn list_reviews(
        &self,
        brand: &BrandId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Review>, StoreError> {
        let pk = keys::REVIEW.of_brand(brand);
        self.query("list_reviews", Partition::in_period(pk, from, to))
            .await
    }
}
