//! Facts of the `promotion` policy, and the `promotion` and `theme` facts the
//! `campaign` and `send` policies read too.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::promotion::{Promotion, PromotionState, PromotionType};
use crate::domain::schedule::local_midnight;
use crate::domain::theme::Theme;
use crate::policy::{FactValue, Facts};

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
