//! SES message tags: how an email names its brand, customer and campaign to the SES
//! events it causes (bounces, complaints, deliveries). The sender writes them in the
//! [`HEADER_SES_MESSAGE_TAGS`] header of the raw message, which SES reads and removes
//! before delivery; the event's `mail.tags` gives them back to
//! [`crate::jobs::ses_events`]. Contact emails carry them: they have no unsubscribe
//! link, so without tags their bounces and complaints would name no brand or customer
//! (campaign emails and buyer messages are known by their unsubscribe token).

use crate::domain::{BrandId, CampaignId, CustomerId};

/// SES message tag naming the brand of an email.
pub const TAG_BRAND: &str = "engage-brand";
/// SES message tag naming the customer an email went to.
pub const TAG_CUSTOMER: &str = "engage-customer";
/// SES message tag naming the campaign of a campaign email.
pub const TAG_CAMPAIGN: &str = "engage-campaign";
/// Raw-message header SES reads message tags from (`name=value, name=value`) and
/// removes before delivery.
pub const HEADER_SES_MESSAGE_TAGS: &str = "X-SES-MESSAGE-TAGS";

/// Whether `value` can be an SES message tag value.
pub fn is_tag_value(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 256
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'))
}

/// The engage SES message tags of one email, leaving out values SES would refuse.
pub fn message_tags(
    brand: &BrandId,
    customer: &CustomerId,
    campaign: Option<&CampaignId>,
) -> Vec<(&'static str, String)> {
    let mut tags = vec![
        (TAG_BRAND, brand.to_string()),
        (TAG_CUSTOMER, customer.to_string()),
    ];
    if let Some(c) = campaign {
        tags.push((TAG_CAMPAIGN, c.to_string()));
    }
    tags.retain(|(_, v)| is_tag_value(v));
    tags
}

/// The value of [`HEADER_SES_MESSAGE_TAGS`] for one email (`None` when no tag fits).
pub fn message_tags_header(
    brand: &BrandId,
    customer: &CustomerId,
    campaign: Option<&CampaignId>,
) -> Option<String> {
    let tags = message_tags(brand, customer, campaign);
    (!tags.is_empty()).then(|| {
        tags.iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}
