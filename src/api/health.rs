//! `GET /v1/brands/{brandId}/health` (R-MSG-7, R-MSG-8, R-MAIL-3).

use axum::Json;

use super::extract::{Path, Session};
use super::problem::Problem;
use crate::app::health::{self, Health};

/// `GET /v1/brands/{brandId}/health`: brand representatives of the brand only.
pub async fn get(s: Session, Path(brand): Path<String>) -> Result<Json<Health>, Problem> {
    Ok(Json(health::health(&s.app, &s.caller, &brand).await?))
}
