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
#[path = "mime_test.rs"]
mod tests;
