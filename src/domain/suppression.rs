//! Suppressed customers: no more marketing email from a brand (R-MAIL-2, R-MAIL-3).
//!
//! One record per (brand, customer). What it stops:
//! - every campaign of the brand (the store also sets the follower's `suppressed`
//!   flag, so send runs see it without a read);
//! - every buyer message that is not a service message (`review_request`), whatever
//!   the reason and the scope;
//! - service messages (`return_received`, ...) only after a hard bounce: the address
//!   cannot receive anything. An unsubscribe or a complaint still lets them through
//!   (CONTRACT.md, "Emails").
//!
//! `scopes` says which unsubscribe links the customer used ([`SuppressionScope`]):
//! `message` is a buyer-message opt-out, `campaign` a campaign opt-out. It is empty
//! for bounces and complaints, which concern the address. Records are combined
//! with [`Suppression::combine`], so a later event never weakens an earlier one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BrandId, CustomerId};

/// Why a customer is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// One-click or page unsubscribe.
    Unsubscribe,
    /// Hard bounce.
    Bounce,
    /// Complaint.
    Complaint,
}

impl SuppressionReason {
    /// How much the reason stops: a bounce (the address is dead) over a complaint
    /// over an unsubscribe.
    fn strength(self) -> u8 {
        match self {
            Self::Unsubscribe => 0,
            Self::Complaint => 1,
            Self::Bounce => 2,
        }
    }
}

/// Which kind of email's unsubscribe link the customer used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionScope {
    /// A follower campaign (MYCE) link.
    Campaign,
    /// An automated buyer message link (review request and the like).
    Message,
}

/// A customer suppressed for a brand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suppression {
    /// The brand.
    pub brand_id: BrandId,
    /// The customer.
    pub customer_id: CustomerId,
    /// Why (the strongest reason seen).
    pub reason: SuppressionReason,
    /// The unsubscribe links used, sorted, without repeats (empty for bounces and
    /// complaints).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<SuppressionScope>,
    /// When (newest wins).
    pub updated_at: DateTime<Utc>,
}

impl Suppression {
    /// A suppression for `reason`, with the scope of the link used, if any.
    pub fn new(
        brand_id: BrandId,
        customer_id: CustomerId,
        reason: SuppressionReason,
        scope: Option<SuppressionScope>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            brand_id,
            customer_id,
            reason,
            scopes: scope.into_iter().collect(),
            updated_at: at,
        }
    }

    /// Whether the customer used a buyer-message unsubscribe link.
    pub fn opted_out_of_messages(&self) -> bool {
        self.scopes.contains(&SuppressionScope::Message)
    }

    /// Whether the customer used a campaign unsubscribe link.
    pub fn opted_out_of_campaigns(&self) -> bool {
        self.scopes.contains(&SuppressionScope::Campaign)
    }

    /// Whether service buyer messages (`return_received`, ...) may still be sent:
    /// yes unless the address hard-bounced.
    pub fn allows_service_messages(&self) -> bool {
        self.reason != SuppressionReason::Bounce
    }

    /// The record to store when `self` happens and `existing` is stored: the
    /// strongest reason and the union of the scopes, stamped `self.updated_at`.
    /// `None` when `existing` already says all of it (nothing to write; the
    /// follower flag can still be re-applied with `existing`).
    pub fn combine(self, existing: Option<&Suppression>) -> Option<Suppression> {
        let Some(old) = existing else {
            let mut new = self;
            new.scopes.sort();
            new.scopes.dedup();
            return Some(new);
        };
        let reason = if self.reason.strength() > old.reason.strength() {
            self.reason
        } else {
            old.reason
        };
        let mut scopes = old.scopes.clone();
        scopes.extend(self.scopes.iter().copied());
        scopes.sort();
        scopes.dedup();
        if reason == old.reason && scopes == old.scopes {
            return None;
        }
        Some(Suppression {
            reason,
            scopes,
            updated_at: self
                .updated_at
                .max(old.updated_at + chrono::Duration::microseconds(1)),
            ..self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default()
    }

    fn sup(reason: SuppressionReason, scope: Option<SuppressionScope>, s: i64) -> Suppression {
        Suppression::new(
            BrandId::new("B1"),
            CustomerId::new("C1"),
            reason,
            scope,
            at(s),
        )
    }

    #[test]
    fn combine_keeps_the_strongest_reason_and_every_scope() {
        use SuppressionReason::*;
        use SuppressionScope::*;
        let first = sup(Unsubscribe, Some(Message), 0).combine(None);
        let first = first.as_ref();
        assert!(first.is_some_and(|s| s.opted_out_of_messages() && s.allows_service_messages()));
        // The same again: nothing to write.
        assert_eq!(sup(Unsubscribe, Some(Message), 5).combine(first), None);
        // A campaign opt-out adds its scope.
        let both = sup(Unsubscribe, Some(Campaign), 5).combine(first);
        assert_eq!(
            both.as_ref().map(|s| s.scopes.clone()),
            Some(vec![Campaign, Message])
        );
        // A bounce strengthens; a later unsubscribe never weakens it.
        let bounced = sup(Bounce, None, 6).combine(both.as_ref());
        assert!(
            bounced
                .as_ref()
                .is_some_and(|s| s.reason == Bounce && !s.allows_service_messages())
        );
        assert_eq!(
            sup(Unsubscribe, Some(Campaign), 7).combine(bounced.as_ref()),
            None
        );
        assert_eq!(sup(Complaint, None, 7).combine(bounced.as_ref()), None);
        // A change stamped earlier than the stored record still wins newest-wins.
        let late = sup(Complaint, None, -10).combine(first);
        assert!(late.is_some_and(|s| s.updated_at > at(0)));
    }
}
