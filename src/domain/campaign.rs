//! Follower email campaigns (MYCE) and their lifecycle.
//!
//! ```text
//! IN_REVIEW -> APPROVED -> SENDING -> SENT
//!     |           |          |
//!     |           |          +-> SUSPENDED | CANCELLED
//!     |           +-> SUSPENDED | CANCELLED | EXPIRED
//!     +-> NOT_APPROVED | SUSPENDED | CANCELLED | EXPIRED
//! ```
//! `SENT`, `NOT_APPROVED`, `SUSPENDED`, `CANCELLED` and `EXPIRED` are terminal.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{BrandId, CampaignId, PromotionId};

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignStatus {
    /// Submitted, awaiting moderation.
    InReview,
    /// Approved and scheduled.
    Approved,
    /// The send window is open and sending is under way.
    Sending,
    /// Every follower was handled (terminal).
    Sent,
    /// Rejected by moderation, never sent (terminal, R-MYCE-16).
    NotApproved,
    /// Its promotion was cancelled or rejected (terminal, R-MYCE-12).
    Suspended,
    /// Cancelled by the brand (terminal).
    Cancelled,
    /// The window ended before approval (terminal).
    Expired,
}

impl CampaignStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [CampaignStatus; 8] = [
        Self::InReview,
        Self::Approved,
        Self::Sending,
        Self::Sent,
        Self::NotApproved,
        Self::Suspended,
        Self::Cancelled,
        Self::Expired,
    ];

    /// The wire name, e.g. `IN_REVIEW`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InReview => "IN_REVIEW",
            Self::Approved => "APPROVED",
            Self::Sending => "SENDING",
            Self::Sent => "SENT",
            Self::NotApproved => "NOT_APPROVED",
            Self::Suspended => "SUSPENDED",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
        }
    }

    /// No transition leaves a terminal status.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Sent | Self::NotApproved | Self::Suspended | Self::Cancelled | Self::Expired
        )
    }

    /// Whether the lifecycle allows moving from `self` to `to`.
    pub fn can_transition(self, to: CampaignStatus) -> bool {
        can_transition(self, to)
    }
}

/// Whether the lifecycle allows moving a campaign from `from` to `to`.
///
/// `IN_REVIEW -> SUSPENDED` is allowed because a promotion cancelled before
/// moderation must stop the campaign too (R-MYCE-12); `SENDING -> CANCELLED`
/// is allowed because the brand may cancel until sending has finished.
pub fn can_transition(from: CampaignStatus, to: CampaignStatus) -> bool {
    use CampaignStatus::*;
    matches!(
        (from, to),
        (
            InReview,
            Approved | NotApproved | Suspended | Cancelled | Expired
        ) | (Approved, Sending | Suspended | Cancelled | Expired)
            | (Sending, Sent | Suspended | Cancelled)
    )
}

impl fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of [`CampaignStatus::ALL`].
#[derive(Debug, Clone, Error)]
#[error("unknown campaign status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for CampaignStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// Whether an image or link address can go into an email: `https://` or
/// `http://` (or, in a preview only, a `data:image/` URL) and no whitespace or
/// control character, which would need more than attribute escaping. The
/// renderer and the campaign policy (`renderableUrl`) both ask this.
pub fn renderable_url(url: &str, allow_data_image: bool) -> bool {
    let lower = url.get(..11).unwrap_or(url).to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (allow_data_image && lower.starts_with("data:image/"));
    scheme_ok && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An image referenced by URL with its pixel size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// Where the image is.
    pub url: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Logo file format (R-MYCE-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogoFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpg,
}

/// Logo background (R-MYCE-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogoBackground {
    /// Transparent (PNG).
    Transparent,
    /// White (JPG).
    White,
    /// Black (JPG).
    Black,
}

/// The brand logo of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Logo {
    /// Where the logo is.
    pub url: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// File format.
    pub format: LogoFormat,
    /// Background.
    pub background: LogoBackground,
}

/// Header style of the email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeaderStyle {
    /// Dark header.
    Dark,
    /// Light header.
    Light,
}

/// A rule that fired as a warning when the campaign was submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// The rule id.
    pub rule: String,
    /// The rule's message.
    pub message: String,
    /// The input field concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The instants between which a campaign may be sent (R-MYCE-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendWindow {
    /// Opens (local midnight of the start date).
    pub start: DateTime<Utc>,
    /// Closes.
    pub end: DateTime<Utc>,
}

/// A follower email campaign, as `CONTRACT.md` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    /// The campaign.
    pub id: CampaignId,
    /// Its brand.
    pub brand_id: BrandId,
    /// What the campaign is for (R-MYCE-2): `new_product`, `featured_product`
    /// or `holiday_gift_guide` (an extension of CONTRACT.md's object).
    #[serde(default)]
    pub purpose: Option<String>,
    /// Internal name, never shown to customers (R-MYCE-10).
    pub nickname: String,
    /// Event theme id (R-MYCE-3).
    #[serde(default)]
    pub theme: Option<String>,
    /// The primary product (R-MYCE-4).
    pub primary_asin: String,
    /// The promotion shown on the primary product (R-MYCE-11).
    #[serde(default)]
    pub promotion_id: Option<PromotionId>,
    /// The lifestyle image (R-MYCE-5).
    pub lifestyle_image: Image,
    /// Up to four complementary products (R-MYCE-6).
    #[serde(default)]
    pub complementary_asins: Vec<String>,
    /// The selected start date, in the marketplace's time zone (R-MYCE-7).
    pub start_date: NaiveDate,
    /// Inbox subject (R-MYCE-8).
    pub subject: String,
    /// Text at the top of the body (R-MYCE-8).
    pub section_header: String,
    /// Brand logo (R-MYCE-9).
    pub logo: Logo,
    /// Dark or light header (R-MYCE-9).
    pub header_style: HeaderStyle,
    /// Where it stands.
    pub status: CampaignStatus,
    /// Why it is in its status (moderation reasons, suspension cause, ...).
    #[serde(default)]
    pub status_reason: Option<String>,
    /// The policy that accepted it, `name@version`.
    pub policy: String,
    /// Warnings raised at submission.
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// When it may be sent.
    pub send_window: SendWindow,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When its status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::CampaignStatus::*;
    use super::*;

    #[test]
    fn lifecycle_edges() {
        assert!(can_transition(InReview, Approved));
        assert!(can_transition(InReview, NotApproved));
        assert!(can_transition(Approved, Sending));
        assert!(can_transition(Sending, Sent));
        assert!(can_transition(Sending, Cancelled));
        assert!(!can_transition(InReview, Sending));
        assert!(!can_transition(Approved, NotApproved));
        assert!(!can_transition(Sending, Expired));
        for from in CampaignStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in CampaignStatus::ALL {
                assert!(!can_transition(from, to), "{from} -> {to}");
            }
        }
        for s in CampaignStatus::ALL {
            assert!(!can_transition(s, s));
        }
    }

    #[test]
    fn status_wire_names() {
        for s in CampaignStatus::ALL {
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(s.as_str().parse::<CampaignStatus>().ok(), Some(s));
        }
    }
}
