//! Campaigns: creation, reads, and status moves along the lifecycle.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::{BrandId, CampaignId};

/// What [`CampaignStore::create_campaign`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// Stored.
    Created,
    /// A campaign with that id already exists (it is left unchanged).
    AlreadyExists,
}

/// What [`CampaignStore::transition`] did.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a short-lived return value; boxing would only burden every caller"
)]
pub enum TransitionOutcome {
    /// The status moved; the campaign as stored now.
    Moved(Campaign),
    /// The campaign was not in one of the expected statuses: nothing changed.
    Conflict {
        /// Its status now.
        current: CampaignStatus,
    },
    /// No such campaign.
    NotFound,
}

/// Campaign items.
#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// Stores a new campaign; fails (typed) if the id exists.
    async fn create_campaign(&self, campaign: &Campaign) -> Result<CreateOutcome, StoreError>;

    /// Reads one campaign (strongly consistent).
    async fn get_campaign(&self, id: &CampaignId) -> Result<Option<Campaign>, StoreError>;

    /// A brand's campaigns, optionally in one status, oldest first (GSI1; eventually
    /// consistent on DynamoDB).
    async fn list_campaigns(
        &self,
        brand: &BrandId,
        status: Option<CampaignStatus>,
    ) -> Result<Vec<Campaign>, StoreError>;

    /// Every campaign of every brand in a non-terminal status (`IN_REVIEW`, `APPROVED`,
    /// `SENDING`): what the send-window job scans (GSI2, sparse). Terminal statuses give
    /// an empty list.
    async fn list_live_campaigns(
        &self,
        status: CampaignStatus,
    ) -> Result<Vec<Campaign>, StoreError>;

    /// Moves a campaign to `to` if its current status is one of `expected_from`, as
    /// one conditional update. Every `expected_from -> to` must be an edge of the
    /// lifecycle ([`crate::domain::campaign::can_transition`]), else
    /// [`StoreError::IllegalTransition`]. Sets `statusReason` and `updatedAt`.
    async fn transition(
        &self,
        id: &CampaignId,
        expected_from: &[CampaignStatus],
        to: CampaignStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<TransitionOutcome, StoreError>;
}

/// Checks that every requested edge is on the lifecycle.
pub(crate) fn check_edges(
    expected_from: &[CampaignStatus],
    to: CampaignStatus,
) -> Result<(), StoreError> {
    if expected_from.is_empty() || !expected_from.iter().all(|f| f.can_transition(to)) {
        return Err(StoreError::IllegalTransition {
            from: expected_from.to_vec(),
            to,
        });
    }
    Ok(())
}
