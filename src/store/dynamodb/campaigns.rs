//! Campaigns on DynamoDB: a transition is one `UpdateItem` of the attributes it
//! owns, conditional on the campaign's status.

use super::{Condition, Expr, av};
use crate::domain::campaign::CampaignStatus;
use crate::store::StoreError;

/// `attribute_exists(pk) AND #status IN (...)`.
pub(super) fn status_in(statuses: &[CampaignStatus]) -> Result<Condition, StoreError> {
    let mut expr = Expr::default().name("#status", "status");
    let mut placeholders = Vec::new();
    for (i, status) in statuses.iter().enumerate() {
        let p = format!(":from{i}");
        expr = expr.value(&p, av(status)?);
        placeholders.push(p);
    }
    let text = format!(
        "attribute_exists(pk) AND #status IN ({})",
        placeholders.join(", ")
    );
    Ok((text, expr))
}
