//! Idempotency records on SQLite: a claim, a completion and a release each check
//! the stored record and write inside one transaction.

use serde_json::Value;

use super::{is, number};
use crate::store::item::IdemState;

/// No live record at `now` (epoch seconds): none, past its retention, or in
/// progress past its lease.
pub(super) fn key_free(stored: Option<&Value>, now: i64) -> bool {
    stored.is_none_or(|doc| {
        let ended = |name| number(doc, name).is_some_and(|at| at <= now);
        ended("expiresAt") || (in_progress(Some(doc)) && ended("leaseUntil"))
    })
}

/// A record still in progress.
pub(super) fn in_progress(stored: Option<&Value>) -> bool {
    stored.is_some_and(|doc| is(doc, "state", IdemState::InProgress))
}
