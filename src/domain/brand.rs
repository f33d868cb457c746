//! Brand profiles (Brand Registered events).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BrandId, SellerId};

/// The marketplaces a brand sells on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Marketplace {
    /// amazon.com (Pacific time for send windows).
    US,
    /// amazon.ca (Pacific time for send windows).
    CA,
}

impl Marketplace {
    /// Every marketplace engage serves.
    pub const ALL: [Marketplace; 2] = [Marketplace::US, Marketplace::CA];
}

/// A registered brand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Brand {
    /// The brand.
    pub brand_id: BrandId,
    /// Display name.
    pub name: String,
    /// The selling account that owns the brand.
    pub seller_id: SellerId,
    /// Where it sells.
    pub marketplace: Marketplace,
    /// Whether the brand has a store page (followers need one).
    pub has_store_page: bool,
    /// Instant of the event this state comes from (newest wins).
    pub updated_at: DateTime<Utc>,
}
