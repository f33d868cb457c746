//! Use cases over the ports: what one HTTP route or CLI command does, once
//! its input is parsed. Each function takes the [`App`] (store, policies,
//! clock, themes) and the verified caller, and returns a typed outcome or an
//! [`AppError`] that the API maps to a status code.

pub mod calendar;
pub mod campaign_email;
pub mod campaigns;
pub mod contact;
mod error;
pub mod facts;
pub mod health;
pub mod performance;
pub mod promotions;
pub mod reach;
pub mod themes;
pub mod unsubscribe;

use std::sync::Arc;

pub use error::{AppError, Invariant};

use crate::auth::{Caller, Role};
use crate::bus::{EventPublisher, NoPublisher};
use crate::clock::Clock;
use crate::domain::BrandId;
use crate::domain::brand::Brand;
use crate::domain::theme::ThemeCatalog;
use crate::mail::render::Renderer;
use crate::mail::{MailError, Mailer, OutgoingEmail, SentMessage};
use crate::policy::PolicySet;
use crate::store::Store;
use crate::unsubscribe::{LOCAL_UNSUBSCRIBE_SECRET, TokenSigner};

/// Where links in emails point when `ENGAGE_PUBLIC_URL` is not set: an https
/// address (RFC 8058 wants https one-click links) whose path the local server
/// answers too, so a token copied from a local `.eml` works on
/// `http://127.0.0.1:PORT/v1/unsubscribe/<token>`.
pub const LOCAL_PUBLIC_URL: &str = "https://engage.localhost";

/// Everything a use case may touch: built once per process.
#[derive(Clone)]
pub struct App {
    /// The storage port.
    pub store: Arc<dyn Store>,
    /// The policies, bundled or loaded from a folder.
    pub policies: Arc<PolicySet>,
    /// The business clock.
    pub clock: Arc<dyn Clock>,
    /// The event themes.
    pub themes: Arc<ThemeCatalog>,
    /// The email templates, compiled once.
    pub renderer: Arc<Renderer>,
    /// Where links in emails point (`ENGAGE_PUBLIC_URL`), without a trailing slash.
    pub public_url: String,
    /// The mail port (contact emails are sent when the contact is created); [`NoMailer`]
    /// until [`App::with_mailer`] sets one.
    pub mailer: Arc<dyn Mailer>,
    /// The event publishing port (`Courtesy Refund Requested`); [`NoPublisher`] until
    /// [`App::with_publisher`] sets one.
    pub publisher: Arc<dyn EventPublisher>,
    /// Signs and verifies unsubscribe links (`ENGAGE_UNSUBSCRIBE_SECRET`); the local
    /// development secret until [`App::with_unsubscribe_secret`] sets one.
    pub unsubscribe: Arc<TokenSigner>,
    /// The address contact emails come from (`ENGAGE_FROM_ADDRESS`); the local
    /// default until [`App::with_from_address`] sets one.
    pub from_address: String,
}

impl App {
    /// An app over `store` with the bundled themes.
    pub fn new(
        store: Arc<dyn Store>,
        policies: Arc<PolicySet>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AppError> {
        let themes = ThemeCatalog::bundled()?;
        Ok(Self {
            store,
            policies,
            clock,
            themes: Arc::new(themes),
            renderer: Arc::new(Renderer::new()),
            public_url: LOCAL_PUBLIC_URL.to_owned(),
            mailer: Arc::new(NoMailer),
            publisher: Arc::new(NoPublisher),
            unsubscribe: Arc::new(TokenSigner::new(LOCAL_UNSUBSCRIBE_SECRET.as_bytes())),
            from_address: contact::DEFAULT_CONTACT_SENDER.to_owned(),
        })
    }

    /// The same app sending email through `mailer`.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = mailer;
        self
    }

    /// The same app publishing events through `publisher`.
    pub fn with_publisher(mut self, publisher: Arc<dyn EventPublisher>) -> Self {
        self.publisher = publisher;
        self
    }

    /// The same app signing unsubscribe links with `secret` (from `Config::unsubscribe_secret`).
    pub fn with_unsubscribe_secret(mut self, secret: &[u8]) -> Self {
        self.unsubscribe = Arc::new(TokenSigner::new(secret));
        self
    }

    /// The same app sending contact emails from `address` (`Config::from_address`); the
    /// local default stays when it is `None`.
    pub fn with_from_address<'a>(mut self, address: impl Into<Option<&'a str>>) -> Self {
        if let Some(address) = address.into() {
            self.from_address = address.to_owned();
        }
        self
    }

    /// The same app with links pointing at `url`.
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = url.trim_end_matches('/').to_owned();
        self
    }
}

/// The caller must hold `role` (403 otherwise).
pub fn require_role(caller: &Caller, role: Role) -> Result<(), AppError> {
    if caller.has_role(role) {
        Ok(())
    } else {
        Err(AppError::Forbidden(role))
    }
}

/// One of the caller's brands, as every brand-scoped use case starts from it.
#[derive(Debug)]
pub struct OwnBrand {
    /// Its id.
    pub id: BrandId,
    /// Its profile; none before its Brand Registered event.
    pub profile: Option<Brand>,
    /// The time zone of its marketplace, in which its dates are counted.
    pub zone: chrono_tz::Tz,
}

/// The brand, if the caller represents it and holds the brand representative
/// role; anything not the caller's is "not found" (never a 403 that would
/// confirm it exists).
pub async fn own_brand(app: &App, caller: &Caller, brand: &str) -> Result<OwnBrand, AppError> {
    represents(caller, brand)?;
    let id = BrandId::new(brand);
    let profile = app.store.get_brand(&id).await?;
    let zone = campaigns::brand_zone(profile.as_ref());
    Ok(OwnBrand { id, profile, zone })
}

/// Whether the caller may act for `brand`: the brand representative role (403
/// otherwise) and the brand among the caller's (404 otherwise).
pub fn represents(caller: &Caller, brand: &str) -> Result<(), AppError> {
    require_role(caller, Role::BrandRepresentative)?;
    if caller.represents(brand) {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("brand {brand}")))
    }
}

/// The mailer of a process that sends nothing (e.g. the campaigns function): every send
/// fails permanently, so a misconfigured deployment is loud, never silent.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMailer;

#[async_trait::async_trait]
impl Mailer for NoMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError> {
        Err(MailError::Permanent {
            message: format!("no mailer is configured for {}", email.message_id),
            source: None,
        })
    }
}
