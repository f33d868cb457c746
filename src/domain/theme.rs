//! Event themes (R-MYCE-3): periods and colours, loaded from `themes.toml`
//! (data shipped with the binary, not code).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::schedule::{add_days, local_midnight};

/// The theme file bundled at build time.
const THEMES_TOML: &str = include_str!("themes.toml");

/// The colours a theme gives the email, each `#rrggbb`. The theme file spells them in
/// snake_case; `GET /v1/themes` lists them in camelCase, like every key of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all(serialize = "camelCase"))]
pub struct ThemeColors {
    /// Buttons and badges.
    pub primary: String,
    /// Highlights.
    pub accent: String,
    /// Header background with the dark header style.
    pub header_dark: String,
    /// Header background with the light header style.
    pub header_light: String,
}

/// One event theme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// Stable id used in campaigns, e.g. `black_friday`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// First day of the event (marketplace time zone).
    pub start: NaiveDate,
    /// Last day of the event, inclusive.
    pub end: NaiveDate,
    /// Its colours.
    pub colors: ThemeColors,
}

impl Theme {
    /// The event period as instants: `[midnight of start, midnight after end)`.
    pub fn period(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            local_midnight(self.start, tz),
            local_midnight(add_days(self.end, 1), tz),
        )
    }

    /// Whether `date` lies inside the event.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

/// Why the theme file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// Not valid TOML of the expected shape.
    #[error("themes file is invalid")]
    Parse(#[from] toml::de::Error),
    /// A theme breaks an invariant.
    #[error("theme {id:?} is invalid: {reason}")]
    Invalid {
        /// The theme.
        id: String,
        /// What is wrong.
        reason: String,
    },
}

/// Every known theme.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeCatalog {
    themes: Vec<Theme>,
}

fn is_hex_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

impl ThemeCatalog {
    /// The themes shipped with the binary.
    pub fn bundled() -> Result<Self, ThemeError> {
        Self::parse(THEMES_TOML)
    }

    /// Parses and checks a themes file.
    pub fn parse(text: &str) -> Result<Self, ThemeError> {
        let catalog: ThemeCatalog = toml::from_str(text)?;
        let mut seen = std::collections::BTreeSet::new();
        for t in &catalog.themes {
            let bad = |reason: &str| ThemeError::Invalid {
                id: t.id.clone(),
                reason: reason.to_owned(),
            };
            if !seen.insert(t.id.as_str()) {
                return Err(bad("duplicate id"));
            }
            if t.end < t.start {
                return Err(bad("ends before it starts"));
            }
            let c = &t.colors;
            if ![&c.primary, &c.accent, &c.header_dark, &c.header_light]
                .iter()
                .all(|s| is_hex_colour(s))
            {
                return Err(bad("colours must be #rrggbb"));
            }
        }
        Ok(catalog)
    }

    /// Every theme, in file order.
    pub fn all(&self) -> &[Theme] {
        &self.themes
    }

    /// The theme with `id`.
    pub fn get(&self, id: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.id == id)
    }
}

#[cfg(test)]
#[path = "theme_test.rs"]
mod tests;
