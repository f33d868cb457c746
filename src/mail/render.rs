//! Email rendering: HTML and text parts from templates (minijinja), one pair of files per
//! kind of email under `src/mail/templates/`, embedded in the binary.
//!
//! Templates ending in `.html` are autoescaped: user text (subject, section header, product
//! titles, badge, brand name) is HTML-escaped wherever it lands, in text or in attributes.
//! Colours are checked as `#rrggbb` and URLs as `https:`/`http:` (or `data:image/` for
//! previews) before they reach a template, so nothing user-supplied can open a CSS or
//! script context.
//!
//! Adding a kind of email: add `<name>.html` and `<name>.txt` to [`TEMPLATES`], a view struct
//! and a `render_<name>` method that validates the view and calls [`Renderer::render_pair`].

use std::sync::{Arc, OnceLock};

use minijinja::value::{Serde, Value};
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::campaign::{HeaderStyle, Image};

/// Every embedded template: name and source.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("campaign.html", include_str!("templates/campaign.html")),
    ("campaign.txt", include_str!("templates/campaign.txt")),
    // The layout the contact emails and buyer messages extend: one frame, their wording inside.
    ("letter.html", include_str!("templates/letter.html")),
    // Contact Customer (R-CC-4): fixed, not editable; see `app::contact`.
    (
        "contact_courtesy_refund.html",
        include_str!("templates/contact_courtesy_refund.html"),
    ),
    (
        "contact_courtesy_refund.txt",
        include_str!("templates/contact_courtesy_refund.txt"),
    ),
    (
        "contact_customer_support.html",
        include_str!("templates/contact_customer_support.html"),
    ),
    (
        "contact_customer_support.txt",
        include_str!("templates/contact_customer_support.txt"),
    ),
    // Buyer messages (R-MSG-1..9): the layout around a sequence step's wording; see
    // `jobs::sequences`.
    (
        "message_buyer.html",
        include_str!("templates/message_buyer.html"),
    ),
    (
        "message_buyer.txt",
        include_str!("templates/message_buyer.txt"),
    ),
];

/// Most complementary products a campaign shows (R-MYCE-6).
pub const MAX_COMPLEMENTARY: usize = 4;

/// Width of the email body in pixels (the email convention).
const BODY_WIDTH: u32 = 600;
/// Height the logo is shown at in the header.
const LOGO_HEIGHT: u32 = 48;
/// Widest the logo is shown.
const LOGO_MAX_WIDTH: u32 = 240;

/// Default colours when the campaign has no event theme.
const DEFAULT_PRIMARY: &str = "#232f3e";
const DEFAULT_ACCENT: &str = "#c45500";
const DARK_HEADER: &str = "#131921";
const LIGHT_HEADER: &str = "#ffffff";
const DARK_HEADER_TEXT: &str = "#ffffff";
const LIGHT_HEADER_TEXT: &str = "#131921";

/// An email ready for the mail port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedEmail {
    /// The subject line.
    pub subject: String,
    /// The HTML part.
    pub html: String,
    /// The plain text part.
    pub text: String,
}

/// Theme colours (R-MYCE-3), each `#rrggbb`; a missing one takes the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThemeColors {
    /// Buttons and links.
    pub primary: Option<String>,
    /// The promotion badge and highlights.
    pub accent: Option<String>,
    /// The header band; defaults from the header style.
    pub header_background: Option<String>,
}

/// A product shown in the email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// The ASIN.
    pub asin: String,
    /// Title, when the catalogue knows it.
    pub title: Option<String>,
    /// Main image URL.
    pub image_url: Option<String>,
    /// Detail page URL.
    pub url: Option<String>,
}

impl Product {
    /// A product known only by its ASIN.
    pub fn asin(asin: impl Into<String>) -> Self {
        Self {
            asin: asin.into(),
            title: None,
            image_url: None,
            url: None,
        }
    }
}

/// What the campaign email shows (issue 3, R-MYCE-2 to 9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignEmail {
    /// The brand's name, shown in the footer and as the logo's alt text.
    pub brand_name: String,
    /// The subject line (R-MYCE-8).
    pub subject: String,
    /// The text at the top of the body (R-MYCE-8).
    pub section_header: String,
    /// The horizontal brand logo (R-MYCE-9).
    pub logo: Image,
    /// Dark or light header (R-MYCE-9).
    pub header_style: HeaderStyle,
    /// Event theme colours (R-MYCE-3).
    pub theme: ThemeColors,
    /// The featured product (R-MYCE-4).
    pub primary: Product,
    /// Promotion badge text, e.g. `7-day deal` or `Coupon` (R-MYCE-11).
    pub promotion_badge: Option<String>,
    /// The lifestyle or product-benefit image (R-MYCE-5).
    pub lifestyle_image: Image,
    /// Up to four complementary products (R-MYCE-6).
    pub complementary: Vec<Product>,
    /// The one-click unsubscribe page (R-MAIL-1, R-MSG-5).
    pub unsubscribe_url: String,
    /// A preview for the brand (adds a visible banner), not a sent email.
    pub preview: bool,
}

/// Why an email could not be rendered.
#[derive(Debug, Error)]
pub enum RenderError {
    /// A colour is not `#rrggbb`.
    #[error("colour {field} is not #rrggbb: {value:?}")]
    InvalidColour {
        /// Which colour.
        field: &'static str,
        /// What was given.
        value: String,
    },
    /// A URL is not https/http (or a data image in a preview).
    #[error("url {field} is not an http(s) url: {value:?}")]
    InvalidUrl {
        /// Which URL.
        field: &'static str,
        /// What was given.
        value: String,
    },
    /// More than [`MAX_COMPLEMENTARY`] complementary products.
    #[error("at most {max} complementary products, got {got}")]
    TooManyProducts {
        /// The limit.
        max: usize,
        /// How many were given.
        got: usize,
    },
    /// An image has a zero width or height.
    #[error("image {field} has a zero dimension")]
    InvalidImage {
        /// Which image.
        field: &'static str,
    },
    /// The template engine failed.
    #[error("template error")]
    Template(#[from] minijinja::Error),
    /// The embedded templates do not compile: every render fails with the same error.
    #[error("the embedded templates do not compile")]
    Compile(#[source] Arc<minijinja::Error>),
}

/// Renders every kind of email; build once and share.
///
/// The embedded templates compile on the first render, not when the renderer is
/// built: a function that never renders (unsubscribe, marketplace and SES events, the
/// send planner) neither pays for them at cold start nor links the template engine.
#[derive(Debug, Default)]
pub struct Renderer {
    env: OnceLock<Result<Environment<'static>, Arc<minijinja::Error>>>,
}

impl Renderer {
    /// A renderer of the embedded templates.
    pub fn new() -> Self {
        Self::default()
    }

    /// The compiled templates; a template that does not compile fails every render.
    fn env(&self) -> Result<&Environment<'static>, RenderError> {
        match self.env.get_or_init(|| compile().map_err(Arc::new)) {
            Ok(env) => Ok(env),
            Err(e) => Err(RenderError::Compile(e.clone())),
        }
    }

    /// Renders the campaign email.
    pub fn render_campaign(&self, email: &CampaignEmail) -> Result<RenderedEmail, RenderError> {
        let ctx = CampaignContext::new(email)?;
        let (html, text) = self.render_pair("campaign", Value::from(Serde(&ctx)))?;
        Ok(RenderedEmail {
            subject: email.subject.clone(),
            html,
            text,
        })
    }

    /// Renders `<name>.html` and `<name>.txt` with the same context.
    pub fn render_pair(&self, name: &str, ctx: Value) -> Result<(String, String), RenderError> {
        let env = self.env()?;
        let html = env
            .get_template(&format!("{name}.html"))?
            .render(ctx.clone())?;
        let text = env.get_template(&format!("{name}.txt"))?.render(ctx)?;
        Ok((html, text))
    }
}

/// Loads and compiles the embedded templates.
fn compile() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    // A typo in a template is an error, never an empty string in a customer's inbox.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter("url", url_attribute);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// What the campaign templates see: validated and with the layout computed.
#[derive(Debug, Serialize)]
struct CampaignContext<'a> {
    brand_name: &'a str,
    subject: &'a str,
    section_header: &'a str,
    preview: bool,
    logo: SizedImage<'a>,
    header_dark: bool,
    colors: Colors,
    primary: ProductView<'a>,
    promotion_badge: Option<&'a str>,
    lifestyle: SizedImage<'a>,
    /// Complementary products in rows of two.
    rows: Vec<Vec<ProductView<'a>>>,
    unsubscribe_url: &'a str,
}

#[derive(Debug, Serialize)]
struct SizedImage<'a> {
    url: &'a str,
    width: u32,
    height: u32,
}

#[derive(Debug, Serialize)]
struct Colors {
    primary: String,
    accent: String,
    header_bg: String,
    header_text: String,
}

#[derive(Debug, Serialize)]
struct ProductView<'a> {
    asin: &'a str,
    title: &'a str,
    image_url: Option<&'a str>,
    url: Option<&'a str>,
}

impl<'a> CampaignContext<'a> {
    fn new(e: &'a CampaignEmail) -> Result<Self, RenderError> {
        if e.complementary.len() > MAX_COMPLEMENTARY {
            return Err(RenderError::TooManyProducts {
                max: MAX_COMPLEMENTARY,
                got: e.complementary.len(),
            });
        }
        let header_dark = e.header_style == HeaderStyle::Dark;
        let default_bg = if header_dark {
            DARK_HEADER
        } else {
            LIGHT_HEADER
        };
        let colors = Colors {
            primary: colour("primary", e.theme.primary.as_deref(), DEFAULT_PRIMARY)?,
            accent: colour("accent", e.theme.accent.as_deref(), DEFAULT_ACCENT)?,
            header_bg: colour(
                "headerBackground",
                e.theme.header_background.as_deref(),
                default_bg,
            )?,
            header_text: if header_dark {
                DARK_HEADER_TEXT
            } else {
                LIGHT_HEADER_TEXT
            }
            .to_owned(),
        };

        let logo = scaled("logo", &e.logo, e.preview, |w, h| {
            let width = (u64::from(w) * u64::from(LOGO_HEIGHT) / u64::from(h))
                .min(u64::from(LOGO_MAX_WIDTH));
            let width = u32::try_from(width).unwrap_or(LOGO_MAX_WIDTH).max(1);
            let height = u32::try_from(u64::from(width) * u64::from(h) / u64::from(w))
                .unwrap_or(LOGO_HEIGHT)
                .max(1);
            (width, height)
        })?;
        let lifestyle = scaled("lifestyleImage", &e.lifestyle_image, e.preview, |w, h| {
            let height = u32::try_from(u64::from(BODY_WIDTH) * u64::from(h) / u64::from(w))
                .unwrap_or(BODY_WIDTH)
                .max(1);
            (BODY_WIDTH, height)
        })?;

        let primary = product_view("primary", &e.primary, e.preview)?;
        let mut rows = Vec::new();
        let mut row = Vec::new();
        for p in &e.complementary {
            row.push(product_view("complementary", p, e.preview)?);
            if row.len() == 2 {
                rows.push(std::mem::take(&mut row));
            }
        }
        if !row.is_empty() {
            rows.push(row);
        }

        check_url("unsubscribeUrl", &e.unsubscribe_url, false)?;
        Ok(Self {
            brand_name: &e.brand_name,
            subject: &e.subject,
            section_header: &e.section_header,
            preview: e.preview,
            logo,
            header_dark,
            colors,
            primary,
            promotion_badge: e
                .promotion_badge
                .as_deref()
                .filter(|b| !b.trim().is_empty()),
            lifestyle,
            rows,
            unsubscribe_url: &e.unsubscribe_url,
        })
    }
}

fn scaled<'a>(
    field: &'static str,
    image: &'a Image,
    preview: bool,
    size: impl Fn(u32, u32) -> (u32, u32),
) -> Result<SizedImage<'a>, RenderError> {
    if image.width == 0 || image.height == 0 {
        return Err(RenderError::InvalidImage { field });
    }
    check_url(field, &image.url, preview)?;
    let (width, height) = size(image.width, image.height);
    Ok(SizedImage {
        url: &image.url,
        width,
        height,
    })
}

fn product_view<'a>(
    field: &'static str,
    p: &'a Product,
    preview: bool,
) -> Result<ProductView<'a>, RenderError> {
    if let Some(url) = &p.image_url {
        check_url(field, url, preview)?;
    }
    if let Some(url) = &p.url {
        check_url(field, url, false)?;
    }
    Ok(ProductView {
        asin: &p.asin,
        title: p
            .title
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(&p.asin),
        image_url: p.image_url.as_deref(),
        url: p.url.as_deref(),
    })
}

/// The `url` filter: a checked URL escaped for an HTML attribute, keeping `/` readable
/// (the default HTML escaping also turns `/` into `&#x2f;`).
fn url_attribute(url: String) -> Value {
    Value::from_safe_string(escape_html(&url, "&#x27;"))
}

/// Escapes text for HTML element content and attribute values, with `'` written as
/// `apostrophe` (minijinja writes `&#x27;`, the unsubscribe pages `&#39;`).
pub fn escape_html(text: &str, apostrophe: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(apostrophe),
            c => out.push(c),
        }
    }
    out
}

/// `#rrggbb`, lowercased; `default` when absent.
fn colour(field: &'static str, value: Option<&str>, default: &str) -> Result<String, RenderError> {
    let Some(value) = value else {
        return Ok(default.to_owned());
    };
    let ok = value.len() == 7
        && value.starts_with('#')
        && value[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(RenderError::InvalidColour {
            field,
            value: value.to_owned(),
        })
    }
}

/// http(s) URLs only (a `data:image/` URL is accepted in previews) and no characters that
/// would need more than attribute escaping.
fn check_url(field: &'static str, url: &str, allow_data_image: bool) -> Result<(), RenderError> {
    if crate::domain::campaign::renderable_url(url, allow_data_image) {
        Ok(())
    } else {
        Err(RenderError::InvalidUrl {
            field,
            value: url.chars().take(80).collect(),
        })
    }
}

#[cfg(test)]
#[path = "render_test.rs"]
mod tests;
