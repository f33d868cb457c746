//! Unit tests of `src/policy/decision.rs`.

use super::*;

fn v(rule: &str, policy: &str) -> Violation {
    Violation {
        rule: rule.into(),
        message: "m".into(),
        field: None,
        policy: policy.into(),
        unevaluated: false,
    }
}

#[test]
fn merge_keeps_everything() {
    let mut a = Decision::new("campaign@1");
    a.violations.push(v("R-1", "campaign@1"));
    let mut b = Decision::new("content@1");
    b.warnings.push(v("R-2", "content@1"));
    let m = Decision::merge_all([a, b]);
    assert_eq!(m.policy, "campaign@1,content@1");
    assert_eq!(m.policies(), ["campaign@1", "content@1"]);
    assert_eq!(m.fired(), ["R-1", "R-2"]);
    assert!(!m.is_allowed());
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["violations"][0]["rule"], "R-1");
    assert!(json["violations"][0].get("field").is_none());
    assert!(json["violations"][0].get("unevaluated").is_none());
    let with = m.with_field("subject");
    assert_eq!(with.violations[0].field.as_deref(), Some("subject"));
}
