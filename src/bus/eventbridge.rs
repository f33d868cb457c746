//! The AWS event adapter: `PutEvents` on an EventBridge bus.
//!
//! The SDK's standard retry mode retries throttling, 5xx answers and timeouts; an entry
//! EventBridge still refuses (`FailedEntryCount > 0`) is reported as transient when its
//! error code is `ThrottlingException` or `InternalFailure`, permanent otherwise.
//! EventBridge has no deduplication: consumers deduplicate on the `id` inside the detail
//! (the contact id for a courtesy refund).

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::primitives::DateTime as AwsDateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use super::{BusError, Event, EventPublisher};

/// Publishes to one EventBridge bus.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: Client,
    bus: String,
}

impl EventBridgePublisher {
    /// A publisher to the bus named (or ARN) `bus` (`default` for the account's default bus).
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }

    /// The bus events go to.
    pub fn bus(&self) -> &str {
        &self.bus
    }
}

/// The detail EventBridge receives: the event's detail with its id added as `eventId`,
/// so a consumer can deduplicate without the envelope.
fn detail_json(event: &Event) -> Result<String, BusError> {
    let mut detail = event.detail.clone();
    if let Some(map) = detail.as_object_mut() {
        map.entry("eventId")
            .or_insert_with(|| serde_json::Value::String(event.id.clone()));
    }
    serde_json::to_string(&detail)
        .map_err(|e| BusError::permanent("unserialisable event detail", e))
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(&event.source)
            .detail_type(&event.detail_type)
            .detail(detail_json(event)?)
            .time(AwsDateTime::from_millis(event.time.timestamp_millis()))
            .build();
        let out = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| BusError::transient("put events failed", e))?;
        if out.failed_entry_count() == 0 {
            return Ok(());
        }
        let failed = out.entries().iter().find(|e| e.error_code().is_some());
        let code = failed.and_then(|e| e.error_code()).unwrap_or("unknown");
        let message = failed.and_then(|e| e.error_message()).unwrap_or("");
        let text = format!("put events refused the entry: {code} {message}");
        if matches!(
            code,
            "ThrottlingException" | "InternalFailure" | "InternalException"
        ) {
            Err(BusError::Transient {
                message: text,
                source: None,
            })
        } else {
            Err(BusError::Permanent {
                message: text,
                source: None,
            })
        }
    }
}

#[cfg(test)]
#[path = "eventbridge_test.rs"]
mod tests;
