//! Product reviews (Review Posted events).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BrandId, CustomerId, OrderId, ReviewId};

/// A customer review of a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    /// The review.
    pub review_id: ReviewId,
    /// Brand of the product.
    pub brand_id: BrandId,
    /// The product.
    pub asin: String,
    /// The order behind it.
    pub order_id: OrderId,
    /// The reviewer.
    pub customer_id: CustomerId,
    /// Stars, 1 to 5.
    pub rating: u8,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Tied to a verified purchase (R-CC-6).
    pub verified_purchase: bool,
    /// When it was posted.
    pub posted_at: DateTime<Utc>,
    /// Instant of the event this state comes from (newest wins).
    pub updated_at: DateTime<Utc>,
}
