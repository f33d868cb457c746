//! Suppressed customers: no more marketing email from a brand (R-MAIL-2, R-MAIL-3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BrandId, CustomerId};

/// Why a customer is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// One-click or page unsubscribe.
    Unsubscribe,
    /// Hard bounce.
    Bounce,
    /// Complaint.
    Complaint,
}

/// A customer suppressed for a brand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suppression {
    /// The brand.
    pub brand_id: BrandId,
    /// The customer.
    pub customer_id: CustomerId,
    /// Why.
    pub reason: SuppressionReason,
    /// When (newest wins).
    pub updated_at: DateTime<Utc>,
}
