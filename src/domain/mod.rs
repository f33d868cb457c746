//! Domain types and state machines: pure, no I/O, no AWS types, the clock passed in.
//!
//! Every type serialises to the camelCase JSON of `CONTRACT.md`; the store keeps
//! these documents as they are (see [`crate::store`]).

pub mod bounds;
pub mod brand;
pub mod campaign;
pub mod contact;
pub mod follower;
pub mod ids;
pub mod order;
pub mod promotion;
pub mod review;
pub mod schedule;
pub mod segment;
pub mod send;
pub mod suppression;
pub mod theme;

pub use ids::{
    BrandId, CampaignId, ContactId, CustomerId, OrderId, PromotionId, ReviewId, SellerId,
};

/// What the unit tests of the domain and of the store share.
#[cfg(test)]
pub(crate) mod testing {
    use chrono::{DateTime, Utc};

    /// The instant an RFC 3339 text names.
    pub(crate) fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }
}
