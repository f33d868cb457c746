//! [`SendStore`] on DynamoDB: each operation is one conditional `UpdateItem`
//! (the failed condition returns the old item, so no extra read), and a batch of
//! cap takes is that many conditional puts issued concurrently.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};

use super::{Attrs, DynamoStore, Expr, av, item_key, sdk_error};
use crate::domain::CampaignId;
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::send::SendProgress;
use crate::store::item::{Item, from_micros};
use crate::store::keys;
use crate::store::sending::{CapTake, CheckpointOutcome, ClaimOutcome, SendAttrs, SendStore};
use crate::store::{CapOutcome, CapStore, StoreError};

fn decode(attrs: Attrs) -> Result<(Campaign, SendAttrs), StoreError> {
    let (pk, sk) = (super::text_of(&attrs, "pk"), super::text_of(&attrs, "sk"));
    let send: SendAttrs =
        serde_dynamo::from_item(attrs.clone()).map_err(|e| StoreError::malformed(&pk, &sk, e))?;
    let item: Item<Campaign> =
        serde_dynamo::from_item(attrs).map_err(|e| StoreError::malformed(&pk, &sk, e))?;
    Ok((item.body, send))
}

impl DynamoStore {
    async fn raw_campaign(
        &self,
        op: &'static str,
        id: &CampaignId,
    ) -> Result<Option<Attrs>, StoreError> {
        let (pk, sk) = keys::campaign_primary(id);
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key(&pk, &sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(op, e))?;
        Ok(out.item)
    }

    /// The old item a failed condition returned, or one read when it returned none.
    async fn old_campaign(
        &self,
        op: &'static str,
        id: &CampaignId,
        old: Option<Attrs>,
    ) -> Result<Option<(Campaign, SendAttrs)>, StoreError> {
        let attrs = match old {
            Some(a) => Some(a),
            None => self.raw_campaign(op, id).await?,
        };
        attrs.map(decode).transpose()
    }
}

#[async_trait]
impl SendStore for DynamoStore {
    async fn campaign_progress(
        &self,
        id: &CampaignId,
    ) -> Result<Option<(Campaign, SendProgress)>, StoreError> {
        let Some(attrs) = self.raw_campaign("campaign_progress", id).await? else {
            return Ok(None);
        };
        let (c, a) = decode(attrs)?;
        Ok(Some((c, a.send_progress.unwrap_or_default())))
    }

    async fn claim_send(
        &self,
        id: &CampaignId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError> {
        let (pk, sk) = keys::campaign_primary(id);
        let expr = Expr::default()
            .name("#status", "status")
            .name("#owner", "leaseOwner")
            .name("#until", "leaseUntil")
            .value(":sending", av(&CampaignStatus::Sending)?)
            .value(":owner", AttributeValue::S(owner.to_owned()))
            .value(":now", av(&keys::micros(now))?)
            .value(":until", av(&keys::micros(until))?);
        let condition = "attribute_exists(pk) AND #status = :sending AND \
             (attribute_not_exists(#until) OR #until <= :now OR #owner = :owner)";
        match self
            .update_if(
                "claim_send",
                &pk,
                &sk,
                "SET #owner = :owner, #until = :until",
                condition,
                expr,
            )
            .await?
        {
            Ok(new) => {
                let (campaign, attrs) = decode(new)?;
                Ok(ClaimOutcome::Claimed {
                    campaign,
                    progress: attrs.send_progress.unwrap_or_default(),
                })
            }
            Err(old) => Ok(match self.old_campaign("claim_send", id, old).await? {
                None => ClaimOutcome::NotFound,
                Some((c, _)) if c.status != CampaignStatus::Sending => {
                    ClaimOutcome::NotSending { status: c.status }
                }
                Some((_, a)) => ClaimOutcome::Busy {
                    owner: a.lease_owner.unwrap_or_default(),
                    until: from_micros(a.lease_until.unwrap_or_default()),
                },
            }),
        }
    }

    async fn checkpoint_send(
        &self,
        id: &CampaignId,
        owner: &str,
        progress: &SendProgress,
        lease_until: DateTime<Utc>,
    ) -> Result<CheckpointOutcome, StoreError> {
        let (pk, sk) = keys::campaign_primary(id);
        let previous = progress.seq.saturating_sub(1);
        let expr = Expr::default()
            .name("#status", "status")
            .name("#owner", "leaseOwner")
            .name("#until", "leaseUntil")
            .name("#seq", "progressSeq")
            .name("#progress", "sendProgress")
            .value(":sending", av(&CampaignStatus::Sending)?)
            .value(":owner", AttributeValue::S(owner.to_owned()))
            .value(":until", av(&keys::micros(lease_until))?)
            .value(":seq", av(&progress.seq)?)
            .value(":prev", av(&previous)?)
            .value(":progress", av(progress)?);
        let seq_ok = if previous == 0 {
            "(attribute_not_exists(#seq) OR #seq = :prev)"
        } else {
            "#seq = :prev"
        };
        let condition =
            format!("attribute_exists(pk) AND #status = :sending AND #owner = :owner AND {seq_ok}");
        match self
            .update_if(
                "checkpoint_send",
                &pk,
                &sk,
                "SET #progress = :progress, #seq = :seq, #until = :until",
                &condition,
                expr,
            )
            .await?
        {
            Ok(_) => Ok(CheckpointOutcome::Saved),
            Err(old) => Ok(match self.old_campaign("checkpoint_send", id, old).await? {
                None => CheckpointOutcome::NotFound,
                Some((c, _)) if c.status != CampaignStatus::Sending => {
                    CheckpointOutcome::Stopped { status: c.status }
                }
                Some((_, a)) if a.lease_owner.as_deref() != Some(owner) => {
                    CheckpointOutcome::LostLease
                }
                // This very checkpoint was stored by an earlier attempt of the call.
                Some((_, a)) if a.send_progress.as_ref().map(|p| p.seq) == Some(progress.seq) => {
                    CheckpointOutcome::Saved
                }
                Some(_) => CheckpointOutcome::LostLease,
            }),
        }
    }

    async fn take_caps(
        &self,
        takes: &[CapTake],
        at: DateTime<Utc>,
        cap: Duration,
    ) -> Vec<Result<CapOutcome, StoreError>> {
        futures::future::join_all(
            takes
                .iter()
                .map(|t| self.take_cap(&t.brand, &t.customer, &t.campaign, at, cap)),
        )
        .await
    }
}
