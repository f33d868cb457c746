//! The event publishing port: events engage emits for other systems (the
//! marketplace's order system acts on `Courtesy Refund Requested`).
//!
//! - [`EventPublisher`] is the port; a use case holds an `Arc<dyn EventPublisher>`;
//! - [`local::FilePublisher`] appends each event as one JSON line to a file in the data
//!   folder (`.engage/data/published-events.ndjson`), the local adapter;
//! - [`eventbridge::EventBridgePublisher`] sends `PutEvents` to an event bus, the AWS adapter.
//!
//! Delivery is at least once: a retried use case may publish the same event again, so
//! every event carries a stable `id` (for a courtesy refund, the contact id) that consumers
//! deduplicate on.

pub mod eventbridge;
pub mod local;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use eventbridge::EventBridgePublisher;
pub use local::FilePublisher;

/// The `source` of every event engage publishes.
pub const SOURCE: &str = "engage";

/// The detail-type of a courtesy refund request.
pub const COURTESY_REFUND_REQUESTED: &str = "Courtesy Refund Requested";

/// One event to publish: an EventBridge entry without the bus name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// A stable id consumers deduplicate on (the same on every retry).
    pub id: String,
    /// Who emits it ([`SOURCE`]).
    pub source: String,
    /// What happened, e.g. [`COURTESY_REFUND_REQUESTED`].
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// When it happened (the business clock).
    pub time: DateTime<Utc>,
    /// The payload (camelCase JSON object).
    pub detail: serde_json::Value,
}

impl Event {
    /// An event from engage.
    pub fn new(
        id: impl Into<String>,
        detail_type: impl Into<String>,
        time: DateTime<Utc>,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            id: id.into(),
            source: SOURCE.to_owned(),
            detail_type: detail_type.into(),
            time,
            detail,
        }
    }
}

/// The detail of `Courtesy Refund Requested` (R-CC-4): the order system refunds the
/// order in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CourtesyRefundRequested {
    /// The contact that asked for it (also the event id).
    pub contact_id: String,
    /// The review answered.
    pub review_id: String,
    /// The order to refund.
    pub order_id: String,
    /// The review's brand.
    pub brand_id: String,
    /// The seller of record, who pays the refund.
    pub seller_id: String,
    /// The customer refunded.
    pub customer_id: String,
    /// When the brand asked for it.
    pub requested_at: DateTime<Utc>,
}

/// A boxed error kept as the source of a [`BusError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why an event was not published.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// Worth retrying: throttling, a 5xx, a timeout, a full disk.
    #[error("transient publish failure: {message}")]
    Transient {
        /// What happened.
        message: String,
        /// The underlying error (an io or SDK error), when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// Never worth retrying: a malformed event, a missing bus, no permission.
    #[error("permanent publish failure: {message}")]
    Permanent {
        /// What happened.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
}

transient_and_permanent!(BusError);

impl BusError {
    /// Whether publishing the same event later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}

/// Publishes events (at least once; consumers deduplicate on [`Event::id`]).
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes one event.
    async fn publish(&self, event: &Event) -> Result<(), BusError>;
}

#[async_trait]
impl<T: EventPublisher + ?Sized> EventPublisher for std::sync::Arc<T> {
    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        (**self).publish(event).await
    }
}

/// A publisher for processes that publish nothing (e.g. the campaigns function): every
/// publish fails permanently, so a misconfigured deployment is loud, never silent.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPublisher;

#[async_trait]
impl EventPublisher for NoPublisher {
    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        Err(BusError::Permanent {
            message: format!(
                "no event publisher is configured for {:?}",
                event.detail_type
            ),
            source: None,
        })
    }
}
