//! `GET /v1/policies`: which version of each policy is in force now, so a
//! seller can read the rules a refusal quotes.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::AppState;
use super::extract::Authenticated;
use super::problem::Problem;

/// One policy version in force.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInForce {
    /// `name@version`.
    pub policy: String,
    /// From when it applies.
    pub effective_from: chrono::DateTime<chrono::Utc>,
    /// Its rule ids.
    pub rules: Vec<String>,
}

/// `{items: [{policy, effectiveFrom, rules}]}` at the business clock's now.
pub async fn in_force(
    State(state): State<AppState>,
    _caller: Authenticated,
) -> Result<Json<serde_json::Value>, Problem> {
    let now = state.app.clock.now();
    let mut items = Vec::new();
    for name in state.app.policies.names() {
        // A policy with no version in force yet is simply not listed.
        if let Ok(v) = state.app.policies.in_force(name, now) {
            items.push(PolicyInForce {
                policy: v.id(),
                effective_from: v.effective_from(),
                rules: v.rules().iter().map(|r| r.id.clone()).collect(),
            });
        }
    }
    Ok(Json(serde_json::json!({ "items": items })))
}
