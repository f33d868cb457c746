//! Due entries (the write side of the due index): when an order event makes a step
//! of the sequences policy in force due, the events job writes the ledger entry of
//! (order, message type) as `due` at `trigger + delay`
//! ([`MessageStore::schedule_message`](crate::store::MessageStore::schedule_message)).
//!
//! The entry only says when to look: whether the message goes out is decided when
//! it is due, by the policies in force then. An event whose step's window already
//! closed writes nothing (an old event replayed). A step turned on by a later
//! policy version applies to the events that arrive after it, not to the orders
//! already stored.

use chrono::{DateTime, Utc};

use super::definition::{DefinitionError, Sequences, Trigger};
use super::message_id;
use crate::domain::order::OrderChange;
use crate::policy::PolicySet;
use crate::store::{MessageRecord, Store, StoreError, UpsertOutcome};

/// Why the due entries of an event were not written.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The sequences policy in force is missing or malformed.
    #[error("sequences policy unusable")]
    Definition(#[from] DefinitionError),
    /// A write failed.
    #[error("storage failed")]
    Store(#[from] StoreError),
}

/// Writes the due entry of every enabled step the change triggers (the sequences
/// policy in force at `now`); returns how many were written (repeats and older
/// reports write nothing).
///
/// # Errors
/// The sequences policy cannot be read, or a write failed (retry the event: the
/// writes are idempotent).
pub async fn schedule<S: Store + ?Sized>(
    store: &S,
    policies: &PolicySet,
    change: &OrderChange,
    now: DateTime<Utc>,
) -> Result<usize, ScheduleError> {
    let seq = Sequences::timing_in_force(policies, now)?;
    let (trigger, at) = Trigger::of_change(&change.kind);
    let mut written = 0;
    for step in seq.enabled().filter(|s| s.trigger == trigger) {
        if step.closed_everywhere(at, now) {
            continue;
        }
        // The brand (and so its zone) may not be known yet: filed at the
        // earliest due instant over the marketplaces' zones; the pass decides.
        let entry = MessageRecord::due(
            change.order_id.clone(),
            &step.message_type,
            message_id(change.order_id.as_str(), &step.message_type),
            at,
            step.earliest_due_at(at),
        );
        if store.schedule_message(&entry).await? == UpsertOutcome::Written {
            written += 1;
        }
    }
    Ok(written)
}
