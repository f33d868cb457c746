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
