//! A zone spelled in a condition must be one the build carries.

use super::*;
use crate::policy::parse::parse;

fn params() -> BTreeMap<String, FactValue> {
    [
        ("home", FactValue::String("America/Los_Angeles".to_owned())),
        ("away", FactValue::String("Europe/Paris".to_owned())),
        ("days", FactValue::Int(3)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn missing(text: &str) -> Option<String> {
    missing_zone(&parse(text).unwrap(), &params())
}

#[test]
fn the_marketplace_zones_and_utc_are_carried() {
    assert_eq!(
        missing("localDate(now, 'America/Los_Angeles') > '2026-11-01'"),
        None
    );
    assert_eq!(missing("localDate(now, params.home) > '2026-11-01'"), None);
    assert_eq!(
        missing("now.getHours('UTC') > 3 && now.getDayOfWeek('GMT') < 6"),
        None
    );
    assert_eq!(
        missing("localDate(now, zone) > '2026-11-01'"),
        None,
        "a fact is known when evaluated"
    );
}

#[test]
fn a_zone_the_build_leaves_out_is_named() {
    let cases = [
        (
            "localDate(now, 'Europe/Paris') > '2026-11-01'",
            "Europe/Paris",
        ),
        ("localDate(now, params.away) > '2026-11-01'", "Europe/Paris"),
        ("now.getHours('Asia/Tokyo') > 3", "Asia/Tokyo"),
        (
            "[1].exists(x, order.placedAt.getDate('America/New_York') == x)",
            "America/New_York",
        ),
        ("{'a': localDate(now, 'Mars/Base')}.a == ''", "Mars/Base"),
    ];
    for (text, zone) in cases {
        assert_eq!(missing(text).as_deref(), Some(zone), "{text}");
    }
}

#[test]
fn chrono_tz_carries_only_the_filtered_zones() {
    // The filter of .cargo/config.toml reached chrono-tz's build: were it
    // lost, every zone would parse and the check above would pass anything.
    assert!("America/Los_Angeles".parse::<Tz>().is_ok());
    assert!("UTC".parse::<Tz>().is_ok());
    assert!("Europe/Paris".parse::<Tz>().is_err());
    // With their aliases (`US/Pacific`, `Etc/UTC`...); the whole database has about 600.
    assert!(
        chrono_tz::TZ_VARIANTS.len() < 60,
        "{} zones",
        chrono_tz::TZ_VARIANTS.len()
    );
}
