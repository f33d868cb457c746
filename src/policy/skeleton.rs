//! The boolean skeleton of a fast tree, planned at load and evaluated
//! without the interpreter.
//!
//! After the fast tree, most of a condition's cost was the interpreter's own
//! bookkeeping around trivial steps: each `&&`, each comparison, each
//! variable went through its operator-name matching, its scope walk, its
//! function lookups by name in the environment's maps, its argument vectors.
//! The conditions are mostly a skeleton of such steps over a few function
//! calls. Walking that skeleton directly still matched each call's name
//! against the operators' and looked each variable up by name; so the
//! skeleton is planned once per version instead ([`Node`]): each operator
//! decided, each variable the index of its name (see `paths.rs`), each
//! non-scalar param its value, each literal pattern its compiled regex.
//! Evaluating a plan uses the value operations of `cel`'s own types
//! (`equals`, `Comparer`, `Container`, `Adder`, ...), the global functions
//! of the environment (`Env::find_overload`, as the interpreter calls them)
//! and engage's own `matches`; anything else (member calls, macros,
//! indexing) is handed to the interpreter as it is.
//!
//! It answers only where the interpreter gives the same value: any step that
//! fails, or that the interpreter would have to forgive (`error && false`),
//! gives up, and the engine evaluates the fast tree, then the optimized tree,
//! with the interpreter (see `engine.rs`): failures keep their messages.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use cel::IdedExpr;
use cel::common::ast::{Expr, LiteralValue, operators};
use cel::common::functions::Function;
use cel::common::types::{CelBool, CelString, Type};
use cel::common::value::{CowVal, Val};

use super::bindings::Bindings;
use super::facts::FactValue;
use super::fast_tree::holds;
use super::paths::{Names, Read};
use super::regex::{FAST_NAME, Pattern, Patterns};

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

/// One step of a planned skeleton.
#[derive(Debug)]
pub(crate) enum Node {
    Literal(LiteralValue),
    /// `params.NAME` of a param that is not a scalar (a scalar is a literal
    /// already, see `optimize.rs`): the value the resolver gives for it.
    Param(Box<dyn Val>),
    /// A name the resolver answers, by its index in the version's names;
    /// the identifier, for the interpreter, when it has no answer.
    Name(usize, Arc<IdedExpr>),
    And(Box<(Node, Node)>),
    Or(Box<(Node, Node)>),
    Conditional(Box<(Node, Node, Node)>),
    /// `==`, or `!=` when negated.
    Equals(Box<(Node, Node)>, bool),
    In(Box<(Node, Node)>),
    /// A comparison of the fast tree (see `fast_tree.rs`): the orderings
    /// for which it holds.
    Compare(Box<(Node, Node)>, fn(Ordering) -> bool),
    /// `matches` with a literal pattern, compiled on first use.
    Matches(Box<Node>, Arc<Pattern>),
    /// `matches` with a pattern known only when evaluated.
    MatchesAny(Box<(Node, Node)>),
    Arithmetic(Box<(Node, Node)>, Arithmetic),
    /// A global function of the environment.
    Global(Box<Global>),
    /// Anything else: the interpreter's.
    Interpret(Arc<IdedExpr>),
}

/// The arithmetic operators, as the interpreter applies them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arithmetic {
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
}

impl Arithmetic {
    fn of(name: &str) -> Option<Arithmetic> {
        Some(match name {
            operators::ADD => Arithmetic::Add,
            operators::SUBSTRACT => Arithmetic::Subtract,
            operators::MULTIPLY => Arithmetic::Multiply,
            operators::DIVIDE => Arithmetic::Divide,
            operators::MODULO => Arithmetic::Modulo,
            _ => return None,
        })
    }

    fn apply<'a>(self, left: &(dyn Val + 'a), right: &(dyn Val + 'a)) -> Option<CowVal<'a, 'a>> {
        let value = match self {
            Arithmetic::Add => left.as_adder()?.add(right),
            Arithmetic::Subtract => left.as_subtractor()?.sub(right),
            Arithmetic::Multiply => left.as_multiplier()?.mul(right),
            Arithmetic::Divide => left.as_divider()?.div(right),
            Arithmetic::Modulo => left.as_modder()?.modulo(right),
        };
        Some(CowVal::Owned(value.ok()?.into_owned()))
    }
}

/// A call to a global function of the environment, found by its arguments'
/// types; the call, for the interpreter, when none takes them.
pub(crate) struct Global {
    name: String,
    args: Vec<Node>,
    call: Arc<IdedExpr>,
    /// The function found for the argument types of the first call:
    /// `Env::find_overload` looked the name up in the environment's map and
    /// tried each overload's parameter types, on every call, while it picks
    /// the overload by the types alone (`Type::is_assignable` reads nothing
    /// else of a value), so the same types find the same function.
    found: OnceLock<(Vec<Type>, Function)>,
}

impl std::fmt::Debug for Global {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Global")
            .field("name", &self.name)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

impl Global {
    /// The environment's overload for `args`, as `Env::find_overload` finds it.
    fn overload(&self, env: &cel::Env, args: &[CowVal<'_, '_>]) -> Option<Function> {
        if let Some((types, function)) = self.found.get()
            && types.len() == args.len()
            && types.iter().zip(args).all(|(t, a)| t == a.get_type())
        {
            return Some(*function);
        }
        let function = env.find_overload(&self.name, args)?;
        // the first types found stay: a call site's types seldom vary
        let _ = self.found.set((
            args.iter().map(|a| a.get_type().to_owned()).collect(),
            function,
        ));
        Some(function)
    }
}

/// What a plan is made with: the version's names, params, environment and
/// patterns (of the fast trees the plans are made of).
pub(crate) struct Planner<'p> {
    pub(crate) names: &'p Names,
    pub(crate) params: &'p BTreeMap<String, FactValue>,
    pub(crate) env: &'p cel::Env,
    pub(crate) patterns: &'p Patterns,
    /// The parts handed to the interpreter, whose patterns the version's
    /// `matches` must know too.
    pub(crate) interpreted: Vec<Arc<IdedExpr>>,
}

impl Planner<'_> {
    /// The plan of the fast tree `expr`.
    pub(crate) fn plan(&mut self, expr: &IdedExpr) -> Node {
        match &expr.expr {
            Expr::Literal(literal) => Node::Literal(literal.clone()),
            Expr::Ident(name) => self.name(name, expr),
            Expr::Call(call) if call.target.is_none() => {
                let name = call.func_name.as_str();
                match call.args.as_slice() {
                    [left, right] => {
                        let pair = |planner: &mut Self| {
                            Box::new((planner.plan(left), planner.plan(right)))
                        };
                        match name {
                            operators::LOGICAL_AND => Node::And(pair(self)),
                            operators::LOGICAL_OR => Node::Or(pair(self)),
                            operators::EQUALS => Node::Equals(pair(self), false),
                            operators::NOT_EQUALS => Node::Equals(pair(self), true),
                            operators::IN => Node::In(pair(self)),
                            FAST_NAME => match self.literal_regex(right) {
                                Some(regex) => Node::Matches(Box::new(self.plan(left)), regex),
                                None => Node::MatchesAny(pair(self)),
                            },
                            _ => match (holds(name), Arithmetic::of(name)) {
                                (Some(holds), _) => Node::Compare(pair(self), holds),
                                (None, Some(arithmetic)) => {
                                    Node::Arithmetic(pair(self), arithmetic)
                                }
                                (None, None) => self.global(name, &call.args, expr),
                            },
                        }
                    }
                    [condition, then, otherwise] if name == operators::CONDITIONAL => {
                        Node::Conditional(Box::new((
                            self.plan(condition),
                            self.plan(then),
                            self.plan(otherwise),
                        )))
                    }
                    args => self.global(name, args, expr),
                }
            }
            _ => self.interpret(expr),
        }
    }

    fn interpret(&mut self, expr: &IdedExpr) -> Node {
        let expr = Arc::new(expr.clone());
        self.interpreted.push(Arc::clone(&expr));
        Node::Interpret(expr)
    }

    /// As the interpreter resolves an identifier: the resolver first (in the
    /// evaluation's scope, the innermost), else the interpreter.
    fn name(&mut self, name: &str, expr: &IdedExpr) -> Node {
        // under a container, the interpreter would ask for other names first
        let found = match self.env.container_name() {
            "" => self.names.find(name),
            _ => None,
        };
        let Some((index, path)) = found else {
            return self.interpret(expr);
        };
        if path.read == Read::Value && path.segments.first().is_some_and(|r| r == "params") {
            // the resolver serves `params.NAME` from the params converted
            // the same way (see `engine.rs`); a missing one is not served
            let param = match path.segments.as_slice() {
                [_, field] => self.params.get(field),
                _ => None,
            };
            let value = param.and_then(|p| Box::<dyn Val>::try_from(p.to_cel()).ok());
            return match value {
                Some(value) => Node::Param(value),
                None => self.interpret(expr),
            };
        }
        Node::Name(index, Arc::new(expr.clone()))
    }

    /// A call the interpreter makes to a global function (an operator's name
    /// it treats apart, or a name under a container, it is left).
    fn global(&mut self, name: &str, args: &[IdedExpr], expr: &IdedExpr) -> Node {
        if OPERATORS.contains(&name) || !self.env.container_name().is_empty() {
            return self.interpret(expr);
        }
        let args = args.iter().map(|a| self.plan(a)).collect();
        let call = self.interpret(expr);
        let Node::Interpret(call) = call else {
            return call;
        };
        Node::Global(Box::new(Global {
            name: name.to_owned(),
            args,
            call,
            found: OnceLock::new(),
        }))
    }

    /// The pattern of a string literal of the fast tree.
    fn literal_regex(&self, pattern: &IdedExpr) -> Option<Arc<Pattern>> {
        let Expr::Literal(LiteralValue::String(text)) = &pattern.expr else {
            return None;
        };
        self.patterns.get(text.inner()).cloned()
    }
}

fn bool<'a>(b: bool) -> CowVal<'a, 'a> {
    CowVal::Borrowed(if b { &CelBool::TRUE } else { &CelBool::FALSE })
}

fn as_bool(value: &CowVal<'_, '_>) -> Option<bool> {
    value.downcast_ref::<CelBool>().map(|b| *b.inner())
}

impl<'a> Skeleton<'a, '_> {
    /// The value of `node`, or `None` where the interpreter must decide.
    pub(crate) fn eval(&self, node: &'a Node) -> Option<CowVal<'a, 'a>> {
        match node {
            Node::Literal(literal) => Some(literal.to_val()),
            Node::Param(value) => Some(CowVal::Borrowed(value.as_ref())),
            Node::Name(index, expr) => match self.bindings.resolve_index(*index) {
                Some(value) => Some(value),
                None => self.interpret(expr),
            },
            Node::And(pair) => {
                if !as_bool(&self.eval(&pair.0)?)? {
                    return Some(bool(false));
                }
                Some(bool(as_bool(&self.eval(&pair.1)?)?))
            }
            Node::Or(pair) => {
                if as_bool(&self.eval(&pair.0)?)? {
                    return Some(bool(true));
                }
                Some(bool(as_bool(&self.eval(&pair.1)?)?))
            }
            Node::Conditional(parts) => {
                if as_bool(&self.eval(&parts.0)?)? {
                    self.eval(&parts.1)
                } else {
                    self.eval(&parts.2)
                }
            }
            Node::Equals(pair, negated) => {
                let equal = self.eval(&pair.0)?.equals(self.eval(&pair.1)?.as_ref());
                Some(bool(equal != *negated))
            }
            Node::In(pair) => {
                let (left, right) = (self.eval(&pair.0)?, self.eval(&pair.1)?);
                Some(bool(right.as_container()?.contains(left.as_ref()).ok()?))
            }
            Node::Compare(pair, holds) => {
                let (left, right) = (self.eval(&pair.0)?, self.eval(&pair.1)?);
                let ordering = left.as_comparer()?.compare(right.as_ref()).ok()?;
                Some(bool(holds(ordering)))
            }
            Node::Matches(text, pattern) => {
                let text = self.eval(text)?;
                Some(bool(
                    pattern
                        .regex()?
                        .is_match(text.downcast_ref::<CelString>()?.inner()),
                ))
            }
            Node::MatchesAny(pair) => {
                let (text, pattern) = (self.eval(&pair.0)?, self.eval(&pair.1)?);
                let (text, pattern) = (
                    text.downcast_ref::<CelString>()?,
                    pattern.downcast_ref::<CelString>()?,
                );
                Some(bool(
                    self.patterns.is_match(text.inner(), pattern.inner()).ok()?,
                ))
            }
            Node::Arithmetic(pair, arithmetic) => {
                let (left, right) = (self.eval(&pair.0)?, self.eval(&pair.1)?);
                arithmetic.apply(left.as_ref(), right.as_ref())
            }
            Node::Global(global) => {
                // as the interpreter calls a global function: the
                // environment's overload for the argument types
                let values = global
                    .args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<Option<Vec<_>>>();
                match values.map(|v| (global.overload(self.env, &v), v)) {
                    Some((Some(function), values)) => function(values).ok(),
                    _ => self.interpret(&global.call),
                }
            }
            Node::Interpret(expr) => self.interpret(expr),
        }
    }

    fn interpret(&self, expr: &'a IdedExpr) -> Option<CowVal<'a, 'a>> {
        cel::Value::resolve_val(expr, self.context).ok()
    }
}

#[cfg(test)]
#[path = "skeleton_test.rs"]
mod tests;
