//! The variables one evaluation reads, resolved lazily.
//!
//! Binding every fact up front converted each one twice (FactValue -> cel
//! `Value` -> boxed `Val`), copying every string, for facts no rule reads,
//! and dropped it all again: a fifth of a submission's evaluation. Here the
//! interpreter asks a [`VariableResolver`] for a name when a rule reads it;
//! the fact is converted once, straight into a `Val` that borrows its strings
//! from the [`Facts`], and kept for the other rules of the evaluation.
//!
//! The names are the variables and the field paths rules read
//! (`campaign.logo.width`): the interpreter asks for the longest name of a
//! path first, as CEL resolves a qualified name, so a path answered here
//! costs one lookup instead of three and no map indexing, and only the
//! fields read are converted. A path that cannot be followed (a missing
//! field, a null on the way) is not answered: the interpreter then selects
//! the fields itself from a shorter name and fails as it always did.

use std::collections::HashMap;
use std::sync::OnceLock;

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr};
use cel::common::types::{
    CelBool, CelDouble, CelDuration, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString,
    CelTimestamp,
};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use chrono::{DateTime, Utc};

use super::facts::{FactValue, Facts};

/// The CEL value of a fact, borrowing its strings from it.
///
/// The same value as [`FactValue::to_cel`] converted to a `Val`, without the
/// intermediate `Value` and without copying.
pub(crate) fn to_val(value: &FactValue) -> Box<dyn Val + '_> {
    match value {
        FactValue::Null => Box::new(CelNull),
        FactValue::Bool(b) => Box::new(CelBool::from(*b)),
        FactValue::Int(i) => Box::new(CelInt::from(*i)),
        FactValue::Float(f) => Box::new(CelDouble::from(*f)),
        FactValue::String(s) => Box::new(CelString::from(s.as_str())),
        FactValue::Instant(t) => Box::new(CelTimestamp::from(t.fixed_offset())),
        FactValue::Duration(d) => Box::new(CelDuration::from(*d)),
        FactValue::List(items) => {
            Box::new(CelList::from(items.iter().map(to_val).collect::<Vec<_>>()))
        }
        FactValue::Map(map) => Box::new(CelMap::from(
            map.iter()
                .map(|(k, v)| (CelMapKey::from(k.as_str()), to_val(v)))
                .collect::<HashMap<_, _>>(),
        )),
    }
}

/// A variable or field path some rule reads: `campaign.logo.width`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ReadPath {
    /// The dotted name the interpreter asks for.
    pub(crate) name: String,
    /// The variable, then the fields.
    pub(crate) segments: Vec<String>,
}

impl ReadPath {
    /// The paths `expr` reads: each identifier and each chain of field
    /// selections on one, with its prefixes (of `has(a.b)`, `a`).
    pub(crate) fn collect(expr: &IdedExpr, out: &mut Vec<ReadPath>) {
        if let Some(segments) = segments(expr) {
            // every prefix too: where the interpreter cannot have the whole
            // path, it asks for the shorter names and selects the rest itself
            // `params` is served whole; `@result` and the like are the
            // interpreter's own comprehension variables
            if segments
                .first()
                .is_some_and(|root| root != "params" && !root.starts_with('@'))
            {
                for len in 1..=segments.len() {
                    let segments = segments.get(..len).unwrap_or_default().to_vec();
                    out.push(ReadPath {
                        name: segments.join("."),
                        segments,
                    });
                }
            }
            return;
        }
        match &expr.expr {
            Expr::Select(select) => ReadPath::collect(&select.operand, out),
            Expr::Call(call) => {
                call.target.iter().for_each(|t| ReadPath::collect(t, out));
                call.args.iter().for_each(|a| ReadPath::collect(a, out));
            }
            Expr::Comprehension(c) => {
                for e in [
                    &c.iter_range,
                    &c.accu_init,
                    &c.loop_cond,
                    &c.loop_step,
                    &c.result,
                ] {
                    ReadPath::collect(e, out);
                }
            }
            Expr::List(list) => list.elements.iter().for_each(|e| ReadPath::collect(e, out)),
            Expr::Map(map) => map.entries.iter().for_each(|e| collect_entry(&e.expr, out)),
            Expr::Struct(s) => s.entries.iter().for_each(|e| collect_entry(&e.expr, out)),
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }
}

fn collect_entry(entry: &EntryExpr, out: &mut Vec<ReadPath>) {
    match entry {
        EntryExpr::StructField(field) => ReadPath::collect(&field.value, out),
        EntryExpr::MapEntry(e) => {
            ReadPath::collect(&e.key, out);
            ReadPath::collect(&e.value, out);
        }
    }
}

/// `a.b.c` as `[a, b, c]` when `expr` is an identifier or field selections
/// on one.
fn segments(expr: &IdedExpr) -> Option<Vec<String>> {
    match &expr.expr {
        Expr::Ident(name) => Some(vec![name.clone()]),
        Expr::Select(select) if !select.test => {
            let mut segments = segments(&select.operand)?;
            segments.push(select.field.clone());
            Some(segments)
        }
        _ => None,
    }
}

/// The resolver of one evaluation: `params`, then the variables and paths
/// some rule of the version reads (`names`), each converted from `facts` on
/// first use.
///
/// A name no rule reads is never asked for; a name some rule reads but the
/// facts lack resolves to nothing, so the rule fails with an undeclared
/// reference and fires as unevaluated (fail closed), as when facts were bound.
pub(crate) struct Bindings<'f> {
    params: &'f (dyn Val + 'static),
    /// Sorted by name.
    names: &'f [ReadPath],
    facts: &'f Facts,
    /// `now` when the facts have none: the evaluation instant.
    at: DateTime<Utc>,
    /// One slot per name, filled on first use: `None` when the facts lack it.
    slots: Vec<OnceLock<Option<Box<dyn Val + 'f>>>>,
}

impl<'f> Bindings<'f> {
    pub(crate) fn new(
        params: &'f (dyn Val + 'static),
        names: &'f [ReadPath],
        facts: &'f Facts,
        at: DateTime<Utc>,
    ) -> Self {
        Bindings {
            params,
            names,
            facts,
            at,
            slots: names.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    fn convert(&self, path: &'f ReadPath) -> Option<Box<dyn Val + 'f>> {
        let (root, fields) = path.segments.split_first()?;
        let Some(mut value) = self.facts.get(root) else {
            return (root == "now" && fields.is_empty())
                .then(|| Box::new(CelTimestamp::from(self.at.fixed_offset())) as Box<dyn Val>);
        };
        for field in fields {
            value = value.get(field)?;
        }
        Some(to_val(value))
    }
}

impl<'f> VariableResolver for Bindings<'f> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        if variable == "params" {
            return Some(CowVal::Borrowed(self.params));
        }
        let names: &'f [ReadPath] = self.names;
        let index = names
            .binary_search_by(|p| p.name.as_str().cmp(variable))
            .ok()?;
        let path = names.get(index)?;
        let slot = self.slots.get(index)?;
        let value = slot.get_or_init(|| self.convert(path)).as_deref()?;
        Some(CowVal::Borrowed(value))
    }
}

#[cfg(test)]
#[path = "bindings_test.rs"]
mod tests;
