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
    let policies = PolicySet::bundled().unwrap();
    let v = policies.versions(POLICY).unwrap().last().unwrap();
    let checked = check_version(v, &policies).unwrap();
    assert_eq!(checked, 12, "4 steps x 3 locales");
}
