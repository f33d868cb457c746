//! `campaigns-api`: the campaign routes of [`crate::api`] over DynamoDB.
//!
//! Trigger: the HTTP API, behind its JWT authorizer (whose claims are the caller).
//! Returns the routes' responses. Environment: [`crate::config::Config`];
//! `ENGAGE_TOKEN_SECRET` must be set. It sends no email and publishes no event.

use super::{ColdStart, Error, http};
use crate::api::campaign_routes;
use crate::config::Secret;

/// What it refuses to start without.
pub const SECRETS: &[Secret] = &[Secret::Token];

/// Serves the campaign routes until the runtime stops.
///
/// # Errors
/// The runtime failed.
pub async fn run(cold: ColdStart) -> Result<(), Error> {
    http::serve(&cold.config, cold.app, campaign_routes()).await
}
