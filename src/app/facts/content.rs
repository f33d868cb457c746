//! Facts of the `content` policy, and the one checker every path that writes
//! to a customer runs: campaign subjects and headers, contact emails, buyer
//! message templates.

use chrono::{DateTime, Utc};

use crate::policy::{Decision, Facts, PolicyError, PolicyName, PolicySet};

/// Where a text goes: the content policy's rules may differ by channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A follower email campaign.
    Campaign,
    /// A Contact Customer email.
    Contact,
    /// An automated buyer message.
    BuyerMessage,
}

impl Channel {
    /// The `channel` fact.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Campaign => "campaign",
            Channel::Contact => "contact",
            Channel::BuyerMessage => "buyer_message",
        }
    }
}

/// One text the content policy reads.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a> {
    /// The field its violations are reported under (`subject`, `html`, ...).
    pub field: &'a str,
    /// The words.
    pub text: &'a str,
    /// A header field (a subject line) rather than a body.
    pub header: bool,
}

/// Facts of the `content` policy for one text.
pub fn content_facts(text: &str, channel: Channel, header: bool) -> Facts {
    Facts::new()
        .with("text", text)
        .with("channel", channel.as_str())
        .with("header", header)
}

/// The `content` policy in force at `at` over each text of one message, every
/// violation naming its field (unless its rule names one), merged.
///
/// # Errors
/// No content policy in force; facts that cannot be bound.
pub fn check_content<'a>(
    policies: &PolicySet,
    at: DateTime<Utc>,
    channel: Channel,
    texts: impl IntoIterator<Item = Text<'a>>,
) -> Result<Decision, PolicyError> {
    let policy = policies.in_force(PolicyName::Content, at)?;
    let mut decisions = Vec::new();
    for t in texts {
        let facts = content_facts(t.text, channel, t.header);
        decisions.push(policy.evaluate(at, &facts)?.with_field(t.field));
    }
    Ok(Decision::merge_all(decisions))
}
