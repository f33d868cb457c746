//! CEL helpers for marketplace calendar days (RULES.md: "N days after a date"
//! means N marketplace calendar days, across daylight-saving changes, not
//! N x 24 hours).
//!
//! Calendar dates are `YYYY-MM-DD` strings, as in the API and in the facts
//! (`campaign.startDate`, `today`): they compare in calendar order with `<`,
//! so a rule reads `localDate(promotion.endsAt, zone) >= addDays(campaign.startDate, n)`.
//! The arithmetic is `crate::domain::schedule`'s, the one the code uses.

use cel::ExecutionError;
use cel::common::types::{CelInt, CelString, CelTimestamp};
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::schedule;

fn zone(function: &str, name: &str) -> Result<Tz, ExecutionError> {
    name.parse::<Tz>().map_err(|_| {
        ExecutionError::function_error(function, format!("unknown time zone {name:?}"))
    })
}

fn date(function: &str, text: &str) -> Result<NaiveDate, ExecutionError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ExecutionError::function_error(function, format!("{text:?} is not a YYYY-MM-DD date"))
    })
}

/// `localDate(timestamp, zone)`: the calendar date of an instant in the
/// marketplace's time zone (an IANA name such as `America/Los_Angeles`).
pub(crate) fn local_date(
    at: &CelTimestamp,
    tz: &CelString<'_>,
) -> Result<CelString<'static>, ExecutionError> {
    let tz = zone("localDate", tz.inner())?;
    let day = schedule::local_date(at.inner().with_timezone(&Utc), tz);
    Ok(CelString::from(day.to_string()))
}

/// `addDays(date, n)`: the date `n` calendar days after `date` (before, when
/// `n` is negative).
pub(crate) fn add_days(
    day: &CelString<'_>,
    n: &CelInt,
) -> Result<CelString<'static>, ExecutionError> {
    let day = date("addDays", day.inner())?;
    let n = *n.inner();
    let shifted = if n >= 0 {
        day.checked_add_days(chrono::Days::new(n.unsigned_abs()))
    } else {
        day.checked_sub_days(chrono::Days::new(n.unsigned_abs()))
    };
    shifted
        .map(|d| CelString::from(d.to_string()))
        .ok_or_else(|| ExecutionError::function_error("addDays", "date out of range"))
}

/// Registers `localDate` and `addDays` on `env`.
pub(crate) fn register(env: &mut cel::Env) -> Result<(), cel::DeclarationError> {
    cel::add_overload!(env, fn local_date: (CelTimestamp, CelString) -> Result<CelString>)?;
    cel::add_overload!(env, fn add_days: (CelString, CelInt) -> Result<CelString>)?;
    Ok(())
}
