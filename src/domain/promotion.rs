//! Marketplace promotions (R-MYCE-11, R-MYCE-12).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BrandId, PromotionId};

/// The kind of promotion; only 7-day deals and coupons can go in a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionType {
    /// A 7-day deal.
    SevenDayDeal,
    /// A coupon.
    Coupon,
    /// Any other type (not eligible).
    #[serde(other)]
    Other,
}

/// Where a promotion stands on the marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PromotionState {
    /// Created or updated, running or scheduled.
    #[default]
    Active,
    /// Cancelled by the seller.
    Canceled,
    /// Rejected by the marketplace.
    Rejected,
}

/// A promotion on one product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    /// The promotion.
    pub promotion_id: PromotionId,
    /// Its brand.
    pub brand_id: BrandId,
    /// The product it applies to.
    pub asin: String,
    /// Its type.
    #[serde(rename = "type")]
    pub promotion_type: PromotionType,
    /// First instant it applies.
    pub starts_at: DateTime<Utc>,
    /// Last instant it applies.
    pub ends_at: DateTime<Utc>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Active, cancelled or rejected.
    #[serde(default)]
    pub state: PromotionState,
    /// Instant of the event this state comes from (newest wins).
    pub updated_at: DateTime<Utc>,
}

/// What a promotion event says.
#[derive(Debug, Clone, PartialEq)]
pub enum PromotionChangeKind {
    /// Promotion Created or Promotion Updated: the definition, versioned by `at`
    /// (`createdAt` for a creation, the event's instant for an update).
    Defined {
        /// The product.
        asin: String,
        /// Its type.
        promotion_type: PromotionType,
        /// First instant it applies.
        starts_at: DateTime<Utc>,
        /// Last instant it applies.
        ends_at: DateTime<Utc>,
        /// When it was created.
        created_at: DateTime<Utc>,
        /// The version of this definition.
        at: DateTime<Utc>,
    },
    /// Promotion Canceled or Promotion Rejected, at the event's instant.
    Ended {
        /// `Canceled` or `Rejected`.
        state: PromotionState,
        /// When.
        at: DateTime<Utc>,
    },
}

/// A change to one promotion, merged by [`PromotionRecord::apply`].
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionChange {
    /// The promotion.
    pub promotion_id: PromotionId,
    /// Its brand.
    pub brand_id: BrandId,
    /// Definition or end.
    pub kind: PromotionChangeKind,
}

/// The stored state of a promotion, also when its end is known before its
/// definition. Serialises like [`Promotion`] once defined.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromotionRecord {
    /// The promotion.
    pub promotion_id: PromotionId,
    /// Its brand.
    pub brand_id: BrandId,
    /// The product.
    pub asin: Option<String>,
    /// Its type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub promotion_type: Option<PromotionType>,
    /// First instant it applies.
    pub starts_at: Option<DateTime<Utc>>,
    /// Last instant it applies.
    pub ends_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// Active, cancelled or rejected.
    #[serde(default)]
    pub state: PromotionState,
    /// Version of the definition kept.
    pub defined_at: Option<DateTime<Utc>>,
    /// When it was cancelled or rejected.
    pub ended_at: Option<DateTime<Utc>>,
    /// The newest instant of any change.
    pub updated_at: DateTime<Utc>,
}

impl PromotionRecord {
    /// An empty record.
    pub fn new(promotion_id: PromotionId, brand_id: BrandId) -> Self {
        Self {
            promotion_id,
            brand_id,
            asin: None,
            promotion_type: None,
            starts_at: None,
            ends_at: None,
            created_at: None,
            state: PromotionState::Active,
            defined_at: None,
            ended_at: None,
            updated_at: DateTime::<Utc>::MIN_UTC,
        }
    }

    /// Merges a change; returns whether the record changed.
    ///
    /// The definition keeps the newest version; the end (cancelled or rejected)
    /// is final: a later update never reactivates the promotion (the marketplace
    /// does not revive one; a fix is a new promotion), and of two ends the newest
    /// names the state. Commutative and idempotent, so any order converges.
    pub fn apply(&mut self, change: &PromotionChange) -> bool {
        let defined_at = self
            .defined_at
            .or_else(|| self.asin.is_some().then_some(self.updated_at));
        let at = match &change.kind {
            PromotionChangeKind::Defined {
                asin,
                promotion_type,
                starts_at,
                ends_at,
                created_at,
                at,
            } => {
                if defined_at.is_some_and(|old| *at <= old) {
                    return false;
                }
                self.asin = Some(asin.clone());
                self.promotion_type = Some(*promotion_type);
                self.starts_at = Some(*starts_at);
                self.ends_at = Some(*ends_at);
                self.created_at = Some(*created_at);
                self.defined_at = Some(*at);
                self.brand_id.clone_from(&change.brand_id);
                *at
            }
            PromotionChangeKind::Ended { state, at } => {
                if self.ended_at.is_some_and(|old| *at <= old) {
                    return false;
                }
                self.state = *state;
                self.ended_at = Some(*at);
                *at
            }
        };
        self.updated_at = self.updated_at.max(at);
        true
    }

    /// The promotion, once its definition is known.
    pub fn promotion(&self) -> Option<Promotion> {
        Some(Promotion {
            promotion_id: self.promotion_id.clone(),
            brand_id: self.brand_id.clone(),
            asin: self.asin.clone()?,
            promotion_type: self.promotion_type?,
            starts_at: self.starts_at?,
            ends_at: self.ends_at?,
            created_at: self.created_at?,
            state: self.state,
            updated_at: self.updated_at,
        })
    }
}
