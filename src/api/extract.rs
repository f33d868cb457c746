//! Extractors that turn every malformed request into a problem, never a panic
//! or a plain-text rejection.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, RawPathParams};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;

use super::AppState;
use super::problem::Problem;
use crate::app::App;
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

/// One authenticated call: the use cases and the verified caller, what every
/// route behind a bearer token starts from.
#[derive(Clone)]
pub struct Session {
    /// The use cases' ports.
    pub app: App,
    /// The verified caller.
    pub caller: Caller,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Authenticated(caller) = Authenticated::from_request_parts(parts, state).await?;
        Ok(Session {
            app: state.app.clone(),
            caller,
        })
    }
}

/// A JSON body whose rejections are problems: 413 over the size limit, 400
/// for anything malformed or mistyped.
#[derive(Debug, Clone, FromRequest)]
#[from_request(via(axum::Json), rejection(Problem))]
pub struct Body<T>(pub T);

impl From<JsonRejection> for Problem {
    fn from(rejection: JsonRejection) -> Self {
        json_problem(&rejection)
    }
}

fn json_problem(rejection: &JsonRejection) -> Problem {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "the request body is over the size limit",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            rejection.body_text(),
        ),
        // Unreadable or mistyped JSON (axum says 400 or 422): always a 400 here,
        // 422 is kept for rules violated.
        _ => Problem::bad_request(rejection.body_text()),
    }
}

/// The longest path parameter any route takes. Ids are short; a longer one
/// names nothing (and would be over DynamoDB's key size), so it is a 404 before
/// any store sees it.
pub const MAX_PATH_PARAM_BYTES: usize = 256;

/// Path parameters whose rejections are problems: 404 for a parameter over
/// [`MAX_PATH_PARAM_BYTES`] or not text, 400 for one that does not parse.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| Problem::not_found("no such resource"))?;
        if raw.iter().any(|(_, v)| v.len() > MAX_PATH_PARAM_BYTES) {
            return Err(Problem::not_found("no such resource"));
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(rejection) if rejection.status().is_server_error() => {
                tracing::error!(%rejection, "path parameters");
                Err(Problem::internal(false))
            }
            Err(rejection) => Err(Problem::bad_request(rejection.body_text())),
        }
    }
}

/// A query string whose rejections are problems: 400 for a repeated, unknown
/// or mistyped parameter.
#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Problem))]
pub struct Query<T>(pub T);

impl From<QueryRejection> for Problem {
    fn from(rejection: QueryRejection) -> Self {
        Problem::bad_request(rejection.body_text())
    }
}
