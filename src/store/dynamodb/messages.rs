//! [`MessageStore`] on DynamoDB: a schedule is one conditional put
//! (`attribute_not_exists(pk) OR (#status IN due, refused, expired AND
//! triggeredAtMicros < :trig)`), a claim one conditional put
//! (`attribute_not_exists(pk) OR #status = due OR (#status = pending AND
//! leaseUntilMicros < :now)`), a finish one conditional put on `#status = pending
//! AND #owner = :owner`. The due index is GSI2, read one partition (day, shard) at
//! a time with `Limit` and `ExclusiveStartKey`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};

use super::{DynamoStore, Expr, av, from_attrs, sdk_error, text_of, to_attrs};
use crate::domain::OrderId;
use crate::store::item::Item;
use crate::store::keys;
use crate::store::messages::{
    DueCursor, MessageClaim, MessageFinish, MessageRecord, MessageStatus, MessageStore,
};
use crate::store::{Page, StoreError, UpsertOutcome};

#[async_trait]
impl MessageStore for DynamoStore {
    async fn schedule_message(&self, entry: &MessageRecord) -> Result<UpsertOutcome, StoreError> {
        let expr = Expr::default()
            .name("#status", "status")
            .name("#trig", "triggeredAtMicros")
            .value(":due", av(&MessageStatus::Due)?)
            .value(":refused", av(&MessageStatus::Refused)?)
            .value(":expired", av(&MessageStatus::Expired)?)
            .value(":trig", av(&entry.triggered_at_micros)?);
        let written = self
            .put_if(
                "schedule_message",
                to_attrs(&Item::new(entry.keys(), entry))?,
                "attribute_not_exists(pk) OR \
                 ((#status = :due OR #status = :refused OR #status = :expired) AND #trig < :trig)",
                expr,
            )
            .await?;
        Ok(match written {
            Ok(()) => UpsertOutcome::Written,
            Err(_) => UpsertOutcome::Stale,
        })
    }

    async fn claim_message(
        &self,
        record: &MessageRecord,
        lease_now: DateTime<Utc>,
    ) -> Result<MessageClaim, StoreError> {
        let op = "claim_message";
        let k = record.keys();
        let (pk, sk) = (k.pk.clone(), k.sk.clone());
        let expr = Expr::default()
            .name("#status", "status")
            .name("#lease", "leaseUntilMicros")
            .value(":due", av(&MessageStatus::Due)?)
            .value(":pending", av(&MessageStatus::Pending)?)
            .value(":now", av(&keys::micros(lease_now))?);
        match self
            .put_if(
                op,
                to_attrs(&Item::new(k, record))?,
                "attribute_not_exists(pk) OR #status = :due \
                 OR (#status = :pending AND #lease < :now)",
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
        let k = record.keys();
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

    async fn list_due_messages(
        &self,
        from_day: NaiveDate,
        until: DateTime<Utc>,
        page_token: Option<&str>,
        limit: usize,
    ) -> Result<Page<MessageRecord>, StoreError> {
        let op = "list_due_messages";
        let mut cursor = DueCursor::parse(page_token, from_day, until)?;
        let limit = limit.max(1);
        let (lo, hi) = keys::due_until(until);
        let mut items = Vec::new();
        while !cursor.done(until) && items.len() < limit {
            let partition = cursor.partition();
            let start = cursor.after.as_ref().map(|(gsi2sk, pk, sk)| {
                HashMap::from([
                    ("pk".to_owned(), AttributeValue::S(pk.clone())),
                    ("sk".to_owned(), AttributeValue::S(sk.clone())),
                    ("gsi2pk".to_owned(), AttributeValue::S(partition.clone())),
                    ("gsi2sk".to_owned(), AttributeValue::S(gsi2sk.clone())),
                ])
            });
            let want = i32::try_from(limit - items.len()).unwrap_or(i32::MAX);
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("gsi2")
                .key_condition_expression("gsi2pk = :pk AND gsi2sk BETWEEN :lo AND :hi")
                .expression_attribute_values(":pk", AttributeValue::S(partition.clone()))
                .expression_attribute_values(":lo", AttributeValue::S(lo.clone()))
                .expression_attribute_values(":hi", AttributeValue::S(hi.clone()))
                .set_exclusive_start_key(start)
                .limit(want)
                .send()
                .await
                .map_err(|e| sdk_error(op, e))?;
            for attrs in page.items.unwrap_or_default() {
                let gsi2sk = text_of(&attrs, "gsi2sk");
                let item = from_attrs::<MessageRecord>(attrs)?;
                cursor.after = Some((gsi2sk, item.pk, item.sk));
                items.push(item.body);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => {
                    cursor.after =
                        Some((text_of(&k, "gsi2sk"), text_of(&k, "pk"), text_of(&k, "sk")));
                }
                _ => cursor.next_partition(),
            }
        }
        Ok(Page {
            items,
            next: cursor.token(until),
        })
    }
}
