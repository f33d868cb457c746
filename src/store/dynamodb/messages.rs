//! [`MessageStore`] on DynamoDB: a claim is one conditional put
//! (`attribute_not_exists(pk) OR (#status = pending AND leaseUntilMicros < :now)`),
//! a finish one conditional put on `#status = pending AND #owner = :owner`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{DynamoStore, Expr, Range, av, to_attrs};
use crate::domain::OrderId;
use crate::domain::order::{Order, OrderRecord};
use crate::store::StoreError;
use crate::store::item::Item;
use crate::store::keys;
use crate::store::messages::{
    MAX_LISTED_DAYS, MessageClaim, MessageFinish, MessageRecord, MessageStatus, MessageStore,
    days_between, placed,
};

#[async_trait]
impl MessageStore for DynamoStore {
    async fn claim_message(
        &self,
        record: &MessageRecord,
        lease_now: DateTime<Utc>,
    ) -> Result<MessageClaim, StoreError> {
        let op = "claim_message";
        let k = keys::message(&record.order_id, &record.message_type);
        let (pk, sk) = (k.pk.clone(), k.sk.clone());
        let expr = Expr::default()
            .name("#status", "status")
            .name("#lease", "leaseUntilMicros")
            .value(":pending", av(&MessageStatus::Pending)?)
            .value(":now", av(&keys::micros(lease_now))?);
        match self
            .put_if(
                op,
                to_attrs(&Item::new(k, record))?,
                "attribute_not_exists(pk) OR (#status = :pending AND #lease < :now)",
                expr,
            )
            .await?
        {
            Ok(()) => Ok(MessageClaim::Claimed),
            Err(old) => match self.old_or_read::<MessageRecord>(op, old, &pk, &sk).await? {
                Some(old) => Ok(MessageClaim::Held(Box::new(old.body))),
                None => Err(StoreError::Transient {
                    op,
                    source: format!("message {pk}/{sk} reported as held, then gone").into(),
                }),
            },
        }
    }

    async fn finish_message(&self, record: &MessageRecord) -> Result<MessageFinish, StoreError> {
        let op = "finish_message";
        let k = keys::message(&record.order_id, &record.message_type);
        let (pk, sk) = (k.pk.clone(), k.sk.clone());
        let expr = Expr::default()
            .name("#status", "status")
            .name("#owner", "owner")
            .value(":pending", av(&MessageStatus::Pending)?)
            .value(":owner", av(&record.owner)?);
        match self
            .put_if(
                op,
                to_attrs(&Item::new(k, record))?,
                "#status = :pending AND #owner = :owner",
                expr,
            )
            .await?
        {
            Ok(()) => Ok(MessageFinish::Finished),
            Err(old) => Ok(MessageFinish::Lost(
                self.old_or_read::<MessageRecord>(op, old, &pk, &sk)
                    .await?
                    .map(|i| Box::new(i.body)),
            )),
        }
    }

    async fn get_message(
        &self,
        order: &OrderId,
        message_type: &str,
    ) -> Result<Option<MessageRecord>, StoreError> {
        let k = keys::message(order, message_type);
        Ok(self.get("get_message", &k.pk, &k.sk).await?.map(|i| i.body))
    }

    async fn list_orders_updated(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Order>, StoreError> {
        let (a, b) = keys::at_range(from, to);
        let mut records: Vec<OrderRecord> = Vec::new();
        for day in days_between(from, to, MAX_LISTED_DAYS) {
            let pk = keys::orders_updated_on(day);
            records.extend(
                self.query::<OrderRecord>(
                    "list_orders_updated",
                    Some("gsi2"),
                    "gsi2pk",
                    "gsi2sk",
                    &pk,
                    Range::Between(a.clone(), b.clone()),
                )
                .await?,
            );
        }
        Ok(placed(records))
    }
}
