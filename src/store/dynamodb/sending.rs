//! Sending on DynamoDB: segments are small items of the campaign's partition
//! written by one conditional `PutItem` on their `seq`; a checkpoint adds a
//! `ConditionCheck` on the campaign's status in the same `TransactWriteItems`.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};

use super::{Condition, DynamoStore, Expr, av, item_key, plain, to_attrs, transact_put};
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::segment::Segment;
use crate::store::StoreError;
use crate::store::backend::Backend;
use crate::store::item::Item;
use crate::store::keys;
use crate::store::sending::SegmentWrite;

/// The stored segment's `seq` is `expected` (`None`: there is none).
pub(super) fn seq_is(expected: Option<u64>) -> Condition {
    match expected {
        None => plain("attribute_not_exists(pk)"),
        Some(seq) => (
            "#seq = :seq".to_owned(),
            Expr::default()
                .name("#seq", "seq")
                .value(":seq", AttributeValue::N(seq.to_string())),
        ),
    }
}

impl DynamoStore {
    pub(super) async fn checkpoint_segment(
        &self,
        segment: Item<Segment>,
        expected: u64,
    ) -> Result<SegmentWrite, StoreError> {
        const OP: &str = "checkpoint_while_sending";
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::encode("transaction", e);
        let (cpk, csk) = keys::CAMPAIGN.primary(&segment.body.campaign_id);
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(item_key(&cpk, &csk)))
            .condition_expression("#status = :sending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sending", av(&CampaignStatus::Sending)?)
            .build()
            .map_err(build)?;
        let put = transact_put(&self.table, to_attrs(&segment)?, seq_is(Some(expected)))?;
        let res = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .transact_items(put)
            .send()
            .await;
        let Err(e) = res else {
            return Ok(SegmentWrite::Written);
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error()
        else {
            return Err(super::sdk_error(OP, e));
        };
        let failed = |i: usize| {
            c.cancellation_reasons().get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed")
        };
        if failed(0) {
            let status = self
                .get::<Campaign>(OP, &cpk, &csk)
                .await?
                .map(|i| i.body.status);
            return Ok(SegmentWrite::Stopped(status));
        }
        if failed(1) {
            return Ok(SegmentWrite::Conflict);
        }
        // A conflicting transaction or throttling: worth retrying.
        Err(StoreError::Transient {
            op: OP,
            source: Box::new(e),
        })
    }
}
