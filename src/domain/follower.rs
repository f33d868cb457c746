//! Followers of a brand: follow and suppression state travel with the item, so
//! a send run reads no extra item per recipient.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BrandId, CustomerId};

/// A customer following a brand's store page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Follower {
    /// The brand followed.
    pub brand_id: BrandId,
    /// The customer.
    pub customer_id: CustomerId,
    /// The anonymised relay address (R-MSG-4); empty when only an unfollow is known.
    #[serde(default)]
    pub relay_email: String,
    /// The customer's locale, e.g. `en-US`.
    #[serde(default)]
    pub locale: String,
    /// When the customer followed.
    pub followed_at: DateTime<Utc>,
    /// The customer unfollowed the brand (kept, not deleted, so late events stay ordered).
    #[serde(default)]
    pub unfollowed: bool,
    /// The customer is suppressed for this brand (unsubscribe, bounce, complaint).
    /// The store keeps it across later follow events; see `EntityStore::suppress`.
    #[serde(default)]
    pub suppressed: bool,
    /// Instant of the event this state comes from (newest wins).
    pub updated_at: DateTime<Utc>,
}

impl Follower {
    /// Whether a campaign may be sent to this follower.
    pub fn reachable(&self) -> bool {
        !self.unfollowed && !self.suppressed && !self.relay_email.is_empty()
    }
}
