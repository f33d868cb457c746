//! The shortcuts read and write dates as chrono does.

use super::*;

#[test]
fn plain_dates_read_and_write_as_chrono_does() {
    for text in [
        "2026-11-20",
        "2026-02-29",
        "2028-02-29",
        "0000-01-01",
        "9999-12-31",
        "2026-13-01",
        "2026-00-10",
        "2026-1-01",
        "20261101xx",
        "2026-11-2x",
        "+2026-11-2",
        "２０２６-11-20",
    ] {
        let chrono = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        let ours = plain_date(text);
        assert!(ours.is_none() || ours == chrono, "{text}");
        assert_eq!(date("t", text).ok(), chrono, "{text}");
    }
    for day in [
        NaiveDate::from_ymd_opt(2026, 11, 20),
        NaiveDate::from_ymd_opt(7, 1, 2),
        NaiveDate::from_ymd_opt(-3, 1, 2),
        NaiveDate::from_ymd_opt(10_000, 1, 2),
        Some(NaiveDate::MAX),
        Some(NaiveDate::MIN),
    ]
    .into_iter()
    .flatten()
    {
        assert_eq!(date_text(day), day.to_string());
    }
}
