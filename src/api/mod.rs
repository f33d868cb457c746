//! HTTP routes shared by the Lambda functions and the local server.
//!
//! Every route lives under `/v1`, answers JSON, and reports every failure as
//! `application/problem+json` (see [`problem`]). Handlers parse, call one
//! use case of [`crate::app`] and map its result; they hold no business rules.

// A problem is built at most once per failed request and returned by value;
// boxing it would only add an allocation to every error path.
#![allow(clippy::result_large_err)]

pub mod brands;
pub mod campaigns;
pub mod console;
mod error;
pub mod extract;
pub mod health;
pub mod lambda;
pub mod performance;
pub mod policies;
pub mod problem;
pub mod reviews;
pub mod unsubscribe;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::app::App;
use crate::auth::TokenKeys;
use problem::Problem;

/// What every route may use: built once per process (cold start).
#[derive(Clone)]
pub struct AppState {
    /// Verifies bearer tokens (local mode; on AWS the authorizer did it).
    pub keys: Arc<TokenKeys>,
    /// The use cases' ports.
    pub app: App,
}

impl FromRef<AppState> for Arc<TokenKeys> {
    fn from_ref(state: &AppState) -> Self {
        state.keys.clone()
    }
}

/// The campaign routes (`functions/campaigns-api`).
pub fn campaign_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/policies", get(policies::in_force))
        .route("/v1/themes", get(brands::themes))
        .route(
            "/v1/campaigns",
            post(campaigns::submit).get(campaigns::list),
        )
        .route("/v1/campaigns/validate", post(campaigns::validate))
        .route("/v1/campaigns/{id}", get(campaigns::get))
        .route("/v1/campaigns/{id}/cancel", post(campaigns::cancel))
        .route("/v1/campaigns/{id}/preview", get(campaigns::preview))
        .route("/v1/campaigns/{id}/performance", get(performance::get))
        .route("/v1/campaigns/{id}/moderation", post(campaigns::moderate))
        .route("/v1/brands/{brand_id}/calendar", get(brands::calendar))
        .route("/v1/brands/{brand_id}/promotions", get(brands::promotions))
        .route("/v1/brands/{brand_id}/reach", get(brands::reach))
}

/// The Contact Customer routes (`functions/contact-api`).
pub fn contact_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/reviews", get(reviews::list))
        .route("/v1/reviews/{id}/contact", post(reviews::contact))
}

/// The unsubscribe routes (`functions/unsubscribe-api`): anyone, no bearer token
/// (the signed token in the path is the authority).
pub fn unsubscribe_routes() -> Router<AppState> {
    Router::new().route(
        "/v1/unsubscribe/{token}",
        get(unsubscribe::page).post(unsubscribe::one_click),
    )
}

/// The seller health route (issue 7).
pub fn health_routes() -> Router<AppState> {
    Router::new().route("/v1/brands/{brand_id}/health", get(health::get))
}

/// Every route of every function: what the local server mounts.
pub fn all_routes() -> Router<AppState> {
    Router::new()
        .merge(campaign_routes())
        .merge(contact_routes())
        .merge(health_routes())
        .merge(unsubscribe_routes())
}

/// `routes` with the common layers (problem fallbacks, body limit) and state:
/// the same for the local server and each Lambda function.
pub fn finish(routes: Router<AppState>, state: AppState, max_body_bytes: usize) -> Router {
    routes
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async { Problem::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this route does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(problem::every_error_is_a_problem))
        .with_state(state)
}

/// Every route on one router, and the brand console at `/` (the local server).
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    finish(all_routes().merge(console::pages()), state, max_body_bytes)
}
