//! The boolean skeleton of a fast tree, evaluated without the interpreter.
//!
//! After the fast tree, most of a condition's cost was the interpreter's own
//! bookkeeping around trivial steps: each `&&`, each comparison, each
//! variable went through its operator-name matching, its scope walk, its
//! function lookups by name in the environment's maps, its argument vectors.
//! The conditions are mostly a skeleton of such steps over a few function
//! calls. Here the skeleton is walked directly, with the value operations of
//! `cel`'s own types (`equals`, `Comparer`, `Container`), the global
//! functions of the environment (`Env::find_overload`, as the interpreter
//! calls them) and engage's own `matches`; anything else (member calls,
//! macros, arithmetic, indexing) is handed to the interpreter as it is.
//!
//! It answers only where the interpreter gives the same value: any step that
//! fails, or that the interpreter would have to forgive (`error && false`),
//! gives up, and the engine evaluates the fast tree, then the optimized tree,
//! with the interpreter (see `engine.rs`): failures keep their messages.

use cel::IdedExpr;
use cel::common::ast::{Expr, operators};
use cel::common::types::{CelBool, CelString};
use cel::common::value::CowVal;
use cel::context::VariableResolver;

use super::bindings::Bindings;
use super::fast_tree::holds;
use super::regex::{FAST_NAME, Patterns};

/// What one evaluation needs: the context its interpreter uses, the same
/// resolver, and the version's environment and patterns.
pub(crate) struct Skeleton<'a, 'f> {
    pub(crate) context: &'a cel::Context<'a, 'a>,
    pub(crate) bindings: &'a Bindings<'f>,
    pub(crate) env: &'a cel::Env,
    pub(crate) patterns: &'a Patterns,
}

/// The operators the interpreter treats apart from functions: a call to one
/// of them is never looked up in the environment.
const OPERATORS: [&str; 27] = [
    operators::CONDITIONAL,
    operators::LOGICAL_AND,
    operators::LOGICAL_OR,
    operators::LOGICAL_NOT,
    operators::NOT_STRICTLY_FALSE,
    operators::EQUALS,
    operators::NOT_EQUALS,
    operators::LESS,
    operators::LESS_EQUALS,
    operators::GREATER,
    operators::GREATER_EQUALS,
    operators::ADD,
    operators::SUBSTRACT,
    operators::MULTIPLY,
    operators::DIVIDE,
    operators::MODULO,
    operators::NEGATE,
    operators::INDEX,
    operators::OPT_INDEX,
    operators::OPT_SELECT,
    operators::IN,
    operators::HAS,
    operators::ALL,
    operators::EXISTS,
    operators::EXISTS_ONE,
    operators::MAP,
    operators::FILTER,
];

fn bool<'a>(b: bool) -> CowVal<'a, 'a> {
    CowVal::Borrowed(if b { &CelBool::TRUE } else { &CelBool::FALSE })
}

fn as_bool(value: &CowVal<'_, '_>) -> Option<bool> {
    value.downcast_ref::<CelBool>().map(|b| *b.inner())
}

impl<'a> Skeleton<'a, '_> {
    /// The value of `expr`, or `None` where the interpreter must decide.
    pub(crate) fn eval(&self, expr: &'a IdedExpr) -> Option<CowVal<'a, 'a>> {
        match &expr.expr {
            Expr::Literal(literal) => Some(literal.to_val()),
            // the interpreter asks the resolver first, in the evaluation's scope
            Expr::Ident(name) => match self.bindings.resolve(name) {
                Some(value) => Some(value),
                None => self.interpret(expr),
            },
            Expr::Call(call) if call.target.is_none() => {
                match (call.func_name.as_str(), call.args.as_slice()) {
                    (operators::LOGICAL_AND, [left, right]) => {
                        if !as_bool(&self.eval(left)?)? {
                            return Some(bool(false));
                        }
                        Some(bool(as_bool(&self.eval(right)?)?))
                    }
                    (operators::LOGICAL_OR, [left, right]) => {
                        if as_bool(&self.eval(left)?)? {
                            return Some(bool(true));
                        }
                        Some(bool(as_bool(&self.eval(right)?)?))
                    }
                    (operators::CONDITIONAL, [condition, then, otherwise]) => {
                        if as_bool(&self.eval(condition)?)? {
                            self.eval(then)
                        } else {
                            self.eval(otherwise)
                        }
                    }
                    (operators::EQUALS, [left, right]) => {
                        Some(bool(self.eval(left)?.equals(self.eval(right)?.as_ref())))
                    }
                    (operators::NOT_EQUALS, [left, right]) => {
                        Some(bool(!self.eval(left)?.equals(self.eval(right)?.as_ref())))
                    }
                    (operators::IN, [left, right]) => {
                        let (left, right) = (self.eval(left)?, self.eval(right)?);
                        Some(bool(right.as_container()?.contains(left.as_ref()).ok()?))
                    }
                    (name, [left, right]) if name == FAST_NAME => {
                        let (text, pattern) = (self.eval(left)?, self.eval(right)?);
                        let (text, pattern) = (
                            text.downcast_ref::<CelString>()?,
                            pattern.downcast_ref::<CelString>()?,
                        );
                        Some(bool(
                            self.patterns.is_match(text.inner(), pattern.inner()).ok()?,
                        ))
                    }
                    (name, [left, right]) if holds(name).is_some() => {
                        let (left, right) = (self.eval(left)?, self.eval(right)?);
                        let ordering = left.as_comparer()?.compare(right.as_ref()).ok()?;
                        Some(bool(holds(name)?(ordering)))
                    }
                    (name, args)
                        if !OPERATORS.contains(&name) && self.env.container_name().is_empty() =>
                    {
                        // as the interpreter calls a global function: the
                        // environment's overload for the argument types
                        let values = args
                            .iter()
                            .map(|a| self.eval(a))
                            .collect::<Option<Vec<_>>>();
                        match values.map(|v| (self.env.find_overload(name, &v), v)) {
                            Some((Some(function), values)) => function(values).ok(),
                            _ => self.interpret(expr),
                        }
                    }
                    _ => self.interpret(expr),
                }
            }
            _ => self.interpret(expr),
        }
    }

    fn interpret(&self, expr: &'a IdedExpr) -> Option<CowVal<'a, 'a>> {
        cel::Value::resolve_val(expr, self.context).ok()
    }
}

#[cfg(test)]
#[path = "skeleton_test.rs"]
mod tests;
