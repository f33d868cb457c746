//! [`MessageStore`] on SQLite: each schedule, claim and finish reads and writes
//! inside one `BEGIN IMMEDIATE` transaction, so two writers never both pass a
//! condition; the due index is the partial index on `gsi2pk`/`gsi2sk`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

use super::{EmbeddedStore, read, sql, write};
use crate::domain::OrderId;
use crate::store::item::Item;
use crate::store::keys;
use crate::store::messages::{
    DueCursor, MessageClaim, MessageFinish, MessageRecord, MessageStatus, MessageStore,
};
use crate::store::{Page, StoreError, UpsertOutcome};

#[async_trait]
impl MessageStore for EmbeddedStore {
    async fn schedule_message(&self, entry: &MessageRecord) -> Result<UpsertOutcome, StoreError> {
        let entry = entry.clone();
        self.tx("schedule_message", move |conn| {
            let k = entry.keys();
            if let Some(old) = read::<MessageRecord>(conn, "schedule_message", &k.pk, &k.sk)? {
                let movable = matches!(
                    old.body.status,
                    MessageStatus::Due | MessageStatus::Refused | MessageStatus::Expired
                );
                // A missing trigger instant compares as DynamoDB does: never lower.
                let older = matches!(
                    (old.body.triggered_at_micros, entry.triggered_at_micros),
                    (Some(a), Some(b)) if a < b
                );
                if !(movable && older) {
                    return Ok(UpsertOutcome::Stale);
                }
            }
            write(conn, "schedule_message", &Item::new(k, &entry))?;
            Ok(UpsertOutcome::Written)
        })
        .await
    }

    async fn claim_message(
        &self,
        record: &MessageRecord,
        lease_now: DateTime<Utc>,
    ) -> Result<MessageClaim, StoreError> {
        let record = record.clone();
        self.tx("claim_message", move |conn| {
            let k = record.keys();
            if let Some(old) = read::<MessageRecord>(conn, "claim_message", &k.pk, &k.sk)? {
                let free = match old.body.status {
                    MessageStatus::Due => true,
                    MessageStatus::Pending => old.body.lease_until_micros < keys::micros(lease_now),
                    _ => false,
                };
                if !free {
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
            let k = record.keys();
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
        self.run(op, move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT pk, sk, gsi2sk, doc FROM items
                     WHERE gsi2pk = ?1 AND gsi2sk > ?2 AND gsi2sk >= ?3 AND gsi2sk <= ?4
                     ORDER BY gsi2sk LIMIT ?5",
                )
                .map_err(sql(op))?;
            let mut items = Vec::new();
            while !cursor.done(until) && items.len() < limit {
                let pk = cursor.partition();
                let after = cursor
                    .after
                    .as_ref()
                    .map_or("", |a| a.0.as_str())
                    .to_owned();
                let want = i64::try_from(limit - items.len()).unwrap_or(i64::MAX);
                let rows = stmt
                    .query_map(params![pk, after, lo, hi, want], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, String>(3)?,
                        ))
                    })
                    .map_err(sql(op))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(sql(op))?;
                let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= want;
                for (pk, sk, gsi2sk, doc) in rows {
                    let item: Item<MessageRecord> = serde_json::from_str(&doc)
                        .map_err(|e| StoreError::malformed(&pk, &sk, e))?;
                    cursor.after = Some((gsi2sk, pk, sk));
                    items.push(item.body);
                }
                if !full {
                    cursor.next_partition();
                }
            }
            Ok(Page {
                items,
                next: cursor.token(until),
            })
        })
        .await
    }
}
