//! What the three HTTP API functions share: their routes, finished and run on Lambda.

use std::sync::Arc;

use axum::Router;

use super::Error;
use crate::api::{AppState, finish, lambda};
use crate::app::App;
use crate::auth::TokenKeys;
use crate::config::Config;

/// Serves `routes` over `app` until the runtime stops.
pub(super) async fn serve(
    config: &Config,
    app: App,
    routes: Router<AppState>,
) -> Result<(), Error> {
    // The API Gateway authorizer verifies tokens; the keys only serve direct invocations.
    let keys = Arc::new(TokenKeys::from_secret(config.token_secret.as_bytes()));
    let state = AppState { keys, app };
    lambda::run(finish(routes, state, config.max_body_bytes)).await
}
