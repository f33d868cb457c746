//! The two fixed contact emails (R-CC-4): courtesy refund and customer support, in the
//! buyer's locale, rendered from `src/mail/templates/contact_*` and checked against the
//! `content` policy (R-MSG-3, R-MSG-9, R-CC-7) before anything is stored or sent.
//!
//! The brand cannot change a word: the only values the templates see are the brand's
//! name (HTML-escaped) and the order id. No link, no image, no address in the body.

use chrono::{DateTime, Utc};
use minijinja::value::{Serde, Value};
use serde::Serialize;

use crate::app::facts::{self, Channel, Text};
use crate::domain::contact::ContactReason;
use crate::mail::render::{RenderedEmail, Renderer};
use crate::policy::{Decision, PolicySet};

/// The locales the templates are written in (R-CC-4: the buyer's locale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Locale {
    /// English, United States (also the fallback for any other language).
    EnUs,
    /// English, Canada.
    EnCa,
    /// French, Canada (also any other `fr` tag: the only French templates).
    FrCa,
}

impl Locale {
    /// Every supported locale.
    pub const ALL: [Locale; 3] = [Locale::EnUs, Locale::EnCa, Locale::FrCa];

    /// The locale for a buyer's language tag: `en-CA` and `fr-CA` as such, any other
    /// French tag as `fr-CA`, anything else (or nothing) as `en-US`.
    pub fn for_tag(tag: Option<&str>) -> Self {
        let tag = tag
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
            .replace('_', "-");
        if tag == "en-ca" {
            Self::EnCa
        } else if tag == "fr" || tag.starts_with("fr-") {
            Self::FrCa
        } else {
            Self::EnUs
        }
    }

    /// The BCP 47 tag (`Content-Language`, `<html lang>`).
    pub fn tag(self) -> &'static str {
        match self {
            Self::EnUs => "en-US",
            Self::EnCa => "en-CA",
            Self::FrCa => "fr-CA",
        }
    }
}

/// The template name of a reason.
pub fn template_name(reason: ContactReason) -> &'static str {
    match reason {
        ContactReason::CourtesyRefund => "contact_courtesy_refund",
        ContactReason::CustomerSupport => "contact_customer_support",
    }
}

/// What one contact email shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEmail {
    /// Which of the two templates.
    pub reason: ContactReason,
    /// The buyer's locale.
    pub locale: Locale,
    /// The brand's name (the sender's display name and the signature).
    pub brand_name: String,
    /// The order behind the review.
    pub order_id: String,
}

#[derive(Serialize)]
struct Context<'a> {
    fr: bool,
    lang: &'static str,
    centre: &'static str,
    subject: &'a str,
    brand_name: &'a str,
    order_id: &'a str,
}

impl ContactEmail {
    /// The subject line in the email's locale.
    pub fn subject(&self) -> String {
        let b = &self.brand_name;
        match (self.reason, self.locale) {
            (ContactReason::CourtesyRefund, Locale::FrCa) => {
                format!("Un remboursement complet de votre commande chez {b}")
            }
            (ContactReason::CourtesyRefund, _) => format!("A full refund of your order from {b}"),
            (ContactReason::CustomerSupport, Locale::FrCa) => {
                format!("{b} aimerait vous aider avec votre commande")
            }
            (ContactReason::CustomerSupport, _) => {
                format!("{b} would like to help with your order")
            }
        }
    }

    /// Renders the HTML and text parts.
    pub fn render(
        &self,
        renderer: &Renderer,
    ) -> Result<RenderedEmail, crate::mail::render::RenderError> {
        let subject = self.subject();
        let ctx = Context {
            fr: self.locale == Locale::FrCa,
            lang: self.locale.tag(),
            centre: if self.locale == Locale::EnUs {
                "center"
            } else {
                "centre"
            },
            subject: &subject,
            brand_name: &self.brand_name,
            order_id: &self.order_id,
        };
        let (html, text) =
            renderer.render_pair(template_name(self.reason), Value::from(Serde(&ctx)))?;
        Ok(RenderedEmail {
            subject,
            html,
            text,
        })
    }
}

/// The `content` policy (channel `contact`) over a rendered email: the subject as a
/// header field, the text part and the HTML part. Every violation names its field.
///
/// # Errors
/// No content policy in force; facts that cannot be bound.
pub fn check_content(
    policies: &PolicySet,
    email: &RenderedEmail,
    at: DateTime<Utc>,
) -> Result<Decision, crate::policy::PolicyError> {
    let text = |field, text, header| Text {
        field,
        text,
        header,
    };
    facts::check_content(
        policies,
        at,
        Channel::Contact,
        [
            text("subject", &email.subject, true),
            text("text", &email.text, false),
            text("html", &email.html, false),
        ],
    )
}

/// One email per reason and locale with sample values: what the template test renders
/// and runs the content policy over.
pub fn samples() -> Vec<ContactEmail> {
    let mut out = Vec::new();
    for reason in [
        ContactReason::CourtesyRefund,
        ContactReason::CustomerSupport,
    ] {
        for locale in Locale::ALL {
            out.push(ContactEmail {
                reason,
                locale,
                brand_name: "Northwind Outfitters & Co".into(),
                order_id: "O-1001".into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn locales_fall_back_to_english() {
        assert_eq!(Locale::for_tag(Some("en-US")), Locale::EnUs);
        assert_eq!(Locale::for_tag(Some("en-CA")), Locale::EnCa);
        assert_eq!(Locale::for_tag(Some("fr-CA")), Locale::FrCa);
        assert_eq!(Locale::for_tag(Some("fr_FR")), Locale::FrCa);
        assert_eq!(Locale::for_tag(Some("de-DE")), Locale::EnUs);
        assert_eq!(Locale::for_tag(Some("")), Locale::EnUs);
        assert_eq!(Locale::for_tag(None), Locale::EnUs);
    }
}
