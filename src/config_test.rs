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

#[test]
fn required_secrets_refuse_the_public_development_ones() {
    let c = Config::from_lookup(|_| None).unwrap();
    let e = c.require_secrets(&[Secret::Token]).unwrap_err();
    assert_eq!(e.name, "ENGAGE_TOKEN_SECRET");
    let e = c.require_secrets(&[Secret::Unsubscribe]).unwrap_err();
    assert_eq!(e.name, "ENGAGE_UNSUBSCRIBE_SECRET");
    assert!(c.require_secrets(&[]).is_ok());
    let public = Config::from_lookup(|n| {
        (n == "ENGAGE_TOKEN_SECRET").then(|| LOCAL_DEVELOPMENT_SECRET.to_owned())
    })
    .unwrap();
    assert!(public.require_secrets(&[Secret::Token]).is_err());
    let set = Config::from_lookup(|n| match n {
        "ENGAGE_TOKEN_SECRET" => Some("t-0123456789".into()),
        "ENGAGE_UNSUBSCRIBE_SECRET" => Some("u-0123456789".into()),
        _ => None,
    })
    .unwrap();
    assert!(
        set.require_secrets(&[Secret::Token, Secret::Unsubscribe])
            .is_ok()
    );
}

#[test]
fn event_bus_and_ses_configuration_set() {
    let c = Config::from_lookup(|_| None).unwrap();
    assert_eq!(c.event_bus, DEFAULT_EVENT_BUS);
    assert_eq!(c.ses_configuration_set, None);
    let c = Config::from_lookup(|n| match n {
        "ENGAGE_EVENT_BUS" | "ENGAGE_SES_CONFIGURATION_SET" => Some(String::new()),
        _ => None,
    })
    .unwrap();
    assert_eq!(c.event_bus, "default", "an empty variable is unset");
    assert_eq!(c.ses_configuration_set, None);
    let c = Config::from_lookup(|n| match n {
        "ENGAGE_EVENT_BUS" => Some("arn:aws:events:us-east-1:1:event-bus/engage".into()),
        "ENGAGE_SES_CONFIGURATION_SET" => Some("engage-feedback".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(c.event_bus, "arn:aws:events:us-east-1:1:event-bus/engage");
    assert_eq!(c.ses_configuration_set.as_deref(), Some("engage-feedback"));
}
