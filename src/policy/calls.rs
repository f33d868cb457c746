//! What load-time checks read of a condition's calls: every call in it, and
//! the string an argument spells when it is known before evaluation.

use cel::IdedExpr;
use cel::common::ast::{CallExpr, EntryExpr, Expr, LiteralValue};

use super::paths::comprehension_parts;

/// Every call in `expr`, its arguments' calls included, wherever it stands
/// (a comprehension, a list, a map, a struct, a selection's operand).
pub(crate) fn each_call<'e>(expr: &'e IdedExpr, found: &mut impl FnMut(&'e CallExpr)) {
    match &expr.expr {
        Expr::Call(call) => {
            found(call);
            for e in call.target.iter().map(|t| &**t).chain(&call.args) {
                each_call(e, found);
            }
        }
        Expr::Comprehension(c) => {
            for e in comprehension_parts(c) {
                each_call(e, found);
            }
        }
        Expr::List(list) => list.elements.iter().for_each(|e| each_call(e, found)),
        Expr::Map(map) => map.entries.iter().for_each(|e| entry(&e.expr, found)),
        Expr::Struct(s) => s.entries.iter().for_each(|e| entry(&e.expr, found)),
        Expr::Select(select) => each_call(&select.operand, found),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn entry<'e>(entry: &'e EntryExpr, found: &mut impl FnMut(&'e CallExpr)) {
    match entry {
        EntryExpr::StructField(field) => each_call(&field.value, found),
        EntryExpr::MapEntry(e) => {
            each_call(&e.key, found);
            each_call(&e.value, found);
        }
    }
}

/// A string an argument spells before evaluation.
pub(crate) enum Spelled<'e> {
    /// A string literal: its text, borrowed from the syntax tree.
    Literal(&'e str),
    /// `params.NAME`: the param's name; the caller reads the params.
    Param(&'e str),
}

/// What `arg` spells, when it is a string literal or `params.NAME`; anything
/// else (a fact, a computed value) is known only when evaluated.
pub(crate) fn spelled(arg: &IdedExpr) -> Option<Spelled<'_>> {
    match &arg.expr {
        Expr::Literal(LiteralValue::String(s)) => Some(Spelled::Literal(s.inner())),
        Expr::Select(select) if !select.test => match &select.operand.expr {
            Expr::Ident(root) if root == "params" => Some(Spelled::Param(&select.field)),
            _ => None,
        },
        _ => None,
    }
}
