//! Unit tests of `src/domain/schedule.rs`.

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

#[test]
fn local_days_keep_the_wall_clock_time_across_clock_changes() {
    let tz = zone(Marketplace::US);
    let at = |s: &str| -> DateTime<Utc> { s.parse().unwrap() };
    for (from, days, to) in [
        // 10:00 PST on 2027-03-10, 7 dates later: 10:00 PDT (167 hours).
        ("2027-03-10T18:00:00Z", 7, "2027-03-17T17:00:00Z"),
        // 10:00 PDT on 2026-10-30, 7 dates later: 10:00 PST (169 hours).
        ("2026-10-30T17:00:00Z", 7, "2026-11-06T18:00:00Z"),
        // 02:30 PST on 2027-03-13, a day later the clock skips 02:00-03:00: 03:30 PDT.
        ("2027-03-13T10:30:00Z", 1, "2027-03-14T10:30:00Z"),
        // 01:30 PDT on 2026-10-31, a day later 01:30 happens twice: the first (PDT).
        ("2026-10-31T08:30:00Z", 1, "2026-11-01T08:30:00Z"),
        ("2026-12-01T18:00:00Z", 0, "2026-12-01T18:00:00Z"),
    ] {
        assert_eq!(
            add_local_days(at(from), days, tz),
            at(to),
            "{from} + {days}"
        );
    }
}
