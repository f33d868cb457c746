//! Marketplace events (CONTRACT.md, "Marketplace events"): parse EventBridge
//! envelopes into [`MarketplaceEvent`]s and store them through the port.
//!
//! One code path for `functions/marketplace-events` ([`handle_delivery`]) and
//! `engage event` ([`parse_input`], [`parse`], [`apply`]).
//!
//! Repeats and out-of-order arrivals converge: every event is versioned by the
//! instant it carries (`followedAt`, `purchasedAt`, `postedAt`, `shippedAt`,
//! `deliveredAt`, `receivedAt`, `createdAt`), or by the envelope's `time` when it
//! carries none (Brand Registered, Brand Unfollowed, Promotion Updated, Canceled
//! and Rejected). Whole entities (brands, reviews) keep the newest version
//! ([`EntityStore::upsert`](crate::store::EntityStore::upsert)); partial ones
//! (follows, promotions, orders) are folded in part by part with
//! [`EntityStore::merge`](crate::store::EntityStore::merge).
//!
//! An order event that triggers a step of the sequences policy in force also
//! writes that buyer message's due entry ([`crate::jobs::sequences::schedule`]),
//! after the merge and on every delivery (a repeat writes nothing new), so a
//! redelivery after a failed write completes it.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::app::App;
use crate::domain::brand::{Brand, Marketplace};
use crate::domain::follower::{FollowChange, FollowKind};
use crate::domain::order::{OrderChange, OrderChangeKind, OrderPlaced, ReturnReceived};
use crate::domain::promotion::{Promotion, PromotionChange, PromotionChangeKind, PromotionState};
use crate::domain::review::Review;
use crate::domain::{BrandId, CustomerId, OrderId, PromotionId, SellerId};
use crate::jobs::delivery::{self, DeliveryError};
use crate::jobs::sequences::{self, ScheduleError};
use crate::policy::PolicySet;
use crate::store::{Entity, EntityChange, Store, StoreError, UpsertOutcome};

/// The `source` every marketplace event carries.
pub const SOURCE: &str = "marketplace";

/// An EventBridge envelope (the shape of `aws_lambda_events`'
/// `EventBridgeEvent`; only `detail-type`, `source` and `detail` are required).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Envelope {
    /// Envelope version (`"0"`).
    #[serde(default)]
    pub version: Option<String>,
    /// The event id (what errors and logs name).
    #[serde(default)]
    pub id: Option<String>,
    /// What happened, e.g. `Order Placed`.
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// Who sent it; must be [`SOURCE`].
    pub source: String,
    /// AWS account.
    #[serde(default)]
    pub account: Option<String>,
    /// When the event happened (versions the events that carry no instant).
    #[serde(default)]
    pub time: Option<DateTime<Utc>>,
    /// AWS region.
    #[serde(default)]
    pub region: Option<String>,
    /// Related resources.
    #[serde(default)]
    pub resources: Vec<String>,
    /// The payload.
    pub detail: Value,
}

impl Envelope {
    /// Reads the envelope of an event `source` sent.
    ///
    /// # Errors
    /// [`EventError::Envelope`] or [`EventError::WrongSource`].
    pub fn read(value: Value, source: &'static str) -> Result<Self, EventError> {
        let id = value.get("id").and_then(Value::as_str).unwrap_or_default();
        let id = id.to_owned();
        let env: Self =
            serde_json::from_value(value).map_err(|e| EventError::Envelope { id, source: e })?;
        if env.source != source {
            return Err(EventError::WrongSource {
                id: env.id.unwrap_or_default(),
                source_name: env.source,
                expected: source,
            });
        }
        Ok(env)
    }
}

/// Brand Registered.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandRegistered {
    /// The brand.
    pub brand_id: BrandId,
    /// Display name.
    pub name: String,
    /// Owning selling account.
    pub seller_id: SellerId,
    /// US or CA.
    pub marketplace: Marketplace,
    /// Whether it has a store page.
    pub has_store_page: bool,
}

/// Brand Followed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandFollowed {
    /// The brand.
    pub brand_id: BrandId,
    /// The customer.
    pub customer_id: CustomerId,
    /// Relay address.
    pub relay_email: String,
    /// Locale, e.g. `fr-CA`.
    pub locale: String,
    /// When.
    pub followed_at: DateTime<Utc>,
}

/// Brand Unfollowed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandUnfollowed {
    /// The brand.
    pub brand_id: BrandId,
    /// The customer.
    pub customer_id: CustomerId,
}

/// Promotion Canceled or Promotion Rejected.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromotionEnded {
    /// The promotion.
    pub promotion_id: PromotionId,
    /// Its brand.
    pub brand_id: BrandId,
}

/// Order Placed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPlacedEvent {
    /// The order.
    pub order_id: OrderId,
    /// What was placed.
    #[serde(flatten)]
    pub placed: OrderPlaced,
}

/// Order Shipped.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderShipped {
    /// The order.
    pub order_id: OrderId,
    /// When.
    pub shipped_at: DateTime<Utc>,
    /// Carrier.
    pub carrier: String,
    /// Tracking id.
    pub tracking_id: String,
    /// When the carrier expects to deliver (optional: seed 002's shipment
    /// confirmation gives it when known).
    #[serde(default)]
    pub expected_delivery_at: Option<DateTime<Utc>>,
}

/// Order Delivered.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDelivered {
    /// The order.
    pub order_id: OrderId,
    /// When.
    pub delivered_at: DateTime<Utc>,
}

/// Return Received.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnReceivedEvent {
    /// The order.
    pub order_id: OrderId,
    /// The return.
    #[serde(flatten)]
    pub received: ReturnReceived,
}

/// One marketplace event, by detail-type.
#[derive(Debug, Clone, PartialEq)]
pub enum MarketplaceEvent {
    /// `Brand Registered`.
    BrandRegistered(BrandRegistered),
    /// `Brand Followed`.
    BrandFollowed(BrandFollowed),
    /// `Brand Unfollowed`.
    BrandUnfollowed(BrandUnfollowed),
    /// `Promotion Created`: the promotion as defined (its `updatedAt` is its `createdAt`).
    PromotionCreated(Promotion),
    /// `Promotion Updated`: the promotion as redefined (versioned by the envelope's `time`
    /// when applied; its `updatedAt` here is its `createdAt`).
    PromotionUpdated(Promotion),
    /// `Promotion Canceled`.
    PromotionCanceled(PromotionEnded),
    /// `Promotion Rejected`.
    PromotionRejected(PromotionEnded),
    /// `Order Placed`.
    OrderPlaced(OrderPlacedEvent),
    /// `Review Posted`: the review (its `updatedAt` is its `postedAt`).
    ReviewPosted(Review),
    /// `Order Shipped`.
    OrderShipped(OrderShipped),
    /// `Order Delivered`.
    OrderDelivered(OrderDelivered),
    /// `Return Received`.
    ReturnReceived(ReturnReceivedEvent),
}

/// Every detail-type of CONTRACT.md.
pub const DETAIL_TYPES: &[&str] = &[
    "Brand Registered",
    "Brand Followed",
    "Brand Unfollowed",
    "Promotion Created",
    "Promotion Updated",
    "Promotion Canceled",
    "Promotion Rejected",
    "Order Placed",
    "Review Posted",
    "Order Shipped",
    "Order Delivered",
    "Return Received",
];

/// A parsed event with what the envelope said about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The envelope's id (empty when it had none).
    pub id: String,
    /// The envelope's detail-type.
    pub detail_type: String,
    /// The envelope's time, if any.
    pub time: Option<DateTime<Utc>>,
    /// The typed event.
    pub event: MarketplaceEvent,
}

/// Why an event was not applied.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The input is not JSON.
    #[error("{at}: not json: {source}")]
    NotJson {
        /// Where in the input (e.g. `line 3`).
        at: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// Not an EventBridge envelope (missing `detail-type`, `source` or `detail`, ...).
    #[error("event {id}: not an eventbridge envelope: {source}")]
    Envelope {
        /// The event id, if one could be read.
        id: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// The source is not the one expected ([`SOURCE`] for a marketplace event).
    #[error("event {id}: source {source_name:?} is not {expected:?}")]
    WrongSource {
        /// The event id.
        id: String,
        /// The source it named.
        source_name: String,
        /// The source expected.
        expected: &'static str,
    },
    /// A detail-type CONTRACT.md does not define.
    #[error("event {id}: unknown detail-type {detail_type:?}")]
    UnknownType {
        /// The event id.
        id: String,
        /// The detail-type.
        detail_type: String,
    },
    /// The detail does not have the fields its detail-type requires.
    #[error("event {id}: malformed {detail_type} detail: {source}")]
    MalformedDetail {
        /// The event id.
        id: String,
        /// The detail-type.
        detail_type: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// The detail decodes but a value is out of range.
    #[error("event {id}: invalid {detail_type} detail: {reason}")]
    Invalid {
        /// The event id.
        id: String,
        /// The detail-type.
        detail_type: String,
        /// What is wrong.
        reason: String,
    },
    /// The store failed; [`EventError::is_retryable`] says whether a retry may help.
    #[error("event {id}: cannot store it")]
    Store {
        /// The event id.
        id: String,
        /// The store error.
        #[source]
        source: StoreError,
    },
    /// The order is stored but its due buyer messages could not be written (the
    /// sequences policy is unusable, or the bundled policies did not load).
    #[error("event {id}: cannot schedule its buyer messages: {reason}")]
    Schedule {
        /// The event id.
        id: String,
        /// Why.
        reason: String,
    },
}

impl EventError {
    /// Whether delivering the same event again may succeed: transient store
    /// failures, and an unusable sequences policy (fixed by a deploy, after which the
    /// redelivered event, kept by the dead-letter queue meanwhile, writes its due
    /// entries); malformed or unknown events never will.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Store { source, .. } => source.is_retryable(),
            Self::Schedule { .. } => true,
            _ => false,
        }
    }

    /// The id of the event concerned (empty when unknown).
    pub fn event_id(&self) -> &str {
        match self {
            Self::NotJson { .. } => "",
            Self::Envelope { id, .. }
            | Self::WrongSource { id, .. }
            | Self::UnknownType { id, .. }
            | Self::MalformedDetail { id, .. }
            | Self::Invalid { id, .. }
            | Self::Store { id, .. }
            | Self::Schedule { id, .. } => id,
        }
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The event changed the stored state of `what` (e.g. `order O1`).
    Written {
        /// The entity concerned.
        what: String,
    },
    /// A repeat or an older event: nothing changed.
    Stale {
        /// The entity concerned.
        what: String,
    },
    /// A promotion was cancelled or rejected. Returned whether or not the state was
    /// new (`written`), so a follow-up (suspending the campaigns that use it, see
    /// issue 4) runs again on every redelivery and is done at least once.
    PromotionEnded {
        /// The promotion.
        promotion_id: PromotionId,
        /// Its brand.
        brand_id: BrandId,
        /// `Canceled` or `Rejected`.
        state: PromotionState,
        /// Whether this event changed the stored promotion.
        written: bool,
    },
}

impl Applied {
    /// Whether the event changed stored state.
    pub fn written(&self) -> bool {
        match self {
            Self::Written { .. } => true,
            Self::Stale { .. } => false,
            Self::PromotionEnded { written, .. } => *written,
        }
    }

    /// A short description of what the event concerned.
    pub fn what(&self) -> String {
        match self {
            Self::Written { what } | Self::Stale { what } => what.clone(),
            Self::PromotionEnded { promotion_id, .. } => format!("promotion {promotion_id}"),
        }
    }
}

/// The detail of event `id` as a `T`.
pub(crate) fn detail<T: DeserializeOwned>(
    id: &str,
    detail_type: &str,
    v: Value,
) -> Result<T, EventError> {
    serde_json::from_value(v).map_err(|source| EventError::MalformedDetail {
        id: id.to_owned(),
        detail_type: detail_type.to_owned(),
        source,
    })
}

/// A detail with `updatedAt` set to its own instant `field`, so that it reads as the
/// domain entity it describes (when the instant is missing, decoding names it).
fn versioned(mut detail: Value, field: &str) -> Value {
    if let Some(map) = detail.as_object_mut()
        && let Some(at) = map.get(field).cloned()
    {
        map.insert("updatedAt".to_owned(), at);
    }
    detail
}

/// A Promotion Created or Updated detail as a [`Promotion`]: active (a promotion's end
/// comes by its own events, so a `state` the detail carries is not read), versioned by
/// its `createdAt`.
fn definition(mut detail: Value) -> Value {
    if let Some(map) = detail.as_object_mut() {
        map.remove("state");
    }
    versioned(detail, "createdAt")
}

/// Parses one EventBridge envelope.
pub fn parse(value: Value) -> Result<Event, EventError> {
    let env = Envelope::read(value, SOURCE)?;
    let id = env.id.clone().unwrap_or_default();
    let dt = env.detail_type.as_str();
    let d = env.detail;
    let event = match dt {
        "Brand Registered" => MarketplaceEvent::BrandRegistered(detail(&id, dt, d)?),
        "Brand Followed" => MarketplaceEvent::BrandFollowed(detail(&id, dt, d)?),
        "Brand Unfollowed" => MarketplaceEvent::BrandUnfollowed(detail(&id, dt, d)?),
        "Promotion Created" => MarketplaceEvent::PromotionCreated(detail(&id, dt, definition(d))?),
        "Promotion Updated" => MarketplaceEvent::PromotionUpdated(detail(&id, dt, definition(d))?),
        "Promotion Canceled" => MarketplaceEvent::PromotionCanceled(detail(&id, dt, d)?),
        "Promotion Rejected" => MarketplaceEvent::PromotionRejected(detail(&id, dt, d)?),
        "Order Placed" => MarketplaceEvent::OrderPlaced(detail(&id, dt, d)?),
        "Review Posted" => {
            MarketplaceEvent::ReviewPosted(detail(&id, dt, versioned(d, "postedAt"))?)
        }
        "Order Shipped" => MarketplaceEvent::OrderShipped(detail(&id, dt, d)?),
        "Order Delivered" => MarketplaceEvent::OrderDelivered(detail(&id, dt, d)?),
        "Return Received" => MarketplaceEvent::ReturnReceived(detail(&id, dt, d)?),
        _ => {
            return Err(EventError::UnknownType {
                id,
                detail_type: env.detail_type,
            });
        }
    };
    let parsed = Event {
        id,
        detail_type: env.detail_type,
        time: env.time,
        event,
    };
    validate(&parsed)?;
    Ok(parsed)
}

/// Range checks serde cannot express.
fn validate(e: &Event) -> Result<(), EventError> {
    let invalid = |reason: &str| {
        Err(EventError::Invalid {
            id: e.id.clone(),
            detail_type: e.detail_type.clone(),
            reason: reason.to_owned(),
        })
    };
    let blank = |ids: &[&str]| ids.iter().any(|s| s.trim().is_empty());
    for (field, at) in instants(e) {
        if let Err(out) = crate::domain::bounds::instant(field, at) {
            return invalid(&out.to_string());
        }
    }
    match &e.event {
        MarketplaceEvent::BrandRegistered(d) => {
            if blank(&[d.brand_id.as_str(), d.seller_id.as_str()]) {
                return invalid("brandId and sellerId must not be empty");
            }
        }
        MarketplaceEvent::BrandFollowed(d) => {
            if blank(&[d.brand_id.as_str(), d.customer_id.as_str(), &d.relay_email]) {
                return invalid("brandId, customerId and relayEmail must not be empty");
            }
        }
        MarketplaceEvent::BrandUnfollowed(d) => {
            if blank(&[d.brand_id.as_str(), d.customer_id.as_str()]) {
                return invalid("brandId and customerId must not be empty");
            }
        }
        MarketplaceEvent::PromotionCreated(d) | MarketplaceEvent::PromotionUpdated(d) => {
            if blank(&[d.promotion_id.as_str(), d.brand_id.as_str(), &d.asin]) {
                return invalid("promotionId, brandId and asin must not be empty");
            }
            if d.ends_at < d.starts_at {
                return invalid("endsAt is before startsAt");
            }
        }
        MarketplaceEvent::PromotionCanceled(d) | MarketplaceEvent::PromotionRejected(d) => {
            if blank(&[d.promotion_id.as_str(), d.brand_id.as_str()]) {
                return invalid("promotionId and brandId must not be empty");
            }
        }
        MarketplaceEvent::OrderPlaced(d) => {
            let p = &d.placed;
            if blank(&[
                d.order_id.as_str(),
                p.seller_id.as_str(),
                p.brand_id.as_str(),
                p.customer_id.as_str(),
            ]) {
                return invalid("orderId, sellerId, brandId and customerId must not be empty");
            }
        }
        MarketplaceEvent::ReviewPosted(d) => {
            if blank(&[
                d.review_id.as_str(),
                d.brand_id.as_str(),
                d.order_id.as_str(),
            ]) {
                return invalid("reviewId, brandId and orderId must not be empty");
            }
            if !(1..=5).contains(&d.rating) {
                return invalid(&format!("rating {} is not 1 to 5", d.rating));
            }
        }
        MarketplaceEvent::OrderShipped(OrderShipped { order_id, .. })
        | MarketplaceEvent::OrderDelivered(OrderDelivered { order_id, .. })
        | MarketplaceEvent::ReturnReceived(ReturnReceivedEvent { order_id, .. }) => {
            if blank(&[order_id.as_str()]) {
                return invalid("orderId must not be empty");
            }
        }
    }
    Ok(())
}

/// Every instant an event carries, by field name (the calendar bounds apply to each).
fn instants(e: &Event) -> Vec<(&'static str, DateTime<Utc>)> {
    let mut out: Vec<(&'static str, DateTime<Utc>)> =
        e.time.map(|t| ("time", t)).into_iter().collect();
    match &e.event {
        MarketplaceEvent::BrandFollowed(d) => out.push(("followedAt", d.followed_at)),
        MarketplaceEvent::PromotionCreated(d) | MarketplaceEvent::PromotionUpdated(d) => {
            out.extend([
                ("startsAt", d.starts_at),
                ("endsAt", d.ends_at),
                ("createdAt", d.created_at),
            ]);
        }
        MarketplaceEvent::OrderPlaced(d) => out.push(("purchasedAt", d.placed.purchased_at)),
        MarketplaceEvent::ReviewPosted(d) => out.push(("postedAt", d.posted_at)),
        MarketplaceEvent::OrderShipped(d) => {
            out.push(("shippedAt", d.shipped_at));
            out.extend(d.expected_delivery_at.map(|at| ("expectedDeliveryAt", at)));
        }
        MarketplaceEvent::OrderDelivered(d) => out.push(("deliveredAt", d.delivered_at)),
        MarketplaceEvent::ReturnReceived(d) => out.push(("receivedAt", d.received.received_at)),
        MarketplaceEvent::BrandRegistered(_)
        | MarketplaceEvent::BrandUnfollowed(_)
        | MarketplaceEvent::PromotionCanceled(_)
        | MarketplaceEvent::PromotionRejected(_) => {}
    }
    out
}

/// The policies bundled into the binary, loaded once per process: what the
/// Lambda function and `engage event` schedule buyer messages with.
fn bundled_policies() -> &'static PolicySet {
    static BUNDLED: std::sync::OnceLock<PolicySet> = std::sync::OnceLock::new();
    BUNDLED.get_or_init(PolicySet::bundled)
}

/// Stores one event through the port ([`apply_with`] the bundled policies).
pub async fn apply<S: Store + ?Sized>(
    store: &S,
    event: &Event,
    received_at: DateTime<Utc>,
) -> Result<Applied, EventError> {
    apply_with(store, bundled_policies(), event, received_at).await
}

/// Stores one event through the port. `received_at` (the business clock) versions
/// the events that carry no instant when the envelope has no `time` either, and
/// picks the sequences policy in force for an order event's due entries.
pub async fn apply_with<S: Store + ?Sized>(
    store: &S,
    policies: &PolicySet,
    event: &Event,
    received_at: DateTime<Utc>,
) -> Result<Applied, EventError> {
    let at = event.time.unwrap_or(received_at);
    let store_err = |source| EventError::Store {
        id: event.id.clone(),
        source,
    };
    let (what, outcome) = match &event.event {
        MarketplaceEvent::BrandRegistered(d) => {
            let brand = Brand {
                brand_id: d.brand_id.clone(),
                name: d.name.clone(),
                seller_id: d.seller_id.clone(),
                marketplace: d.marketplace,
                has_store_page: d.has_store_page,
                updated_at: at,
            };
            let o = store.upsert(&Entity::Brand(brand)).await;
            (format!("brand {}", d.brand_id), o)
        }
        MarketplaceEvent::BrandFollowed(d) => {
            let change = FollowChange {
                brand_id: d.brand_id.clone(),
                customer_id: d.customer_id.clone(),
                kind: FollowKind::Followed {
                    relay_email: d.relay_email.clone(),
                    locale: d.locale.clone(),
                    followed_at: d.followed_at,
                },
            };
            let o = store.merge(&EntityChange::Follow(change)).await;
            (format!("follower {}/{}", d.brand_id, d.customer_id), o)
        }
        MarketplaceEvent::BrandUnfollowed(d) => {
            let change = FollowChange {
                brand_id: d.brand_id.clone(),
                customer_id: d.customer_id.clone(),
                kind: FollowKind::Unfollowed { at },
            };
            let o = store.merge(&EntityChange::Follow(change)).await;
            (format!("follower {}/{}", d.brand_id, d.customer_id), o)
        }
        MarketplaceEvent::PromotionCreated(d) | MarketplaceEvent::PromotionUpdated(d) => {
            let version = match event.event {
                MarketplaceEvent::PromotionCreated(_) => d.created_at,
                _ => at,
            };
            let change = PromotionChange {
                promotion_id: d.promotion_id.clone(),
                brand_id: d.brand_id.clone(),
                kind: PromotionChangeKind::Defined {
                    asin: d.asin.clone(),
                    promotion_type: d.promotion_type,
                    starts_at: d.starts_at,
                    ends_at: d.ends_at,
                    created_at: d.created_at,
                    at: version,
                },
            };
            let o = store.merge(&EntityChange::Promotion(change)).await;
            (format!("promotion {}", d.promotion_id), o)
        }
        MarketplaceEvent::PromotionCanceled(d) | MarketplaceEvent::PromotionRejected(d) => {
            let state = match event.event {
                MarketplaceEvent::PromotionCanceled(_) => PromotionState::Canceled,
                _ => PromotionState::Rejected,
            };
            let change = PromotionChange {
                promotion_id: d.promotion_id.clone(),
                brand_id: d.brand_id.clone(),
                kind: PromotionChangeKind::Ended { state, at },
            };
            let outcome = store
                .merge(&EntityChange::Promotion(change))
                .await
                .map_err(store_err)?;
            // R-MYCE-12: on every delivery (not only the first), so it is done at least once.
            crate::jobs::suspend::suspend_campaigns_using(
                store,
                &d.brand_id,
                &d.promotion_id,
                state,
                at,
            )
            .await
            .map_err(store_err)?;
            return Ok(Applied::PromotionEnded {
                promotion_id: d.promotion_id.clone(),
                brand_id: d.brand_id.clone(),
                state,
                written: outcome == UpsertOutcome::Written,
            });
        }
        MarketplaceEvent::OrderPlaced(d) => {
            let kind = OrderChangeKind::Placed(d.placed.clone());
            let o = Ok(order(store, policies, &event.id, &d.order_id, kind, received_at).await?);
            (format!("order {}", d.order_id), o)
        }
        MarketplaceEvent::ReviewPosted(d) => {
            let review = d.clone();
            let o = store.upsert(&Entity::Review(review)).await;
            (format!("review {}", d.review_id), o)
        }
        MarketplaceEvent::OrderShipped(d) => {
            let kind = OrderChangeKind::Shipped {
                shipped_at: d.shipped_at,
                carrier: d.carrier.clone(),
                tracking_id: d.tracking_id.clone(),
                expected_delivery_at: d.expected_delivery_at,
            };
            let o = Ok(order(store, policies, &event.id, &d.order_id, kind, received_at).await?);
            (format!("order {}", d.order_id), o)
        }
        MarketplaceEvent::OrderDelivered(d) => {
            let kind = OrderChangeKind::Delivered {
                delivered_at: d.delivered_at,
            };
            let o = Ok(order(store, policies, &event.id, &d.order_id, kind, received_at).await?);
            (format!("order {}", d.order_id), o)
        }
        MarketplaceEvent::ReturnReceived(d) => {
            let kind = OrderChangeKind::ReturnReceived(d.received.clone());
            let o = Ok(order(store, policies, &event.id, &d.order_id, kind, received_at).await?);
            (format!("order {}", d.order_id), o)
        }
    };
    Ok(match outcome.map_err(store_err)? {
        UpsertOutcome::Written => Applied::Written { what },
        UpsertOutcome::Stale => Applied::Stale { what },
    })
}

/// Merges an order change, then writes the due entries it triggers (also when the
/// merge was a repeat, so a redelivery completes a failed schedule).
async fn order<S: Store + ?Sized>(
    store: &S,
    policies: &PolicySet,
    event_id: &str,
    order_id: &OrderId,
    kind: OrderChangeKind,
    now: DateTime<Utc>,
) -> Result<UpsertOutcome, EventError> {
    let store_err = |source| EventError::Store {
        id: event_id.to_owned(),
        source,
    };
    let change = OrderChange {
        order_id: order_id.clone(),
        kind,
    };
    let merged = store
        .merge(&EntityChange::Order(change.clone()))
        .await
        .map_err(store_err)?;
    match sequences::schedule(store, policies, &change, now).await {
        Ok(_) => Ok(merged),
        Err(ScheduleError::Store(e)) => Err(store_err(e)),
        Err(e @ ScheduleError::Definition(_)) => Err(EventError::Schedule {
            id: event_id.to_owned(),
            reason: error_chain(&e),
        }),
    }
}

/// Parses and applies one envelope given as JSON (with the bundled policies).
pub async fn handle<S: Store + ?Sized>(
    store: &S,
    value: Value,
    received_at: DateTime<Utc>,
) -> Result<Applied, EventError> {
    let event = parse(value)?;
    apply(store, &event, received_at).await
}

/// Parses and applies one envelope given as JSON, with these policies.
pub async fn handle_with<S: Store + ?Sized>(
    store: &S,
    policies: &PolicySet,
    value: Value,
    received_at: DateTime<Utc>,
) -> Result<Applied, EventError> {
    let event = parse(value)?;
    apply_with(store, policies, &event, received_at).await
}

/// What the Lambda reports for one delivery that did not fail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "result")]
pub enum Delivery {
    /// Applied (written or already known).
    Applied {
        /// The event id.
        id: String,
        /// Whether it changed stored state.
        written: bool,
        /// The entity concerned.
        what: String,
    },
    /// Refused for good (malformed, unknown type, wrong source): acknowledged so
    /// EventBridge does not redeliver it forever; logged with its reason.
    Rejected {
        /// The event id.
        id: String,
        /// Why.
        reason: String,
    },
}

/// The Lambda handler's logic: applies one EventBridge delivery with the app's store,
/// policies and clock (the instant it is received).
///
/// Retryable failures return `Err`; events that can never succeed (not an envelope,
/// another source, an unknown detail-type, a malformed detail) are logged and
/// acknowledged as [`Delivery::Rejected`] ([`delivery::answer`]).
pub async fn handle_delivery(app: &App, payload: Value) -> Result<Delivery, EventError> {
    let (store, now) = (app.store.as_ref(), app.clock.now());
    answer(applied(store, Some(&app.policies), payload, now).await)
}

/// [`handle_delivery`] over `store` with the bundled policies.
pub async fn deliver<S: Store + ?Sized>(
    store: &S,
    payload: Value,
    received_at: DateTime<Utc>,
) -> Result<Delivery, EventError> {
    answer(applied(store, None, payload, received_at).await)
}

/// Parses and applies one envelope with `policies` (the bundled ones when `None`): its
/// id and what it did.
async fn applied<S: Store + ?Sized>(
    store: &S,
    policies: Option<&PolicySet>,
    payload: Value,
    received_at: DateTime<Utc>,
) -> Result<(String, Applied), EventError> {
    let event = parse(payload)?;
    let applied = match policies {
        Some(policies) => apply_with(store, policies, &event, received_at).await?,
        None => apply(store, &event, received_at).await?,
    };
    Ok((event.id, applied))
}

/// What the Lambda reports once the event `(id, applied)` is applied or has failed.
fn answer(applied: Result<(String, Applied), EventError>) -> Result<Delivery, EventError> {
    match applied {
        Ok((id, applied)) => {
            tracing::info!(event_id = %id, written = applied.written(), what = %applied.what(), "marketplace event applied");
            Ok(Delivery::Applied {
                id,
                written: applied.written(),
                what: applied.what(),
            })
        }
        Err(e) => delivery::answer("marketplace event", e, |id, reason| Delivery::Rejected {
            id,
            reason,
        }),
    }
}

impl DeliveryError for EventError {
    fn is_retryable(&self) -> bool {
        EventError::is_retryable(self)
    }

    fn event_id(&self) -> &str {
        EventError::event_id(self)
    }
}

/// An error and its sources, joined with `: `.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        // A wrapper whose message repeats its source's adds nothing.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

/// Splits an input of events: one envelope, a JSON array of envelopes, or one
/// envelope per line (NDJSON). Each item is a JSON value or the error of its line.
pub fn parse_input(text: &str) -> Vec<Result<Value, EventError>> {
    let whole: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect();
    match whole {
        Ok(values) => values
            .into_iter()
            .flat_map(|v| match v {
                Value::Array(items) => items,
                other => vec![other],
            })
            .map(Ok)
            .collect(),
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|source| EventError::NotJson {
                    at: format!("line {}", i + 1),
                    source,
                })
            })
            .collect(),
    }
}
