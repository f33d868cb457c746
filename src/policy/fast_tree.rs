//! The fast tree of a condition: a second rewrite of the optimized tree that
//! the engine evaluates first, falling back to the optimized tree when it
//! fails.
//!
//! Most of a submission's interpreter time went to finding values, not to
//! computing with them: each field path (`campaign.logo.width`) built a
//! vector of its segments and their joined name, then tried the longest name
//! and its prefixes; a null test converted the whole map it tested (every
//! field, into a hashed map) only to compare it with `null`; each `<` built
//! its "no such overload" error, type names formatted, before comparing.
//! The fast tree asks the resolver for each of these once, by a name the
//! engine plans at load:
//!
//! - a field path whose root no comprehension binds becomes an identifier
//!   of its full name (`campaign.logo.width`, `params.purposes`);
//! - `PATH == null` and `PATH != null` (either side) become the identifier
//!   `PATH==null` / `PATH!=null`, which the resolver answers from the facts
//!   without converting them (see `bindings.rs`);
//! - `<`, `<=`, `>`, `>=` call functions of the version's context that
//!   compare as the operators do and build no error until one fails;
//! - `matches(text, pattern)` calls engage's `matches` by a name the
//!   interpreter finds without searching the environment's functions first.
//!
//! Each rewrite gives the value the optimized tree gives whenever that one
//! succeeds, and fails whenever it fails, though not always with the same
//! error (a path the facts cannot follow is an undeclared name here): the
//! engine then evaluates the optimized tree, so a failing rule reports the
//! error it always did and still fires as unevaluated (fail closed).

use std::cmp::Ordering;

use cel::common::ast::{CallExpr, ComprehensionExpr, Expr, LiteralValue, operators};
use cel::common::types::CelBool;
use cel::common::value::CowVal;
use cel::{ExecutionError, FunctionContext, IdedExpr};

use super::paths::{Read, ReadPath, segments};

/// A comparison operator, the context function a fast tree calls for it,
/// and the orderings that make it true.
type Comparison = (&'static str, &'static str, fn(Ordering) -> bool);

/// The context functions the comparisons call: names no CEL source can
/// spell, so that no policy calls them.
const COMPARISONS: [Comparison; 4] = [
    (operators::LESS, "!<", Ordering::is_lt),
    (operators::LESS_EQUALS, "!<=", Ordering::is_le),
    (operators::GREATER, "!>", Ordering::is_gt),
    (operators::GREATER_EQUALS, "!>=", Ordering::is_ge),
];

/// The ordering test of the comparison function `name`, if it is one.
pub(crate) fn holds(name: &str) -> Option<fn(Ordering) -> bool> {
    COMPARISONS
        .iter()
        .find(|(_, function, _)| *function == name)
        .map(|(_, _, holds)| *holds)
}

/// `expr` rewritten as above; the names it reads are added to `reads`.
pub(crate) fn fast_tree(expr: &IdedExpr, reads: &mut Vec<ReadPath>) -> IdedExpr {
    Rewrite {
        bound: Vec::new(),
        reads,
    }
    .expr(expr)
}

struct Rewrite<'r> {
    /// The variables of the comprehensions around the expression rewritten.
    bound: Vec<String>,
    reads: &'r mut Vec<ReadPath>,
}

impl Rewrite<'_> {
    fn expr(&mut self, expr: &IdedExpr) -> IdedExpr {
        let id = expr.id;
        let node = |expr| IdedExpr { id, expr };
        match &expr.expr {
            Expr::Select(select) if !select.test => match self.path(expr) {
                Some(segments) => node(self.read(segments, Read::Value)),
                None => {
                    let mut select = select.clone();
                    select.operand = Box::new(self.expr(&select.operand));
                    node(Expr::Select(select))
                }
            },
            Expr::Call(call) => node(self.call(call)),
            Expr::Comprehension(c) => node(Expr::Comprehension(Box::new(self.comprehension(c)))),
            Expr::List(_) | Expr::Map(_) | Expr::Struct(_) => {
                node(super::optimize::map_elements(&expr.expr, |e| self.expr(e)))
            }
            Expr::Select(_) | Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => expr.clone(),
        }
    }

    fn call(&mut self, call: &CallExpr) -> Expr {
        if call.target.is_none()
            && let [left, right] = call.args.as_slice()
        {
            let null_test = match call.func_name.as_str() {
                operators::EQUALS => Some(Read::IsNull),
                operators::NOT_EQUALS => Some(Read::NotNull),
                _ => None,
            };
            if let Some(read) = null_test {
                let tested = match (is_null(left), is_null(right)) {
                    (false, true) => Some(left),
                    (true, false) => Some(right),
                    _ => None,
                };
                if let Some(segments) = tested.and_then(|t| self.path(t))
                    && segments.first().is_some_and(|root| root != "params")
                {
                    return self.read(segments, read);
                }
            }
            if call.func_name == "matches" {
                return Expr::Call(CallExpr {
                    func_name: super::regex::FAST_NAME.to_owned(),
                    target: None,
                    args: vec![self.expr(left), self.expr(right)],
                });
            }
            if let Some((_, function, _)) =
                COMPARISONS.iter().find(|(op, _, _)| *op == call.func_name)
            {
                return Expr::Call(CallExpr {
                    func_name: (*function).to_owned(),
                    target: None,
                    args: vec![self.expr(left), self.expr(right)],
                });
            }
        }
        Expr::Call(CallExpr {
            func_name: call.func_name.clone(),
            target: call.target.as_ref().map(|t| Box::new(self.expr(t))),
            args: call.args.iter().map(|a| self.expr(a)).collect(),
        })
    }

    /// The iteration range and the initial accumulator are evaluated outside
    /// the comprehension; the rest sees its variables.
    fn comprehension(&mut self, c: &ComprehensionExpr) -> ComprehensionExpr {
        let iter_range = self.expr(&c.iter_range);
        let accu_init = self.expr(&c.accu_init);
        let depth = self.bound.len();
        self.bound.push(c.iter_var.clone());
        self.bound.extend(c.iter_var2.iter().cloned());
        self.bound.push(c.accu_var.clone());
        let rewritten = ComprehensionExpr {
            iter_range,
            iter_var: c.iter_var.clone(),
            iter_var2: c.iter_var2.clone(),
            accu_var: c.accu_var.clone(),
            accu_init,
            loop_cond: self.expr(&c.loop_cond),
            loop_step: self.expr(&c.loop_step),
            result: self.expr(&c.result),
        };
        self.bound.truncate(depth);
        rewritten
    }

    /// The segments of `expr` when it is a variable or a field path on one
    /// that the resolver may answer: not a comprehension's variable, nor one
    /// of the interpreter's own (`@result`); of `params`, a param.
    fn path(&self, expr: &IdedExpr) -> Option<Vec<String>> {
        let segments = segments(expr)?;
        let root = segments.first()?;
        // the resolver serves a param's own fields, not deeper ones
        let param_field = root != "params" || segments.len() == 2;
        (param_field && !root.starts_with('@') && !self.bound.contains(root)).then_some(segments)
    }

    fn read(&mut self, segments: Vec<String>, read: Read) -> Expr {
        let path = ReadPath::new(segments, read);
        let name = path.name.clone();
        self.reads.push(path);
        Expr::Ident(name)
    }
}

fn is_null(expr: &IdedExpr) -> bool {
    matches!(expr.expr, Expr::Literal(LiteralValue::Null))
}

/// A function added to a context: the shape `cel` stores (its own alias is
/// private), which takes the call's evaluated arguments as they are.
pub(crate) type Function = Box<
    dyn for<'c, 'a> Fn(&mut FunctionContext<'c, 'a>) -> Result<CowVal<'c, 'a>, ExecutionError>
        + Send
        + Sync,
>;

/// Adds the comparison functions the fast trees call to `context`.
pub(crate) fn register(context: &mut cel::Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    for (_, name, holds) in COMPARISONS {
        let function: Function = Box::new(move |ftx| compare(ftx, holds));
        context.add_function(name, function)?;
    }
    Ok(())
}

/// What the interpreter does for a comparison operator, less the error it
/// prepares in advance: a failure only sends the engine to the optimized
/// tree, which reports it.
fn compare<'c, 'a>(
    ftx: &mut FunctionContext<'c, 'a>,
    holds: fn(Ordering) -> bool,
) -> Result<CowVal<'c, 'a>, ExecutionError> {
    let [left, right] = ftx.args.as_slice() else {
        return Err(ExecutionError::invalid_argument_count(2, ftx.args.len()));
    };
    let ordering = left
        .as_comparer()
        .ok_or_else(|| ExecutionError::function_error(ftx.name, "not comparable"))?
        .compare(right.as_ref())?;
    Ok(CowVal::Borrowed(if holds(ordering) {
        &CelBool::TRUE
    } else {
        &CelBool::FALSE
    }))
}

#[cfg(test)]
#[path = "fast_tree_test.rs"]
pub(crate) mod tests;
