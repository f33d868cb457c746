//! Sending on SQLite: a segment write checks the stored `seq` inside its
//! transaction; a checkpoint reads the campaign's status in the same one.

use rusqlite::Connection;
use serde_json::Value;

use super::{number, read, write};
use crate::domain::campaign::Campaign;
use crate::domain::segment::Segment;
use crate::store::StoreError;
use crate::store::item::Item;
use crate::store::keys;
use crate::store::sending::{SegmentWrite, still_sending};

/// The stored segment's `seq` is `expected` (`None`: there is none).
pub(super) fn seq_is(stored: Option<&Value>, expected: Option<u64>) -> bool {
    let seq = stored.map(|doc| number(doc, "seq").and_then(|n| u64::try_from(n).ok()));
    match expected {
        None => stored.is_none(),
        Some(n) => seq == Some(Some(n)),
    }
}

/// Writes `segment` when its campaign is `SENDING` and the stored `seq` is `expected`.
pub(super) fn checkpoint(
    conn: &Connection,
    segment: &Item<Segment>,
    expected: u64,
) -> Result<SegmentWrite, StoreError> {
    const OP: &str = "checkpoint_while_sending";
    let (cpk, csk) = keys::CAMPAIGN.primary(&segment.body.campaign_id);
    let status = read::<Campaign>(conn, OP, &cpk, &csk)?.map(|c| c.body.status);
    if let Err(stopped) = still_sending(status) {
        return Ok(stopped);
    }
    let stored = read::<Segment>(conn, OP, &segment.pk, &segment.sk)?;
    if stored.map(|s| s.body.seq) != Some(expected) {
        return Ok(SegmentWrite::Conflict);
    }
    write(conn, OP, segment)?;
    Ok(SegmentWrite::Written)
}
