//! The calendar every date and instant a request or an event carries must lie in
//! (CONTRACT.md, Errors: years 2000 to 2100).
//!
//! Checked once, where input is parsed: query parameters and bodies through
//! [`parse_date`], [`parse_instant`] and the serde adapters of [`serde_date`],
//! marketplace events through [`instant`]. Past this point date arithmetic never
//! meets the end of chrono's calendar (where it would saturate or overflow).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};

/// The first year a date or instant may fall in.
pub const FIRST_YEAR: i32 = 2000;
/// The last year a date or instant may fall in.
pub const LAST_YEAR: i32 = 2100;

/// Why a date or instant was refused, naming the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not a date (or an instant) at all.
    #[error("{field} must be {expected}, got {text:?}")]
    Malformed {
        /// The field or parameter.
        field: String,
        /// What was expected.
        expected: &'static str,
        /// What came.
        text: String,
    },
    /// A date, but outside the years this service handles.
    #[error("{field} must fall in the years {FIRST_YEAR} to {LAST_YEAR}, got {value}")]
    OutOfBounds {
        /// The field or parameter.
        field: String,
        /// The value, as written back.
        value: String,
    },
}

/// `value` when its year falls in the bounds; else the refusal, with the value as
/// `written` writes it back.
fn in_bounds<T: Datelike>(
    field: &str,
    value: T,
    written: impl FnOnce(&T) -> String,
) -> Result<T, DateError> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&value.year()) {
        Ok(value)
    } else {
        Err(DateError::OutOfBounds {
            field: field.to_owned(),
            value: written(&value),
        })
    }
}

/// `d` when it falls in the bounds.
pub fn date(field: &str, d: NaiveDate) -> Result<NaiveDate, DateError> {
    in_bounds(field, d, NaiveDate::to_string)
}

/// `t` when it falls in the bounds (its UTC year).
pub fn instant(field: &str, t: DateTime<Utc>) -> Result<DateTime<Utc>, DateError> {
    in_bounds(field, t, DateTime::to_rfc3339)
}

/// Parses `YYYY-MM-DD` inside the bounds.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, DateError> {
    let d = text
        .parse::<NaiveDate>()
        .map_err(|_| DateError::Malformed {
            field: field.to_owned(),
            expected: "a date YYYY-MM-DD",
            text: text.to_owned(),
        })?;
    date(field, d)
}

/// Parses an RFC 3339 instant inside the bounds.
pub fn parse_instant(field: &str, text: &str) -> Result<DateTime<Utc>, DateError> {
    let t = DateTime::parse_from_rfc3339(text)
        .map_err(|_| DateError::Malformed {
            field: field.to_owned(),
            expected: "an RFC 3339 instant",
            text: text.to_owned(),
        })?
        .with_timezone(&Utc);
    instant(field, t)
}

/// `#[serde(deserialize_with = "serde_date")]`: a `YYYY-MM-DD` field of a body,
/// refused outside the bounds (the body extractor names the field's path).
pub fn serde_date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let v = NaiveDate::deserialize(d)?;
    date("the date", v).map_err(serde::de::Error::custom)
}

/// The longest id (brand, promotion, review, ASIN, ...) a request or an event may
/// carry, in bytes. Real ids are short; a longer one names nothing and would be
/// over DynamoDB's key size (2 KB), where the store would fail instead of the input.
pub const MAX_ID_BYTES: usize = 256;

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is longer than {MAX_ID_BYTES} bytes ({len} bytes)")]
pub struct IdTooLong {
    /// The field or parameter.
    pub field: String,
    /// Its length in bytes.
    pub len: usize,
}

/// `text` when it is no longer than [`MAX_ID_BYTES`].
pub fn id(field: &str, text: String) -> Result<String, IdTooLong> {
    if text.len() <= MAX_ID_BYTES {
        Ok(text)
    } else {
        Err(IdTooLong {
            field: field.to_owned(),
            len: text.len(),
        })
    }
}

/// `#[serde(deserialize_with = "serde_id")]`: an id field of a body or query,
/// refused over [`MAX_ID_BYTES`] (the body extractor names the field's path).
pub fn serde_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    id("the id", String::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// [`serde_id`] for an optional field.
pub fn serde_opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|t| id("the id", t))
        .transpose()
        .map_err(serde::de::Error::custom)
}

/// [`serde_id`] for a list of ids.
pub fn serde_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Vec::<String>::deserialize(d)?
        .into_iter()
        .map(|t| id("the id", t))
        .collect::<Result<_, _>>()
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
#[path = "bounds_test.rs"]
mod tests;
