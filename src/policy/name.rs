//! The policies the code evaluates, by name: one place that spells them.
//!
//! A policy is data (`policies/<name>/`), but which policy governs a code path
//! is code: the path names it with a [`PolicyName`], so a misspelt name is a
//! compile error rather than an `UnknownPolicy` at run time. Names typed by a
//! user (`engage policy explain`, `GET /v1/policies/{name}`) stay strings.

use std::fmt;

/// A policy the code evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyName {
    /// Follower email campaigns (Manage Your Customer Engagement).
    Campaign,
    /// Answers to reviews (Contact Customer).
    Contact,
    /// Wording of every email and message.
    Content,
    /// The brand's account health dashboard.
    Health,
    /// Automated buyer messages.
    Message,
    /// The promotion a campaign features.
    Promotion,
    /// Sending a campaign: caps, suspension, headers.
    Send,
    /// The buyer-message sequences and their templates.
    Sequences,
}

impl PolicyName {
    /// Every policy the code evaluates.
    pub const ALL: [PolicyName; 8] = [
        PolicyName::Campaign,
        PolicyName::Contact,
        PolicyName::Content,
        PolicyName::Health,
        PolicyName::Message,
        PolicyName::Promotion,
        PolicyName::Send,
        PolicyName::Sequences,
    ];

    /// The directory name under `policies/`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PolicyName::Campaign => "campaign",
            PolicyName::Contact => "contact",
            PolicyName::Content => "content",
            PolicyName::Health => "health",
            PolicyName::Message => "message",
            PolicyName::Promotion => "promotion",
            PolicyName::Send => "send",
            PolicyName::Sequences => "sequences",
        }
    }
}

impl AsRef<str> for PolicyName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails loudly")]

    use super::*;

    #[test]
    fn every_name_names_a_bundled_policy_and_every_bundled_policy_has_a_name() {
        let bundled = crate::policy::PolicySet::bundled();
        let shipped: Vec<&str> = bundled.names().collect();
        for name in PolicyName::ALL {
            assert!(shipped.contains(&name.as_str()), "{name} is not shipped");
        }
        assert_eq!(
            shipped.len(),
            PolicyName::ALL.len(),
            "a shipped policy no code evaluates"
        );
    }
}
