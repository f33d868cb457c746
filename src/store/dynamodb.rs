//! The DynamoDB adapter: one table (`pk`/`sk`, GSIs `gsi1` and `gsi2`, TTL on
//! `expiresAt`), items mapped with `serde_dynamo`.
//!
//! Every rule-enforcing write is a single conditional request; a failed
//! condition becomes the typed outcome, using the old item DynamoDB returns
//! (`ReturnValuesOnConditionCheckFailure=ALL_OLD`, which moto supports too) or,
//! if absent, one re-read. Throttling, 5xx, timeouts and dispatch failures are
//! [`StoreError::Transient`] (after the SDK's own retries), keeping the SDK
//! error as the source.
//!
//! GSI reads (listings) are eventually consistent; point reads are strongly
//! consistent.
//!
//! This file is the plumbing (client, table, item encoding, the generic
//! requests); each port module's conditions and requests of its own are in the
//! file of the same name.

mod campaigns;
mod entities;
mod feedback;
mod idempotency;
mod messages;
mod records;
mod sending;
pub mod table;

use std::collections::HashMap;
use std::fmt::Debug;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, Select, TransactWriteItem,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use table::{TABLE_JSON, TableDefinition, table_definition};

use super::StoreError;
use super::backend::{
    After, Answer, Backend, Chunk, Doc, Index, Key, Op, Partition, Patch, Patched, Put, SortKeys,
    Span, When,
};
use super::entities::Entity;
use super::feedback::{FeedbackOutcome, MailEventRecord};
use super::item::Item;
use super::sending::SegmentWrite;
use crate::domain::segment::Segment;

type Attrs = HashMap<String, AttributeValue>;

/// Error codes worth retrying.
const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
];

/// Maps an SDK error to a [`StoreError`], transient when a retry may help.
pub(crate) fn sdk_error<E, R>(op: &'static str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => e.err().code().is_some_and(|c| RETRYABLE_CODES.contains(&c)),
        _ => false,
    };
    let source = Box::new(err);
    if retryable {
        StoreError::Transient { op, source }
    } else {
        StoreError::Permanent { op, source }
    }
}

/// A conditional request's answer: `Ok` when applied, `Err` with the old item
/// DynamoDB reported when `failed` recognises the error as a failed condition.
fn applied<O, E, R>(
    op: Op,
    res: Result<O, SdkError<E, R>>,
    failed: impl FnOnce(&E) -> Option<Option<Attrs>>,
) -> Answer<Result<O, Option<Attrs>>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match res {
        Ok(out) => Ok(Ok(out)),
        Err(e) => match e.as_service_error().and_then(failed) {
            Some(old) => Ok(Err(old)),
            None => Err(sdk_error(op, e)),
        },
    }
}

/// A conditional put as one item of a `TransactWriteItems`.
fn transact_put(
    table: &str,
    attrs: Attrs,
    (condition, expr): Condition,
) -> Answer<TransactWriteItem> {
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(attrs))
        .condition_expression(condition)
        .set_expression_attribute_names(expr.names())
        .set_expression_attribute_values(expr.values())
        .build()
        .map_err(|e| StoreError::encode("transaction item", e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn av<T: Serialize + ?Sized>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(|e| StoreError::encode("attribute value", e))
}

fn to_attrs<T: Serialize>(item: &Item<T>) -> Result<Attrs, StoreError> {
    serde_dynamo::to_item(item).map_err(|e| StoreError::encode("item", e))
}

fn text_of(attrs: &Attrs, name: &str) -> String {
    attrs
        .get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

fn from_attrs<T: DeserializeOwned>(attrs: Attrs) -> Result<Item<T>, StoreError> {
    let (pk, sk) = (text_of(&attrs, "pk"), text_of(&attrs, "sk"));
    serde_dynamo::from_item(attrs).map_err(|e| StoreError::malformed(&pk, &sk, e))
}

fn item_key(pk: &str, sk: &str) -> Attrs {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

/// A condition (or update) expression's placeholders.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: Attrs,
}

impl Expr {
    fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.to_owned(), name.to_owned());
        self
    }

    fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    /// Both sets of placeholders (they never share one).
    fn and(mut self, other: Self) -> Self {
        self.names.extend(other.names);
        self.values.extend(other.values);
        self
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<Attrs> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// A condition expression and its placeholders.
type Condition = (String, Expr);

fn plain(text: &str) -> Condition {
    (text.to_owned(), Expr::default())
}

/// The condition expression of `when`.
fn condition(when: &When) -> Result<Condition, StoreError> {
    match when {
        When::Absent => Ok(plain("attribute_not_exists(pk)")),
        When::Exists => Ok(plain("attribute_exists(pk)")),
        When::CapFree(now) => records::cap_free(*now),
        When::KeyFree(now) => idempotency::key_free(*now),
        When::InProgress => idempotency::in_progress(),
        When::StatusIn(statuses) => campaigns::status_in(statuses),
        When::Seq(expected) => Ok(sending::seq_is(*expected)),
        When::Revision { exists, revision } => entities::revision_is(*exists, *revision),
        When::Reschedulable(triggered) => messages::reschedulable(*triggered),
        When::Claimable(now) => messages::claimable(*now),
        When::ClaimedBy(owner) => messages::claimed_by(owner),
    }
}

/// The update expression of a patch.
fn update_of(patch: &Patch) -> Result<Condition, StoreError> {
    let mut expr = Expr::default();
    let mut sets = Vec::new();
    for (i, (name, value)) in patch.set.iter().enumerate() {
        let (n, v) = (format!("#s{i}"), format!(":s{i}"));
        sets.push(format!("{n} = {v}"));
        expr = expr.name(&n, name).value(&v, av(value)?);
    }
    let mut removes = Vec::new();
    for (i, name) in patch.remove.iter().enumerate() {
        let n = format!("#r{i}");
        removes.push(n.clone());
        expr = expr.name(&n, name);
    }
    let mut update = String::new();
    if !sets.is_empty() {
        update = format!("SET {}", sets.join(", "));
    }
    if !removes.is_empty() {
        update.push_str(&format!(" REMOVE {}", removes.join(", ")));
    }
    if let Some(name) = patch.increment {
        update.push_str(" ADD #inc :one");
        expr = expr
            .name("#inc", name)
            .value(":one", AttributeValue::N("1".to_owned()));
    }
    Ok((update, expr))
}

/// The DynamoDB store.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store over an existing table.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Creates a table named `table_name` from `infra/table.json` (tests, local tooling).
    pub async fn create_table(client: &Client, table_name: &str) -> Result<(), StoreError> {
        table::create_table(client, table_name).await
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// Conditional put: `Ok(Ok(()))` when written, `Ok(Err(old item))` when the condition failed.
    async fn put_raw(
        &self,
        op: &'static str,
        item: Attrs,
        (condition, expr): Condition,
    ) -> Result<Result<(), Option<Attrs>>, StoreError> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let applied = applied(op, res, |e| match e {
            PutItemError::ConditionalCheckFailedException(c) => Some(c.item().cloned()),
            _ => None,
        })?;
        Ok(applied.map(|_| ()))
    }

    /// Conditional update: `Ok(Ok(new item))` or `Ok(Err(old item))`.
    async fn update_raw(
        &self,
        op: &'static str,
        (pk, sk): (&str, &str),
        (update, update_expr): Condition,
        (condition, expr): Condition,
    ) -> Result<Result<Attrs, Option<Attrs>>, StoreError> {
        let expr = expr.and(update_expr);
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key(pk, sk)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let applied = applied(op, res, |e| match e {
            UpdateItemError::ConditionalCheckFailedException(c) => Some(c.item().cloned()),
            _ => None,
        })?;
        Ok(applied.map(|out| out.attributes.unwrap_or_default()))
    }

    /// The old item a failed condition reported, or a fresh read when it reported none.
    async fn old_or_read<T: Doc>(
        &self,
        op: &'static str,
        old: Option<Attrs>,
        pk: &str,
        sk: &str,
    ) -> Result<Option<Item<T>>, StoreError> {
        match old {
            Some(attrs) => from_attrs(attrs).map(Some),
            None => self.get(op, pk, sk).await,
        }
    }

    /// A query of one partition of `part`'s index in its sort-key range.
    fn query_of(&self, part: &Partition) -> QueryFluentBuilder {
        let (pk_attr, sk_attr) = part.index.attributes();
        let mut expr = Expr::default()
            .name("#pk", pk_attr)
            .value(":pk", AttributeValue::S(part.pk.clone()));
        let condition = match &part.sort {
            SortKeys::All => "#pk = :pk",
            SortKeys::Prefix(p) => {
                expr = expr
                    .name("#sk", sk_attr)
                    .value(":p", AttributeValue::S(p.clone()));
                "#pk = :pk AND begins_with(#sk, :p)"
            }
            SortKeys::Between(a, b) => {
                expr = expr
                    .name("#sk", sk_attr)
                    .value(":a", AttributeValue::S(a.clone()))
                    .value(":b", AttributeValue::S(b.clone()));
                "#pk = :pk AND #sk BETWEEN :a AND :b"
            }
        };
        let index = match part.index {
            Index::Table => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
        };
        self.client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .set_consistent_read(part.consistent.then_some(true))
    }
}

/// The start key a query resumes after.
fn start_key(part: &Partition, after: &After) -> Attrs {
    let mut key = item_key(&after.pk, &after.sk);
    if part.index != Index::Table {
        let (pk_attr, sk_attr) = part.index.attributes();
        key.insert(pk_attr.to_owned(), AttributeValue::S(part.pk.clone()));
        key.insert(
            sk_attr.to_owned(),
            AttributeValue::S(after.index_sk.clone()),
        );
    }
    key
}

/// Whether a page's `LastEvaluatedKey` says more may follow.
fn more(last: Option<&Attrs>) -> bool {
    last.is_some_and(|k| !k.is_empty())
}

#[async_trait]
impl Backend for DynamoStore {
    async fn get<T: Doc>(&self, op: Op, pk: &str, sk: &str) -> Answer<Option<Item<T>>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(op, e))?;
        out.item.map(from_attrs).transpose()
    }

    async fn put_if<T: Doc>(&self, op: Op, item: Item<T>, when: When) -> Answer<Put<T>> {
        let attrs = to_attrs(&item)?;
        match self.put_raw(op, attrs, condition(&when)?).await? {
            Ok(()) => Ok(Put::Written),
            Err(old) => Ok(Put::Refused(
                self.old_or_read(op, old, &item.pk, &item.sk).await?,
            )),
        }
    }

    async fn put_all_if<T: Doc>(&self, op: Op, puts: Vec<(Item<T>, When)>) -> Vec<Answer<Put<T>>> {
        let each = puts
            .into_iter()
            .map(|(item, when)| self.put_if(op, item, when));
        futures::future::join_all(each).await
    }

    async fn patch_if<T: Doc>(&self, op: Op, patch: Patch, when: When) -> Answer<Patched<T>> {
        let (pk, sk) = (patch.key.0.as_str(), patch.key.1.as_str());
        let update = update_of(&patch)?;
        match self
            .update_raw(op, (pk, sk), update, condition(&when)?)
            .await?
        {
            Ok(new) => Ok(Ok(from_attrs(new)?)),
            Err(old) => Ok(Err(self.old_or_read(op, old, pk, sk).await?)),
        }
    }

    async fn delete_if(&self, op: Op, (pk, sk): Key, when: When) -> Answer<()> {
        let (condition, expr) = condition(&when)?;
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item_key(&pk, &sk)))
            .condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await;
        // Nothing to release is fine: the condition failing is an answer, not an error.
        applied(op, res, |e| match e {
            DeleteItemError::ConditionalCheckFailedException(_) => Some(None),
            _ => None,
        })?
        .ok();
        Ok(())
    }

    async fn upsert_item(&self, op: Op, item: Item<Entity>) -> Answer<bool> {
        self.upsert_entity(op, item).await
    }

    async fn query<T: Doc>(&self, op: Op, part: Partition) -> Answer<Vec<T>> {
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let page = self
                .query_of(&part)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(op, e))?;
            for attrs in page.items.unwrap_or_default() {
                out.push(from_attrs::<T>(attrs)?.body);
            }
            if !more(page.last_evaluated_key.as_ref()) {
                return Ok(out);
            }
            start = page.last_evaluated_key;
        }
    }

    async fn page<T: Doc>(&self, op: Op, span: Span) -> Answer<Chunk<T>> {
        let part = &span.part;
        let (_, sk_attr) = part.index.attributes();
        let page = self
            .query_of(part)
            .set_exclusive_start_key(span.after.as_ref().map(|a| start_key(part, a)))
            .limit(i32::try_from(span.limit.max(1)).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error(op, e))?;
        let mut items = Vec::new();
        for attrs in page.items.unwrap_or_default() {
            let index_sk = text_of(&attrs, sk_attr);
            let item = from_attrs::<T>(attrs)?;
            let at = After {
                index_sk,
                pk: item.pk,
                sk: item.sk,
            };
            items.push((at, item.body));
        }
        Ok(Chunk {
            items,
            more: more(page.last_evaluated_key.as_ref()),
        })
    }

    async fn count(&self, op: Op, part: Partition, up_to: u64) -> Answer<u64> {
        let mut count: u64 = 0;
        let mut start: Option<Attrs> = None;
        loop {
            let out = self
                .query_of(&part)
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(op, e))?;
            count += u64::try_from(out.count).unwrap_or(0);
            if !more(out.last_evaluated_key.as_ref()) || count >= up_to {
                return Ok(count);
            }
            start = out.last_evaluated_key;
        }
    }

    async fn checkpoint(&self, segment: Item<Segment>, expected: u64) -> Answer<SegmentWrite> {
        self.checkpoint_segment(segment, expected).await
    }

    async fn count_event(&self, marker: Item<MailEventRecord>) -> Answer<FeedbackOutcome> {
        self.count_mail_event(marker).await
    }
}
