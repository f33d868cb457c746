//! [`MessageStore`] on SQLite: each claim and finish reads and writes inside one
//! `BEGIN IMMEDIATE` transaction, so two writers never both pass a condition.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{EmbeddedStore, query_index, read, write};
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
impl MessageStore for EmbeddedStore {
    async fn claim_message(
        &self,
        record: &MessageRecord,
        lease_now: DateTime<Utc>,
    ) -> Result<MessageClaim, StoreError> {
        let record = record.clone();
        self.tx("claim_message", move |conn| {
            let k = keys::message(&record.order_id, &record.message_type);
            if let Some(old) = read::<MessageRecord>(conn, "claim_message", &k.pk, &k.sk)? {
                let expired = old.body.status == MessageStatus::Pending
                    && old.body.lease_until_micros < keys::micros(lease_now);
                if !expired {
                    return Ok(MessageClaim::Held(Box::new(old.body)));
                }
            }
            write(conn, "claim_message", &Item::new(k, &record))?;
            Ok(MessageClaim::Claimed)
        })
        .await
    }

    async fn finish_message(&self, record: &MessageRecord) -> Result<MessageFinish, StoreError> {
        let record = record.clone();
        self.tx("finish_message", move |conn| {
            let k = keys::message(&record.order_id, &record.message_type);
            let old = read::<MessageRecord>(conn, "finish_message", &k.pk, &k.sk)?.map(|i| i.body);
            match old {
                Some(old) if old.status == MessageStatus::Pending && old.owner == record.owner => {
                    write(conn, "finish_message", &Item::new(k, &record))?;
                    Ok(MessageFinish::Finished)
                }
                other => Ok(MessageFinish::Lost(other.map(Box::new))),
            }
        })
        .await
    }

    async fn get_message(
        &self,
        order: &OrderId,
        message_type: &str,
    ) -> Result<Option<MessageRecord>, StoreError> {
        let k = keys::message(order, message_type);
        self.get_doc("get_message", k.pk, k.sk).await
    }

    async fn list_orders_updated(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Order>, StoreError> {
        let days = days_between(from, to, MAX_LISTED_DAYS);
        let (a, b) = keys::at_range(from, to);
        let records = self
            .run("list_orders_updated", move |conn| {
                let mut out: Vec<OrderRecord> = Vec::new();
                for day in days {
                    let pk = keys::orders_updated_on(day);
                    out.extend(query_index::<OrderRecord>(
                        conn,
                        "list_orders_updated",
                        "gsi2pk",
                        "gsi2sk",
                        &pk,
                        &a,
                        &b,
                    )?);
                }
                Ok(out)
            })
            .await?;
        Ok(placed(records))
    }
}
