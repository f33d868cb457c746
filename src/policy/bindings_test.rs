//! The lazy bindings give rules the values eager binding gave them.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::policy::paths::tests::names;

fn instant() -> DateTime<Utc> {
    "2026-11-10T18:00:00Z".parse().unwrap()
}

fn every_kind() -> FactValue {
    FactValue::map()
        .with("null", FactValue::Null)
        .with("bool", true)
        .with("int", -3_i64)
        .with("float", 1.5)
        .with("string", "héllo")
        .with("instant", instant())
        .with("duration", Duration::hours(72))
        .with("list", FactValue::list(["a", "b"]))
        .with(
            "nested",
            FactValue::map().with("x", FactValue::list([1_i64, 2])),
        )
        .with("empty", FactValue::Map(BTreeMap::new()))
}

#[test]
fn direct_conversion_is_the_value_of_the_two_step_one() {
    let fact = every_kind();
    let direct = cel::Value::try_from(to_val(&fact).as_ref()).unwrap();
    assert_eq!(direct, fact.to_cel());
}

#[test]
fn strings_are_borrowed_not_copied() {
    let fact = FactValue::String("subject".to_owned());
    let val = to_val(&fact);
    let FactValue::String(text) = &fact else {
        unreachable!()
    };
    let s = val.downcast_ref::<CelString>().unwrap();
    assert!(std::ptr::eq(s.inner(), text.as_str()));
}

#[test]
fn resolves_read_names_once_and_nothing_else() {
    let params = Box::<dyn Val>::try_from(FactValue::map().with("limit", 2_i64).to_cel()).unwrap();
    let names = names("campaign.subject + campaign.logo.url + now + theme + missing.x");
    let facts = Facts::new()
        .with(
            "campaign",
            FactValue::map()
                .with("subject", "s")
                .with("logo", FactValue::Null),
        )
        .with("unread", 1_i64);
    let bindings = Bindings::new(params.as_ref(), &names, &facts, instant());

    let first = bindings.resolve("campaign.subject").unwrap();
    let again = bindings.resolve("campaign.subject").unwrap();
    assert!(first.is_borrowed() && again.is_borrowed());
    assert!(std::ptr::eq(
        first.as_ref() as *const dyn Val as *const u8,
        again.as_ref() as *const dyn Val as *const u8
    ));
    assert_eq!(first.downcast_ref::<CelString>().unwrap().inner(), "s");
    // a path through a null is not answered: the interpreter selects the
    // rest from the shorter name, and fails as it did
    assert!(bindings.resolve("campaign.logo.url").is_none());
    assert!(bindings.resolve("campaign.logo").is_some());
    assert!(bindings.resolve("campaign").is_some());
    // `now` defaults to the evaluation instant
    let now = bindings.resolve("now").unwrap();
    assert_eq!(
        now.downcast_ref::<CelTimestamp>().unwrap().inner(),
        &instant().fixed_offset()
    );
    // read by a rule but absent: nothing, so the rule fails closed
    assert!(bindings.resolve("theme").is_none());
    assert!(bindings.resolve("missing.x").is_none());
    // no rule reads it: never converted
    assert!(bindings.resolve("unread").is_none());
    assert!(bindings.resolve("params").is_some());
}
