//! Mail feedback on SQLite: the marker and the counter in one `BEGIN IMMEDIATE`
//! transaction.

use rusqlite::Connection;

use super::{read, write};
use crate::store::feedback::{FeedbackOutcome, FeedbackRecord, MailEventRecord};
use crate::store::item::Item;
use crate::store::{StoreError, keys};

/// Stores the marker and adds one to its brand's `kind` counter, unless the marker is there.
pub(super) fn count_event(
    conn: &Connection,
    marker: &Item<MailEventRecord>,
) -> Result<FeedbackOutcome, StoreError> {
    const OP: &str = "count_feedback";
    let brand = &marker.body.brand_id;
    let k = keys::feedback(brand);
    let current = read::<FeedbackRecord>(conn, OP, &k.pk, &k.sk)?
        .map(|i| i.body.counts)
        .unwrap_or_default();
    if read::<MailEventRecord>(conn, OP, &marker.pk, &marker.sk)?.is_some() {
        return Ok(FeedbackOutcome::Repeat(current));
    }
    let counts = current.add(marker.body.kind);
    write(conn, OP, marker)?;
    let record = FeedbackRecord {
        brand_id: brand.clone(),
        counts,
        updated_at: Some(marker.body.counted_at),
    };
    write(conn, OP, &Item::new(k, record))?;
    Ok(FeedbackOutcome::Counted(counts))
}
