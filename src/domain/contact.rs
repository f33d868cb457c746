//! Contacts sent in answer to negative reviews (R-CC-4, R-CC-7: one per review).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BrandId, ContactId, CustomerId, OrderId, ReviewId};

/// Why the brand contacts the customer (R-CC-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactReason {
    /// Offer a full refund.
    CourtesyRefund,
    /// Ask permission to be contacted through buyer-seller messaging.
    CustomerSupport,
}

/// One contact about one review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// The contact.
    pub id: ContactId,
    /// The review answered.
    pub review_id: ReviewId,
    /// The review's brand.
    pub brand_id: BrandId,
    /// The reviewer.
    pub customer_id: CustomerId,
    /// The order behind the review.
    pub order_id: OrderId,
    /// Why.
    pub reason: ContactReason,
    /// When the email was sent.
    pub sent_at: DateTime<Utc>,
    /// The policy that allowed it, `name@version`.
    pub policy: String,
}
