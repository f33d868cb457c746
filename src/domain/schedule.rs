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

/// Calendar days from `today` to `date` (negative when `date` is past).
pub fn days_between(today: NaiveDate, date: NaiveDate) -> i64 {
    (date - today).num_days()
}

/// Whether two half-open windows share an instant.
pub fn overlaps(a: &SendWindow, b: &SendWindow) -> bool {
    a.start < b.end && b.start < a.end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn window_opens_at_pacific_midnight_for_five_calendar_days() {
        let tz = zone(Marketplace::US);
        let w = send_window(d("2026-12-07"), tz, 5);
        assert_eq!(w.start.to_rfc3339(), "2026-12-07T08:00:00+00:00");
        assert_eq!(w.end.to_rfc3339(), "2026-12-12T08:00:00+00:00");
        // Across the November clock change the window is 5 calendar days, 121 hours.
        let w = send_window(d("2026-10-30"), tz, 5);
        assert_eq!(w.start.to_rfc3339(), "2026-10-30T07:00:00+00:00");
        assert_eq!(w.end.to_rfc3339(), "2026-11-04T08:00:00+00:00");
    }

    #[test]
    fn local_date_and_lead_days() {
        let tz = zone(Marketplace::CA);
        let at: DateTime<Utc> = "2026-11-27T07:59:59Z".parse().unwrap();
        assert_eq!(local_date(at, tz), d("2026-11-26"));
        assert_eq!(days_between(d("2026-11-26"), d("2026-12-02")), 6);
        assert_eq!(days_between(d("2026-11-26"), d("2026-11-20")), -6);
    }

    #[test]
    fn overlap_is_half_open() {
        let tz = zone(Marketplace::US);
        let a = send_window(d("2026-12-07"), tz, 5);
        let b = send_window(d("2026-12-12"), tz, 5);
        let c = send_window(d("2026-12-11"), tz, 5);
        assert!(!overlaps(&a, &b));
        assert!(overlaps(&a, &c));
        assert!(overlaps(&c, &a));
    }
}
