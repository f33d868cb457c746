//! Calendar arithmetic of campaigns: marketplace time zones, local midnight,
//! send windows (R-MYCE-7) and lead days (R-MYCE-13). The numbers (window
//! length, lead) come from the policy in force; this module only computes.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::brand::Marketplace;
use super::campaign::SendWindow;

/// The time zone a marketplace's dates are in: Pacific for US and CA.
pub fn zone(marketplace: Marketplace) -> Tz {
    match marketplace {
        Marketplace::US | Marketplace::CA => chrono_tz::America::Los_Angeles,
    }
}

/// The first instant of `date` in `tz` (local midnight; on a day whose
/// midnight is skipped by a clock change, the first instant that exists).
pub fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = date.and_time(chrono::NaiveTime::MIN);
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        // No zone in use skips midnight by more than an hour; search forward.
        chrono::LocalResult::None => (1..=180)
            .find_map(|m| {
                tz.from_local_datetime(&(naive + chrono::Duration::minutes(m)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| naive.and_utc()),
    }
}

/// The calendar date of `at` in `tz`.
pub fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// `date` plus `days` calendar days (saturating at the end of the calendar).
pub fn add_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

/// The send window of a campaign starting on `start_date`: from local
/// midnight of that date for `window_days` calendar days (R-MYCE-7). Calendar
/// days, not 24-hour periods, so a clock change inside the window does not
/// shift its end.
pub fn send_window(start_date: NaiveDate, tz: Tz, window_days: u64) -> SendWindow {
    SendWindow {
        start: local_midnight(start_date, tz),
        end: local_midnight(add_days(start_date, window_days), tz),
    }
}

/// When a span of `days` marketplace calendar days that began at `at` is
/// over: local midnight `days` dates after `at`'s date (R-MYCE-14: a customer
/// reached on a date may be reached again from midnight `days` dates later,
/// whatever the clock changes in between).
pub fn after_days(at: DateTime<Utc>, days: u64, tz: Tz) -> DateTime<Utc> {
    local_midnight(add_days(local_date(at, tz), days), tz)
}

/// The instant at the same local wall-clock time as `at`, `days` marketplace
/// dates later (earlier when negative): "N days after" an event (RULES.md),
/// across a clock change 23 or 25 hours per changed day, not 24. A wall-clock
/// time the change skips (02:30 on the March change) moves forward by the gap;
/// one it repeats (01:30 on the November change) is its first occurrence.
pub fn add_local_days(at: DateTime<Utc>, days: i64, tz: Tz) -> DateTime<Utc> {
    let local = at.with_timezone(&tz).naive_local();
    let n = Days::new(days.unsigned_abs());
    let target = if days >= 0 {
        local
            .checked_add_days(n)
            .unwrap_or(chrono::NaiveDateTime::MAX)
    } else {
        local
            .checked_sub_days(n)
            .unwrap_or(chrono::NaiveDateTime::MIN)
    };
    match tz.from_local_datetime(&target) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        // Skipped by the clock change: the same elapsed time from the last
        // instant before the gap, i.e. the wall-clock time moved by the gap.
        chrono::LocalResult::None => {
            let before = (1..=180).find_map(|m| {
                tz.from_local_datetime(&(target - chrono::Duration::minutes(m)))
                    .latest()
                    .map(|t| (m, t))
            });
            match before {
                Some((m, t)) => t.with_timezone(&Utc) + chrono::Duration::minutes(m),
                None => target.and_utc(),
            }
        }
    }
}

/// Local midnight of the date `days` marketplace dates before `at`'s date:
/// where a listing of what a rule "within the past N days" may still accept
/// begins (the rule compares dates, so the whole first date counts).
pub fn midnight_days_before(at: DateTime<Utc>, days: u64, tz: Tz) -> DateTime<Utc> {
    let date = local_date(at, tz)
        .checked_sub_days(Days::new(days))
        .unwrap_or(NaiveDate::MIN);
    local_midnight(date, tz)
}

/// Calendar days from `today` to `date` (negative when `date` is past).
pub fn days_between(today: NaiveDate, date: NaiveDate) -> i64 {
    (date - today).num_days()
}

/// Whether two half-open windows share an instant.
pub fn overlaps(a: &SendWindow, b: &SendWindow) -> bool {
    a.start < b.end && b.start < a.end
}

#[cfg(test)]
#[path = "schedule_test.rs"]
mod tests;
