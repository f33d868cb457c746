//! Buyer messages on DynamoDB: a schedule, a claim and a finish are each one
//! conditional put; the due index is GSI2, read one partition (day, shard) at a
//! time with `Limit` and `ExclusiveStartKey`.

use super::{Condition, Expr, av};
use crate::store::StoreError;
use crate::store::messages::MessageStatus;

fn status() -> Expr {
    Expr::default().name("#status", "status")
}

/// No entry, or one due, refused or expired that an earlier event made due.
pub(super) fn reschedulable(triggered: Option<i64>) -> Result<Condition, StoreError> {
    let text = "attribute_not_exists(pk) OR \
                ((#status = :due OR #status = :refused OR #status = :expired) AND #trig < :trig)";
    let expr = status()
        .name("#trig", "triggeredAtMicros")
        .value(":due", av(&MessageStatus::Due)?)
        .value(":refused", av(&MessageStatus::Refused)?)
        .value(":expired", av(&MessageStatus::Expired)?)
        .value(":trig", av(&triggered)?);
    Ok((text.to_owned(), expr))
}

/// No entry, a due one, or a pending one whose lease ended before `now` (microseconds).
pub(super) fn claimable(now: i64) -> Result<Condition, StoreError> {
    let text = "attribute_not_exists(pk) OR #status = :due \
                OR (#status = :pending AND #lease < :now)";
    let expr = status()
        .name("#lease", "leaseUntilMicros")
        .value(":due", av(&MessageStatus::Due)?)
        .value(":pending", av(&MessageStatus::Pending)?)
        .value(":now", av(&now)?);
    Ok((text.to_owned(), expr))
}

/// A pending entry claimed by `owner`.
pub(super) fn claimed_by(owner: &str) -> Result<Condition, StoreError> {
    let expr = status()
        .name("#owner", "owner")
        .value(":pending", av(&MessageStatus::Pending)?)
        .value(":owner", av(owner)?);
    Ok(("#status = :pending AND #owner = :owner".to_owned(), expr))
}
