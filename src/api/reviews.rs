//! Contact Customer routes (CONTRACT.md): parse, call one use case, map the result.

use axum::Json;
use axum::http::StatusCode;
use serde::Deserialize;

use super::extract::{Body, Path, Query, Session};
use super::problem::Problem;
use crate::app::contact::{
    self, ContactCreated, ContactInput, PageRequest, PeriodBound, ReviewPage, ReviewQuery,
};

/// Query of `GET /v1/reviews`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    brand_id: Option<String>,
    stars: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// `GET /v1/reviews?brandId=&stars=1,2,3&from=&to=&limit=&cursor=`:
/// `{items: [review + contact], nextCursor?}`.
pub async fn list(s: Session, Query(p): Query<ListParams>) -> Result<Json<ReviewPage>, Problem> {
    let q = ReviewQuery {
        brand_id: super::brands::id_param("brandId", p.brand_id)?,
        stars: p.stars.map(|s| contact::parse_stars(&s)).transpose()?,
        // Present but empty is no date or instant: a 400, not "absent".
        from: p.from.map(|s| PeriodBound::parse("from", &s)).transpose()?,
        to: p.to.map(|s| PeriodBound::parse("to", &s)).transpose()?,
    };
    let page = PageRequest::parse(p.limit.as_deref(), non_empty(p.cursor).as_deref())?;
    Ok(Json(
        contact::review_page(&s.app, &s.caller, &q, &page).await?,
    ))
}

/// `POST /v1/reviews/{id}/contact`: 201 `{id, reviewId, reason, sentAt, policy}`.
pub async fn contact(
    s: Session,
    Path(id): Path<String>,
    Body(input): Body<ContactInput>,
) -> Result<(StatusCode, Json<ContactCreated>), Problem> {
    Ok((
        StatusCode::CREATED,
        Json(contact::contact(&s.app, &s.caller, &id, input).await?),
    ))
}
