//! Campaign routes (CONTRACT.md): parse, call one use case, map the result.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::{Body, Path, Query, Session};
use super::problem::Problem;
use crate::app::campaigns::{self, CampaignInput, Moderation, Submitted};
use crate::domain::campaign::{Campaign, CampaignStatus};

/// `POST /v1/campaigns`.
pub async fn submit(
    s: Session,
    headers: HeaderMap,
    Body(input): Body<CampaignInput>,
) -> Result<Response, Problem> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            // Visible ASCII only, as infra/openapi.yaml says: a key is an opaque token.
            Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
                Some(k.to_owned())
            }
            _ => {
                return Err(Problem::bad_request(
                    "Idempotency-Key must be 1 to 255 visible characters",
                ));
            }
        },
    };
    // A refusal replayed under its key is still a 422 problem, as on the first answer.
    Ok(
        match campaigns::submit(&s.app, &s.caller, input, key.as_deref()).await? {
            Submitted::Created { campaign } => {
                (StatusCode::CREATED, Json(campaign)).into_response()
            }
            Submitted::Refused {
                detail,
                policy,
                violations,
            } => Problem::rules_violated(detail, policy, violations).into_response(),
        },
    )
}

/// `POST /v1/campaigns/validate`.
pub async fn validate(
    s: Session,
    Body(input): Body<CampaignInput>,
) -> Result<Json<campaigns::Validation>, Problem> {
    Ok(Json(campaigns::validate(&s.app, &s.caller, input).await?))
}

/// Query of `GET /v1/campaigns`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    brand_id: Option<String>,
    status: Option<String>,
}

/// `GET /v1/campaigns?brandId=&status=`.
pub async fn list(
    s: Session,
    Query(q): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, Problem> {
    // An empty `status=` is no status of the enum: a 400 like any other (only an
    // absent parameter means "every status").
    let status = match q.status.as_deref() {
        None => None,
        Some(x) => Some(
            x.parse::<CampaignStatus>()
                .map_err(|e| Problem::bad_request(e.to_string()))?,
        ),
    };
    let items = campaigns::list(
        &s.app,
        &s.caller,
        super::brands::id_param("brandId", q.brand_id)?.as_deref(),
        status,
    )
    .await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// `GET /v1/campaigns/{id}`.
pub async fn get(s: Session, Path(id): Path<String>) -> Result<Json<Campaign>, Problem> {
    Ok(Json(campaigns::get(&s.app, &s.caller, &id).await?))
}

/// `POST /v1/campaigns/{id}/cancel`.
pub async fn cancel(s: Session, Path(id): Path<String>) -> Result<Json<Campaign>, Problem> {
    Ok(Json(campaigns::cancel(&s.app, &s.caller, &id).await?))
}

/// `POST /v1/campaigns/{id}/moderation`.
pub async fn moderate(
    s: Session,
    Path(id): Path<String>,
    Body(m): Body<Moderation>,
) -> Result<Json<Campaign>, Problem> {
    Ok(Json(campaigns::moderate(&s.app, &s.caller, &id, m).await?))
}

/// `GET /v1/campaigns/{id}/preview`: `text/html`.
pub async fn preview(
    s: Session,
    Path(id): Path<String>,
) -> Result<axum::response::Html<String>, Problem> {
    Ok(axum::response::Html(
        campaigns::preview(&s.app, &s.caller, &id).await?,
    ))
}
