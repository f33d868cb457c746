//! `GET /campaigns/{id}/performance`: what a campaign's sending did, from the
//! counters the send-window job keeps per batch on the campaign item (no write
//! per recipient, one read here).

use serde::Serialize;

use super::{App, AppError, require_role};
use crate::auth::{Caller, Role};
use crate::domain::CampaignId;
use crate::domain::campaign::CampaignStatus;

/// A campaign's sending so far (CONTRACT.md), plus its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Performance {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Its status.
    pub status: CampaignStatus,
    /// Followers the send reached so far (those who still follow the brand).
    pub targeted: u64,
    /// Accepted by the mail provider.
    pub sent: u64,
    /// Skipped: reached by the brand less than the cap ago (R-MYCE-14).
    pub skipped_frequency_cap: u64,
    /// Skipped: unsubscribed, bounced or complained.
    pub skipped_suppressed: u64,
    /// Refused permanently by the mail provider.
    pub failed: u64,
    /// Waiting for a retry after a transient failure.
    pub pending: u64,
    /// Followers passed by because they no longer follow the brand (not targeted).
    pub skipped_unfollowed: u64,
}

/// The performance of one of the caller's campaigns: 403 without the brand
/// representative role, 404 when unknown or another brand's.
pub async fn get(app: &App, caller: &Caller, id: &str) -> Result<Performance, AppError> {
    require_role(caller, Role::BrandRepresentative)?;
    let not_found = || AppError::NotFound(format!("campaign {id}"));
    let (campaign, progress) =
        crate::store::campaign_progress(app.store.as_ref(), &CampaignId::new(id))
            .await?
            .ok_or_else(not_found)?;
    if !caller.represents(campaign.brand_id.as_str()) {
        return Err(not_found());
    }
    let k = progress.counters;
    Ok(Performance {
        campaign_id: campaign.id,
        status: campaign.status,
        targeted: k.targeted,
        sent: k.sent,
        skipped_frequency_cap: k.skipped_frequency_cap,
        skipped_suppressed: k.skipped_suppressed,
        failed: k.failed,
        pending: progress.pending(),
        skipped_unfollowed: k.skipped_unfollowed,
    })
}
