//! `unsubscribe-api`: the unsubscribe routes of [`crate::api`] over DynamoDB.
//!
//! Trigger: the HTTP API without an authorizer: the HMAC-signed token in the path is
//! the authority (`ENGAGE_UNSUBSCRIBE_SECRET`, the secret the senders sign with).
//! Returns the routes' responses. Environment: [`crate::config::Config`];
//! `ENGAGE_UNSUBSCRIBE_SECRET` and `ENGAGE_TOKEN_SECRET` must be set.

use super::{ColdStart, Error, http};
use crate::api::unsubscribe_routes;
use crate::config::Secret;

/// What it refuses to start without (no route reads a bearer token; the token keys
/// only complete the shared state).
pub const SECRETS: &[Secret] = &[Secret::Unsubscribe, Secret::Token];

/// Serves the unsubscribe routes until the runtime stops.
///
/// # Errors
/// The runtime failed.
pub async fn run(cold: ColdStart) -> Result<(), Error> {
    http::serve(&cold.config, cold.app, unsubscribe_routes()).await
}
