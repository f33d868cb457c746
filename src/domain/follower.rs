//! Followers of a brand: follow and suppression state travel with the item, so
//! a send run reads no extra item per recipient.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BrandId, CustomerId};

/// A customer following a brand's store page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Follower {
    /// The brand followed.
    pub brand_id: BrandId,
    /// The customer.
    pub customer_id: CustomerId,
    /// The anonymised relay address (R-MSG-4); empty when only an unfollow is known.
    #[serde(default)]
    pub relay_email: String,
    /// The customer's locale, e.g. `en-US`.
    #[serde(default)]
    pub locale: String,
    /// When the customer followed.
    pub followed_at: DateTime<Utc>,
    /// The customer unfollowed the brand (kept, not deleted, so late events stay ordered).
    #[serde(default)]
    pub unfollowed: bool,
    /// The customer is suppressed for this brand (unsubscribe, bounce, complaint).
    /// The store keeps it across later follow events; see `EntityStore::suppress`.
    #[serde(default)]
    pub suppressed: bool,
    /// Instant of the event this state comes from (newest wins).
    pub updated_at: DateTime<Utc>,
}

impl Follower {
    /// Whether a campaign may be sent to this follower.
    pub fn reachable(&self) -> bool {
        !self.unfollowed && !self.suppressed && !self.relay_email.is_empty()
    }
}

/// What a follow event says about one (brand, customer).
#[derive(Debug, Clone, PartialEq)]
pub enum FollowKind {
    /// The customer followed the brand (Brand Followed).
    Followed {
        /// The anonymised relay address.
        relay_email: String,
        /// The customer's locale.
        locale: String,
        /// When the customer followed.
        followed_at: DateTime<Utc>,
    },
    /// The customer unfollowed the brand (Brand Unfollowed), at the event's instant.
    Unfollowed {
        /// When the customer unfollowed.
        at: DateTime<Utc>,
    },
}

/// A follow or unfollow of one customer, merged into the stored follower by
/// [`FollowChange::apply`].
#[derive(Debug, Clone, PartialEq)]
pub struct FollowChange {
    /// The brand.
    pub brand_id: BrandId,
    /// The customer.
    pub customer_id: CustomerId,
    /// Follow or unfollow.
    pub kind: FollowKind,
}

impl FollowChange {
    /// Merges the change into the stored follower; `None` when it changes nothing
    /// (a repeat or an older event).
    ///
    /// The merge is commutative and idempotent, so any order of the same events
    /// ends in the same follower:
    /// - the contact fields (relay address, locale, `followedAt`) come from the
    ///   follow with the newest `followedAt` (an unfollow-only record has none yet:
    ///   an empty relay address and `followedAt` set to the unfollow instant);
    /// - `unfollowed` and `updatedAt` come from the newest event of either kind;
    /// - `suppressed` is never touched here.
    pub fn apply(&self, stored: Option<&Follower>) -> Option<Follower> {
        match (&self.kind, stored) {
            (
                FollowKind::Followed {
                    relay_email,
                    locale,
                    followed_at,
                },
                None,
            ) => Some(Follower {
                brand_id: self.brand_id.clone(),
                customer_id: self.customer_id.clone(),
                relay_email: relay_email.clone(),
                locale: locale.clone(),
                followed_at: *followed_at,
                unfollowed: false,
                suppressed: false,
                updated_at: *followed_at,
            }),
            (FollowKind::Unfollowed { at }, None) => Some(Follower {
                brand_id: self.brand_id.clone(),
                customer_id: self.customer_id.clone(),
                relay_email: String::new(),
                locale: String::new(),
                followed_at: *at,
                unfollowed: true,
                suppressed: false,
                updated_at: *at,
            }),
            (
                FollowKind::Followed {
                    relay_email,
                    locale,
                    followed_at,
                },
                Some(old),
            ) => {
                let mut new = old.clone();
                let no_follow_known = old.relay_email.is_empty();
                if no_follow_known || *followed_at > old.followed_at {
                    new.relay_email.clone_from(relay_email);
                    new.locale.clone_from(locale);
                    new.followed_at = *followed_at;
                }
                if *followed_at > old.updated_at {
                    new.unfollowed = false;
                    new.updated_at = *followed_at;
                }
                (new != *old).then_some(new)
            }
            (FollowKind::Unfollowed { at }, Some(old)) => {
                (*at > old.updated_at).then(|| Follower {
                    unfollowed: true,
                    updated_at: *at,
                    ..old.clone()
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::at;

    fn change(kind: FollowKind) -> FollowChange {
        FollowChange {
            brand_id: BrandId::new("b1"),
            customer_id: CustomerId::new("c1"),
            kind,
        }
    }

    fn fold(changes: &[FollowChange]) -> Option<Follower> {
        changes.iter().fold(None, |f, c| c.apply(f.as_ref()).or(f))
    }

    #[test]
    fn unfollow_before_an_older_follow_ends_unfollowed_with_the_address() {
        let follow = change(FollowKind::Followed {
            relay_email: "c1@relay.example".into(),
            locale: "fr-CA".into(),
            followed_at: at("2026-10-01T00:00:00Z"),
        });
        let unfollow = change(FollowKind::Unfollowed {
            at: at("2026-10-05T00:00:00Z"),
        });
        let in_order = fold(&[follow.clone(), unfollow.clone()]);
        let reversed = fold(&[unfollow.clone(), follow.clone(), unfollow, follow]);
        assert_eq!(in_order, reversed);
        let f = in_order.unwrap_or_else(|| unreachable!());
        assert!(f.unfollowed && !f.reachable());
        assert_eq!(f.relay_email, "c1@relay.example");
        assert_eq!(f.followed_at, at("2026-10-01T00:00:00Z"));
    }
}
