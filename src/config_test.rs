//! Unit tests of `src/config.rs`.

use super::*;

#[test]
fn defaults_and_overrides() {
    let c = Config::from_lookup(|_| None).unwrap();
    assert_eq!(c.token_secret, LOCAL_DEVELOPMENT_SECRET);
    assert_eq!(c.max_body_bytes, 65536);
    let c = Config::from_lookup(|n| (n == "ENGAGE_MAX_BODY_BYTES").then(|| "10".into())).unwrap();
    assert_eq!(c.max_body_bytes, 10);
    assert!(Config::from_lookup(|n| (n == "ENGAGE_MAX_BODY_BYTES").then(|| "x".into())).is_err());
}
