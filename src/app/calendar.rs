//! `GET /brands/{brandId}/calendar`: the date picker (R-MYCE-13, 15).
//!
//! A date's colour comes from the same rules a submission on that date would
//! meet: the `campaign` policy's rules about `startDate` (lead time, theme and
//! promotion periods, overlap warning) and, with a promotion, every rule of
//! the `promotion` policy. No date logic is written twice.

use chrono::NaiveDate;
use serde::Serialize;

use super::campaigns::{
    CampaignDraft, DEFAULT_PURPOSE, brand_promotion, brand_zone, count_followers,
    frequency_cap_days, live_campaigns, theme,
};
use super::facts::{BrandContext, campaign_facts, promotion_facts};
use super::{App, AppError, own_brand};
use crate::auth::Caller;
use crate::domain::BrandId;
use crate::domain::schedule::{add_days, days_between, local_date};
use crate::policy::{Decision, PolicyName, Violation};

/// The most days one calendar request may span (a request bound, not a rule:
/// README, Decisions, Calendar).
pub const MAX_DAYS: i64 = 366;
/// Days shown when `to` is absent (a request default, not a rule).
pub const DEFAULT_DAYS: u64 = 60;

/// A date's colour in the picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Grey: a rule forbids starting on it.
    Unavailable,
    /// Green: allowed, no other campaign of the brand overlaps.
    Available,
    /// Yellow: allowed, but another live campaign of the brand (in review,
    /// approved, sending) starts less than the frequency cap away (reach may
    /// suffer); the reason names it.
    Overlap,
}

/// One date.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    /// The date (marketplace time zone).
    pub date: NaiveDate,
    /// Its colour.
    pub availability: Availability,
    /// The rules that decided it (errors for grey, the warning for yellow).
    pub reasons: Vec<Violation>,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Calendar {
    /// `name@version` of the campaign policy in force.
    pub policy: String,
    /// Every date from `from` to `to`.
    pub days: Vec<Day>,
}

/// The query.
#[derive(Debug, Clone, Default)]
pub struct CalendarQuery {
    /// First date (default: today).
    pub from: Option<NaiveDate>,
    /// Last date, inclusive (default: 60 days on).
    pub to: Option<NaiveDate>,
    /// The campaign's event theme.
    pub theme: Option<String>,
    /// The campaign's promotion.
    pub promotion_id: Option<String>,
}

const DATE_FIELD: &str = "startDate";

/// The picker for a brand.
pub async fn calendar(
    app: &App,
    caller: &Caller,
    brand: &str,
    q: CalendarQuery,
) -> Result<Calendar, AppError> {
    let profile = own_brand(app, caller, brand).await?;
    let brand_id = BrandId::new(brand);
    let tz = brand_zone(profile.as_ref());
    let now = app.clock.now();
    let from = q.from.unwrap_or_else(|| local_date(now, tz));
    let to = q.to.unwrap_or_else(|| add_days(from, DEFAULT_DAYS - 1));
    let span = days_between(from, to);
    if span < 0 {
        return Err(AppError::BadRequest("`to` is before `from`".into()));
    }
    if span >= MAX_DAYS {
        return Err(AppError::BadRequest(format!(
            "at most {MAX_DAYS} days per request"
        )));
    }
    let theme_found = theme(app, q.theme.as_deref());
    if let (Some(id), None) = (&q.theme, theme_found) {
        return Err(AppError::BadRequest(format!("unknown theme {id:?}")));
    }
    let promotion = brand_promotion(app, &brand_id, q.promotion_id.as_deref()).await?;
    if let (Some(id), None) = (&q.promotion_id, &promotion) {
        return Err(AppError::BadRequest(format!("unknown promotion {id:?}")));
    }

    let policy = app.policies.in_force(PolicyName::Campaign, now)?;
    let follower_count =
        count_followers(app, &brand_id, policy.param_i64("min_followers")?).await?;
    let live = live_campaigns(app, &brand_id).await?;
    let ctx = BrandContext {
        brand: profile.as_ref(),
        follower_count,
        live_campaigns: &live,
        frequency_cap_days: frequency_cap_days(app, now)?,
    };

    let mut days = Vec::new();
    // Counted, not compared: a date at the end of chrono's calendar would make
    // `add_days` saturate and a `date <= to` loop never end.
    for offset in 0..=span.unsigned_abs() {
        let date = add_days(from, offset);
        let draft = CampaignDraft {
            brand_id: brand.to_owned(),
            purpose: DEFAULT_PURPOSE.to_owned(),
            nickname: String::new(),
            theme: q.theme.clone(),
            primary_asin: promotion.as_ref().map(|p| p.asin.clone()),
            promotion_id: q.promotion_id.clone(),
            lifestyle_image: None,
            complementary_asins: vec![],
            start_date: date,
            subject: String::new(),
            section_header: String::new(),
            logo: None,
            header_style: String::new(),
        };
        let facts = campaign_facts(&draft, &ctx, theme_found, promotion.as_ref(), tz, now);
        let campaign = only_date_rules(policy.evaluate(now, &facts)?);
        let decision = match &promotion {
            Some(p) => {
                let facts = promotion_facts(p, &p.asin, date, theme_found, tz, now);
                campaign.merge(app.policies.evaluate(PolicyName::Promotion, now, &facts)?)
            }
            None => campaign,
        };
        let (availability, reasons) = if !decision.violations.is_empty() {
            (Availability::Unavailable, decision.violations)
        } else if !decision.warnings.is_empty() {
            (Availability::Overlap, decision.warnings)
        } else {
            (Availability::Available, vec![])
        };
        days.push(Day {
            date,
            availability,
            reasons,
        });
    }
    Ok(Calendar {
        policy: policy.id(),
        days,
    })
}

fn only_date_rules(mut d: Decision) -> Decision {
    let keep = |v: &Violation| v.field.as_deref() == Some(DATE_FIELD);
    d.violations.retain(keep);
    d.warnings.retain(keep);
    d
}
