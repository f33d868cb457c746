//! Facts for the campaign, promotion and content policies, built from stored
//! state and a draft (see `policies/README.md` for each policy's facts).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::brand::Brand;
use crate::domain::campaign::Campaign;
use crate::domain::promotion::{Promotion, PromotionState, PromotionType};
use crate::domain::schedule::local_midnight;
use crate::domain::theme::Theme;
use crate::policy::{FactValue, Facts};

use super::campaigns::CampaignDraft;

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

/// The promotion's wire name of a type.
pub fn promotion_type_name(t: PromotionType, raw: Option<&str>) -> String {
    match t {
        PromotionType::SevenDayDeal => "seven_day_deal".into(),
        PromotionType::Coupon => "coupon".into(),
        PromotionType::Other => raw.unwrap_or("other").into(),
    }
}

fn promotion_state_name(s: PromotionState) -> &'static str {
    match s {
        PromotionState::Active => "active",
        PromotionState::Canceled => "canceled",
        PromotionState::Rejected => "rejected",
    }
}

/// `theme` fact: the named theme's period as instants.
pub fn theme_fact(theme: Option<&Theme>, tz: Tz) -> FactValue {
    match theme {
        None => FactValue::Null,
        Some(t) => {
            let (start, end) = t.period(tz);
            FactValue::map()
                .with("id", t.id.as_str())
                .with("name", t.name.as_str())
                .with("startsAt", start)
                .with("endsAt", end)
        }
    }
}

/// `promotion` fact.
pub fn promotion_fact(p: Option<&Promotion>) -> FactValue {
    match p {
        None => FactValue::Null,
        Some(p) => FactValue::map()
            .with("id", p.promotion_id.as_str())
            .with("asin", p.asin.as_str())
            .with("type", promotion_type_name(p.promotion_type, None))
            .with("startsAt", p.starts_at)
            .with("endsAt", p.ends_at)
            .with("createdAt", p.created_at)
            .with("status", promotion_state_name(p.state)),
    }
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
    let image = |i: &Option<super::campaigns::ImageInput>| match i {
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

/// Facts of the `promotion` policy: `promotion` added to a campaign starting
/// on `start_date` (marketplace calendar) on `primary_asin`.
pub fn promotion_facts(
    promotion: &Promotion,
    primary_asin: &str,
    start_date: NaiveDate,
    theme: Option<&Theme>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Facts {
    Facts::at(now, tz)
        .with(
            "campaign",
            FactValue::map()
                .with("primaryAsin", primary_asin)
                .with("startDate", start_date.to_string())
                .with("startsAt", local_midnight(start_date, tz)),
        )
        .with("theme", theme_fact(theme, tz))
        .with("promotion", promotion_fact(Some(promotion)))
}

/// Facts of the `content` policy for one text.
pub fn content_facts(text: &str, channel: &str, header: bool) -> Facts {
    Facts::new()
        .with("text", text)
        .with("channel", channel)
        .with("header", header)
}
