//! Entities on DynamoDB: a newest-wins write is one conditional put, or one
//! conditional update when some attributes must keep their stored value; a merge
//! writes on the revision it read.

use super::{Condition, DynamoStore, Expr, av, plain, text_of, to_attrs};
use crate::store::StoreError;
use crate::store::entities::Entity;
use crate::store::item::Item;

/// The item is as a merge read it: absent, or at the same revision.
pub(super) fn revision_is(exists: bool, revision: Option<i64>) -> Result<Condition, StoreError> {
    let expr = Expr::default().name("#rev", "revision");
    Ok(match (exists, revision) {
        (false, _) => plain("attribute_not_exists(pk)"),
        (true, None) => (
            "attribute_exists(pk) AND attribute_not_exists(#rev)".to_owned(),
            expr,
        ),
        (true, Some(r)) => ("#rev = :rev".to_owned(), expr.value(":rev", av(&r)?)),
    })
}

impl DynamoStore {
    pub(super) async fn upsert_entity(
        &self,
        op: &'static str,
        item: Item<Entity>,
    ) -> Result<bool, StoreError> {
        let preserved = item.body.preserved();
        let version = av(&item.updated_at_micros.unwrap_or(0))?;
        let attrs = to_attrs(&item)?;
        let condition = "attribute_not_exists(pk) OR updatedAtMicros < :version";
        let expr = Expr::default().value(":version", version);
        if preserved.is_empty() {
            let put = self
                .put_raw(op, attrs, (condition.to_owned(), expr))
                .await?;
            return Ok(put.is_ok());
        }
        // An update, so preserved attributes keep their stored value.
        let (pk, sk) = (text_of(&attrs, "pk"), text_of(&attrs, "sk"));
        let mut sets_expr = Expr::default();
        let mut sets = Vec::new();
        for (i, (name, value)) in attrs.into_iter().enumerate() {
            if name == "pk" || name == "sk" {
                continue;
            }
            let (n, v) = (format!("#a{i}"), format!(":a{i}"));
            if preserved.contains(&name.as_str()) {
                sets.push(format!("{n} = if_not_exists({n}, {v})"));
            } else {
                sets.push(format!("{n} = {v}"));
            }
            sets_expr = sets_expr.name(&n, &name).value(&v, value);
        }
        let update = (format!("SET {}", sets.join(", ")), sets_expr);
        let updated = self
            .update_raw(op, (&pk, &sk), update, (condition.to_owned(), expr))
            .await?;
        Ok(updated.is_ok())
    }
}
