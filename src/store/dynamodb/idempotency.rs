//! Idempotency records on DynamoDB: a claim is one conditional put, a completion
//! one conditional update, a release one conditional delete.

use super::{Condition, Expr, av};
use crate::store::StoreError;
use crate::store::item::IdemState;

/// No live record at `now` (epoch seconds): none, past its retention, or in
/// progress past its lease.
pub(super) fn key_free(now: i64) -> Result<Condition, StoreError> {
    let text = "attribute_not_exists(pk) OR expiresAt <= :now \
                OR (#state = :in_progress AND leaseUntil <= :now)";
    let (_, expr) = in_progress()?;
    Ok((text.to_owned(), expr.value(":now", av(&now)?)))
}

/// A record still in progress.
pub(super) fn in_progress() -> Result<Condition, StoreError> {
    let expr = Expr::default()
        .name("#state", "state")
        .value(":in_progress", av(&IdemState::InProgress)?);
    Ok(("#state = :in_progress".to_owned(), expr))
}
