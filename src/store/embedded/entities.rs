//! Entities on SQLite: a newest-wins write and a merge each check the stored
//! document inside one transaction.

use rusqlite::Connection;
use serde_json::Value;

use super::{number, read_raw, text, write_raw};
use crate::store::StoreError;

/// The item is as a merge read it: absent, or at the same revision.
pub(super) fn revision_is(stored: Option<&Value>, exists: bool, revision: Option<i64>) -> bool {
    match stored {
        None => !exists,
        Some(doc) => exists && number(doc, "revision") == revision,
    }
}

/// Writes `doc` unless the stored item is as new or newer, keeping the
/// `preserved` attributes of an existing one.
pub(super) fn upsert_doc(
    conn: &Connection,
    op: &'static str,
    mut doc: Value,
    preserved: &[&str],
) -> Result<bool, StoreError> {
    let (Some(pk), Some(sk)) = (text(&doc, "pk"), text(&doc, "sk")) else {
        return Err(StoreError::encode("item", "item has no pk or sk"));
    };
    if let Some(existing) = read_raw(conn, op, &pk, &sk)? {
        if number(&existing, "updatedAtMicros") >= number(&doc, "updatedAtMicros") {
            return Ok(false);
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
    Ok(true)
}
