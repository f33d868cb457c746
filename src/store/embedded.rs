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
//!
//! This file is the plumbing (connection, transactions, documents, the generic
//! reads and writes, and how a [`When`] is checked against the stored
//! document); each port module's checks and transactions of its own are in the
//! file of the same name.

mod campaigns;
mod entities;
mod feedback;
mod idempotency;
mod messages;
mod records;
mod sending;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::StoreError;
use super::backend::{
    After, Answer, Backend, Chunk, Doc, Key, Op, Partition, Patch, Patched, Put, Span, When,
};
use super::entities::Entity;
use super::feedback::{FeedbackOutcome, MailEventRecord};
use super::item::Item;
use super::sending::SegmentWrite;
use crate::domain::segment::Segment;

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

fn decode<T: DeserializeOwned>(pk: &str, sk: &str, doc: Value) -> Result<Item<T>, StoreError> {
    serde_json::from_value(doc).map_err(|e| StoreError::malformed(pk, sk, e))
}

/// Reads and decodes an item.
fn read<T: DeserializeOwned>(
    conn: &Connection,
    op: &'static str,
    pk: &str,
    sk: &str,
) -> Result<Option<Item<T>>, StoreError> {
    read_raw(conn, op, pk, sk)?
        .map(|v| decode(pk, sk, v))
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

/// An attribute of a stored document, as a number.
fn number(doc: &Value, name: &str) -> Option<i64> {
    doc.get(name).and_then(Value::as_i64)
}

/// Whether a stored document's attribute is `value` (as the item layout encodes it).
fn is(doc: &Value, name: &str, value: impl Serialize) -> bool {
    serde_json::to_value(value).is_ok_and(|v| doc.get(name) == Some(&v))
}

/// Whether `when` holds for the stored document (`None`: no item).
fn holds(when: &When, stored: Option<&Value>) -> bool {
    match when {
        When::Absent => stored.is_none(),
        When::Exists => stored.is_some(),
        When::CapFree(now) => records::cap_free(stored, *now),
        When::KeyFree(now) => idempotency::key_free(stored, *now),
        When::InProgress => idempotency::in_progress(stored),
        When::StatusIn(statuses) => campaigns::status_in(stored, statuses),
        When::Seq(expected) => sending::seq_is(stored, *expected),
        When::Revision { exists, revision } => entities::revision_is(stored, *exists, *revision),
        When::Reschedulable(triggered) => messages::reschedulable(stored, *triggered),
        When::Claimable(now) => messages::claimable(stored, *now),
        When::ClaimedBy(owner) => messages::claimed_by(stored, owner),
    }
}

/// A conditional put inside a transaction.
fn put_checked<T: Doc>(
    conn: &Connection,
    op: &'static str,
    item: &Item<T>,
    when: &When,
) -> Result<Put<T>, StoreError> {
    let stored = read_raw(conn, op, &item.pk, &item.sk)?;
    if holds(when, stored.as_ref()) {
        write(conn, op, item)?;
        return Ok(Put::Written);
    }
    Ok(Put::Refused(
        stored
            .map(|doc| decode(&item.pk, &item.sk, doc))
            .transpose()?,
    ))
}

/// The SQL of a range read of `part`: its index columns, and its bounds as
/// parameters `?1` (partition), `?2` and `?3` (inclusive sort-key bounds).
fn range_sql(part: &Partition) -> (String, [String; 3]) {
    let (pk_col, sk_col) = part.index.attributes();
    let (lo, hi) = part.sort.bounds();
    let filter = format!("{pk_col} = ?1 AND {sk_col} >= ?2 AND {sk_col} <= ?3");
    (filter, [part.pk.clone(), lo, hi])
}

/// One error reported for every put of a rolled-back batch.
#[derive(Debug)]
struct SharedError(Arc<StoreError>);

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the batch of writes failed: {}", self.0)
    }
}

impl std::error::Error for SharedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

/// The error of a rolled-back batch, for each of its `n` writes.
fn shared<T>(op: &'static str, e: StoreError, n: usize) -> Vec<Result<T, StoreError>> {
    if n == 1 {
        return vec![Err(e)];
    }
    let retryable = e.is_retryable();
    let shared = Arc::new(e);
    (0..n)
        .map(|_| {
            let source = Box::new(SharedError(Arc::clone(&shared)));
            Err(if retryable {
                StoreError::Transient { op, source }
            } else {
                StoreError::Permanent { op, source }
            })
        })
        .collect()
}

#[async_trait]
impl Backend for EmbeddedStore {
    async fn get<T: Doc>(&self, op: Op, pk: &str, sk: &str) -> Answer<Option<Item<T>>> {
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        self.run(op, move |conn| read(conn, op, &pk, &sk)).await
    }

    async fn put_if<T: Doc>(&self, op: Op, item: Item<T>, when: When) -> Answer<Put<T>> {
        self.tx(op, move |conn| put_checked(conn, op, &item, &when))
            .await
    }

    async fn put_all_if<T: Doc>(&self, op: Op, puts: Vec<(Item<T>, When)>) -> Vec<Answer<Put<T>>> {
        let n = puts.len();
        let all = self
            .tx(op, move |conn| {
                puts.iter()
                    .map(|(item, when)| put_checked(conn, op, item, when))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await;
        match all {
            Ok(done) => done.into_iter().map(Ok).collect(),
            // The transaction rolled back: nothing was written.
            Err(e) => shared(op, e, n),
        }
    }

    async fn patch_if<T: Doc>(&self, op: Op, patch: Patch, when: When) -> Answer<Patched<T>> {
        self.tx(op, move |conn| {
            let (pk, sk) = (patch.key.0.as_str(), patch.key.1.as_str());
            let stored = read_raw(conn, op, pk, sk)?;
            if !holds(&when, stored.as_ref()) {
                return Ok(Err(stored.map(|d| decode(pk, sk, d)).transpose()?));
            }
            let Some(mut doc) = stored else {
                return Err(StoreError::Missing {
                    what: format!("{pk}/{sk} to patch"),
                });
            };
            patch.apply(&mut doc);
            write_raw(conn, op, &doc)?;
            Ok(Ok(decode(pk, sk, doc)?))
        })
        .await
    }

    async fn delete_if(&self, op: Op, (pk, sk): Key, when: When) -> Answer<()> {
        self.tx(op, move |conn| {
            if holds(&when, read_raw(conn, op, &pk, &sk)?.as_ref()) {
                conn.execute(
                    "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
                    params![pk, sk],
                )
                .map_err(sql(op))?;
            }
            Ok(())
        })
        .await
    }

    async fn upsert_item(&self, op: Op, item: Item<Entity>) -> Answer<bool> {
        let preserved = item.body.preserved();
        let doc = to_doc(&item)?;
        self.tx(op, move |conn| {
            entities::upsert_doc(conn, op, doc, preserved)
        })
        .await
    }

    async fn query<T: Doc>(&self, op: &'static str, part: Partition) -> Result<Vec<T>, StoreError> {
        let (filter, [pk, lo, hi]) = range_sql(&part);
        let (_, sk_col) = part.index.attributes();
        let text = format!("SELECT pk, sk, doc FROM items WHERE {filter} ORDER BY {sk_col}");
        self.run(op, move |conn| {
            let mut stmt = conn.prepare_cached(&text).map_err(sql(op))?;
            let rows = stmt
                .query_map(params![pk, lo, hi], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get(2)?,
                    ))
                })
                .map_err(sql(op))?;
            let mut out = Vec::new();
            for row in rows {
                let (pk, sk, doc): (String, String, String) = row.map_err(sql(op))?;
                let item: Item<T> =
                    serde_json::from_str(&doc).map_err(|e| StoreError::malformed(&pk, &sk, e))?;
                out.push(item.body);
            }
            Ok(out)
        })
        .await
    }

    async fn page<T: Doc>(&self, op: Op, span: Span) -> Answer<Chunk<T>> {
        let (filter, [pk, lo, hi]) = range_sql(&span.part);
        let (_, sk_col) = span.part.index.attributes();
        let text = format!(
            "SELECT pk, sk, {sk_col}, doc FROM items WHERE {filter} AND {sk_col} > ?4 \
             ORDER BY {sk_col} LIMIT ?5"
        );
        let after = span.after.map(|a| a.index_sk).unwrap_or_default();
        let limit = span.limit.max(1);
        let want = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(op, move |conn| {
            let mut stmt = conn.prepare_cached(&text).map_err(sql(op))?;
            let rows = stmt
                .query_map(params![pk, lo, hi, after, want], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .map_err(sql(op))?;
            let mut items = Vec::new();
            for row in rows {
                let (pk, sk, index_sk, doc): (String, String, String, String) =
                    row.map_err(sql(op))?;
                let item: Item<T> =
                    serde_json::from_str(&doc).map_err(|e| StoreError::malformed(&pk, &sk, e))?;
                items.push((After { index_sk, pk, sk }, item.body));
            }
            let more = items.len() >= limit;
            Ok(Chunk { items, more })
        })
        .await
    }

    async fn count(&self, op: Op, part: Partition, up_to: u64) -> Answer<u64> {
        let (filter, [pk, lo, hi]) = range_sql(&part);
        let text = format!("SELECT COUNT(*) FROM (SELECT 1 FROM items WHERE {filter} LIMIT ?4)");
        let up_to = i64::try_from(up_to).unwrap_or(i64::MAX);
        self.run(op, move |conn| {
            let n: i64 = conn
                .query_row(&text, params![pk, lo, hi, up_to], |row| row.get(0))
                .map_err(sql(op))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }

    async fn checkpoint(&self, segment: Item<Segment>, expected: u64) -> Answer<SegmentWrite> {
        self.tx("checkpoint_while_sending", move |conn| {
            sending::checkpoint(conn, &segment, expected)
        })
        .await
    }

    async fn count_event(&self, marker: Item<MailEventRecord>) -> Answer<FeedbackOutcome> {
        self.tx("count_feedback", move |conn| {
            feedback::count_event(conn, &marker)
        })
        .await
    }
}
