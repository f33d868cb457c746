//! Unit tests of `src/jobs/sequences/definition.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn sentences_split_at_stops() {
    assert_eq!(
        sentences("Hello. Find us at x dot com! Bye"),
        vec!["Hello.", " Find us at x dot com!", " Bye"]
    );
}

#[test]
fn the_bundled_sequences_are_clean() {
    let policies = PolicySet::bundled();
    let v = policies.versions(POLICY).unwrap().last().unwrap();
    let checked = check_version(v, &policies).unwrap();
    assert_eq!(checked, 15, "5 steps x 3 locales");
}

#[test]
fn an_optional_value_leaves_its_paragraph_out_and_must_be_tested() {
    let policies = PolicySet::bundled();
    let v = policies.versions(POLICY).unwrap().last().unwrap();
    let seq = Sequences::from_version(v).unwrap();
    let step = seq
        .steps
        .iter()
        .find(|s| s.message_type == "shipment_confirmation")
        .unwrap();
    let t = &step.templates["en-US"];
    let full = MessageVars::sample(Trigger::OrderShipped);
    let with = t.render(&full).unwrap();
    let without = t.render(&full.without_optional()).unwrap();
    assert_eq!(with.body.len(), without.body.len() + 1);
    assert!(
        with.body
            .iter()
            .any(|p| p == "Expected delivery: 2026-11-20.")
    );

    // Quoting the optional value without `is defined` fails without it.
    let bare = Template {
        subject: "s".into(),
        body: vec!["Expected delivery: {{ expected_delivery_date }}.".into()],
        closing: "c".into(),
    };
    assert!(
        bare.render(&MessageVars::sample(Trigger::OrderShipped))
            .is_ok()
    );
    assert!(
        bare.render(&MessageVars::sample(Trigger::OrderShipped).without_optional())
            .is_err()
    );
}
