//! `GET /v1/brands/{brandId}/health` (R-MSG-7, R-MSG-8, R-MAIL-3).

use axum::Json;
use axum::extract::State;

use super::AppState;
use super::extract::{Authenticated, Path};
use super::problem::Problem;
use crate::app::health::{self, Health};

/// `GET /v1/brands/{brandId}/health`: brand representatives of the brand only.
pub async fn get(
    State(s): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(brand): Path<String>,
) -> Result<Json<Health>, Problem> {
    Ok(Json(health::health(&s.app, &caller, &brand).await?))
}
