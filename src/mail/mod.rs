//! The mail port: one outgoing email, the [`Mailer`] trait its adapters implement, and the
//! errors they report.
//!
//! - [`mime`] turns an [`OutgoingEmail`] into RFC 5322 bytes (multipart/alternative, built
//!   with `mail-builder`, never by hand);
//! - [`outbox`] writes those bytes to `<dir>/<message id>.eml` (the local adapter);
//! - [`ses`] sends the same bytes through SES v2 `SendEmail` with raw content;
//! - [`render`] renders the campaign email (HTML + text) from templates.
//!
//! Every header value and the subject is checked before any byte is built: CR, LF or NUL
//! from user input is refused with [`MailError::InvalidHeader`], never passed through
//! (R-MAIL-4).

pub mod flaky;
pub mod mime;
pub mod outbox;
pub mod render;
pub mod ses;
pub mod tags;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use thiserror::Error;

pub use flaky::FlakyMailer;
pub use mime::build_mime;
pub use outbox::OutboxMailer;
pub use render::{CampaignEmail, RenderedEmail, Renderer};
pub use ses::SesMailer;

/// The campaign header: `X-Engage-Campaign: <campaign id>`.
pub const HEADER_CAMPAIGN: &str = "X-Engage-Campaign";
/// The contact header: `X-Engage-Contact: <contact id>`.
pub const HEADER_CONTACT: &str = "X-Engage-Contact";
/// The buyer message header: `X-Engage-Message: <order id>/<message type>`.
pub const HEADER_MESSAGE: &str = "X-Engage-Message";
/// The RFC 8058 one-click value of `List-Unsubscribe-Post`.
pub const LIST_UNSUBSCRIBE_POST: &str = "List-Unsubscribe=One-Click";

/// Longest message id accepted (it is also a file name).
const MAX_MESSAGE_ID_LEN: usize = 200;

/// Headers the MIME builder writes itself; callers cannot add them as extra headers.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-language",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "sender",
    "reply-to",
    "return-path",
];

/// A mailbox: an address and an optional display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name, e.g. the brand name.
    pub name: Option<String>,
    /// The address, e.g. `campaigns@brand.example`.
    pub address: String,
}

impl Mailbox {
    /// A mailbox with a display name.
    pub fn new(name: impl Into<String>, address: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            address: address.into(),
        }
    }

    /// A bare address.
    pub fn address(address: impl Into<String>) -> Self {
        Self {
            name: None,
            address: address.into(),
        }
    }
}

/// One email to one customer, addressed to the customer's relay address (R-MSG-4).
///
/// `message_id` is chosen by the caller and stable across retries (for example
/// `campaign-<id>-<customer>`): the outbox rewrites the same file and the `Message-ID`
/// header is the same, so a retry never produces a second, different message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// Idempotency key and local part of `Message-ID`: `[A-Za-z0-9._-]`, 1 to 200
    /// characters, not starting with a dot.
    pub message_id: String,
    /// The sender (a verified SES identity in production).
    pub from: Mailbox,
    /// The customer's relay address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The HTML part.
    pub html: String,
    /// The plain text part.
    pub text: String,
    /// Extra headers in order, e.g. `X-Engage-Campaign`.
    pub headers: Vec<(String, String)>,
    /// `Content-Language` (a language tag such as `fr-CA`), when the template has a locale.
    pub content_language: Option<String>,
    /// The one-click unsubscribe URL (https): produces `List-Unsubscribe` and
    /// `List-Unsubscribe-Post` (RFC 8058, R-MAIL-1).
    pub list_unsubscribe: Option<String>,
    /// The `Date` header (passed in so a retry builds the same bytes).
    pub date: DateTime<Utc>,
}

impl OutgoingEmail {
    /// An email with its content and no extra headers.
    pub fn new(
        message_id: impl Into<String>,
        from: Mailbox,
        to: impl Into<String>,
        content: RenderedEmail,
        date: DateTime<Utc>,
    ) -> Self {
        Self {
            message_id: message_id.into(),
            from,
            to: to.into(),
            subject: content.subject,
            html: content.html,
            text: content.text,
            headers: Vec::new(),
            content_language: None,
            list_unsubscribe: None,
            date,
        }
    }

    /// Adds an extra header (validated when the message is built).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `X-Engage-Campaign: <campaign id>`.
    pub fn with_campaign(self, campaign_id: &str) -> Self {
        self.with_header(HEADER_CAMPAIGN, campaign_id)
    }

    /// Adds `X-Engage-Contact: <contact id>`.
    pub fn with_contact(self, contact_id: &str) -> Self {
        self.with_header(HEADER_CONTACT, contact_id)
    }

    /// Adds `X-Engage-Message: <order id>/<message type>`.
    pub fn with_buyer_message(self, order_id: &str, message_type: &str) -> Self {
        self.with_header(HEADER_MESSAGE, format!("{order_id}/{message_type}"))
    }

    /// Sets `Content-Language`.
    pub fn with_content_language(mut self, tag: impl Into<String>) -> Self {
        self.content_language = Some(tag.into());
        self
    }

    /// Sets the one-click unsubscribe URL (must be https).
    pub fn with_list_unsubscribe(mut self, url: impl Into<String>) -> Self {
        self.list_unsubscribe = Some(url.into());
        self
    }

    /// The value of a header added with [`with_header`](Self::with_header), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The headers the message carries beyond the ones the MIME builder always
    /// writes: the extra headers and the RFC 8058 pair, as the send policy's
    /// `email.headers` fact reads them.
    pub fn policy_headers(&self) -> Vec<(String, String)> {
        let mut out = self.headers.clone();
        if let Some(url) = &self.list_unsubscribe {
            out.push(("List-Unsubscribe".to_owned(), format!("<{url}>")));
            out.push((
                "List-Unsubscribe-Post".to_owned(),
                LIST_UNSUBSCRIBE_POST.to_owned(),
            ));
        }
        out
    }

    /// Checks every header value, address, the subject and the message id. Called by
    /// [`build_mime`] before anything is built, so no adapter can skip it.
    pub fn validate(&self) -> Result<(), MailError> {
        validate_message_id(&self.message_id)?;
        validate_address("from", &self.from.address)?;
        if let Some(name) = &self.from.name {
            validate_value("from", name)?;
        }
        validate_address("to", &self.to)?;
        validate_value("subject", &self.subject)?;
        if self.subject.trim().is_empty() {
            return Err(MailError::invalid_header("subject", "is empty"));
        }
        for (name, value) in &self.headers {
            validate_name(name)?;
            validate_value(name, value)?;
        }
        if let Some(tag) = &self.content_language {
            validate_value("content-language", tag)?;
            let ok = !tag.is_empty()
                && tag.len() <= 35
                && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                return Err(MailError::invalid_header(
                    "content-language",
                    "is not a language tag",
                ));
            }
        }
        if let Some(url) = &self.list_unsubscribe {
            validate_value("list-unsubscribe", url)?;
            let ok = (is_https(url) || is_loopback_http(url))
                && url
                    .chars()
                    .all(|c| c.is_ascii_graphic() && c != '<' && c != '>' && c != ',');
            if !ok {
                return Err(MailError::invalid_header(
                    "list-unsubscribe",
                    "is not an https url",
                ));
            }
        }
        Ok(())
    }
}

/// A message id stable across retries: `parts` joined with `-`, each with every
/// character but ASCII letters, digits, `-` and `_` replaced by `_`, cut to the longest
/// id accepted.
pub fn message_id(parts: &[&str]) -> String {
    let clean = |part: &&str| -> String {
        part.chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
                _ => '_',
            })
            .collect()
    };
    let mut id = parts.iter().map(clean).collect::<Vec<_>>().join("-");
    id.truncate(MAX_MESSAGE_ID_LEN);
    id
}

/// `text` with every word that contains `@` replaced by `<address>`: for log
/// lines, which must never carry a customer's address (a provider's error
/// message may quote the recipient).
pub fn redact_addresses(text: &str) -> String {
    text.split(' ')
        .map(|w| if w.contains('@') { "<address>" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_https(url: &str) -> bool {
    url.strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty())
}

/// A plain-http link to this machine: only `engage serve` (local mode, no TLS)
/// makes those, and no mailbox provider ever sees them. Anything public must
/// be https (RFC 8058).
fn is_loopback_http(url: &str) -> bool {
    [
        "http://127.0.0.1:",
        "http://127.0.0.1/",
        "http://localhost:",
        "http://localhost/",
        "http://[::1]:",
    ]
    .iter()
    .any(|p| url.starts_with(p))
}

/// What an adapter reports for an accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The caller's message id ([`OutgoingEmail::message_id`]).
    pub message_id: String,
    /// Where it went: the SES message id, or the path of the outbox file.
    pub provider_id: String,
}

/// A boxed error kept as the source of a [`MailError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why an email was not sent.
#[derive(Debug, Error)]
pub enum MailError {
    /// Worth retrying later: throttling, a 5xx, a timeout, a full disk.
    #[error("transient mail failure: {message}")]
    Transient {
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// Never worth retrying: rejected address or content, unverified sender. Counts as
    /// failed, never as sent.
    #[error("permanent mail failure: {message}")]
    Permanent {
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// A header value or the subject holds CR, LF or NUL, or is otherwise malformed
    /// (R-MAIL-4); nothing was built or sent.
    #[error("invalid header {field}: {reason}")]
    InvalidHeader {
        /// The header (or `subject`, `from`, `to`, `message id`).
        field: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

transient_and_permanent!(MailError);

impl MailError {
    /// An invalid header error.
    pub fn invalid_header(field: impl Into<String>, reason: &'static str) -> Self {
        Self::InvalidHeader {
            field: field.into(),
            reason,
        }
    }

    /// Whether retrying the same message later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}

/// Sends one email. Implementations: [`SesMailer`] and [`OutboxMailer`].
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `email`; the same `message_id` sent twice is the same message.
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError>;
}

#[async_trait]
impl<T: Mailer + ?Sized> Mailer for std::sync::Arc<T> {
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError> {
        (**self).send(email).await
    }
}

/// Refuses CR, LF and NUL (R-MAIL-4) and other control characters except tab.
fn validate_value(field: &str, value: &str) -> Result<(), MailError> {
    if value.contains(['\r', '\n']) {
        return Err(MailError::invalid_header(field, "contains a line break"));
    }
    if value.contains('\0') {
        return Err(MailError::invalid_header(field, "contains a nul character"));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(MailError::invalid_header(
            field,
            "contains a control character",
        ));
    }
    Ok(())
}

/// A header name: RFC 5322 field name characters, not one the builder writes itself.
fn validate_name(name: &str) -> Result<(), MailError> {
    let ok = !name.is_empty()
        && name.len() <= 76
        && name.bytes().all(|b| (33..=126).contains(&b) && b != b':');
    if !ok {
        return Err(MailError::invalid_header(
            name.escape_debug().to_string(),
            "is not a header name",
        ));
    }
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(MailError::invalid_header(
            name,
            "is set by the message builder",
        ));
    }
    Ok(())
}

/// A plain `local@domain` address: no spaces, brackets, quotes or control characters.
fn validate_address(field: &str, address: &str) -> Result<(), MailError> {
    validate_value(field, address)?;
    let ok = match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && address.len() <= 254
                && address
                    .chars()
                    .all(|c| !c.is_whitespace() && !"<>()[],;:\\\"".contains(c))
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(MailError::invalid_header(field, "is not an email address"))
    }
}

/// The message id doubles as a file name and a `Message-ID` local part.
fn validate_message_id(id: &str) -> Result<(), MailError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_MESSAGE_ID_LEN
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(MailError::invalid_header(
            "message id",
            "must be 1 to 200 characters of [A-Za-z0-9._-], not starting with a dot",
        ))
    }
}

#[cfg(test)]
#[path = "mod_test.rs"]
pub(crate) mod tests;
