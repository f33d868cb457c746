//! Promotion cancelled or rejected (R-MYCE-12): every campaign of the brand
//! that uses the promotion and has not finished becomes `SUSPENDED`.
//!
//! Each move is one conditional transition from `IN_REVIEW`, `APPROVED` or
//! `SENDING`, so it is race-safe against a concurrent send run: the run's next
//! checkpoint is conditional on `SENDING` and stops it (at most one wave after
//! the suspension committed). Repeated deliveries of the event are harmless
//! (a campaign already suspended is a conflict, reported and left alone).

use chrono::{DateTime, Utc};

use crate::domain::campaign::CampaignStatus;
use crate::domain::promotion::PromotionState;
use crate::domain::{BrandId, CampaignId, PromotionId};
use crate::policy::Violation;
use crate::store::{Store, StoreError, TransitionOutcome};

/// Statuses a brand-level send rule suspends (R-MAIL-3): what is scheduled or
/// being sent; a campaign in review is not sent before approval anyway.
pub const BRAND_SUSPENDABLE: [CampaignStatus; 2] =
    [CampaignStatus::Approved, CampaignStatus::Sending];

/// The reason stored on a campaign a brand-level rule suspended: each rule
/// with its message and policy.
pub fn rule_reason(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {} ({})", v.rule, v.message, v.policy))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Suspends every approved and sending campaign of `brand` because the
/// brand-level send rules in `violations` fired (R-MAIL-3: the complaint
/// rate); one conditional transition each, so repeats and races are harmless.
pub async fn suspend_brand<S: Store + ?Sized>(
    store: &S,
    brand: &BrandId,
    violations: &[Violation],
    at: DateTime<Utc>,
) -> Result<Vec<Suspended>, StoreError> {
    let why = rule_reason(violations);
    let mut out = Vec::new();
    for status in BRAND_SUSPENDABLE {
        for c in store.list_campaigns(brand, Some(status)).await? {
            let to = match store
                .transition(
                    &c.id,
                    &BRAND_SUSPENDABLE,
                    CampaignStatus::Suspended,
                    Some(&why),
                    at,
                )
                .await?
            {
                TransitionOutcome::Moved(m) => m.status,
                TransitionOutcome::Conflict { .. } | TransitionOutcome::NotFound => continue,
            };
            tracing::warn!(campaign = %c.id, from = %c.status, brand = %brand, reason = %why, "campaign suspended by a brand-level send rule");
            out.push(Suspended {
                campaign_id: c.id.clone(),
                from: c.status,
                to,
            });
        }
    }
    Ok(out)
}

/// Statuses a suspension moves from.
pub const SUSPENDABLE: [CampaignStatus; 3] = [
    CampaignStatus::InReview,
    CampaignStatus::Approved,
    CampaignStatus::Sending,
];

/// One campaign a suspension concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspended {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Its status before.
    pub from: CampaignStatus,
    /// Its status now (`SUSPENDED`, or what a concurrent change made it).
    pub to: CampaignStatus,
}

/// The reason stored on a suspended campaign.
pub fn reason(promotion: &PromotionId, state: PromotionState) -> String {
    let what = match state {
        PromotionState::Rejected => "rejected",
        _ => "cancelled",
    };
    format!("promotion {promotion} was {what}: the campaign is suspended and not sent (further)")
}

/// Suspends every unfinished campaign of `brand` that uses `promotion`.
pub async fn suspend_campaigns_using<S: Store + ?Sized>(
    store: &S,
    brand: &BrandId,
    promotion: &PromotionId,
    state: PromotionState,
    at: DateTime<Utc>,
) -> Result<Vec<Suspended>, StoreError> {
    let why = reason(promotion, state);
    let mut out = Vec::new();
    for c in store.list_campaigns(brand, None).await? {
        if c.promotion_id.as_ref() != Some(promotion) || !SUSPENDABLE.contains(&c.status) {
            continue;
        }
        let to = match store
            .transition(
                &c.id,
                &SUSPENDABLE,
                CampaignStatus::Suspended,
                Some(&why),
                at,
            )
            .await?
        {
            TransitionOutcome::Moved(m) => m.status,
            TransitionOutcome::Conflict { current } => current,
            TransitionOutcome::NotFound => continue,
        };
        tracing::info!(campaign = %c.id, from = %c.status, to = %to, promotion = %promotion, "campaign suspended");
        out.push(Suspended {
            campaign_id: c.id.clone(),
            from: c.status,
            to,
        });
    }
    Ok(out)
}
