//! Running the routes on AWS Lambda behind an API Gateway HTTP API.
//!
//! The JWT authorizer verifies the token before the function runs and passes
//! its claims in the request context; [`caller_from_authorizer`] turns them
//! into the [`Caller`] the routes read, so no route knows where it runs. Each
//! answer reaches `lambda_http` as an [`Answer`].

use std::future::Future;
use std::pin::Pin;

use axum::Router;
use axum::extract::Request;
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use lambda_http::request::RequestContext;
use lambda_http::tower::util::MapResponse;

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

/// `routes` as a Lambda HTTP service: claims read from the authorizer, and each
/// answer handed to `lambda_http` with its body already text or bytes.
pub fn for_lambda(routes: Router) -> MapResponse<Router, fn(Response) -> Answer> {
    MapResponse::new(routes.layer(from_fn(caller_from_authorizer)), Answer)
}

/// Serves `routes` on the Lambda runtime until it stops.
pub async fn run(routes: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(for_lambda(routes)).await
}

/// An answer of the routes on its way to API Gateway.
///
/// `lambda_http` turns any other response body into text by its charset through
/// `encoding_rs`, whose tables of every legacy encoding were about 0.17 MB of
/// each HTTP function. engage's routes write UTF-8 only, so the body is text
/// when its headers say text and it is UTF-8, and bytes (base64 to API Gateway)
/// otherwise: the same split `lambda_http` makes, without the decoders.
pub struct Answer(pub Response);

impl lambda_http::IntoResponse for Answer {
    fn into_response(self) -> LambdaFuture {
        let (mut parts, body) = self.0.into_parts();
        Box::pin(async move {
            let body = match axum::body::to_bytes(body, usize::MAX).await {
                Ok(bytes) => lambda_body(&parts.headers, bytes.to_vec()),
                Err(e) => {
                    // The routes' bodies are in memory: a bug, answered as one.
                    tracing::error!(error = %e, "response body could not be read");
                    parts.status = StatusCode::INTERNAL_SERVER_ERROR;
                    parts.headers.clear();
                    lambda_http::Body::Empty
                }
            };
            lambda_http::Response::from_parts(parts, body)
        })
    }
}

/// What `lambda_http::IntoResponse` returns (its alias for it is private).
type LambdaFuture = Pin<Box<dyn Future<Output = lambda_http::Response<lambda_http::Body>> + Send>>;

/// The content types `lambda_http` sends as text: by prefix, and by suffix of
/// the media type.
const TEXT_PREFIXES: [&str; 5] = [
    "text",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/yaml",
];
const TEXT_SUFFIXES: [&str; 3] = ["+xml", "+yaml", "+json"];

/// `bytes` as text when `headers` say it is text (no content encoding, and a
/// text content type, none, or `x-lambda-http-content-encoding: text`) and it
/// is UTF-8; as bytes otherwise.
pub fn lambda_body(headers: &HeaderMap, bytes: Vec<u8>) -> lambda_http::Body {
    let text = headers.get(CONTENT_ENCODING).is_none()
        && match headers.get(CONTENT_TYPE).map(|v| v.to_str()) {
            None => true,
            Some(Ok(ct)) => {
                let media = ct.split(';').next().unwrap_or_default().trim();
                TEXT_PREFIXES.iter().any(|p| ct.starts_with(p))
                    || TEXT_SUFFIXES.iter().any(|s| media.ends_with(s))
                    || headers
                        .get("x-lambda-http-content-encoding")
                        .is_some_and(|v| v == "text")
            }
            Some(Err(_)) => false,
        };
    if !text {
        return lambda_http::Body::Binary(bytes);
    }
    match String::from_utf8(bytes) {
        Ok(text) => lambda_http::Body::Text(text),
        Err(e) => lambda_http::Body::Binary(e.into_bytes()),
    }
}
