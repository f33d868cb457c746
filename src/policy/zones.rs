//! The time zones a condition names, checked when its policy loads.
//!
//! chrono-tz carries only the zones `.cargo/config.toml` selects
//! (`CHRONO_TZ_TIMEZONE_FILTER`: the marketplaces' zones; UTC and GMT always):
//! every zone of the IANA database was about 1 MB of tables in every function,
//! and engage's own zones are its marketplaces'. A rule is not meant to fail
//! at every evaluation because it names a zone the build left out, so a zone
//! spelled in a condition (a literal or a param given to `localDate` or to a
//! timestamp accessor) must be one the build carries, or the file does not
//! load and `engage policy check` says which zone to add to the filter.

use std::collections::BTreeMap;

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr, LiteralValue};
use chrono_tz::Tz;

use super::facts::FactValue;
use super::paths::comprehension_parts;

/// The functions whose argument at that position is a time zone: engage's
/// `localDate(timestamp, zone)` and CEL's timestamp accessors
/// (`t.getHours(zone)`...).
const ZONE_ARGUMENTS: [(&str, usize); 11] = [
    ("localDate", 1),
    ("getFullYear", 0),
    ("getMonth", 0),
    ("getDayOfYear", 0),
    ("getDayOfMonth", 0),
    ("getDate", 0),
    ("getDayOfWeek", 0),
    ("getHours", 0),
    ("getMinutes", 0),
    ("getSeconds", 0),
    ("getMilliseconds", 0),
];

/// The first zone `expr` names, as a literal or as one of `params`, that this
/// build does not carry.
pub(crate) fn missing_zone(
    expr: &IdedExpr,
    params: &BTreeMap<String, FactValue>,
) -> Option<String> {
    let mut named = Vec::new();
    zones_named(expr, params, &mut named);
    named.into_iter().find(|z| z.parse::<Tz>().is_err())
}

fn zones_named(expr: &IdedExpr, params: &BTreeMap<String, FactValue>, out: &mut Vec<String>) {
    match &expr.expr {
        Expr::Call(call) => {
            let zone_at = ZONE_ARGUMENTS
                .iter()
                .find(|(name, _)| *name == call.func_name)
                .map(|(_, at)| *at);
            if let Some(zone) = zone_at.and_then(|at| call.args.get(at)) {
                out.extend(spelled(zone, params));
            }
            for e in call.target.iter().map(|t| &**t).chain(&call.args) {
                zones_named(e, params, out);
            }
        }
        Expr::Comprehension(c) => {
            for e in comprehension_parts(c) {
                zones_named(e, params, out);
            }
        }
        Expr::List(list) => list
            .elements
            .iter()
            .for_each(|e| zones_named(e, params, out)),
        Expr::Map(map) => map.entries.iter().for_each(|e| entry(&e.expr, params, out)),
        Expr::Struct(s) => s.entries.iter().for_each(|e| entry(&e.expr, params, out)),
        Expr::Select(select) => zones_named(&select.operand, params, out),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn entry(entry: &EntryExpr, params: &BTreeMap<String, FactValue>, out: &mut Vec<String>) {
    match entry {
        EntryExpr::StructField(field) => zones_named(&field.value, params, out),
        EntryExpr::MapEntry(e) => {
            zones_named(&e.key, params, out);
            zones_named(&e.value, params, out);
        }
    }
}

/// The zone an argument spells: a string literal, or `params.<name>` naming
/// a string param. Anything else (a fact such as `zone`) is known only when
/// evaluated.
fn spelled(arg: &IdedExpr, params: &BTreeMap<String, FactValue>) -> Option<String> {
    match &arg.expr {
        Expr::Literal(LiteralValue::String(s)) => Some(s.inner().to_owned()),
        Expr::Select(select) if !select.test => {
            match (&select.operand.expr, params.get(&select.field)) {
                (Expr::Ident(root), Some(FactValue::String(s))) if root == "params" => {
                    Some(s.clone())
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "zones_test.rs"]
mod tests;
