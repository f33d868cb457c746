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

mod feedback;
mod messages;
mod sending;
pub mod table;

use std::collections::HashMap;
use std::fmt::Debug;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use table::{TABLE_JSON, TableDefinition, table_definition};

use super::campaigns::check_edges;
use super::entities::FollowerCursor;
use super::idempotency::{Found, outcome_of};
use super::item::{CapRecord, IdemRecord, IdemState, Item, from_micros};
use super::keys;
use super::merge::{self, Merged};
use super::{
    CampaignStore, CapOutcome, CapStore, ContactOutcome, ContactStore, CreateOutcome, Entity,
    EntityChange, EntityStore, IdempotencyOutcome, IdempotencyStore, LedgerOutcome, LedgerStore,
    Page, StoreError, TransitionOutcome, UpsertOutcome,
};
use crate::domain::brand::Brand;
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::contact::Contact;
use crate::domain::follower::Follower;
use crate::domain::order::{Order, OrderRecord};
use crate::domain::promotion::{Promotion, PromotionRecord};
use crate::domain::review::Review;
use crate::domain::send::SendRecord;
use crate::domain::suppression::Suppression;
use crate::domain::{BrandId, CampaignId, CustomerId, OrderId, PromotionId, ReviewId};

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

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<Attrs> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// A sort-key condition for queries.
enum Range {
    All,
    Prefix(String),
    Between(String, String),
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
    async fn put_if(
        &self,
        op: &'static str,
        item: Attrs,
        condition: &str,
        expr: Expr,
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
        match res {
            Ok(_) => Ok(Ok(())),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(c)) => {
                    Ok(Err(c.item().cloned()))
                }
                _ => Err(sdk_error(op, e)),
            },
        }
    }

    /// Conditional update: `Ok(Ok(new item))` or `Ok(Err(old item))`.
    async fn update_if(
        &self,
        op: &'static str,
        pk: &str,
        sk: &str,
        update: &str,
        condition: &str,
        expr: Expr,
    ) -> Result<Result<Attrs, Option<Attrs>>, StoreError> {
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
        match res {
            Ok(out) => Ok(Ok(out.attributes.unwrap_or_default())),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                    Ok(Err(c.item().cloned()))
                }
                _ => Err(sdk_error(op, e)),
            },
        }
    }

    /// Strongly consistent point read.
    async fn get<T: DeserializeOwned>(
        &self,
        op: &'static str,
        pk: &str,
        sk: &str,
    ) -> Result<Option<Item<T>>, StoreError> {
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

    /// The old item a failed condition reported, or a fresh read when it reported none.
    async fn old_or_read<T: DeserializeOwned>(
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

    /// Every item of an index (or table) partition in a sort-key range, all pages.
    async fn query<T: DeserializeOwned>(
        &self,
        op: &'static str,
        index: Option<&str>,
        pk_attr: &str,
        sk_attr: &str,
        pk: &str,
        range: Range,
    ) -> Result<Vec<T>, StoreError> {
        let mut expr = Expr::default()
            .name("#pk", pk_attr)
            .value(":pk", AttributeValue::S(pk.to_owned()));
        let condition = match range {
            Range::All => "#pk = :pk".to_owned(),
            Range::Prefix(p) => {
                expr = expr.name("#sk", sk_attr).value(":p", AttributeValue::S(p));
                "#pk = :pk AND begins_with(#sk, :p)".to_owned()
            }
            Range::Between(a, b) => {
                expr = expr
                    .name("#sk", sk_attr)
                    .value(":a", AttributeValue::S(a))
                    .value(":b", AttributeValue::S(b));
                "#pk = :pk AND #sk BETWEEN :a AND :b".to_owned()
            }
        };
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(&condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(op, e))?;
            for attrs in page.items.unwrap_or_default() {
                out.push(from_attrs::<T>(attrs)?.body);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Newest-wins write of an entity.
    async fn upsert_entity(
        &self,
        op: &'static str,
        entity: &Entity,
    ) -> Result<UpsertOutcome, StoreError> {
        let at = entity.updated_at();
        let attrs = to_attrs(&Item::new(entity.keys(), entity).versioned(at))?;
        let condition = "attribute_not_exists(pk) OR updatedAtMicros < :version";
        let version = av(&keys::micros(at))?;
        let preserved = entity.preserved();
        let written = if preserved.is_empty() {
            self.put_if(
                op,
                attrs,
                condition,
                Expr::default().value(":version", version),
            )
            .await?
            .is_ok()
        } else {
            // An update, so preserved attributes keep their stored value.
            let (pk, sk) = (text_of(&attrs, "pk"), text_of(&attrs, "sk"));
            let mut expr = Expr::default().value(":version", version);
            let mut sets = Vec::new();
            for (i, (name, value)) in attrs.into_iter().enumerate() {
                if name == "pk" || name == "sk" {
                    continue;
                }
                let (n, v) = (format!("#a{i}"), format!(":a{i}"));
                if preserved.contains(&name.as_str()) {
                    sets.push(format!("{n} = if_not_exists({n}, {v})"));
                } else {
                    sets.push(format!("{n} = {v}"));
                }
                expr = expr.name(&n, &name).value(&v, value);
            }
            let update = format!("SET {}", sets.join(", "));
            self.update_if(op, &pk, &sk, &update, condition, expr)
                .await?
                .is_ok()
        };
        Ok(if written {
            UpsertOutcome::Written
        } else {
            UpsertOutcome::Stale
        })
    }
}

#[async_trait]
impl CampaignStore for DynamoStore {
    async fn create_campaign(&self, campaign: &Campaign) -> Result<CreateOutcome, StoreError> {
        let keys = keys::campaign(&campaign.id, &campaign.brand_id, campaign.status);
        let attrs = to_attrs(&Item::new(keys, campaign))?;
        Ok(
            match self
                .put_if(
                    "create_campaign",
                    attrs,
                    "attribute_not_exists(pk)",
                    Expr::default(),
                )
                .await?
            {
                Ok(()) => CreateOutcome::Created,
                Err(_) => CreateOutcome::AlreadyExists,
            },
        )
    }

    async fn get_campaign(&self, id: &CampaignId) -> Result<Option<Campaign>, StoreError> {
        let (pk, sk) = keys::campaign_primary(id);
        Ok(self.get("get_campaign", &pk, &sk).await?.map(|i| i.body))
    }

    async fn list_campaigns(
        &self,
        brand: &BrandId,
        status: Option<CampaignStatus>,
    ) -> Result<Vec<Campaign>, StoreError> {
        let range = status.map_or(Range::All, |s| {
            Range::Prefix(keys::campaign_status_prefix(s))
        });
        let pk = keys::campaigns_of_brand(brand);
        let mut items: Vec<Campaign> = self
            .query(
                "list_campaigns",
                Some("gsi1"),
                "gsi1pk",
                "gsi1sk",
                &pk,
                range,
            )
            .await?;
        items.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(items)
    }

    async fn list_live_campaigns(
        &self,
        status: CampaignStatus,
    ) -> Result<Vec<Campaign>, StoreError> {
        let pk = keys::live_campaigns(status);
        self.query(
            "list_live_campaigns",
            Some("gsi2"),
            "gsi2pk",
            "gsi2sk",
            &pk,
            Range::All,
        )
        .await
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
        let (pk, sk) = keys::campaign_primary(id);
        let mut expr = Expr::default()
            .name("#status", "status")
            .name("#reason", "statusReason")
            .name("#updatedAt", "updatedAt")
            .name("#gsi1sk", "gsi1sk")
            .name("#gsi2pk", "gsi2pk")
            .name("#gsi2sk", "gsi2sk")
            .value(":to", av(&to)?)
            .value(":reason", av(&reason)?)
            .value(":at", av(&at)?)
            .value(":gsi1sk", AttributeValue::S(keys::campaign_gsi1sk(id, to)));
        let mut update =
            "SET #status = :to, #reason = :reason, #updatedAt = :at, #gsi1sk = :gsi1sk".to_owned();
        match keys::campaign_gsi2(id, to) {
            Some((g2pk, g2sk)) => {
                update.push_str(", #gsi2pk = :gsi2pk, #gsi2sk = :gsi2sk");
                expr = expr
                    .value(":gsi2pk", AttributeValue::S(g2pk))
                    .value(":gsi2sk", AttributeValue::S(g2sk));
            }
            None => update.push_str(" REMOVE #gsi2pk, #gsi2sk"),
        }
        let mut placeholders = Vec::new();
        for (i, from) in expected_from.iter().enumerate() {
            let p = format!(":from{i}");
            expr = expr.value(&p, av(from)?);
            placeholders.push(p);
        }
        let condition = format!(
            "attribute_exists(pk) AND #status IN ({})",
            placeholders.join(", ")
        );
        match self
            .update_if("transition", &pk, &sk, &update, &condition, expr)
            .await?
        {
            Ok(new) => Ok(TransitionOutcome::Moved(from_attrs::<Campaign>(new)?.body)),
            Err(old) => Ok(
                match self
                    .old_or_read::<Campaign>("transition", old, &pk, &sk)
                    .await?
                {
                    Some(item) => TransitionOutcome::Conflict {
                        current: item.body.status,
                    },
                    None => TransitionOutcome::NotFound,
                },
            ),
        }
    }
}

#[async_trait]
impl CapStore for DynamoStore {
    async fn take_cap(
        &self,
        brand: &BrandId,
        customer: &CustomerId,
        campaign: &CampaignId,
        at: DateTime<Utc>,
        cap: Duration,
    ) -> Result<CapOutcome, StoreError> {
        let next = at + cap;
        let record = CapRecord {
            brand_id: brand.clone(),
            customer_id: customer.clone(),
            campaign_id: campaign.clone(),
            taken_at: at,
            next_allowed_at: keys::micros(next),
        };
        let item =
            Item::new(keys::cap(brand, customer), record).expiring(next + keys::cap_ttl_margin());
        let (pk, sk) = (item.pk.clone(), item.sk.clone());
        let attrs = to_attrs(&item)?;
        let expr = Expr::default().value(":now", av(&keys::micros(at))?);
        match self
            .put_if(
                "take_cap",
                attrs,
                "attribute_not_exists(pk) OR nextAllowedAt <= :now",
                expr,
            )
            .await?
        {
            Ok(()) => Ok(CapOutcome::Taken),
            Err(old) => {
                let Some(old) = self
                    .old_or_read::<CapRecord>("take_cap", old, &pk, &sk)
                    .await?
                else {
                    // Deleted between the write and the read: the cap is free again.
                    return self.take_cap(brand, customer, campaign, at, cap).await;
                };
                Ok(if old.body.campaign_id == *campaign {
                    CapOutcome::AlreadyHeld
                } else {
                    CapOutcome::Capped {
                        until: from_micros(old.body.next_allowed_at),
                    }
                })
            }
        }
    }
}

#[async_trait]
impl LedgerStore for DynamoStore {
    async fn record_send(&self, record: &SendRecord) -> Result<LedgerOutcome, StoreError> {
        let item = Item::new(keys::send(&record.campaign_id, &record.customer_id), record);
        let (pk, sk) = (item.pk.clone(), item.sk.clone());
        match self
            .put_if(
                "record_send",
                to_attrs(&item)?,
                "attribute_not_exists(pk)",
                Expr::default(),
            )
            .await?
        {
            Ok(()) => Ok(LedgerOutcome::Inserted),
            Err(old) => match self
                .old_or_read::<SendRecord>("record_send", old, &pk, &sk)
                .await?
            {
                Some(old) => Ok(LedgerOutcome::AlreadyRecorded(old.body)),
                None => Err(StoreError::Missing {
                    what: format!("send record {pk}/{sk} reported as existing"),
                }),
            },
        }
    }

    async fn get_send(
        &self,
        campaign: &CampaignId,
        customer: &CustomerId,
    ) -> Result<Option<SendRecord>, StoreError> {
        let k = keys::send(campaign, customer);
        Ok(self.get("get_send", &k.pk, &k.sk).await?.map(|i| i.body))
    }
}

#[async_trait]
impl ContactStore for DynamoStore {
    async fn put_contact(&self, contact: &Contact) -> Result<ContactOutcome, StoreError> {
        let item = Item::new(
            keys::contact_item(&contact.review_id, contact.sent_at),
            contact,
        );
        let (pk, sk) = (item.pk.clone(), item.sk.clone());
        match self
            .put_if(
                "put_contact",
                to_attrs(&item)?,
                "attribute_not_exists(pk)",
                Expr::default(),
            )
            .await?
        {
            Ok(()) => Ok(ContactOutcome::Inserted),
            Err(old) => match self
                .old_or_read::<Contact>("put_contact", old, &pk, &sk)
                .await?
            {
                Some(old) => Ok(ContactOutcome::AlreadyContacted(old.body)),
                None => Err(StoreError::Missing {
                    what: format!("contact {pk}/{sk} reported as existing"),
                }),
            },
        }
    }

    async fn get_contact(&self, review: &ReviewId) -> Result<Option<Contact>, StoreError> {
        let k = keys::contact(review);
        Ok(self.get("get_contact", &k.pk, &k.sk).await?.map(|i| i.body))
    }

    async fn list_contacts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Contact>, StoreError> {
        let (a, b) = keys::at_range(from, to);
        self.query(
            "list_contacts",
            Some("gsi1"),
            "gsi1pk",
            "gsi1sk",
            keys::CONTACTS,
            Range::Between(a, b),
        )
        .await
    }
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn begin(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        at: DateTime<Utc>,
        lease: Duration,
        ttl: Duration,
    ) -> Result<IdempotencyOutcome, StoreError> {
        let record = IdemRecord {
            scope: scope.to_owned(),
            key: key.to_owned(),
            request_hash: request_hash.to_owned(),
            state: IdemState::InProgress,
            response: None,
            created_at: at,
            lease_until: Some((at + lease).timestamp()),
        };
        let item = Item::new(keys::idempotency(scope, key), record).expiring(at + ttl);
        let (pk, sk) = (item.pk.clone(), item.sk.clone());
        let expr = Expr::default()
            .name("#state", "state")
            .value(":now", av(&at.timestamp())?)
            .value(":in_progress", av(&IdemState::InProgress)?);
        let found = match self
            .put_if(
                "idempotency_begin",
                to_attrs(&item)?,
                "attribute_not_exists(pk) OR expiresAt <= :now \
                 OR (#state = :in_progress AND leaseUntil <= :now)",
                expr,
            )
            .await?
        {
            Ok(()) => Found::New,
            Err(old) => {
                match self
                    .old_or_read::<IdemRecord>("idempotency_begin", old, &pk, &sk)
                    .await?
                {
                    Some(old) => outcome_of(&old)?,
                    None => return self.begin(scope, key, request_hash, at, lease, ttl).await,
                }
            }
        };
        found.resolve(request_hash)
    }

    async fn complete(
        &self,
        scope: &str,
        key: &str,
        response: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let k = keys::idempotency(scope, key);
        let expr = Expr::default()
            .name("#state", "state")
            .name("#response", "response")
            .value(":complete", av(&IdemState::Complete)?)
            .value(":response", AttributeValue::S(response.to_string()));
        match self
            .update_if(
                "idempotency_complete",
                &k.pk,
                &k.sk,
                "SET #state = :complete, #response = :response REMOVE leaseUntil",
                "attribute_exists(pk)",
                expr,
            )
            .await?
        {
            Ok(_) => Ok(()),
            Err(_) => Err(StoreError::Missing {
                what: format!("idempotency record {scope}/{key}"),
            }),
        }
    }

    async fn release(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        let k = keys::idempotency(scope, key);
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item_key(&k.pk, &k.sk)))
            .condition_expression("#state = :in_progress")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_progress", av(&IdemState::InProgress)?)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(_)) => Ok(()),
                _ => Err(sdk_error("idempotency_release", e)),
            },
        }
    }
}

/// How many times a merge re-reads and retries after losing a concurrent write.
const MERGE_ATTEMPTS: usize = 16;

impl DynamoStore {
    /// Optimistic read-fold-write: a conditional put on the revision read, retried
    /// (with the item the failed condition returned) until it wins or nothing changes.
    async fn merge_item<T, F>(
        &self,
        op: &'static str,
        pk: &str,
        sk: &str,
        fold: F,
    ) -> Result<UpsertOutcome, StoreError>
    where
        T: Merged,
        F: Fn(Option<T>) -> Option<T>,
    {
        let mut current: Option<Item<T>> = self.get(op, pk, sk).await?;
        for _ in 0..MERGE_ATTEMPTS {
            let revision = current.as_ref().and_then(|i| i.revision);
            let exists = current.is_some();
            let Some(body) = fold(current.take().map(|i| i.body)) else {
                return Ok(UpsertOutcome::Stale);
            };
            let mut item = Item::new(body.keys(), body);
            item.updated_at_micros = Some(keys::micros(item.body.version()));
            item.revision = Some(revision.unwrap_or(0) + 1);
            let mut expr = Expr::default().name("#rev", "revision");
            let condition = match (exists, revision) {
                (false, _) => "attribute_not_exists(pk)",
                (true, None) => "attribute_exists(pk) AND attribute_not_exists(#rev)",
                (true, Some(r)) => {
                    expr = expr.value(":rev", av(&r)?);
                    "#rev = :rev"
                }
            };
            if !exists {
                expr = Expr::default();
            }
            match self.put_if(op, to_attrs(&item)?, condition, expr).await? {
                Ok(()) => return Ok(UpsertOutcome::Written),
                Err(old) => current = self.old_or_read(op, old, pk, sk).await?,
            }
        }
        Err(StoreError::Transient {
            op,
            source: format!("{MERGE_ATTEMPTS} concurrent writes won over this merge").into(),
        })
    }
}

#[async_trait]
impl EntityStore for DynamoStore {
    async fn merge(&self, change: &EntityChange) -> Result<UpsertOutcome, StoreError> {
        let (pk, sk) = change.primary();
        match change {
            EntityChange::Follow(c) => {
                let suppressed = self
                    .get_suppression(&c.brand_id, &c.customer_id)
                    .await?
                    .is_some();
                self.merge_item("merge", &pk, &sk, |old| merge::follow(c, old, suppressed))
                    .await
            }
            EntityChange::Order(c) => {
                self.merge_item("merge", &pk, &sk, |old| merge::order(c, old))
                    .await
            }
            EntityChange::Promotion(c) => {
                self.merge_item("merge", &pk, &sk, |old| merge::promotion(c, old))
                    .await
            }
        }
    }

    async fn upsert(&self, entity: &Entity) -> Result<UpsertOutcome, StoreError> {
        self.upsert_entity("upsert", entity).await
    }

    async fn suppress(&self, suppression: &Suppression) -> Result<UpsertOutcome, StoreError> {
        let k = keys::suppression(&suppression.brand_id, &suppression.customer_id);
        let outcome = self
            .merge_item("suppress", &k.pk, &k.sk, |old| {
                merge::suppression(suppression, old)
            })
            .await?;
        let k = keys::follower(&suppression.brand_id, &suppression.customer_id);
        // Flag the follower if there is one; no follower is fine (the condition fails).
        // The revision moves too, so a concurrent merge of the follower re-reads the flag.
        self.update_if(
            "suppress",
            &k.pk,
            &k.sk,
            "SET suppressed = :yes ADD #rev :one",
            "attribute_exists(pk)",
            Expr::default()
                .name("#rev", "revision")
                .value(":yes", AttributeValue::Bool(true))
                .value(":one", AttributeValue::N("1".to_owned())),
        )
        .await?
        .ok();
        Ok(outcome)
    }

    async fn get_brand(&self, brand: &BrandId) -> Result<Option<Brand>, StoreError> {
        let k = keys::brand(brand);
        Ok(self.get("get_brand", &k.pk, &k.sk).await?.map(|i| i.body))
    }

    async fn get_follower(
        &self,
        brand: &BrandId,
        customer: &CustomerId,
    ) -> Result<Option<Follower>, StoreError> {
        let k = keys::follower(brand, customer);
        Ok(self
            .get("get_follower", &k.pk, &k.sk)
            .await?
            .map(|i| i.body))
    }

    async fn get_suppression(
        &self,
        brand: &BrandId,
        customer: &CustomerId,
    ) -> Result<Option<Suppression>, StoreError> {
        let k = keys::suppression(brand, customer);
        Ok(self
            .get("get_suppression", &k.pk, &k.sk)
            .await?
            .map(|i| i.body))
    }

    async fn get_promotion(&self, id: &PromotionId) -> Result<Option<Promotion>, StoreError> {
        let (pk, sk) = keys::promotion_primary(id);
        Ok(self
            .get::<PromotionRecord>("get_promotion", &pk, &sk)
            .await?
            .and_then(|i| i.body.promotion()))
    }

    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let (pk, sk) = keys::order_primary(id);
        Ok(self
            .get::<OrderRecord>("get_order", &pk, &sk)
            .await?
            .and_then(|i| i.body.order()))
    }

    async fn get_review(&self, id: &ReviewId) -> Result<Option<Review>, StoreError> {
        let (pk, sk) = keys::review_primary(id);
        Ok(self.get("get_review", &pk, &sk).await?.map(|i| i.body))
    }

    async fn list_followers(
        &self,
        brand: &BrandId,
        page_token: Option<&str>,
        limit: usize,
    ) -> Result<Page<Follower>, StoreError> {
        let mut cursor = FollowerCursor::parse(page_token)?;
        let limit = limit.max(1);
        let mut items = Vec::new();
        while cursor.shard < keys::FOLLOWER_SHARDS && items.len() < limit {
            let pk = keys::follower_partition(brand, cursor.shard);
            let want = i32::try_from(limit - items.len()).unwrap_or(i32::MAX);
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .set_exclusive_start_key(cursor.after.as_deref().map(|sk| item_key(&pk, sk)))
                .limit(want)
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| sdk_error("list_followers", e))?;
            for attrs in page.items.unwrap_or_default() {
                let item = from_attrs::<Follower>(attrs)?;
                cursor.after = Some(item.sk);
                items.push(item.body);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => {
                    cursor.after = Some(text_of(&k, "sk"));
                }
                _ => {
                    cursor.shard += 1;
                    cursor.after = None;
                }
            }
        }
        Ok(Page {
            items,
            next: cursor.token(),
        })
    }

    async fn list_promotions(
        &self,
        brand: &BrandId,
        asin: Option<&str>,
    ) -> Result<Vec<Promotion>, StoreError> {
        let range = asin.map_or(Range::All, |a| Range::Prefix(format!("ASIN#{a}#")));
        let pk = keys::promotions_of_brand(brand);
        self.query(
            "list_promotions",
            Some("gsi1"),
            "gsi1pk",
            "gsi1sk",
            &pk,
            range,
        )
        .await
    }

    async fn list_orders(
        &self,
        brand: &BrandId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Order>, StoreError> {
        let (a, b) = keys::at_range(from, to);
        let pk = keys::orders_of_brand(brand);
        self.query(
            "list_orders",
            Some("gsi1"),
            "gsi1pk",
            "gsi1sk",
            &pk,
            Range::Between(a, b),
        )
        .await
    }

    async fn list_reviews(
        &self,
        brand: &BrandId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Review>, StoreError> {
        let (a, b) = keys::at_range(from, to);
        let pk = keys::reviews_of_brand(brand);
        self.query(
            "list_reviews",
            Some("gsi1"),
            "gsi1pk",
            "gsi1sk",
            &pk,
            Range::Between(a, b),
        )
        .await
    }
}
