//! What a campaign email shows, assembled from the campaign, its brand, theme
//! and promotion: used by the preview and by the send-window job, so the
//! brand previews exactly what its followers get.

use super::campaigns::theme;
use super::{App, AppError};
use crate::domain::brand::{Brand, Marketplace};
use crate::domain::campaign::Campaign;
use crate::domain::campaign::HeaderStyle;
use crate::domain::promotion::{Promotion, PromotionType};
use crate::mail::render::{CampaignEmail, Product, RenderedEmail, ThemeColors};

/// A marketplace's product detail page.
pub fn product_url(marketplace: Marketplace, asin: &str) -> String {
    let host = match marketplace {
        Marketplace::US => "www.amazon.com",
        Marketplace::CA => "www.amazon.ca",
    };
    format!("https://{host}/dp/{asin}")
}

/// The badge shown on the primary product for a promotion.
pub fn promotion_badge(p: &Promotion) -> Option<String> {
    match p.promotion_type {
        PromotionType::SevenDayDeal => Some("7-day deal".into()),
        PromotionType::Coupon => Some("Coupon".into()),
        PromotionType::Other => None,
    }
}

/// The view of one campaign email.
pub fn view(
    app: &App,
    campaign: &Campaign,
    brand: Option<&Brand>,
    promotion: Option<&Promotion>,
    unsubscribe_url: String,
    preview: bool,
) -> CampaignEmail {
    let marketplace = brand.map_or(Marketplace::US, |b| b.marketplace);
    let product = |asin: &str| Product {
        url: Some(product_url(marketplace, asin)),
        ..Product::asin(asin)
    };
    let colors = theme(app, campaign.theme.as_deref()).map(|t| &t.colors);
    CampaignEmail {
        brand_name: brand.map_or_else(|| campaign.brand_id.to_string(), |b| b.name.clone()),
        subject: campaign.subject.clone(),
        section_header: campaign.section_header.clone(),
        logo: crate::domain::campaign::Image {
            url: campaign.logo.url.clone(),
            width: campaign.logo.width,
            height: campaign.logo.height,
        },
        header_style: campaign.header_style,
        theme: ThemeColors {
            primary: colors.map(|c| c.primary.clone()),
            accent: colors.map(|c| c.accent.clone()),
            header_background: colors.map(|c| match campaign.header_style {
                HeaderStyle::Dark => c.header_dark.clone(),
                HeaderStyle::Light => c.header_light.clone(),
            }),
        },
        primary: product(&campaign.primary_asin),
        promotion_badge: promotion.and_then(promotion_badge),
        lifestyle_image: campaign.lifestyle_image.clone(),
        complementary: campaign
            .complementary_asins
            .iter()
            .map(|a| product(a))
            .collect(),
        unsubscribe_url,
        preview,
    }
}

/// Renders a campaign email.
pub fn render(app: &App, email: &CampaignEmail) -> Result<RenderedEmail, AppError> {
    app.renderer
        .render_campaign(email)
        .map_err(|source| AppError::Render {
            email: "campaign",
            source,
        })
}
