//! Campaigns: creation, reads, and status moves along the lifecycle.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::backend::{self, Backend, Partition, Patch, Put, SortKeys, When};
use super::item::Item;
use super::{StoreError, keys};
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
fn check_edges(expected_from: &[CampaignStatus], to: CampaignStatus) -> Result<(), StoreError> {
    if expected_from.is_empty() || !expected_from.iter().all(|f| f.can_transition(to)) {
        return Err(StoreError::IllegalTransition {
            from: expected_from.to_vec(),
            to,
        });
    }
    Ok(())
}

/// What a transition writes: the status, its reason and instant, and the index
/// keys that follow the status (out of the live index once terminal). Every
/// other attribute of the stored item is kept.
fn transition_patch(
    id: &CampaignId,
    to: CampaignStatus,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Patch, StoreError> {
    let (gsi2pk, gsi2sk) = keys::campaign_gsi2(id, to).unzip();
    Patch::of(keys::CAMPAIGN.primary(id))
        .set("status", to)?
        .set("statusReason", reason)?
        .set("updatedAt", at)?
        .set("gsi1sk", keys::campaign_gsi1sk(id, to))?
        .set_or_remove("gsi2pk", gsi2pk)?
        .set_or_remove("gsi2sk", gsi2sk)
}

#[async_trait]
impl<B: Backend> CampaignStore for B {
    async fn create_campaign(&self, campaign: &Campaign) -> Result<CreateOutcome, StoreError> {
        let keys = keys::campaign(&campaign.id, &campaign.brand_id, campaign.status);
        let item = Item::new(keys, campaign.clone());
        Ok(
            match self.put_if("create_campaign", item, When::Absent).await? {
                Put::Written => CreateOutcome::Created,
                Put::Refused(_) => CreateOutcome::AlreadyExists,
            },
        )
    }

    async fn get_campaign(&self, id: &CampaignId) -> Result<Option<Campaign>, StoreError> {
        backend::body(self, "get_campaign", keys::CAMPAIGN.primary(id)).await
    }

    async fn list_campaigns(
        &self,
        brand: &BrandId,
        status: Option<CampaignStatus>,
    ) -> Result<Vec<Campaign>, StoreError> {
        let sort = SortKeys::prefix(status.map(keys::campaign_status_prefix));
        let part = Partition::gsi1(keys::CAMPAIGN.of_brand(brand), sort);
        let mut items: Vec<Campaign> = self.query("list_campaigns", part).await?;
        items.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(items)
    }

    async fn list_live_campaigns(
        &self,
        status: CampaignStatus,
    ) -> Result<Vec<Campaign>, StoreError> {
        let part = Partition::gsi2(keys::live_campaigns(status), SortKeys::All);
        self.query("list_live_campaigns", part).await
    }

    async fn transition(
        &self,
        id: &CampaignId,
        expected_from: &[CampaignStatus],
        to: CampaignStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<TransitionOutcome, StoreError> {
        check_edges(expected_from, to)?;
        let patch = transition_patch(id, to, reason, at)?;
        let when = When::StatusIn(expected_from.to_vec());
        Ok(
            match self.patch_if::<Campaign>("transition", patch, when).await? {
                Ok(moved) => TransitionOutcome::Moved(moved.body),
                Err(Some(stored)) => TransitionOutcome::Conflict {
                    current: stored.body.status,
                },
                Err(None) => TransitionOutcome::NotFound,
            },
        )
    }
}
