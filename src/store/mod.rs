//! The storage port and its adapters (embedded SQLite, DynamoDB).
//!
//! The port is split by concern: [`CampaignStore`], [`CapStore`],
//! [`LedgerStore`], [`ContactStore`], [`IdempotencyStore`] and [`EntityStore`];
//! [`Store`] is all of them. Every operation that enforces a rule is
//! conditional and has the same semantics in both adapters; a lost race or a
//! repeat is a typed outcome ([`TransitionOutcome`], [`CapOutcome`], ...),
//! never an error. [`StoreError`] is for failures only and says whether a
//! retry may help.
//!
//! Both adapters share one key scheme ([`keys`]) and one item layout
//! (`pk`, `sk`, `gsi1pk`/`gsi1sk`, `gsi2pk`/`gsi2sk`, the domain document's
//! camelCase attributes, and the TTL attribute `expiresAt`).
//!
//! Each port module implements its trait once, for every adapter, over the
//! primitives an adapter provides (`backend`): the rules, the conditions they
//! write under and what a refused write means live there; the adapters
//! (`dynamodb/`, `embedded/`, one file per port module) add only the mechanism.

/// Declares one trait of the port and implements it once, for every adapter, over
/// the primitives an adapter provides ([`backend::Backend`]): each operation is
/// written once, its documentation and signature going to the trait, its body to
/// that one implementation. rustfmt does not format inside a macro call: keep the
/// bodies formatted by hand (renaming `port!` to `mod x` for a moment lets rustfmt
/// show the layout it wants).
macro_rules! port {
    (
        $(#[$attr:meta])*
        pub trait $port:ident {
            $(
                $(#[$doc:meta])*
                async fn $op:ident(&$this:ident $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty
                $body:block
            )*
        }
    ) => {
        $(#[$attr])*
        #[async_trait::async_trait]
        pub trait $port: Send + Sync {
            $(
                $(#[$doc])*
                async fn $op(&$this $(, $arg: $ty)*) -> $ret;
            )*
        }

        #[async_trait::async_trait]
        impl<B: $crate::store::backend::Backend> $port for B {
            $(
                async fn $op(&$this $(, $arg: $ty)*) -> $ret $body
            )*
        }
    };
}

mod backend;
mod campaigns;
pub mod dynamodb;
pub mod embedded;
mod entities;
mod error;
pub mod feedback;
mod idempotency;
pub(crate) mod item;
pub mod keys;
mod merge;
pub mod messages;
mod records;
pub mod sending;

pub use campaigns::{CampaignStore, CreateOutcome, TransitionOutcome};
pub use dynamodb::DynamoStore;
pub use embedded::EmbeddedStore;
pub use entities::{Entity, EntityStore, Page, UpsertOutcome};
pub use error::StoreError;
pub use feedback::{FeedbackCounts, FeedbackKind, FeedbackOutcome, FeedbackStore};
pub use idempotency::{IdempotencyOutcome, IdempotencyStore};
pub use merge::EntityChange;
pub use messages::{MessageClaim, MessageFinish, MessageRecord, MessageStatus, MessageStore};
pub use records::{CapOutcome, CapStore, ContactOutcome, ContactStore, LedgerOutcome, LedgerStore};
pub use sending::{
    CapTake, CheckpointOutcome, SegmentClaim, SegmentWrite, SendStore, campaign_progress,
    checkpoint_segment, claim_segment, progress_of, release_segment,
};

/// Declares [`Store`] as every trait of the port, and implements it for whatever
/// implements them all (the list is written once).
macro_rules! whole_port {
    ($($part:ident),+) => {
        /// The whole storage port: what handlers and jobs hold (`Arc<dyn Store>`).
        pub trait Store: $($part +)+ {}

        impl<T: $($part +)+> Store for T {}
    };
}

whole_port!(
    CampaignStore,
    CapStore,
    LedgerStore,
    ContactStore,
    IdempotencyStore,
    EntityStore,
    SendStore,
    FeedbackStore,
    MessageStore
);
