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
use axum::routing::{MethodFilter, MethodRouter, get, on};

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

/// An HTTP method a route of [`ROUTES`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

impl Method {
    /// The method as HTTP writes it (`GET`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
        }
    }
}

/// Which routes function mounts a route, and so which Lambda function serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteGroup {
    /// [`campaign_routes`] (`functions/campaigns-api`).
    Campaigns,
    /// [`contact_routes`] (`functions/contact-api`).
    Contact,
    /// [`health_routes`] (`functions/contact-api`).
    Health,
    /// [`unsubscribe_routes`] (`functions/unsubscribe-api`).
    Unsubscribe,
}

impl RouteGroup {
    /// The name of the function that mounts the group, as a function's `main` calls it.
    pub const fn routes_fn(self) -> &'static str {
        match self {
            RouteGroup::Campaigns => "campaign_routes",
            RouteGroup::Contact => "contact_routes",
            RouteGroup::Health => "health_routes",
            RouteGroup::Unsubscribe => "unsubscribe_routes",
        }
    }
}

/// One route of the API: the routers are built from [`ROUTES`], so the tables are
/// what the deployment (`infra/template.yaml`) and the document
/// (`infra/openapi.yaml`) are checked against.
#[derive(Clone, Copy)]
pub struct Route {
    /// The method it answers.
    pub method: Method,
    /// The path as axum matches it (`/v1/campaigns/{id}`).
    pub path: &'static str,
    // Given the method, so that the method the table states is the one routed.
    handler: fn(MethodFilter) -> MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method.as_str(), self.path)
    }
}

const fn route(
    method: Method,
    path: &'static str,
    handler: fn(MethodFilter) -> MethodRouter<AppState>,
) -> Route {
    Route {
        method,
        path,
        handler,
    }
}

/// One row of a routes table: `handler` answers `method` on `path`.
macro_rules! route {
    ($method:expr, $path:literal, $handler:path) => {
        route($method, $path, |m| on(m, $handler))
    };
}

use Method::{Get, Post};

// One table per routes function, not one table filtered at run time: a Lambda
// function then references only the handlers it mounts, and LTO leaves the other
// functions' handlers (and what only they reach) out of its package.
// One route a line: the tables read as the contract's list of routes.
#[rustfmt::skip]
const CAMPAIGN_ROUTES: &[Route] = &[
    route!(Get, "/v1/policies", policies::in_force),
    route!(Get, "/v1/themes", brands::themes),
    route!(Post, "/v1/campaigns", campaigns::submit),
    route!(Get, "/v1/campaigns", campaigns::list),
    route!(Post, "/v1/campaigns/validate", campaigns::validate),
    route!(Get, "/v1/campaigns/{id}", campaigns::get),
    route!(Post, "/v1/campaigns/{id}/cancel", campaigns::cancel),
    route!(Get, "/v1/campaigns/{id}/preview", campaigns::preview),
    route!(Get, "/v1/campaigns/{id}/performance", performance::get),
    route!(Post, "/v1/campaigns/{id}/moderation", campaigns::moderate),
    route!(Get, "/v1/brands/{brand_id}/calendar", brands::calendar),
    route!(Get, "/v1/brands/{brand_id}/promotions", brands::promotions),
    route!(Get, "/v1/brands/{brand_id}/reach", brands::reach),
];

#[rustfmt::skip]
const CONTACT_ROUTES: &[Route] = &[
    route!(Get, "/v1/reviews", reviews::list),
    route!(Post, "/v1/reviews/{id}/contact", reviews::contact),
];

#[rustfmt::skip]
const HEALTH_ROUTES: &[Route] = &[
    route!(Get, "/v1/brands/{brand_id}/health", health::get),
];

#[rustfmt::skip]
const UNSUBSCRIBE_ROUTES: &[Route] = &[
    // Anyone, no bearer token: the signed token in the path is the authority.
    route!(Get, "/v1/unsubscribe/{token}", unsubscribe::page),
    route!(Post, "/v1/unsubscribe/{token}", unsubscribe::one_click),
];

/// Every route of every function (not `/healthz` nor the console pages), with the
/// group whose routes function mounts it.
pub static ROUTES: [(RouteGroup, &[Route]); 4] = [
    (RouteGroup::Campaigns, CAMPAIGN_ROUTES),
    (RouteGroup::Contact, CONTACT_ROUTES),
    (RouteGroup::Health, HEALTH_ROUTES),
    (RouteGroup::Unsubscribe, UNSUBSCRIBE_ROUTES),
];

/// A router of `table`'s routes.
fn routes_of(table: &[Route]) -> Router<AppState> {
    table.iter().fold(Router::new(), |router, r| {
        router.route(r.path, (r.handler)(r.method.filter()))
    })
}

/// The campaign routes (`functions/campaigns-api`).
pub fn campaign_routes() -> Router<AppState> {
    routes_of(CAMPAIGN_ROUTES)
}

/// The Contact Customer routes (`functions/contact-api`).
pub fn contact_routes() -> Router<AppState> {
    routes_of(CONTACT_ROUTES)
}

/// The unsubscribe routes (`functions/unsubscribe-api`): anyone, no bearer token
/// (the signed token in the path is the authority).
pub fn unsubscribe_routes() -> Router<AppState> {
    routes_of(UNSUBSCRIBE_ROUTES)
}

/// The seller health route (issue 7).
pub fn health_routes() -> Router<AppState> {
    routes_of(HEALTH_ROUTES)
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
