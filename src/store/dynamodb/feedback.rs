//! Mail feedback on DynamoDB: one `TransactWriteItems` puts the event's marker
//! (condition `attribute_not_exists(pk)`) and `ADD`s one to the brand's counter, so
//! the count moves exactly when the marker is new; then one consistent read returns
//! the counters.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::{DynamoStore, Expr, av, item_key, plain, sdk_error, to_attrs, transact_put};
use crate::store::feedback::{FeedbackOutcome, FeedbackStore, MailEventRecord};
use crate::store::item::Item;
use crate::store::{StoreError, keys};

fn build_error(source: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::encode("transaction item", source)
}

/// Cancellation reasons that a retry may get past.
const BUSY: &[&str] = &[
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
];

impl DynamoStore {
    pub(super) async fn count_mail_event(
        &self,
        marker: Item<MailEventRecord>,
    ) -> Result<FeedbackOutcome, StoreError> {
        let op = "count_feedback";
        let (brand, kind, at) = (
            marker.body.brand_id.clone(),
            marker.body.kind,
            marker.body.counted_at,
        );
        let put = transact_put(
            &self.table,
            to_attrs(&marker)?,
            plain("attribute_not_exists(pk)"),
        )?;
        let k = keys::feedback(&brand);
        let expr = Expr::default()
            .name("#n", kind.attribute())
            .name("#brand", "brandId")
            .name("#at", "updatedAt")
            .value(":one", AttributeValue::N("1".to_owned()))
            .value(":brand", av(&brand)?)
            .value(":at", av(&at)?);
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(item_key(&k.pk, &k.sk)))
            .update_expression("ADD #n :one SET #brand = :brand, #at = :at")
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .build()
            .map_err(build_error)?;
        let res = self
            .client
            .transact_write_items()
            .transact_items(put)
            .transact_items(TransactWriteItem::builder().update(update).build())
            .send()
            .await;
        let counted = match res {
            Ok(_) => true,
            Err(e) => {
                let (repeat, busy) = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                        let reasons = c.cancellation_reasons();
                        let repeat = reasons.first().and_then(|r| r.code())
                            == Some("ConditionalCheckFailed")
                            && reasons
                                .iter()
                                .skip(1)
                                .all(|r| matches!(r.code(), None | Some("None")));
                        let busy = reasons
                            .iter()
                            .any(|r| r.code().is_some_and(|c| BUSY.contains(&c)));
                        (repeat, busy)
                    }
                    _ => (false, false),
                };
                if busy {
                    return Err(StoreError::Transient {
                        op,
                        source: Box::new(e),
                    });
                }
                if !repeat {
                    return Err(sdk_error(op, e));
                }
                false
            }
        };
        let counts = self.feedback_counts(&brand).await?;
        Ok(if counted {
            FeedbackOutcome::Counted(counts)
        } else {
            FeedbackOutcome::Repeat(counts)
        })
    }
}
