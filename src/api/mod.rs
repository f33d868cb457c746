//! HTTP routes shared by the Lambda functions and the local server.
//!
//! Every route lives under `/v1`, answers JSON, and reports every failure as
//! `application/problem+json` (see [`problem`]). Handlers parse, call one
//! domain or job function and map its result; they hold no business rules.

pub mod extract;
pub mod policies;
pub mod problem;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::StatusCode;
use axum::routing::get;

use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::policy::PolicySet;
use crate::store::Store;
use problem::Problem;

/// What every route may use: built once per process (cold start).
#[derive(Clone)]
pub struct AppState {
    /// Verifies bearer tokens.
    pub keys: Arc<TokenKeys>,
    /// The business clock.
    pub clock: Arc<dyn Clock>,
    /// The policies, bundled or loaded from a folder.
    pub policies: Arc<PolicySet>,
    /// The storage port.
    pub store: Arc<dyn Store>,
}

impl FromRef<AppState> for Arc<TokenKeys> {
    fn from_ref(state: &AppState) -> Self {
        state.keys.clone()
    }
}

/// Every route of every function, on one router (the local server mounts all
/// of it; each Lambda function mounts the same router).
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/policies", get(policies::in_force))
        .fallback(|| async { Problem::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this route does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}
