//! The send ledger: what happened to one recipient of one campaign.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BrandId, CampaignId, CustomerId};

/// What a campaign did for one follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendOutcome {
    /// The mail provider accepted the message.
    Sent,
    /// Skipped: the brand reached the customer less than the cap ago (R-MYCE-14).
    SkippedFrequencyCap,
    /// Skipped: the customer is suppressed.
    SkippedSuppressed,
    /// Skipped: the customer no longer follows the brand.
    SkippedUnfollowed,
    /// The mail provider refused the message permanently.
    Failed,
}

/// One entry of the send ledger, at most one per (campaign, customer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRecord {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// The campaign's brand.
    pub brand_id: BrandId,
    /// The recipient.
    pub customer_id: CustomerId,
    /// What happened.
    pub outcome: SendOutcome,
    /// The provider's message id, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}
