//! The frequency cap on DynamoDB: one conditional put per take (a batch is that
//! many puts at once); the ledger and contacts are puts on `attribute_not_exists(pk)`.

use super::{Condition, Expr, av};
use crate::store::StoreError;

/// No record, or one whose cap ended by `now` (microseconds).
pub(super) fn cap_free(now: i64) -> Result<Condition, StoreError> {
    let text = "attribute_not_exists(pk) OR nextAllowedAt <= :now";
    Ok((text.to_owned(), Expr::default().value(":now", av(&now)?)))
}
