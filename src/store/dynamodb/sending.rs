//! [`SendStore`] on DynamoDB: segments are small items of the campaign's
//! partition written by one conditional `PutItem` on their `seq`; a follower
//! range is one `Query ... BETWEEN` on a follower partition; a wave of cap takes
//! is that many conditional puts issued concurrently.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, Select, TransactWriteItem};
use chrono::{DateTime, Duration, Utc};

use super::{Attrs, DynamoStore, Expr, av, from_attrs, item_key, sdk_error, text_of, to_attrs};
use crate::domain::campaign::CampaignStatus;
use crate::domain::follower::Follower;
use crate::domain::segment::{FollowerRange, Segment, SendPlan};
use crate::domain::{BrandId, CampaignId, CustomerId};
use crate::store::item::Item;
use crate::store::keys;
use crate::store::sending::{CapTake, SegmentWrite, SendStore, range_bounds};
use crate::store::{CapOutcome, CapStore, Page, StoreError};

impl DynamoStore {
    /// The key condition of a follower range, starting after `after`.
    fn range_query(
        &self,
        brand: &BrandId,
        range: FollowerRange,
        after: Option<&CustomerId>,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let pk = keys::follower_partition(brand, range.shard);
        let (lo, hi) = range_bounds(range);
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
            .expression_attribute_values(":lo", AttributeValue::S(lo))
            .expression_attribute_values(":hi", AttributeValue::S(hi))
            .set_exclusive_start_key(after.map(|c| item_key(&pk, &keys::follower_sk(c))))
    }
}

#[async_trait]
impl SendStore for DynamoStore {
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

    async fn list_follower_range(
        &self,
        brand: &BrandId,
        range: FollowerRange,
        after: Option<&CustomerId>,
        limit: usize,
    ) -> Result<Page<Follower>, StoreError> {
        let out = self
            .range_query(brand, range, after)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            // Eventually consistent: a follower written a moment ago may be
            // missed by this walk exactly as if it had followed a moment later.
            .send()
            .await
            .map_err(|e| sdk_error("list_follower_range", e))?;
        let mut items = Vec::new();
        for attrs in out.items.unwrap_or_default() {
            items.push(from_attrs::<Follower>(attrs)?.body);
        }
        let more = out.last_evaluated_key.is_some_and(|k| !k.is_empty());
        Ok(Page {
            next: more
                .then(|| items.last().map(|f| f.customer_id.to_string()))
                .flatten(),
            items,
        })
    }

    async fn count_follower_range(
        &self,
        brand: &BrandId,
        range: FollowerRange,
        up_to: u64,
    ) -> Result<u64, StoreError> {
        let mut count: u64 = 0;
        let mut start: Option<Attrs> = None;
        loop {
            let out = self
                .range_query(brand, range, None)
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("count_follower_range", e))?;
            count += u64::try_from(out.count).unwrap_or(0);
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() && count < up_to => start = Some(k),
                _ => return Ok(count),
            }
        }
    }

    async fn create_plan(&self, plan: &SendPlan) -> Result<SendPlan, StoreError> {
        let keys = keys::send_plan(&plan.campaign_id);
        let (pk, sk) = (keys.pk.clone(), keys.sk.clone());
        let item = to_attrs(&Item::new(keys, plan))?;
        match self
            .put_if(
                "create_plan",
                item,
                "attribute_not_exists(pk)",
                Expr::default(),
            )
            .await?
        {
            Ok(()) => Ok(plan.clone()),
            Err(old) => Ok(self
                .old_or_read::<SendPlan>("create_plan", old, &pk, &sk)
                .await?
                .map_or_else(|| plan.clone(), |i| i.body)),
        }
    }

    async fn get_plan(&self, campaign: &CampaignId) -> Result<Option<SendPlan>, StoreError> {
        let k = keys::send_plan(campaign);
        Ok(self
            .get::<SendPlan>("get_plan", &k.pk, &k.sk)
            .await?
            .map(|i| i.body))
    }

    async fn put_segment(
        &self,
        segment: &Segment,
        expected: Option<u64>,
    ) -> Result<bool, StoreError> {
        let item = to_attrs(&Item::new(
            keys::segment(&segment.campaign_id, segment.index),
            segment,
        ))?;
        let (condition, expr) = match expected {
            None => ("attribute_not_exists(pk)", Expr::default()),
            Some(seq) => (
                "#seq = :seq",
                Expr::default()
                    .name("#seq", "seq")
                    .value(":seq", AttributeValue::N(seq.to_string())),
            ),
        };
        Ok(self
            .put_if("put_segment", item, condition, expr)
            .await?
            .is_ok())
    }

    async fn checkpoint_while_sending(
        &self,
        segment: &Segment,
        expected: u64,
    ) -> Result<SegmentWrite, StoreError> {
        const OP: &str = "checkpoint_while_sending";
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::encode("transaction", e);
        let (cpk, csk) = keys::campaign_primary(&segment.campaign_id);
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(item_key(&cpk, &csk)))
            .condition_expression("#status = :sending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sending", av(&CampaignStatus::Sending)?)
            .build()
            .map_err(build)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&Item::new(
                keys::segment(&segment.campaign_id, segment.index),
                segment,
            ))?))
            .condition_expression("#seq = :seq")
            .expression_attribute_names("#seq", "seq")
            .expression_attribute_values(":seq", AttributeValue::N(expected.to_string()))
            .build()
            .map_err(build)?;
        let res = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        let Err(e) = res else {
            return Ok(SegmentWrite::Written);
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error()
        else {
            return Err(sdk_error(OP, e));
        };
        let failed = |i: usize| {
            c.cancellation_reasons().get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed")
        };
        if failed(0) {
            let status = self
                .get::<crate::domain::campaign::Campaign>(OP, &cpk, &csk)
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

    async fn get_segment(
        &self,
        campaign: &CampaignId,
        index: u32,
    ) -> Result<Option<Segment>, StoreError> {
        let k = keys::segment(campaign, index);
        Ok(self
            .get::<Segment>("get_segment", &k.pk, &k.sk)
            .await?
            .map(|i| i.body))
    }

    async fn list_segments(&self, campaign: &CampaignId) -> Result<Vec<Segment>, StoreError> {
        let k = keys::segment(campaign, 0);
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                .expression_attribute_values(":pk", AttributeValue::S(k.pk.clone()))
                .expression_attribute_values(
                    ":p",
                    AttributeValue::S(keys::SEGMENT_PREFIX.to_owned()),
                )
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("list_segments", e))?;
            for attrs in page.items.unwrap_or_default() {
                if text_of(&attrs, "sk").starts_with(keys::SEGMENT_PREFIX) {
                    out.push(from_attrs::<Segment>(attrs)?.body);
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }
}
