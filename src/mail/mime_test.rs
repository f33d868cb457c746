//! Unit tests of `src/mail/mime.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mail_parser::{MessageParser, MimeHeaders};

use super::*;
use crate::mail::tests::email;

#[test]
fn builds_parseable_multipart_alternative() {
    let bytes = build_mime(&email()).unwrap();
    let msg = MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(msg.subject(), Some("Nouveau : la tasse à café"));
    assert_eq!(msg.message_id(), Some("campaign-c1-u1@example.com"));
    assert_eq!(msg.date().unwrap().to_rfc3339(), "2026-12-01T08:00:00Z");
    assert_eq!(msg.body_text(0).unwrap().trim_end(), "hi & welcome");
    assert_eq!(
        msg.body_html(0).unwrap().trim_end(),
        "<p>hi &amp; welcome</p>"
    );
    let ct = msg.content_type().unwrap();
    assert_eq!(ct.ctype(), "multipart");
    assert_eq!(ct.subtype(), Some("alternative"));
    for (name, value) in [
        ("X-Engage-Campaign", "c1"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        (
            "List-Unsubscribe",
            "<https://engage.example/v1/unsubscribe/tok123>",
        ),
        ("Content-Language", "fr-CA"),
    ] {
        assert_eq!(msg.header_raw(name).map(str::trim), Some(value), "{name}");
    }
}

#[test]
fn the_same_email_builds_the_same_bytes() {
    assert_eq!(build_mime(&email()).unwrap(), build_mime(&email()).unwrap());
}

#[test]
fn a_header_injection_builds_nothing() {
    let mut e = email();
    e.subject = "hi\r\nBcc: victim@example.com".into();
    assert!(matches!(
        build_mime(&e),
        Err(MailError::InvalidHeader { .. })
    ));
}
