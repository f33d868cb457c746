//! Unit tests of `src/policy/facts.rs`.

use super::*;

#[test]
fn durations_parse_and_format() {
    assert_eq!(parse_duration("72h").unwrap(), Duration::hours(72));
    assert_eq!(parse_duration("1d12h").unwrap(), Duration::hours(36));
    assert_eq!(parse_duration("-2h").unwrap(), Duration::hours(-2));
    assert!(parse_duration("72").is_err());
    assert!(parse_duration("h").is_err());
    assert!(parse_duration("3w").is_err());
    assert_eq!(format_duration(&Duration::hours(36)), "1d12h");
}

#[test]
fn toml_special_values() {
    let table: toml::Table = toml::from_str(
        r#"
        at = 2026-11-05T08:00:00Z
        date = 2026-11-05
        wait = { duration = "72h" }
        gone = { null = true }
        obj = { a = 1 }
        "#,
    )
    .unwrap();
    let facts = Facts::from_toml(&table).unwrap();
    assert!(matches!(facts.get("at"), Some(FactValue::Instant(_))));
    assert_eq!(facts.get("date"), Some(&FactValue::from("2026-11-05")));
    assert_eq!(
        facts.get("wait"),
        Some(&FactValue::Duration(Duration::hours(72)))
    );
    assert_eq!(facts.get("gone"), Some(&FactValue::Null));
    assert_eq!(
        facts.get("obj").and_then(|o| o.get("a")),
        Some(&FactValue::Int(1))
    );
}

#[test]
fn serialized_instants_become_instants() {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Promo {
        starts_at: DateTime<Utc>,
        start_date: String,
        count: u32,
    }
    let mut facts = Facts::new();
    facts
        .insert_serialized(
            "promotion",
            &Promo {
                starts_at: "2026-11-05T08:00:00Z".parse().unwrap(),
                start_date: "2026-11-05".into(),
                count: 3,
            },
        )
        .unwrap();
    let p = facts.get("promotion").unwrap();
    assert!(matches!(p.get("startsAt"), Some(FactValue::Instant(_))));
    assert_eq!(p.get("startDate"), Some(&FactValue::from("2026-11-05")));
    assert_eq!(p.get("count"), Some(&FactValue::Int(3)));
}
