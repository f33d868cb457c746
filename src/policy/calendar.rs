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
    if let Some(day) = plain_date(text) {
        return Ok(day);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ExecutionError::function_error(function, format!("{text:?} is not a YYYY-MM-DD date"))
    })
}

/// `YYYY-MM-DD` with four-digit year: what `%Y-%m-%d` reads it as, without
/// interpreting the format (a fifth of a submission's calendar work). Other
/// text, and dates that do not exist, go through chrono's parser.
fn plain_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        b.get(range)?.iter().try_fold(0_u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
}

/// The text of `day` as `NaiveDate`'s `Display` writes it, without the
/// formatting machinery for the four-digit years of every real date.
fn date_text(day: NaiveDate) -> String {
    use chrono::Datelike;
    match day.year() {
        year @ 0..=9999 => format!("{year:04}-{:02}-{:02}", day.month(), day.day()),
        _ => day.to_string(),
    }
}

/// `localDate(timestamp, zone)`: the calendar date of an instant in the
/// marketplace's time zone (an IANA name such as `America/Los_Angeles`).
pub(crate) fn local_date(
    at: &CelTimestamp,
    tz: &CelString<'_>,
) -> Result<CelString<'static>, ExecutionError> {
    let tz = zone("localDate", tz.inner())?;
    let day = schedule::local_date(at.inner().with_timezone(&Utc), tz);
    Ok(CelString::from(date_text(day)))
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
        .map(|d| CelString::from(date_text(d)))
        .ok_or_else(|| ExecutionError::function_error("addDays", "date out of range"))
}

/// Registers `localDate` and `addDays` on `env`.
pub(crate) fn register(env: &mut cel::Env) -> Result<(), cel::DeclarationError> {
    cel::add_overload!(env, fn local_date: (CelTimestamp, CelString) -> Result<CelString>)?;
    cel::add_overload!(env, fn add_days: (CelString, CelInt) -> Result<CelString>)?;
    Ok(())
}

#[cfg(test)]
#[path = "calendar_test.rs"]
mod tests;
