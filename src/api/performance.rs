//! `GET /v1/campaigns/{id}/performance`.

use axum::Json;

use super::extract::{Path, Session};
use super::problem::Problem;
use crate::app::performance::{self, Performance};

/// `GET /v1/campaigns/{id}/performance`: the campaign's send counters.
pub async fn get(s: Session, Path(id): Path<String>) -> Result<Json<Performance>, Problem> {
    Ok(Json(performance::get(&s.app, &s.caller, &id).await?))
}
