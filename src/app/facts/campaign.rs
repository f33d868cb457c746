//! Facts of the `campaign` policy for a draft, with what the store says about
//! the brand and its other live campaigns.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::brand::Brand;
use crate::domain::campaign::Campaign;
use crate::domain::promotion::Promotion;
use crate::domain::schedule::local_midnight;
use crate::domain::theme::Theme;
use crate::policy::{FactValue, Facts};

use super::promotion::{promotion_fact, theme_fact};
use crate::app::campaigns::{CampaignDraft, ImageInput};

/// What the store says about the brand and its other campaigns.
pub struct BrandContext<'a> {
    /// The brand, when registered.
    pub brand: Option<&'a Brand>,
    /// Reachable followers counted, up to what the policy needs to decide.
    pub follower_count: i64,
    /// The brand's live campaigns (in review, approved, sending).
    pub live_campaigns: &'a [Campaign],
    /// The send policy's `frequency_cap_days` (R-MYCE-13 compares start
    /// dates with the cap R-MYCE-14 sends under).
    pub frequency_cap_days: i64,
}

/// The brand's other live campaigns as the overlap rule reads them (R-MYCE-13).
pub fn others_fact(live: &[Campaign]) -> FactValue {
    FactValue::List(
        live.iter()
            .map(|c| {
                FactValue::map()
                    .with("id", c.id.as_str())
                    .with("nickname", c.nickname.as_str())
                    .with("status", c.status.to_string())
                    .with("startDate", c.start_date.to_string())
            })
            .collect(),
    )
}

/// Facts of the `campaign` policy for a draft.
pub fn campaign_facts(
    draft: &CampaignDraft,
    ctx: &BrandContext<'_>,
    theme: Option<&Theme>,
    promotion: Option<&Promotion>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Facts {
    let brand = FactValue::map()
        .with("id", draft.brand_id.as_str())
        .with("registered", ctx.brand.is_some())
        .with("hasStorePage", ctx.brand.is_some_and(|b| b.has_store_page))
        .with("followerCount", ctx.follower_count);
    let image = |i: &Option<ImageInput>| match i {
        None => FactValue::Null,
        Some(i) => FactValue::map()
            .with("url", i.url.as_str())
            .with("width", i64::from(i.width))
            .with("height", i64::from(i.height)),
    };
    let logo = match &draft.logo {
        None => FactValue::Null,
        Some(l) => FactValue::map()
            .with("url", l.url.as_str())
            .with("width", i64::from(l.width))
            .with("height", i64::from(l.height))
            .with("format", l.format.as_str())
            .with("background", l.background.as_str()),
    };
    let campaign = FactValue::map()
        .with("purpose", draft.purpose.as_str())
        .with("theme", draft.theme.clone())
        .with("primaryAsin", draft.primary_asin.clone())
        .with("promotionId", draft.promotion_id.clone())
        .with("lifestyleImage", image(&draft.lifestyle_image))
        .with(
            "complementaryAsins",
            FactValue::list(draft.complementary_asins.iter().map(String::as_str)),
        )
        .with("startDate", draft.start_date.to_string())
        .with("startsAt", local_midnight(draft.start_date, tz))
        .with("subject", draft.subject.as_str())
        .with("sectionHeader", draft.section_header.as_str())
        .with("logo", logo)
        .with("headerStyle", draft.header_style.as_str())
        .with("nickname", draft.nickname.as_str())
        .with("others", others_fact(ctx.live_campaigns));
    Facts::at(now, tz)
        .with("frequencyCapDays", ctx.frequency_cap_days)
        .with("brand", brand)
        .with("campaign", campaign)
        .with("theme", theme_fact(theme, tz))
        .with("promotion", promotion_fact(promotion))
}
