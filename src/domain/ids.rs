//! Identifier newtypes: cheap, transparent in JSON, never mixed up in signatures.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::bounds;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        // Every id that comes in (bodies, queries, events) is bounded here, where it
        // is parsed: a longer one could not be a key (DynamoDB allows 2 KB).
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                bounds::serde_id(d).map(Self)
            }
        }

        impl $name {
            /// Wraps an identifier.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

id_type!(
    /// A registered brand.
    BrandId
);
id_type!(
    /// A marketplace customer (never their email address).
    CustomerId
);
id_type!(
    /// A follower email campaign.
    CampaignId
);
id_type!(
    /// A marketplace promotion (7-day deal, coupon, ...).
    PromotionId
);
id_type!(
    /// A marketplace order.
    OrderId
);
id_type!(
    /// A product review.
    ReviewId
);
id_type!(
    /// A contact sent in answer to a review.
    ContactId
);
id_type!(
    /// A selling account.
    SellerId
);
