//! The frequency cap on SQLite: a batch of takes is one transaction, each take
//! checked against the stored record; the ledger and contacts are puts on absence.

use serde_json::Value;

use super::number;

/// No record, or one whose cap ended by `now` (microseconds).
pub(super) fn cap_free(stored: Option<&Value>, now: i64) -> bool {
    stored.is_none_or(|doc| number(doc, "nextAllowedAt").is_some_and(|next| next <= now))
}
