//! Mail feedback counters per brand (R-MAIL-3): how many of its emails were
//! delivered, complained about and hard-bounced, from SES events. The complaint
//! rate `complained / delivered` is what pauses a brand's sending campaigns.
//!
//! Each SES event is counted once: [`FeedbackStore::count_feedback`] stores a
//! marker for the event's key and adds one to the counter in one atomic step
//! (a SQLite transaction; a DynamoDB `TransactWriteItems` whose marker put is
//! conditional on `attribute_not_exists(pk)`), so a redelivered event changes
//! nothing. Markers expire (TTL) after [`MARKER_TTL_DAYS`] days, far beyond
//! EventBridge's 24-hour retry window. The counters are cumulative per brand.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::backend;
use super::item::Item;
use super::{StoreError, keys};
use crate::domain::BrandId;

/// How long the marker of a counted event is kept.
pub const MARKER_TTL_DAYS: i64 = 30;

/// What one SES event adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    /// SES delivered the email to the recipient's mail server.
    Delivered,
    /// The recipient marked it as spam.
    Complained,
    /// A permanent (hard) bounce.
    Bounced,
}

impl FeedbackKind {
    /// The counter attribute this kind adds to.
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Complained => "complained",
            Self::Bounced => "bounced",
        }
    }
}

/// A brand's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackCounts {
    /// Delivered emails.
    #[serde(default)]
    pub delivered: u64,
    /// Complaints.
    #[serde(default)]
    pub complained: u64,
    /// Hard bounces.
    #[serde(default)]
    pub bounced: u64,
}

impl FeedbackCounts {
    /// The counters after one more event of `kind`.
    pub(crate) fn add(mut self, kind: FeedbackKind) -> Self {
        match kind {
            FeedbackKind::Delivered => self.delivered += 1,
            FeedbackKind::Complained => self.complained += 1,
            FeedbackKind::Bounced => self.bounced += 1,
        }
        self
    }

    /// Complaints over deliveries (0 before any delivery).
    pub fn complaint_rate(&self) -> f64 {
        if self.delivered == 0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let rate = self.complained as f64 / self.delivered as f64;
        rate
    }
}

/// What [`FeedbackStore::count_feedback`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackOutcome {
    /// Counted now; the counters after.
    Counted(FeedbackCounts),
    /// This event key was already counted (a redelivery): nothing changed; the counters now.
    Repeat(FeedbackCounts),
}

impl FeedbackOutcome {
    /// The counters, either way.
    pub fn counts(&self) -> FeedbackCounts {
        match self {
            Self::Counted(c) | Self::Repeat(c) => *c,
        }
    }
}

port! {
    /// Per-brand mail feedback counters.
    pub trait FeedbackStore {
        /// Counts the event `event_key` once for `brand`: atomically stores the key's
        /// marker (unless present) and adds one to the `kind` counter.
        async fn count_feedback(
            &self,
            brand: &BrandId,
            event_key: &str,
            kind: FeedbackKind,
            at: DateTime<Utc>,
        ) -> Result<FeedbackOutcome, StoreError> {
            let record = MailEventRecord {
                event_key: event_key.to_owned(),
                brand_id: brand.clone(),
                kind,
                counted_at: at,
            };
            let marker = Item::new(keys::mail_event(event_key), record)
                .expiring(at + Duration::days(MARKER_TTL_DAYS));
            self.count_event(marker).await
        }

        /// A brand's counters (all zero when none were kept).
        async fn feedback_counts(&self, brand: &BrandId) -> Result<FeedbackCounts, StoreError> {
            let record: Option<FeedbackRecord> =
                backend::body(self, "feedback_counts", keys::feedback(brand).key()).await?;
            Ok(record.map(|r| r.counts).unwrap_or_default())
        }
    }
}

/// The stored counter item's body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FeedbackRecord {
    pub brand_id: BrandId,
    #[serde(flatten)]
    pub counts: FeedbackCounts,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The stored marker of one counted event.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MailEventRecord {
    pub event_key: String,
    pub brand_id: BrandId,
    pub kind: FeedbackKind,
    pub counted_at: DateTime<Utc>,
}
