//! `GET /themes`: the event themes a campaign can use (R-MYCE-3).

use chrono::NaiveDate;
use serde::Serialize;

use super::App;
use crate::domain::theme::ThemeColors;

/// A theme's email colours as listed, each `#rrggbb` (the theme file names them in
/// snake_case; the API, like all of its JSON, in camelCase).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThemeColorsItem {
    /// Buttons and badges.
    pub primary: String,
    /// Highlights.
    pub accent: String,
    /// Header background with the dark header style.
    pub header_dark: String,
    /// Header background with the light header style.
    pub header_light: String,
}

impl From<&ThemeColors> for ThemeColorsItem {
    fn from(c: &ThemeColors) -> Self {
        Self {
            primary: c.primary.clone(),
            accent: c.accent.clone(),
            header_dark: c.header_dark.clone(),
            header_light: c.header_light.clone(),
        }
    }
}

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
    pub colors: ThemeColorsItem,
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
            colors: ThemeColorsItem::from(&t.colors),
        })
        .collect()
}
