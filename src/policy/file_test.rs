//! Unit tests of `src/policy/file.rs`.

use super::*;

#[test]
fn rule_ids() {
    assert!(is_rule_id("R-MYCE-6"));
    assert!(is_rule_id("R-MYCE-11.type"));
    assert!(is_rule_id("R-CC-7.once"));
    assert!(!is_rule_id("MYCE-6"));
    assert!(!is_rule_id("R-MYCE"));
    assert!(!is_rule_id("R-MYCE-x"));
}

#[test]
fn placeholders_and_references() {
    assert_eq!(
        quoted_params("at most {a_b} and {c}").unwrap(),
        ["a_b", "c"]
    );
    assert!(quoted_params("bad {").is_err());
    assert!(quoted_params("bad {a b}").is_err());
    assert_eq!(
        referenced_params("x < params.max_x && y in params.list && myparams.z"),
        ["max_x", "list"]
    );
}
