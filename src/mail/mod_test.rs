//! Unit tests of `src/mail/mod.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::TimeZone;

use super::*;

/// A campaign email with every optional header (fixed date, non-ASCII text).
pub(crate) fn email() -> OutgoingEmail {
    OutgoingEmail::new(
        "campaign-c1-u1",
        Mailbox::new("Brand Café", "brand@example.com"),
        "relay-1@marketplace.example",
        RenderedEmail {
            subject: "Nouveau : la tasse à café".into(),
            html: "<p>hi &amp; welcome</p>".into(),
            text: "hi & welcome".into(),
        },
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
    )
    .with_campaign("c1")
    .with_content_language("fr-CA")
    .with_list_unsubscribe("https://engage.example/v1/unsubscribe/tok123")
}

#[test]
fn a_plain_email_is_valid() {
    email()
        .with_campaign("c1")
        .with_list_unsubscribe("https://u.example/t")
        .validate()
        .unwrap();
}

#[test]
fn control_characters_are_refused_everywhere() {
    for bad in ["a\rb", "a\nb", "a\0b", "a\r\nBcc: x@y.z"] {
        let mut e = email();
        e.subject = bad.into();
        assert!(matches!(e.validate(), Err(MailError::InvalidHeader { .. })));
        let e = email().with_campaign(bad);
        assert!(matches!(e.validate(), Err(MailError::InvalidHeader { .. })));
        let mut e = email();
        e.from.name = Some(bad.into());
        assert!(matches!(e.validate(), Err(MailError::InvalidHeader { .. })));
        let e = email().with_list_unsubscribe(format!("https://u.example/{bad}"));
        assert!(matches!(e.validate(), Err(MailError::InvalidHeader { .. })));
    }
}

#[test]
fn reserved_and_malformed_names_are_refused() {
    for name in ["Bcc", "subject", "X Bad", "X:Bad", ""] {
        let e = email().with_header(name, "v");
        assert!(e.validate().is_err(), "{name}");
    }
}

#[test]
fn unsubscribe_must_be_https_and_ids_file_safe() {
    assert!(
        email()
            .with_list_unsubscribe("http://u.example/t")
            .validate()
            .is_err()
    );
    // Local mode's own plain-http server is the one exception.
    assert!(
        email()
            .with_list_unsubscribe("http://127.0.0.1:8080/v1/unsubscribe/t")
            .validate()
            .is_ok()
    );
    assert!(
        email()
            .with_list_unsubscribe("http://127.0.0.1.evil.example/t")
            .validate()
            .is_err()
    );
    for id in ["", "../x", ".hidden", "a/b", "a b"] {
        let mut e = email();
        e.message_id = id.into();
        assert!(e.validate().is_err(), "{id}");
    }
    let mut e = email();
    e.to = "not-an-address".into();
    assert!(e.validate().is_err());
}

#[test]
fn only_transient_errors_are_retryable() {
    assert!(MailError::transient("x", "y").is_retryable());
    assert!(!MailError::permanent("x", "y").is_retryable());
    assert!(!MailError::invalid_header("subject", "x").is_retryable());
}

#[test]
fn addresses_are_redacted_from_log_text() {
    assert_eq!(
        redact_addresses("Address blacklisted: c001@relay.example (550)"),
        "Address blacklisted: <address> (550)"
    );
}
