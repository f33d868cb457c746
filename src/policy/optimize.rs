//! Load-time rewrites of a compiled condition, each giving the same result
//! (or, for a rule that cannot be evaluated, the same failure) for less
//! interpreter work. The engine evaluates the rewritten syntax tree; the
//! rule's text and program stay as written (they are what `explain` shows).
//!
//! - `params.NAME`, a scalar param, becomes its literal: params are constant
//!   for a version, and a literal costs no name lookup (the interpreter tries
//!   `params.NAME`, then `params`, then indexes a hashed map).
//! - `!e` becomes `e ? false : true`: the interpreter's `!` builds its
//!   "no such overload" error (type names formatted into strings) before it
//!   looks at the operand, on every evaluation, while the conditional only
//!   fails when the operand is not a bool, as `!` does.
//! - `x.matches(p)` becomes `matches(x, p)`: engage's `matches` takes both
//!   forms alike, and a global call skips the interpreter's search for a
//!   function named after the target (`x.matches` as a qualified name).

use std::collections::BTreeMap;

use cel::IdedExpr;
use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedEntryExpr, LiteralValue, SelectExpr,
    operators,
};
use cel::common::types::{CelBool, CelDouble, CelInt, CelString};

use super::facts::FactValue;

/// `expr` rewritten for evaluation with `params`.
pub(crate) fn optimize(expr: &IdedExpr, params: &BTreeMap<String, FactValue>) -> IdedExpr {
    let id = expr.id;
    let node = |expr| IdedExpr { id, expr };
    match &expr.expr {
        Expr::Select(select) => match param_literal(select, params) {
            Some(literal) => node(Expr::Literal(literal)),
            None => node(Expr::Select(SelectExpr {
                operand: Box::new(optimize(&select.operand, params)),
                field: select.field.clone(),
                test: select.test,
            })),
        },
        Expr::Call(call) if call.func_name == operators::LOGICAL_NOT && call.args.len() == 1 => {
            let args = call.args.iter().map(|a| optimize(a, params));
            let literal = |b: bool| node(Expr::Literal(LiteralValue::Boolean(CelBool::from(b))));
            node(Expr::Call(CallExpr {
                func_name: operators::CONDITIONAL.to_owned(),
                target: None,
                args: args.chain([literal(false), literal(true)]).collect(),
            }))
        }
        Expr::Call(call) => {
            let mut args: Vec<IdedExpr> = call.args.iter().map(|a| optimize(a, params)).collect();
            let mut target = call.target.as_ref().map(|t| Box::new(optimize(t, params)));
            if call.func_name == "matches"
                && args.len() == 1
                && let Some(t) = target.take()
            {
                args.insert(0, *t);
            }
            node(Expr::Call(CallExpr {
                func_name: call.func_name.clone(),
                target,
                args,
            }))
        }
        Expr::Comprehension(c) => node(Expr::Comprehension(Box::new(ComprehensionExpr {
            iter_range: optimize(&c.iter_range, params),
            iter_var: c.iter_var.clone(),
            iter_var2: c.iter_var2.clone(),
            accu_var: c.accu_var.clone(),
            accu_init: optimize(&c.accu_init, params),
            loop_cond: optimize(&c.loop_cond, params),
            loop_step: optimize(&c.loop_step, params),
            result: optimize(&c.result, params),
        }))),
        Expr::List(_) | Expr::Map(_) | Expr::Struct(_) => {
            node(map_elements(&expr.expr, |e| optimize(e, params)))
        }
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => expr.clone(),
    }
}

/// A list, map or struct literal with each element (each key and value) rewritten by
/// `f`, as both rewriters (this one and `fast_tree.rs`) walk them; any other
/// expression as it is.
pub(crate) fn map_elements(expr: &Expr, mut f: impl FnMut(&IdedExpr) -> IdedExpr) -> Expr {
    let mut entries = |entries: &mut [IdedEntryExpr]| {
        for entry in entries {
            match &mut entry.expr {
                EntryExpr::StructField(field) => field.value = f(&field.value),
                EntryExpr::MapEntry(e) => {
                    e.key = f(&e.key);
                    e.value = f(&e.value);
                }
            }
        }
    };
    let mut expr = expr.clone();
    match &mut expr {
        Expr::List(list) => {
            for element in &mut list.elements {
                *element = f(element);
            }
        }
        Expr::Map(map) => entries(&mut map.entries),
        Expr::Struct(s) => entries(&mut s.entries),
        _ => {}
    }
    expr
}

/// The literal of `params.NAME` when NAME is a scalar param; not for
/// `has(params.NAME)`, nor for a missing param (its failure is kept).
fn param_literal(
    select: &SelectExpr,
    params: &BTreeMap<String, FactValue>,
) -> Option<LiteralValue> {
    if select.test || !matches!(&select.operand.expr, Expr::Ident(n) if n == "params") {
        return None;
    }
    Some(match params.get(&select.field)? {
        FactValue::Null => LiteralValue::Null,
        FactValue::Bool(b) => LiteralValue::Boolean(CelBool::from(*b)),
        FactValue::Int(i) => LiteralValue::Int(CelInt::from(*i)),
        FactValue::Float(f) => LiteralValue::Double(CelDouble::from(*f)),
        FactValue::String(s) => LiteralValue::String(CelString::from(s.clone())),
        _ => return None,
    })
}

#[cfg(test)]
#[path = "optimize_test.rs"]
mod tests;
