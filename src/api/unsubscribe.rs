//! `GET, POST /v1/unsubscribe/{token}` (CONTRACT.md): anyone, no bearer token.
//!
//! GET answers a small HTML page naming the brand, with a button: a form that
//! POSTs to the same URL. POST is RFC 8058 one-click: mailbox providers send
//! `List-Unsubscribe=One-Click` as `application/x-www-form-urlencoded` (or
//! multipart); the page's form sends the same field. The body is not needed (the
//! token is the whole authority), so the body is never read: any body is accepted.
//! Both answer 200 with no redirect and no cookie; responses are `no-store` and
//! send no referrer (the token is in the URL). A bad or forged token is 404
//! problem+json saying only "unknown or invalid unsubscribe link".

use axum::extract::{FromRequestParts, Path};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::problem::Problem;
use crate::app::unsubscribe::{self as uc, UnsubscribeView};
use crate::app::{App, AppError};
use crate::unsubscribe::Scope;

/// What both unsubscribe routes start from: the use cases' ports and the link's token,
/// the whole authority of the request.
pub struct Link {
    app: App,
    token: String,
}

impl FromRequestParts<AppState> for Link {
    type Rejection = Problem;

    /// A token that is not even text (bad percent-encoding) is as unknown as a
    /// forged one.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let Path(token) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| Problem::not_found("unknown or invalid unsubscribe link"))?;
        Ok(Link {
            app: state.app.clone(),
            token,
        })
    }
}

fn problem(e: AppError) -> Problem {
    match e {
        AppError::NotFound(_) => Problem::not_found("unknown or invalid unsubscribe link"),
        other => other.into(),
    }
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    crate::mail::render::escape_html(text, "&#39;")
}

fn what(scope: Scope) -> &'static str {
    match scope {
        Scope::Campaign => "marketing emails",
        Scope::Message => "review requests and other automated messages",
    }
}

fn html(title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><title>{title}</title></head>\
<body style=\"font-family: sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem\">\n{body}\n</body></html>\n"
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        page,
    )
        .into_response()
}

fn page_html(v: &UnsubscribeView) -> Response {
    let brand = escape(&v.brand_name);
    html(
        &format!("Unsubscribe from {brand}"),
        &format!(
            "<h1>Unsubscribe from {brand}</h1>\n<p>Stop receiving {what} from {brand}.</p>\n\
<form method=\"post\">\
<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
<button type=\"submit\">Unsubscribe</button></form>",
            what = what(v.scope),
        ),
    )
}

fn done_html(v: &UnsubscribeView) -> Response {
    let brand = escape(&v.brand_name);
    html(
        "Unsubscribed",
        &format!(
            "<h1>You are unsubscribed</h1>\n<p>You will receive no more {what} from {brand}. \
Messages about your orders (such as a return received) still reach you.</p>",
            what = what(v.scope),
        ),
    )
}

/// `GET /v1/unsubscribe/{token}`: the page with the button.
pub async fn page(link: Link) -> Result<Response, Problem> {
    let view = uc::page(&link.app, &link.token).await.map_err(problem)?;
    Ok(page_html(&view))
}

/// `POST /v1/unsubscribe/{token}`: one-click unsubscribe; 200 every time.
pub async fn one_click(link: Link) -> Result<Response, Problem> {
    let done = uc::unsubscribe(&link.app, &link.token)
        .await
        .map_err(problem)?;
    Ok(done_html(&done.view))
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
