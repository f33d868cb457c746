//! A brand's health (R-MSG-7, R-MSG-8, R-MAIL-3): `GET /v1/brands/{brandId}/health`.
//!
//! - `negativeReviewRate.days30` / `days90`: negative reviews (at most
//!   `negative_review_max_stars` stars) posted in the last 30 / 90 days (the
//!   `health_period_days` param; marketplace calendar days: since the same local
//!   time that many dates ago) over the orders placed in the same period. With
//!   no order in the period the denominator is 1 (so one negative review with no
//!   order reads 1.0, never a division by zero).
//! - `level`: from the `health` policy's rules over the 30-day rate: `act` when
//!   `R-MSG-8.act` fires, `watch` when `R-MSG-8.watch` fires, else `ok`.
//! - `unansweredNegativeReviews`: negative reviews of the longest period older than
//!   `inquiry_answer_hours` with no contact (`ContactStore::get_contact`).
//! - `complaintRate`: complaints over deliveries of the brand's emails, from the SES
//!   feedback counters (cumulative).
//!
//! Every threshold comes from a policy in force: the `health` policy, and for the
//! complaint rate the `send` policy's brand-level rules (R-MAIL-3: a warning over
//! the target, a violation at the limit, both from its minimum volume), the
//! rules that suspend the brand's campaigns, so the two never disagree.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::facts::health::health_facts;
use super::{App, AppError, own_brand};
use crate::auth::Caller;
use crate::domain::BrandId;
use crate::domain::review::Review;
use crate::domain::schedule::add_local_days;
use crate::policy::{FactValue, PolicyError, PolicyName, Violation};

/// The health answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `health@version` that decided the level.
    pub policy: String,
    /// The negative review rates and their level.
    pub negative_review_rate: NegativeReviewRate,
    /// Negative reviews waiting longer than the policy allows for an answer.
    pub unanswered_negative_reviews: Vec<UnansweredReview>,
    /// Complaints over deliveries (0 before any delivery).
    pub complaint_rate: f64,
    /// The counts behind the figures.
    pub counts: HealthCounts,
    /// Error rules of the health policy that fired (act).
    pub violations: Vec<Violation>,
    /// Warning rules that fired (watch).
    pub warnings: Vec<Violation>,
}

/// Negative review rates over the policy's periods.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NegativeReviewRate {
    /// Over the first period (30 days).
    pub days30: f64,
    /// Over the second period (90 days).
    pub days90: f64,
    /// `ok`, `watch` or `act`, from the 30-day rate.
    pub level: Level,
}

/// What the 30-day rate calls for (R-MSG-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Under the ok threshold.
    Ok,
    /// Between the thresholds.
    Watch,
    /// Over the act threshold.
    Act,
}

/// The numbers the rates are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCounts {
    /// Orders placed in the last 30 days.
    pub orders30: usize,
    /// Negative reviews posted in the last 30 days.
    pub negative30: usize,
    /// Orders placed in the last 90 days.
    pub orders90: usize,
    /// Negative reviews posted in the last 90 days.
    pub negative90: usize,
    /// Emails delivered (SES feedback).
    pub delivered: u64,
    /// Complaints (SES feedback).
    pub complained: u64,
}

/// A negative review nobody answered in time.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnansweredReview {
    /// The review.
    pub review_id: String,
    /// The product.
    pub asin: String,
    /// Stars.
    pub rating: u8,
    /// When it was posted.
    pub posted_at: DateTime<Utc>,
    /// Whole hours it has waited.
    pub hours_waiting: i64,
}

#[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn rate(negative: usize, orders: usize) -> f64 {
    negative as f64 / orders.max(1) as f64
}

/// The health of a brand the caller represents (404 for any other brand).
///
/// # Errors
/// 403 without the brand representative role, 404 for a brand not the caller's or
/// not registered, store and policy failures.
pub async fn health(app: &App, caller: &Caller, brand: &str) -> Result<Health, AppError> {
    let Some(profile) = own_brand(app, caller, brand).await? else {
        return Err(AppError::NotFound(format!("brand {brand}")));
    };
    let brand = BrandId::new(brand);
    let now = app.clock.now();
    let policy = app.policies.in_force(PolicyName::Health, now)?;
    let max_stars = policy.param_i64("negative_review_max_stars")?;
    let periods = policy.param("health_period_days")?;
    let periods: Vec<i64> = match periods {
        FactValue::List(items) => items
            .iter()
            .filter_map(|v| {
                if let FactValue::Int(i) = v {
                    Some(*i)
                } else {
                    None
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let (Some(&short), Some(&long)) = (periods.first(), periods.get(1)) else {
        return Err(AppError::Policy(PolicyError::Param {
            policy: policy.id(),
            param: "health_period_days".to_owned(),
            reason: "must list two periods in days".to_owned(),
        }));
    };
    let answer_within = policy.param_hours("inquiry_answer_hours")?;

    // "The last N days": since the same local time N marketplace dates ago
    // (RULES.md counts calendar days), so a clock change in the period does not
    // move its start by an hour.
    let zone = crate::app::campaigns::brand_zone(Some(&profile));
    let long_from = add_local_days(now, -long, zone);
    let short_from = add_local_days(now, -short, zone);
    let orders = app.store.list_orders(&brand, long_from, now).await?;
    let reviews = app.store.list_reviews(&brand, long_from, now).await?;
    let negative: Vec<&Review> = reviews
        .iter()
        .filter(|r| i64::from(r.rating) <= max_stars)
        .collect();
    let counts_feedback = app.store.feedback_counts(&brand).await?;
    let orders30 = orders
        .iter()
        .filter(|o| o.purchased_at >= short_from)
        .count();
    let negative30 = negative
        .iter()
        .filter(|r| r.posted_at >= short_from)
        .count();
    let counts = HealthCounts {
        orders30,
        negative30,
        orders90: orders.len(),
        negative90: negative.len(),
        delivered: counts_feedback.delivered,
        complained: counts_feedback.complained,
    };
    let days30 = rate(negative30, orders30);
    let days90 = rate(negative.len(), orders.len());

    let mut unanswered = Vec::new();
    for r in &negative {
        if now - r.posted_at <= answer_within {
            continue;
        }
        if app.store.get_contact(&r.review_id).await?.is_none() {
            unanswered.push(UnansweredReview {
                review_id: r.review_id.to_string(),
                asin: r.asin.clone(),
                rating: r.rating,
                posted_at: r.posted_at,
                hours_waiting: (now - r.posted_at).num_hours(),
            });
        }
    }

    let complaint_rate = counts_feedback.complaint_rate();
    let facts = health_facts(now, days30, days90, complaint_rate, &unanswered);
    let mut decision = policy.evaluate(now, &facts)?;
    // The complaint rate's target and limit have one source, the send policy's
    // brand-level rules (R-MAIL-3, with their minimum volume): the same decision
    // that suspends the brand's campaigns at the limit warns here under it.
    let sending = crate::jobs::send::rules::SendRules::in_force(&app.policies, now)?
        .brand(now, &counts_feedback)?;
    decision.violations.extend(sending.violations);
    decision.warnings.extend(sending.warnings);
    let level = if decision.has_fired("R-MSG-8.act") {
        Level::Act
    } else if decision.has_fired("R-MSG-8.watch") {
        Level::Watch
    } else {
        Level::Ok
    };
    Ok(Health {
        policy: decision.policy.clone(),
        negative_review_rate: NegativeReviewRate {
            days30,
            days90,
            level,
        },
        unanswered_negative_reviews: unanswered,
        complaint_rate,
        counts,
        violations: decision.violations,
        warnings: decision.warnings,
    })
}
