//! `ses-events`: each SES event the configuration set's event destination puts on
//! EventBridge (`source: aws.ses`) -> [`crate::jobs::ses_events::handle_delivery`] over
//! DynamoDB.
//!
//! Returns the [`SesDelivery`]: applied, ignored or rejected for good. The app's
//! unsubscribe signer reads the brand and customer out of an email's `List-Unsubscribe`
//! header. A transient store failure returns an error (Lambda retries, then the
//! dead-letter queue); a malformed event is logged and acknowledged.
//! Environment: [`crate::config::Config`]; `ENGAGE_UNSUBSCRIBE_SECRET` must be set.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use super::{ColdStart, Error};
use crate::config::Secret;
use crate::jobs::ses_events::{SesDelivery, handle_delivery};

/// What it refuses to start without.
pub const SECRETS: &[Secret] = &[Secret::Unsubscribe];

/// Handles deliveries until the runtime stops.
///
/// # Errors
/// The runtime failed.
pub async fn run(cold: ColdStart) -> Result<(), Error> {
    let app = &cold.app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<SesDelivery, Error>(handle_delivery(app, event.payload).await?)
    }))
    .await
}
