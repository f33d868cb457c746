//! [`SendStore`] on SQLite: every conditional update reads and writes the raw
//! campaign document inside one `BEGIN IMMEDIATE` transaction.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::{EmbeddedStore, read, read_raw, write, write_raw};
use crate::domain::CampaignId;
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::send::SendProgress;
use crate::store::item::{CapRecord, Item, from_micros};
use crate::store::keys;
use crate::store::sending::{CapTake, CheckpointOutcome, ClaimOutcome, SendAttrs, SendStore};
use crate::store::{CapOutcome, StoreError};

fn decode(pk: &str, sk: &str, doc: &Value) -> Result<(Campaign, SendAttrs), StoreError> {
    let item: Item<Campaign> =
        serde_json::from_value(doc.clone()).map_err(|e| StoreError::malformed(pk, sk, e))?;
    let attrs: SendAttrs =
        serde_json::from_value(doc.clone()).map_err(|e| StoreError::malformed(pk, sk, e))?;
    Ok((item.body, attrs))
}

fn set(doc: &mut Value, name: &str, value: Value) {
    if let Value::Object(map) = doc {
        map.insert(name.to_owned(), value);
    }
}

#[async_trait]
impl SendStore for EmbeddedStore {
    async fn campaign_progress(
        &self,
        id: &CampaignId,
    ) -> Result<Option<(Campaign, SendProgress)>, StoreError> {
        let (pk, sk) = keys::campaign_primary(id);
        self.run("campaign_progress", move |conn| {
            let Some(doc) = read_raw(conn, "campaign_progress", &pk, &sk)? else {
                return Ok(None);
            };
            let (c, a) = decode(&pk, &sk, &doc)?;
            Ok(Some((c, a.send_progress.unwrap_or_default())))
        })
        .await
    }

    async fn claim_send(
        &self,
        id: &CampaignId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError> {
        let (pk, sk) = keys::campaign_primary(id);
        let owner = owner.to_owned();
        self.tx("claim_send", move |conn| {
            let Some(mut doc) = read_raw(conn, "claim_send", &pk, &sk)? else {
                return Ok(ClaimOutcome::NotFound);
            };
            let (campaign, attrs) = decode(&pk, &sk, &doc)?;
            if campaign.status != CampaignStatus::Sending {
                return Ok(ClaimOutcome::NotSending {
                    status: campaign.status,
                });
            }
            if let (Some(holder), Some(held)) = (&attrs.lease_owner, attrs.lease_until)
                && *holder != owner
                && held > keys::micros(now)
            {
                return Ok(ClaimOutcome::Busy {
                    owner: holder.clone(),
                    until: from_micros(held),
                });
            }
            set(&mut doc, "leaseOwner", Value::String(owner));
            set(&mut doc, "leaseUntil", Value::from(keys::micros(until)));
            write_raw(conn, "claim_send", &doc)?;
            Ok(ClaimOutcome::Claimed {
                campaign,
                progress: attrs.send_progress.unwrap_or_default(),
            })
        })
        .await
    }

    async fn checkpoint_send(
        &self,
        id: &CampaignId,
        owner: &str,
        progress: &SendProgress,
        lease_until: DateTime<Utc>,
    ) -> Result<CheckpointOutcome, StoreError> {
        let (pk, sk) = keys::campaign_primary(id);
        let owner = owner.to_owned();
        let progress = progress.clone();
        let encoded =
            serde_json::to_value(&progress).map_err(|e| StoreError::encode("send progress", e))?;
        self.tx("checkpoint_send", move |conn| {
            let Some(mut doc) = read_raw(conn, "checkpoint_send", &pk, &sk)? else {
                return Ok(CheckpointOutcome::NotFound);
            };
            let (campaign, attrs) = decode(&pk, &sk, &doc)?;
            if campaign.status != CampaignStatus::Sending {
                return Ok(CheckpointOutcome::Stopped {
                    status: campaign.status,
                });
            }
            if attrs.lease_owner.as_deref() != Some(owner.as_str()) {
                return Ok(CheckpointOutcome::LostLease);
            }
            let stored = attrs.send_progress.as_ref().map_or(0, |p| p.seq);
            if stored == progress.seq {
                return Ok(CheckpointOutcome::Saved);
            }
            if stored + 1 != progress.seq {
                return Ok(CheckpointOutcome::LostLease);
            }
            set(&mut doc, "sendProgress", encoded);
            set(&mut doc, "progressSeq", Value::from(progress.seq));
            set(
                &mut doc,
                "leaseUntil",
                Value::from(keys::micros(lease_until)),
            );
            write_raw(conn, "checkpoint_send", &doc)?;
            Ok(CheckpointOutcome::Saved)
        })
        .await
    }

    async fn take_caps(
        &self,
        takes: &[CapTake],
        at: DateTime<Utc>,
        cap: Duration,
    ) -> Vec<Result<CapOutcome, StoreError>> {
        let n = takes.len();
        let next = at + cap;
        let now = keys::micros(at);
        let items: Vec<Item<CapRecord>> = takes
            .iter()
            .map(|t| {
                Item::new(
                    keys::cap(&t.brand, &t.customer),
                    CapRecord {
                        brand_id: t.brand.clone(),
                        customer_id: t.customer.clone(),
                        campaign_id: t.campaign.clone(),
                        taken_at: at,
                        next_allowed_at: keys::micros(next),
                    },
                )
                .expiring(next + Duration::days(1))
            })
            .collect();
        let result = self
            .tx("take_cap", move |conn| {
                let mut out = Vec::with_capacity(items.len());
                for item in &items {
                    if let Some(old) = read::<CapRecord>(conn, "take_cap", &item.pk, &item.sk)?
                        && old.body.next_allowed_at > now
                    {
                        out.push(if old.body.campaign_id == item.body.campaign_id {
                            CapOutcome::AlreadyHeld
                        } else {
                            CapOutcome::Capped {
                                until: from_micros(old.body.next_allowed_at),
                            }
                        });
                        continue;
                    }
                    write(conn, "take_cap", item)?;
                    out.push(CapOutcome::Taken);
                }
                Ok(out)
            })
            .await;
        match result {
            Ok(v) => v.into_iter().map(Ok).collect(),
            // The transaction rolled back: nothing was taken.
            Err(e) => {
                let retryable = e.is_retryable();
                let shared = std::sync::Arc::new(e);
                (0..n)
                    .map(|_| {
                        let source = Box::new(SharedError(shared.clone()));
                        Err(if retryable {
                            StoreError::Transient {
                                op: "take_cap",
                                source,
                            }
                        } else {
                            StoreError::Permanent {
                                op: "take_cap",
                                source,
                            }
                        })
                    })
                    .collect()
            }
        }
    }
}

/// One store error reported for every take of a rolled-back batch.
#[derive(Debug)]
struct SharedError(std::sync::Arc<StoreError>);

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the batch of cap takes failed: {}", self.0)
    }
}

impl std::error::Error for SharedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}
