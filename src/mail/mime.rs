//! RFC 5322 bytes of an [`OutgoingEmail`]: multipart/alternative (text, then HTML), built
//! with `mail-builder`.
//!
//! The bytes are a pure function of the email: the `Date` comes from the email, the
//! `Message-ID` is `<message id@sender domain>` and the MIME boundary is derived from a hash
//! of the content (and checked not to occur in it), so a retry builds the same bytes.

use std::borrow::Cow;

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::headers::url::URL;
use mail_builder::mime::{BodyPart, MimePart};

use super::{LIST_UNSUBSCRIBE_POST, MailError, OutgoingEmail};

/// Validates `email` (R-MAIL-4) and builds its RFC 5322 bytes.
pub fn build_mime(email: &OutgoingEmail) -> Result<Vec<u8>, MailError> {
    email.validate()?;

    let domain = email
        .from
        .address
        .rsplit_once('@')
        .map_or("engage.invalid", |(_, d)| d);
    let from = Address::new_address(
        email.from.name.as_deref().map(Cow::Borrowed),
        email.from.address.as_str(),
    );

    let mut builder = MessageBuilder::new()
        .from(from)
        .to(email.to.as_str())
        .subject(Text::new(email.subject.as_str()))
        .date(Date::new(email.date.timestamp()))
        .message_id(MessageId::new(format!("{}@{domain}", email.message_id)));
    if let Some(lang) = &email.content_language {
        builder = builder.header("Content-Language", Raw::new(lang.as_str()));
    }
    if let Some(url) = &email.list_unsubscribe {
        builder = builder
            .header("List-Unsubscribe", URL::new(url.as_str()))
            .header("List-Unsubscribe-Post", Raw::new(LIST_UNSUBSCRIBE_POST));
    }
    for (name, value) in &email.headers {
        builder = builder.header(name.as_str(), Text::new(value.as_str()));
    }

    let boundary = boundary_for(email);
    let body = MimePart::new(
        ContentType::new("multipart/alternative").attribute("boundary", boundary),
        vec![
            MimePart::new(
                ContentType::new("text/plain").attribute("charset", "utf-8"),
                BodyPart::Text(email.text.as_str().into()),
            ),
            MimePart::new(
                ContentType::new("text/html").attribute("charset", "utf-8"),
                BodyPart::Text(email.html.as_str().into()),
            ),
        ],
    );
    builder
        .body(body)
        .write_to_vec()
        .map_err(|e| MailError::permanent("could not build the message", e))
}

/// A boundary that depends only on the content and never occurs in it.
fn boundary_for(email: &OutgoingEmail) -> String {
    let mut hash = Fnv::default();
    for part in [
        email.message_id.as_str(),
        email.subject.as_str(),
        email.text.as_str(),
        email.html.as_str(),
    ] {
        hash.write(part.as_bytes());
        hash.write(&[0xff]);
    }
    let mut salt = 0u32;
    loop {
        let candidate = format!("=_engage_{:016x}_{salt}", hash.value());
        if !email.text.contains(&candidate) && !email.html.contains(&candidate) {
            return candidate;
        }
        salt = salt.wrapping_add(1);
    }
}

/// FNV-1a (64 bit): stable across Rust versions, unlike the std hasher.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn value(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use chrono::{TimeZone, Utc};
    use mail_parser::{MessageParser, MimeHeaders};

    use super::*;
    use crate::mail::{Mailbox, RenderedEmail};

    fn email() -> OutgoingEmail {
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
        assert_eq!(
            msg.header_raw("X-Engage-Campaign").map(str::trim),
            Some("c1")
        );
        assert_eq!(
            msg.header_raw("List-Unsubscribe-Post").map(str::trim),
            Some("List-Unsubscribe=One-Click")
        );
        assert_eq!(
            msg.header_raw("List-Unsubscribe").map(str::trim),
            Some("<https://engage.example/v1/unsubscribe/tok123>")
        );
        assert_eq!(
            msg.header_raw("Content-Language").map(str::trim),
            Some("fr-CA")
        );
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
}
