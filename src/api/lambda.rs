//! Running the routes on AWS Lambda behind an API Gateway HTTP API.
//!
//! The JWT authorizer verifies the token before the function runs and passes
//! its claims in the request context; [`caller_from_authorizer`] turns them
//! into the [`Caller`] the routes read, so no route knows where it runs.

use axum::Router;
use axum::extract::Request;
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use lambda_http::request::RequestContext;

use crate::auth::Caller;

/// Middleware: the authorizer's claims become the request's [`Caller`]. A
/// request without usable claims gets none, and the routes answer 401.
pub async fn caller_from_authorizer(mut req: Request, next: Next) -> Response {
    let caller = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .and_then(|jwt| Caller::from_authorizer_claims(&jwt.claims).ok()),
        _ => None,
    };
    if let Some(caller) = caller {
        req.extensions_mut().insert(caller);
    }
    next.run(req).await
}

/// `routes` as a Lambda HTTP service: claims read from the authorizer.
pub fn for_lambda(routes: Router) -> Router {
    routes.layer(from_fn(caller_from_authorizer))
}

/// Serves `routes` on the Lambda runtime until it stops.
pub async fn run(routes: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(for_lambda(routes)).await
}
