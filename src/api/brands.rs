//! Brand routes: the date picker, the eligible promotions and the reach forecast.

use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;

use super::extract::{Path, Query, Session};
use super::problem::Problem;
use crate::app::calendar::{self, Calendar, CalendarQuery};
use crate::app::promotions::{self, Eligibility, EligibilityQuery};
use crate::app::reach::{self, Reach};
use crate::domain::bounds;

/// An optional date parameter. Present but empty (`from=`) is no date: a 400, as the
/// document's `format: date` says, not "absent".
fn date(name: &str, v: Option<String>) -> Result<Option<NaiveDate>, Problem> {
    match v {
        None => Ok(None),
        Some(s) => bounds::parse_date(name, &s)
            .map(Some)
            .map_err(|e| Problem::bad_request(e.to_string())),
    }
}

/// A non-empty id parameter, refused (400, named) over the id bound.
pub(super) fn id_param(name: &str, v: Option<String>) -> Result<Option<String>, Problem> {
    theme_param(name, v.filter(|s| !s.is_empty()))
}

/// A theme parameter: present but empty (`theme=`) is no theme of the list, so it goes on
/// to be refused as unknown (400) rather than read as "absent".
fn theme_param(name: &str, v: Option<String>) -> Result<Option<String>, Problem> {
    v.map(|s| bounds::id(name, s).map_err(|e| Problem::bad_request(e.to_string())))
        .transpose()
}

/// Query of the calendar.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarParams {
    from: Option<String>,
    to: Option<String>,
    theme: Option<String>,
    promotion_id: Option<String>,
}

/// `GET /v1/brands/{brandId}/calendar?from=&to=&theme=&promotionId=`.
pub async fn calendar(
    s: Session,
    Path(brand): Path<String>,
    Query(p): Query<CalendarParams>,
) -> Result<Json<Calendar>, Problem> {
    let q = CalendarQuery {
        from: date("from", p.from)?,
        to: date("to", p.to)?,
        theme: theme_param("theme", p.theme)?,
        promotion_id: id_param("promotionId", p.promotion_id)?,
    };
    Ok(Json(
        calendar::calendar(&s.app, &s.caller, &brand, q).await?,
    ))
}

/// Query of the eligible promotions.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromotionParams {
    asin: Option<String>,
    start_date: Option<String>,
    theme: Option<String>,
}

/// `GET /v1/brands/{brandId}/promotions?asin=&startDate=&theme=`.
pub async fn promotions(
    s: Session,
    Path(brand): Path<String>,
    Query(p): Query<PromotionParams>,
) -> Result<Json<Eligibility>, Problem> {
    let q = EligibilityQuery {
        asin: id_param("asin", p.asin)?,
        start_date: date("startDate", p.start_date)?,
        theme: theme_param("theme", p.theme)?,
    };
    Ok(Json(
        promotions::eligible(&s.app, &s.caller, &brand, q).await?,
    ))
}

/// Query of the reach forecast.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReachParams {
    start_date: Option<String>,
}

/// `GET /v1/brands/{brandId}/reach?startDate=`: `startDate` is required (400 without it).
pub async fn reach(
    s: Session,
    Path(brand): Path<String>,
    Query(p): Query<ReachParams>,
) -> Result<Json<Reach>, Problem> {
    let start = date("startDate", p.start_date)?
        .ok_or_else(|| Problem::bad_request("startDate is required (YYYY-MM-DD)"))?;
    Ok(Json(reach::reach(&s.app, &s.caller, &brand, start).await?))
}

/// `GET /v1/themes`.
pub async fn themes(s: Session) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "items": crate::app::themes::list(&s.app) }))
}
