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
