//! Campaigns on SQLite: a transition patches the attributes it owns in the
//! stored document, inside the transaction that checked its status.

use serde_json::Value;

use super::is;
use crate::domain::campaign::CampaignStatus;

/// A campaign in one of `statuses`.
pub(super) fn status_in(stored: Option<&Value>, statuses: &[CampaignStatus]) -> bool {
    stored.is_some_and(|doc| statuses.iter().any(|s| is(doc, "status", s)))
}
