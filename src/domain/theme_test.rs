//! Unit tests of `src/domain/theme.rs`.

use super::*;

#[test]
fn bundled_season_has_the_required_events() {
    let c = ThemeCatalog::bundled().unwrap();
    for id in [
        "black_friday",
        "cyber_monday",
        "holiday_gift_guide",
        "valentines_day",
    ] {
        assert!(c.get(id).is_some(), "{id}");
    }
    let bf = c.get("black_friday").unwrap();
    assert!(bf.contains("2026-11-27".parse().unwrap()));
    let (s, e) = bf.period(chrono_tz::America::Los_Angeles);
    assert_eq!(s.to_rfc3339(), "2026-11-20T08:00:00+00:00");
    assert_eq!(e.to_rfc3339(), "2026-11-28T08:00:00+00:00");
}

#[test]
fn refuses_bad_colours_and_periods() {
    let bad = r##"[[themes]]
id = "x"
name = "X"
start = "2026-01-02"
end = "2026-01-01"
colors = { primary = "#000000", accent = "#000000", header_dark = "#000000", header_light = "#000000" }
"##;
    assert!(matches!(
        ThemeCatalog::parse(bad),
        Err(ThemeError::Invalid { .. })
    ));
    let bad = bad
        .replace(r#"end = "2026-01-01""#, r#"end = "2026-01-03""#)
        .replace("\"#000000\" }", "\"red;}\" }");
    assert!(matches!(
        ThemeCatalog::parse(&bad),
        Err(ThemeError::Invalid { .. })
    ));
}
