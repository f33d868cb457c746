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
