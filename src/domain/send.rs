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

/// What a campaign's sending did so far, kept per batch on the campaign item
/// (never a write per recipient). `targeted` counts the followers the walk
/// reached that still follow the brand; every one of them ends in exactly one
/// of `sent`, `skipped_frequency_cap`, `skipped_suppressed`, `failed`, or is
/// still `pending` (its send failed transiently and is retried by the next run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendCounters {
    /// Followers reached by the walk (unfollowed ones excluded).
    pub targeted: u64,
    /// Accepted by the mail provider.
    pub sent: u64,
    /// Skipped: the brand reached the customer less than the cap ago (R-MYCE-14).
    pub skipped_frequency_cap: u64,
    /// Skipped: suppressed (unsubscribe, bounce, complaint) or no relay address.
    pub skipped_suppressed: u64,
    /// Passed by: no longer follows the brand (not counted in `targeted`).
    #[serde(default)]
    pub skipped_unfollowed: u64,
    /// Refused permanently by the mail provider (never counted as sent).
    pub failed: u64,
}

impl SendCounters {
    /// Adds `other` to `self`.
    pub fn add(&mut self, other: &SendCounters) {
        self.targeted += other.targeted;
        self.sent += other.sent;
        self.skipped_frequency_cap += other.skipped_frequency_cap;
        self.skipped_suppressed += other.skipped_suppressed;
        self.skipped_unfollowed += other.skipped_unfollowed;
        self.failed += other.failed;
    }
}

/// The send checkpoint of a campaign, stored on its item and moved forward by
/// one conditional update per batch (`seq` is the optimistic version).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendProgress {
    /// Incremented by every checkpoint; a checkpoint applies only on the `seq` it read.
    pub seq: u64,
    /// The follower page token right after the last handled follower (`None`: from the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Customers whose cap this campaign holds but whose send failed transiently:
    /// retried first by the next run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retry: Vec<CustomerId>,
    /// Every follower was walked.
    #[serde(default)]
    pub walked: bool,
    /// The counters so far.
    #[serde(default)]
    pub counters: SendCounters,
}

impl SendProgress {
    /// Recipients not finished yet (transient failures waiting for a retry).
    pub fn pending(&self) -> u64 {
        self.retry.len() as u64
    }

    /// Whether nothing is left to do: every follower walked, no retry pending.
    pub fn finished(&self) -> bool {
        self.walked && self.retry.is_empty()
    }
}
