//! Buyer messages on SQLite: each schedule, claim and finish checks the stored
//! entry and writes inside one transaction, so two writers never both pass a
//! condition; the due index is the partial index on `gsi2pk`/`gsi2sk`.

use serde_json::Value;

use super::{is, number};
use crate::store::messages::MessageStatus;

/// No entry, or one due, refused or expired that an earlier event made due (an
/// entry or event without a trigger instant compares as DynamoDB does: never lower).
pub(super) fn reschedulable(stored: Option<&Value>, triggered: Option<i64>) -> bool {
    stored.is_none_or(|doc| {
        let movable = [
            MessageStatus::Due,
            MessageStatus::Refused,
            MessageStatus::Expired,
        ]
        .iter()
        .any(|s| is(doc, "status", s));
        let older = matches!(
            (number(doc, "triggeredAtMicros"), triggered),
            (Some(a), Some(b)) if a < b
        );
        movable && older
    })
}

/// No entry, a due one, or a pending one whose lease ended before `now` (microseconds).
pub(super) fn claimable(stored: Option<&Value>, now: i64) -> bool {
    stored.is_none_or(|doc| {
        is(doc, "status", MessageStatus::Due)
            || (is(doc, "status", MessageStatus::Pending)
                && number(doc, "leaseUntilMicros").is_some_and(|until| until < now))
    })
}

/// A pending entry claimed by `owner`.
pub(super) fn claimed_by(stored: Option<&Value>, owner: &str) -> bool {
    stored.is_some_and(|doc| is(doc, "status", MessageStatus::Pending) && is(doc, "owner", owner))
}
