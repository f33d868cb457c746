//! The brand console (issue 15): the static files of `console/`, embedded in the
//! binary so `engage serve` needs nothing beside it, served at `/` with their
//! content types and a strict Content-Security-Policy. No server-side rendering:
//! the page calls the `/v1` routes with the caller's bearer token, like any client.
//! On AWS the same files are served from S3 behind CloudFront (`infra/template.yaml`,
//! whose response headers policy carries the same [`CSP`]).

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

/// Scripts and styles from this origin only, no inline script, no eval, calls to this
/// origin only, never framed. Inline styles are allowed for one reason: the email
/// preview (the server's own HTML, in a `sandbox=""` frame that runs no script) is
/// shown with `srcdoc`, which inherits this policy, and email HTML carries its styles
/// inline because mail clients drop style sheets. Images may come from any https
/// address for the same reason (the campaign's lifestyle image and logo).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: https:; connect-src 'self'; frame-src 'self'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

/// One embedded file: its bytes and media type.
struct Asset {
    body: &'static [u8],
    content_type: &'static str,
}

const INDEX: Asset = Asset {
    body: include_bytes!("../../console/index.html"),
    content_type: "text/html; charset=utf-8",
};
const SCRIPT: Asset = Asset {
    body: include_bytes!("../../console/app.js"),
    content_type: "text/javascript; charset=utf-8",
};
const STYLE: Asset = Asset {
    body: include_bytes!("../../console/style.css"),
    content_type: "text/css; charset=utf-8",
};

impl IntoResponse for &'static Asset {
    fn into_response(self) -> Response {
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(self.content_type),
                ),
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CSP),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
                (
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ),
                (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
                // Revalidated on every load: a new binary serves its own files at once.
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            self.body,
        )
            .into_response()
    }
}

/// The console's files, for the local server only (each Lambda function serves its
/// API routes; on AWS CloudFront serves the files). Not named `*_routes`: the route
/// checks of `tests/it` read those functions as the API's routes.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { &INDEX }))
        .route("/index.html", get(|| async { &INDEX }))
        .route("/app.js", get(|| async { &SCRIPT }))
        .route("/style.css", get(|| async { &STYLE }))
}
