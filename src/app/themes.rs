//! `GET /themes`: the event themes a campaign can use (R-MYCE-3).

use chrono::NaiveDate;
use serde::Serialize;

use super::App;
use crate::domain::theme::ThemeColors;

/// One theme as listed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThemeItem {
    /// Id used in campaigns.
    pub id: String,
    /// Display name.
    pub name: String,
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
    /// Email colours.
    pub colors: ThemeColors,
}

/// Every theme.
pub fn list(app: &App) -> Vec<ThemeItem> {
    app.themes
        .all()
        .iter()
        .map(|t| ThemeItem {
            id: t.id.clone(),
            name: t.name.clone(),
            start: t.start,
            end: t.end,
            colors: t.colors.clone(),
        })
        .collect()
}
