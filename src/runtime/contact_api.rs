//! `contact-api`: the Contact Customer routes of [`crate::api`] (and the brand health
//! report) over DynamoDB, SES v2 (contact emails) and EventBridge (`Courtesy Refund
//! Requested`).
//!
//! Trigger: the HTTP API, behind its JWT authorizer. Returns the routes' responses.
//! Environment: [`crate::config::Config`], in particular `ENGAGE_FROM_ADDRESS`,
//! `ENGAGE_SES_CONFIGURATION_SET` (bounce and complaint events), `ENGAGE_EVENT_BUS`
//! and `ENGAGE_PUBLIC_URL`; `ENGAGE_TOKEN_SECRET` and `ENGAGE_UNSUBSCRIBE_SECRET` must
//! be set.

use std::sync::Arc;

use super::{ColdStart, Error, http};
use crate::api::{contact_routes, health_routes};
use crate::bus::EventBridgePublisher;
use crate::config::Secret;

/// What it refuses to start without.
pub const SECRETS: &[Secret] = &[Secret::Token, Secret::Unsubscribe];

/// Serves the contact and health routes until the runtime stops.
///
/// # Errors
/// The runtime failed.
pub async fn run(cold: ColdStart) -> Result<(), Error> {
    let (config, clients) = (&cold.config, &cold.clients);
    let bus = EventBridgePublisher::new(clients.eventbridge(), &config.event_bus);
    let app = cold.app.with_publisher(Arc::new(bus));
    // Contact emails: through SES, from the configured sender.
    let app = app.with_mailer(Arc::new(clients.mailer(config)));
    let app = app.with_from_address(config.from_address.as_deref());
    http::serve(config, app, contact_routes().merge(health_routes())).await
}
