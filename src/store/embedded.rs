//! The embedded adapter: SQLite through rusqlite (bundled), the local default.
//!
//! Items are the same documents as in DynamoDB (see [`super::item`]), stored as
//! JSON in one table keyed by `(pk, sk)` with the GSI key columns indexed, so
//! both adapters share [`super::keys`]. Every conditional operation reads and
//! writes inside one `BEGIN IMMEDIATE` transaction, which takes SQLite's write
//! lock up front: two writers (tasks or processes) never both pass a condition.
//!
//! Concurrency model: one connection per [`EmbeddedStore`], behind a mutex, and
//! every call runs on tokio's blocking pool (`spawn_blocking`). SQLite admits one
//! writer at a time anyway, so more connections in one process would only add
//! lock contention; the mutex makes the in-process order explicit and keeps
//! blocking I/O off the async workers. Several processes share one data folder
//! through WAL mode (readers do not block the writer) and a busy timeout (a
//! writer waits for another process's transaction instead of failing); if the
//! timeout still expires the error is [`StoreError::Transient`].

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

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

mod feedback;
mod messages;
mod sending;

/// How long a writer waits for another process's transaction before giving up (transient).
const BUSY_TIMEOUT: StdDuration = StdDuration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    gsi2pk TEXT,
    gsi2sk TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk) WHERE gsi2pk IS NOT NULL;
";

/// The SQLite store.
#[derive(Clone)]
pub struct EmbeddedStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").finish_non_exhaustive()
    }
}

fn sql(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| {
        let busy = matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        );
        if busy {
            StoreError::Transient {
                op,
                source: Box::new(e),
            }
        } else {
            StoreError::Permanent {
                op,
                source: Box::new(e),
            }
        }
    }
}

impl EmbeddedStore {
    /// Opens (creating if needed) `dir/engage.db`, in WAL mode with a busy timeout, so
    /// several processes can share the folder.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Permanent {
            op: "open",
            source: Box::new(e),
        })?;
        let conn = Connection::open(dir.join("engage.db")).map_err(sql("open"))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql("open"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql("open"))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql("open"))?;
        Self::init(conn)
    }

    /// A private in-memory database (tests, benchmarks).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(sql("open"))?;
        Self::init(conn)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.execute_batch(SCHEMA).map_err(sql("create schema"))?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection, on the blocking pool.
    async fn run<R, F>(&self, op: &'static str, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StoreError::Permanent {
                op,
                source: "sqlite connection mutex poisoned".into(),
            })?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Permanent {
            op,
            source: Box::new(e),
        })?
    }

    /// Runs `f` inside a `BEGIN IMMEDIATE` transaction, committed when `f` succeeds.
    async fn tx<R, F>(&self, op: &'static str, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        self.run(op, move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql(op))?;
            let out = f(&tx)?;
            tx.commit().map_err(sql(op))?;
            Ok(out)
        })
        .await
    }

    async fn get_doc<T>(
        &self,
        op: &'static str,
        pk: String,
        sk: String,
    ) -> Result<Option<T>, StoreError>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.run(op, move |conn| {
            Ok(read::<T>(conn, op, &pk, &sk)?.map(|item| item.body))
        })
        .await
    }

    async fn query_gsi1<T>(
        &self,
        op: &'static str,
        pk: String,
        from: String,
        to: String,
    ) -> Result<Vec<T>, StoreError>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.run(op, move |conn| {
            query_index(conn, op, "gsi1pk", "gsi1sk", &pk, &from, &to)
        })
        .await
    }
}

/// Reads the raw JSON document of an item.
fn read_raw(
    conn: &Connection,
    op: &'static str,
    pk: &str,
    sk: &str,
) -> Result<Option<Value>, StoreError> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT doc FROM items WHERE pk = ?1 AND sk = ?2",
            params![pk, sk],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql(op))?;
    doc.map(|d| serde_json::from_str(&d).map_err(|e| StoreError::malformed(pk, sk, e)))
        .transpose()
}

/// Reads and decodes an item.
fn read<T: DeserializeOwned>(
    conn: &Connection,
    op: &'static str,
    pk: &str,
    sk: &str,
) -> Result<Option<Item<T>>, StoreError> {
    read_raw(conn, op, pk, sk)?
        .map(|v| serde_json::from_value(v).map_err(|e| StoreError::malformed(pk, sk, e)))
        .transpose()
}

fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// Writes (inserts or replaces) an item given as its JSON document.
fn write_raw(conn: &Connection, op: &'static str, doc: &Value) -> Result<(), StoreError> {
    let (Some(pk), Some(sk)) = (text(doc, "pk"), text(doc, "sk")) else {
        return Err(StoreError::encode("item", "item has no pk or sk"));
    };
    conn.execute(
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, doc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            pk,
            sk,
            text(doc, "gsi1pk"),
            text(doc, "gsi1sk"),
            text(doc, "gsi2pk"),
            text(doc, "gsi2sk"),
            doc.to_string()
        ],
    )
    .map_err(sql(op))?;
    Ok(())
}

fn to_doc<T: Serialize>(item: &Item<T>) -> Result<Value, StoreError> {
    serde_json::to_value(item).map_err(|e| StoreError::encode("item", e))
}

fn write<T: Serialize>(
    conn: &Connection,
    op: &'static str,
    item: &Item<T>,
) -> Result<(), StoreError> {
    write_raw(conn, op, &to_doc(item)?)
}

/// Items of one index partition with `from <= sort key <= to`, in sort-key order.
fn query_index<T: DeserializeOwned>(
    conn: &Connection,
    op: &'static str,
    pk_col: &str,
    sk_col: &str,
    pk: &str,
    from: &str,
    to: &str,
) -> Result<Vec<T>, StoreError> {
    let sql_text = format!(
        "SELECT pk, sk, doc FROM items WHERE {pk_col} = ?1 AND {sk_col} >= ?2 AND {sk_col} <= ?3 ORDER BY {sk_col}"
    );
    let mut stmt = conn.prepare_cached(&sql_text).map_err(sql(op))?;
    let rows = stmt
        .query_map(params![pk, from, to], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })
        .map_err(sql(op))?;
    let mut out = Vec::new();
    for row in rows {
        let (pk, sk, doc) = row.map_err(sql(op))?;
        let item: Item<T> =
            serde_json::from_str(&doc).map_err(|e| StoreError::malformed(&pk, &sk, e))?;
        out.push(item.body);
    }
    Ok(out)
}

/// The whole range of sort keys (every key the scheme writes is below U+10FFFF).
fn all_keys() -> (String, String) {
    (String::new(), "\u{10FFFF}".to_owned())
}

fn prefix_range(prefix: String) -> (String, String) {
    let to = format!("{prefix}\u{10FFFF}");
    (prefix, to)
}

/// Newest-wins write of an entity document, keeping `preserved` attributes of an existing item.
fn upsert_doc(
    conn: &Connection,
    op: &'static str,
    mut doc: Value,
    preserved: &[&str],
) -> Result<UpsertOutcome, StoreError> {
    let (Some(pk), Some(sk)) = (text(&doc, "pk"), text(&doc, "sk")) else {
        return Err(StoreError::encode("item", "item has no pk or sk"));
    };
    let new_version = doc.get("updatedAtMicros").and_then(Value::as_i64);
    if let Some(existing) = read_raw(conn, op, &pk, &sk)? {
        let old_version = existing.get("updatedAtMicros").and_then(Value::as_i64);
        if old_version >= new_version {
            return Ok(UpsertOutcome::Stale);
        }
        if let Value::Object(map) = &mut doc {
            for attr in preserved {
                if let Some(v) = existing.get(*attr) {
                    map.insert((*attr).to_owned(), v.clone());
                }
            }
        }
    }
    write_raw(conn, op, &doc)?;
    Ok(UpsertOutcome::Written)
}

fn entity_doc(entity: &Entity) -> Result<Value, StoreError> {
    to_doc(&Item::new(entity.keys(), entity).versioned(entity.updated_at()))
}

#[async_trait]
impl CampaignStore for EmbeddedStore {
    async fn create_campaign(&self, campaign: &Campaign) -> Result<CreateOutcome, StoreError> {
        let keys = keys::campaign(&campaign.id, &campaign.brand_id, campaign.status);
        let doc = to_doc(&Item::new(keys, campaign))?;
        self.tx("create_campaign", move |conn| {
            let (pk, sk) = (
                text(&doc, "pk").unwrap_or_default(),
                text(&doc, "sk").unwrap_or_default(),
            );
            if read_raw(conn, "create_campaign", &pk, &sk)?.is_some() {
                return Ok(CreateOutcome::AlreadyExists);
            }
            write_raw(conn, "create_campaign", &doc)?;
            Ok(CreateOutcome::Created)
        })
        .await
    }

    async fn get_campaign(&self, id: &CampaignId) -> Result<Option<Campaign>, StoreError> {
        let (pk, sk) = keys::campaign_primary(id);
        self.get_doc("get_campaign", pk, sk).await
    }

    async fn list_campaigns(
        &self,
        brand: &BrandId,
        status: Option<CampaignStatus>,
    ) -> Result<Vec<Campaign>, StoreError> {
        let (from, to) = match status {
            Some(s) => prefix_range(keys::campaign_status_prefix(s)),
            None => all_keys(),
        };
        let mut items: Vec<Campaign> = self
            .query_gsi1("list_campaigns", keys::campaigns_of_brand(brand), from, to)
            .await?;
        items.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(items)
    }

    async fn list_live_campaigns(
        &self,
        status: CampaignStatus,
    ) -> Result<Vec<Campaign>, StoreError> {
        let pk = keys::live_campaigns(status);
        let (from, to) = all_keys();
        self.run("list_live_campaigns", move |conn| {
            query_index(
                conn,
                "list_live_campaigns",
                "gsi2pk",
                "gsi2sk",
                &pk,
                &from,
                &to,
            )
        })
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
        let expected = expected_from.to_vec();
        let reason = reason.map(str::to_owned);
        self.tx("transition", move |conn| {
            let Some(raw) = read_raw(conn, "transition", &pk, &sk)? else {
                return Ok(TransitionOutcome::NotFound);
            };
            let item: Item<Campaign> = serde_json::from_value(raw.clone())
                .map_err(|e| StoreError::malformed(&pk, &sk, e))?;
            let mut campaign = item.body;
            if !expected.contains(&campaign.status) {
                return Ok(TransitionOutcome::Conflict {
                    current: campaign.status,
                });
            }
            campaign.status = to;
            campaign.status_reason = reason;
            campaign.updated_at = Some(at);
            let keys = keys::campaign(&campaign.id, &campaign.brand_id, to);
            let doc = to_doc(&Item::new(keys, &campaign))?;
            write_raw(conn, "transition", &doc)?;
            Ok(TransitionOutcome::Moved(campaign))
        })
        .await
    }
}

#[async_trait]
impl CapStore for EmbeddedStore {
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
        let now = keys::micros(at);
        self.tx("take_cap", move |conn| {
            if let Some(old) = read::<CapRecord>(conn, "take_cap", &item.pk, &item.sk)?
                && old.body.next_allowed_at > now
            {
                return Ok(if old.body.campaign_id == item.body.campaign_id {
                    CapOutcome::AlreadyHeld
                } else {
                    CapOutcome::Capped {
                        until: from_micros(old.body.next_allowed_at),
                    }
                });
            }
            write(conn, "take_cap", &item)?;
            Ok(CapOutcome::Taken)
        })
        .await
    }
}

#[async_trait]
impl LedgerStore for EmbeddedStore {
    async fn record_send(&self, record: &SendRecord) -> Result<LedgerOutcome, StoreError> {
        let item = Item::new(
            keys::send(&record.campaign_id, &record.customer_id),
            record.clone(),
        );
        self.tx("record_send", move |conn| {
            if let Some(old) = read::<SendRecord>(conn, "record_send", &item.pk, &item.sk)? {
                return Ok(LedgerOutcome::AlreadyRecorded(old.body));
            }
            write(conn, "record_send", &item)?;
            Ok(LedgerOutcome::Inserted)
        })
        .await
    }

    async fn get_send(
        &self,
        campaign: &CampaignId,
        customer: &CustomerId,
    ) -> Result<Option<SendRecord>, StoreError> {
        let k = keys::send(campaign, customer);
        self.get_doc("get_send", k.pk, k.sk).await
    }
}

#[async_trait]
impl ContactStore for EmbeddedStore {
    async fn put_contact(&self, contact: &Contact) -> Result<ContactOutcome, StoreError> {
        let item = Item::new(
            keys::contact_item(&contact.review_id, contact.sent_at),
            contact.clone(),
        );
        self.tx("put_contact", move |conn| {
            if let Some(old) = read::<Contact>(conn, "put_contact", &item.pk, &item.sk)? {
                return Ok(ContactOutcome::AlreadyContacted(old.body));
            }
            write(conn, "put_contact", &item)?;
            Ok(ContactOutcome::Inserted)
        })
        .await
    }

    async fn get_contact(&self, review: &ReviewId) -> Result<Option<Contact>, StoreError> {
        let k = keys::contact(review);
        self.get_doc("get_contact", k.pk, k.sk).await
    }

    async fn list_contacts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Contact>, StoreError> {
        let (a, b) = keys::at_range(from, to);
        self.query_gsi1("list_contacts", keys::CONTACTS.to_owned(), a, b)
            .await
    }
}

#[async_trait]
impl IdempotencyStore for EmbeddedStore {
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
        let now = at.timestamp();
        self.tx("idempotency_begin", move |conn| {
            if let Some(old) = read::<IdemRecord>(conn, "idempotency_begin", &item.pk, &item.sk)?
                && old.expires_at.is_none_or(|exp| exp > now)
                && !(old.body.state == IdemState::InProgress
                    && old.body.lease_until.is_some_and(|until| until <= now))
            {
                return outcome_of(&old);
            }
            write(conn, "idempotency_begin", &item)?;
            Ok(Found::New)
        })
        .await
        .and_then(|o| o.resolve(request_hash))
    }

    async fn complete(&self, scope: &str, key: &str, response: &Value) -> Result<(), StoreError> {
        let k = keys::idempotency(scope, key);
        let response = response.to_string();
        let what = format!("idempotency record {scope}/{key}");
        self.tx("idempotency_complete", move |conn| {
            let Some(mut item) = read::<IdemRecord>(conn, "idempotency_complete", &k.pk, &k.sk)?
            else {
                return Err(StoreError::Missing { what });
            };
            item.body.state = IdemState::Complete;
            item.body.response = Some(response);
            item.body.lease_until = None;
            write(conn, "idempotency_complete", &item)
        })
        .await
    }

    async fn release(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        let k = keys::idempotency(scope, key);
        self.tx("idempotency_release", move |conn| {
            if let Some(item) = read::<IdemRecord>(conn, "idempotency_release", &k.pk, &k.sk)?
                && item.body.state == IdemState::InProgress
            {
                conn.execute(
                    "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
                    params![k.pk, k.sk],
                )
                .map_err(sql("idempotency_release"))?;
            }
            Ok(())
        })
        .await
    }
}

impl EmbeddedStore {
    /// Read, fold, write back in one transaction (the transaction is the concurrency check).
    async fn merge_item<T, F>(
        &self,
        op: &'static str,
        pk: String,
        sk: String,
        fold: F,
    ) -> Result<UpsertOutcome, StoreError>
    where
        T: Merged,
        F: FnOnce(Option<T>) -> Option<T> + Send + 'static,
    {
        self.tx(op, move |conn| {
            let old = read::<T>(conn, op, &pk, &sk)?;
            let revision = old.as_ref().and_then(|i| i.revision).unwrap_or(0);
            let Some(body) = fold(old.map(|i| i.body)) else {
                return Ok(UpsertOutcome::Stale);
            };
            let mut item = Item::new(body.keys(), body);
            item.updated_at_micros = Some(keys::micros(item.body.version()));
            item.revision = Some(revision + 1);
            write(conn, op, &item)?;
            Ok(UpsertOutcome::Written)
        })
        .await
    }
}

#[async_trait]
impl EntityStore for EmbeddedStore {
    async fn merge(&self, change: &EntityChange) -> Result<UpsertOutcome, StoreError> {
        let (pk, sk) = change.primary();
        match change.clone() {
            EntityChange::Follow(c) => {
                let suppressed = self
                    .get_suppression(&c.brand_id, &c.customer_id)
                    .await?
                    .is_some();
                self.merge_item("merge", pk, sk, move |old| {
                    merge::follow(&c, old, suppressed)
                })
                .await
            }
            EntityChange::Order(c) => {
                self.merge_item("merge", pk, sk, move |old| merge::order(&c, old))
                    .await
            }
            EntityChange::Promotion(c) => {
                self.merge_item("merge", pk, sk, move |old| merge::promotion(&c, old))
                    .await
            }
        }
    }

    async fn upsert(&self, entity: &Entity) -> Result<UpsertOutcome, StoreError> {
        let doc = entity_doc(entity)?;
        let preserved = entity.preserved();
        self.tx("upsert", move |conn| {
            upsert_doc(conn, "upsert", doc, preserved)
        })
        .await
    }

    async fn suppress(&self, suppression: &Suppression) -> Result<UpsertOutcome, StoreError> {
        let change = suppression.clone();
        let record = keys::suppression(&suppression.brand_id, &suppression.customer_id);
        let follower = keys::follower(&suppression.brand_id, &suppression.customer_id);
        // One transaction: the fold of the stored record and the follower flag.
        self.tx("suppress", move |conn| {
            let old = read::<Suppression>(conn, "suppress", &record.pk, &record.sk)?;
            let revision = old.as_ref().and_then(|i| i.revision).unwrap_or(0);
            let outcome = match merge::suppression(&change, old.map(|i| i.body)) {
                Some(body) => {
                    let mut item = Item::new(merge::Merged::keys(&body), body);
                    item.updated_at_micros = Some(keys::micros(item.body.updated_at));
                    item.revision = Some(revision + 1);
                    write(conn, "suppress", &item)?;
                    UpsertOutcome::Written
                }
                None => UpsertOutcome::Stale,
            };
            if let Some(mut f) = read_raw(conn, "suppress", &follower.pk, &follower.sk)?
                && f.get("suppressed") != Some(&Value::Bool(true))
            {
                if let Value::Object(map) = &mut f {
                    map.insert("suppressed".to_owned(), Value::Bool(true));
                }
                write_raw(conn, "suppress", &f)?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn get_brand(&self, brand: &BrandId) -> Result<Option<Brand>, StoreError> {
        let k = keys::brand(brand);
        self.get_doc("get_brand", k.pk, k.sk).await
    }

    async fn get_follower(
        &self,
        brand: &BrandId,
        customer: &CustomerId,
    ) -> Result<Option<Follower>, StoreError> {
        let k = keys::follower(brand, customer);
        self.get_doc("get_follower", k.pk, k.sk).await
    }

    async fn get_suppression(
        &self,
        brand: &BrandId,
        customer: &CustomerId,
    ) -> Result<Option<Suppression>, StoreError> {
        let k = keys::suppression(brand, customer);
        self.get_doc("get_suppression", k.pk, k.sk).await
    }

    async fn get_promotion(&self, id: &PromotionId) -> Result<Option<Promotion>, StoreError> {
        let (pk, sk) = keys::promotion_primary(id);
        let record: Option<PromotionRecord> = self.get_doc("get_promotion", pk, sk).await?;
        Ok(record.and_then(|r| r.promotion()))
    }

    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let (pk, sk) = keys::order_primary(id);
        let record: Option<OrderRecord> = self.get_doc("get_order", pk, sk).await?;
        Ok(record.and_then(|r| r.order()))
    }

    async fn get_review(&self, id: &ReviewId) -> Result<Option<Review>, StoreError> {
        let (pk, sk) = keys::review_primary(id);
        self.get_doc("get_review", pk, sk).await
    }

    async fn list_followers(
        &self,
        brand: &BrandId,
        page_token: Option<&str>,
        limit: usize,
    ) -> Result<Page<Follower>, StoreError> {
        let mut cursor = FollowerCursor::parse(page_token)?;
        let brand = brand.clone();
        let limit = limit.max(1);
        self.run("list_followers", move |conn| {
            let mut items = Vec::new();
            let mut stmt = conn
                .prepare_cached(
                    "SELECT sk, doc FROM items WHERE pk = ?1 AND sk > ?2 ORDER BY sk LIMIT ?3",
                )
                .map_err(sql("list_followers"))?;
            while cursor.shard < keys::FOLLOWER_SHARDS && items.len() < limit {
                let pk = keys::follower_partition(&brand, cursor.shard);
                let want = limit - items.len();
                let after = cursor.after.clone().unwrap_or_default();
                let rows = stmt
                    .query_map(params![pk, after, want as i64], |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                    })
                    .map_err(sql("list_followers"))?;
                let mut got = 0;
                for row in rows {
                    let (sk, doc) = row.map_err(sql("list_followers"))?;
                    let item: Item<Follower> = serde_json::from_str(&doc)
                        .map_err(|e| StoreError::malformed(&pk, &sk, e))?;
                    items.push(item.body);
                    cursor.after = Some(sk);
                    got += 1;
                }
                if got < want {
                    cursor.shard += 1;
                    cursor.after = None;
                }
            }
            Ok(Page {
                items,
                next: cursor.token(),
            })
        })
        .await
    }

    async fn list_promotions(
        &self,
        brand: &BrandId,
        asin: Option<&str>,
    ) -> Result<Vec<Promotion>, StoreError> {
        let (from, to) = match asin {
            Some(a) => prefix_range(format!("ASIN#{a}#")),
            None => all_keys(),
        };
        self.query_gsi1(
            "list_promotions",
            keys::promotions_of_brand(brand),
            from,
            to,
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
        self.query_gsi1("list_orders", keys::orders_of_brand(brand), a, b)
            .await
    }

    async fn list_reviews(
        &self,
        brand: &BrandId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Review>, StoreError> {
        let (a, b) = keys::at_range(from, to);
        self.query_gsi1("list_reviews", keys::reviews_of_brand(brand), a, b)
            .await
    }
}
