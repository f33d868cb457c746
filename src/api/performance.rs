//! `GET /v1/campaigns/{id}/performance`.

use axum::Json;
use axum::extract::State;

use super::AppState;
use super::extract::{Authenticated, Path};
use super::problem::Problem;
use crate::app::performance::{self, Performance};

/// `GET /v1/campaigns/{id}/performance`: the campaign's send counters.
pub async fn get(
    State(s): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Performance>, Problem> {
    Ok(Json(performance::get(&s.app, &caller, &id).await?))
}
