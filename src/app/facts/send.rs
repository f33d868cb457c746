//! Facts of the `send` policy: the wave (campaign, promotion, the brand's mail
//! feedback, the email's headers) and one recipient's state. The fact names are
//! what `jobs::send::rules` splits the policy's rules by.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::promotion::promotion_fact;
use crate::domain::campaign::Campaign;
use crate::domain::promotion::Promotion;
use crate::policy::{FactValue, Facts};
use crate::store::FeedbackCounts;

/// The campaign fact.
pub const CAMPAIGN: &str = "campaign";

/// The promotion fact (null without one).
pub const PROMOTION: &str = "promotion";

/// The fact the recipient-level rules read.
pub const RECIPIENT: &str = "recipient";

/// The fact the header rules read (the planner has no email to show them).
pub const EMAIL: &str = "email";

/// The fact the brand-level rules read: the brand's mail feedback.
pub const SENDER: &str = "sender";

/// The `sender` fact: the brand's complaint rate and deliveries.
pub fn sender_fact(counts: &FeedbackCounts) -> FactValue {
    FactValue::map()
        .with("complaintRate", counts.complaint_rate())
        .with(
            "deliveries",
            i64::try_from(counts.delivered).unwrap_or(i64::MAX),
        )
}

/// The brand-level facts: `now` and the brand's mail feedback.
pub fn brand_facts(now: DateTime<Utc>, sender: &FeedbackCounts) -> Facts {
    Facts::new()
        .with("now", now)
        .with(SENDER, sender_fact(sender))
}

/// The campaign-level facts of one wave: `now`, `zone` (the brand's marketplace
/// time zone), `campaign`, `promotion`, `sender`, `email` (`headers`).
pub fn wave_facts(
    now: DateTime<Utc>,
    tz: Tz,
    campaign: &Campaign,
    promotion: Option<&Promotion>,
    sender: &FeedbackCounts,
    headers: &[(String, String)],
) -> Facts {
    let mut header_map = FactValue::map();
    for (name, value) in headers {
        header_map = header_map.with(name.clone(), value.as_str());
    }
    Facts::at(now, tz)
        .with(
            CAMPAIGN,
            FactValue::map()
                .with("id", campaign.id.as_str())
                .with("brandId", campaign.brand_id.as_str())
                .with("status", campaign.status.to_string())
                .with("startDate", campaign.start_date.to_string())
                .with("windowStart", campaign.send_window.start)
                .with("windowEnd", campaign.send_window.end),
        )
        .with(PROMOTION, promotion_fact(promotion))
        .with(SENDER, sender_fact(sender))
        .with(EMAIL, FactValue::map().with("headers", header_map))
}

/// One recipient's state (`lastReachedAt` null, `skippedByCap` false: the
/// frequency cap is decided by the cap write, not by the policy's facts).
pub fn recipient_fact(
    unfollowed: bool,
    suppressed: bool,
    has_relay_address: bool,
    locale: &str,
) -> FactValue {
    FactValue::map()
        .with("unfollowed", unfollowed)
        .with("unsubscribed", false)
        .with("suppressed", suppressed)
        .with("hasRelayAddress", has_relay_address)
        .with("locale", locale)
        .with("lastReachedAt", FactValue::Null)
        .with("skippedByCap", false)
}
