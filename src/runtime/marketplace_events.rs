//! `marketplace-events`: each marketplace event EventBridge delivers
//! (`source: marketplace`) -> [`crate::jobs::events::handle_delivery`] over DynamoDB.
//!
//! Returns the [`Delivery`]: applied, or rejected for good. A transient store failure
//! returns an error (Lambda retries, then the dead-letter queue); a malformed or unknown
//! event is logged and acknowledged, never retried forever. An order event's due buyer
//! messages follow the sequences policy in force (`ENGAGE_POLICIES` when set).
//! Environment: [`crate::config::Config`]; no secret.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use super::{ColdStart, Error};
use crate::config::Secret;
use crate::jobs::events::{Delivery, handle_delivery};

/// What it refuses to start without.
pub const SECRETS: &[Secret] = &[];

/// Handles deliveries until the runtime stops.
///
/// # Errors
/// The runtime failed.
pub async fn run(cold: ColdStart) -> Result<(), Error> {
    let app = &cold.app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<Delivery, Error>(handle_delivery(app, event.payload).await?)
    }))
    .await
}
