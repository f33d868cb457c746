//! `GET /brands/{brandId}/promotions`: which of the brand's promotions a
//! campaign starting on a date may carry (R-MYCE-11), each ineligible one with
//! every reason, from the `promotion` policy in force.

use chrono::NaiveDate;
use serde::Serialize;

use super::campaigns::{brand_zone, theme};
use super::facts::promotion_facts;
use super::{App, AppError, own_brand};
use crate::auth::Caller;
use crate::domain::BrandId;
use crate::domain::promotion::Promotion;
use crate::domain::schedule::{add_days, local_date};
use crate::policy::{PolicyName, Violation};

/// A promotion that cannot go in the campaign, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ineligible {
    /// The promotion.
    #[serde(flatten)]
    pub promotion: Promotion,
    /// Every rule it breaks.
    pub reasons: Vec<Violation>,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Eligibility {
    /// `name@version` of the promotion policy in force.
    pub policy: String,
    /// The start date assessed.
    pub start_date: NaiveDate,
    /// Promotions the campaign may carry.
    pub eligible: Vec<Promotion>,
    /// The others, each with its reasons.
    pub ineligible: Vec<Ineligible>,
}

/// The query.
#[derive(Debug, Clone, Default)]
pub struct EligibilityQuery {
    /// Only promotions on this product (the campaign's primary ASIN).
    pub asin: Option<String>,
    /// The campaign start date; default: the first date the campaign policy
    /// allows (today + its `min_lead_days`).
    pub start_date: Option<NaiveDate>,
    /// The campaign's event theme.
    pub theme: Option<String>,
}

/// Sorts the brand's promotions into eligible and ineligible.
pub async fn eligible(
    app: &App,
    caller: &Caller,
    brand: &str,
    q: EligibilityQuery,
) -> Result<Eligibility, AppError> {
    let profile = own_brand(app, caller, brand).await?;
    let tz = brand_zone(profile.as_ref());
    let now = app.clock.now();
    let theme_found = theme(app, q.theme.as_deref());
    if let (Some(id), None) = (&q.theme, theme_found) {
        return Err(AppError::BadRequest(format!("unknown theme {id:?}")));
    }
    let start_date = match q.start_date {
        Some(d) => d,
        None => {
            let lead = app
                .policies
                .in_force(PolicyName::Campaign, now)?
                .param_i64("min_lead_days")?;
            add_days(local_date(now, tz), u64::try_from(lead).unwrap_or_default())
        }
    };
    let policy = app.policies.in_force(PolicyName::Promotion, now)?;
    let promotions = app
        .store
        .list_promotions(&BrandId::new(brand), q.asin.as_deref())
        .await?;
    let mut out = Eligibility {
        policy: policy.id(),
        start_date,
        eligible: vec![],
        ineligible: vec![],
    };
    for p in promotions {
        // Without an ASIN filter each promotion is judged on its own product.
        let asin = q.asin.clone().unwrap_or_else(|| p.asin.clone());
        let facts = promotion_facts(&p, &asin, start_date, theme_found, tz, now);
        let decision = policy.evaluate(now, &facts)?;
        if decision.is_allowed() {
            out.eligible.push(p);
        } else {
            out.ineligible.push(Ineligible {
                promotion: p,
                reasons: decision.violations,
            });
        }
    }
    Ok(out)
}
