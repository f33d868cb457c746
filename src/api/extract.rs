//! Extractors that turn every malformed request into a problem, never a panic
//! or a plain-text rejection.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;

use super::problem::Problem;
use crate::auth::{AuthError, Caller, TokenKeys};

/// The verified caller of a route.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

impl<S> FromRequestParts<S> for Authenticated
where
    Arc<TokenKeys>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // On AWS the API Gateway JWT authorizer has verified the token and the
        // Lambda adapter put its claims here; no client can set an extension.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(Authenticated(caller.clone()));
        }
        let keys = Arc::<TokenKeys>::from_ref(state);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        keys.verify_header(header)
            .map(Authenticated)
            .map_err(|e| match e {
                AuthError::Missing => {
                    Problem::unauthorized("an Authorization: Bearer token is required")
                }
                other => Problem::unauthorized(other.to_string()),
            })
    }
}

/// A JSON body whose rejections are problems: 413 over the size limit, 400
/// for anything malformed or mistyped.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_problem(&rejection)),
        }
    }
}

fn json_problem(rejection: &JsonRejection) -> Problem {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "the request body is over the size limit",
        );
    }
    Problem::bad_request(rejection.body_text())
}
