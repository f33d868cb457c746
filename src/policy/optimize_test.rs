//! The rewritten tree evaluates as the program does: same values, and a
//! failure wherever the program fails.

use std::sync::Arc;

use super::*;
use crate::policy::bindings::to_val;
use crate::policy::engine::cel_env;

fn params() -> BTreeMap<String, FactValue> {
    [
        ("limit", FactValue::Int(2)),
        ("ratio", FactValue::Float(1.5)),
        ("on", FactValue::Bool(true)),
        ("pattern", FactValue::String("^B0".to_owned())),
        ("names", FactValue::list(["a", "b"])),
        ("none", FactValue::Null),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Evaluates `source` as compiled and as rewritten, with `x`, `s` and
/// `items` bound and engage's `matches` registered.
fn both(source: &str) -> (Result<cel::Value, String>, Result<cel::Value, String>) {
    let x = FactValue::Int(3);
    let s = FactValue::String("B0X".to_owned());
    let items = FactValue::list(["B01", "zz"]);
    let env = cel_env().unwrap();
    let program = crate::policy::parse::parse(source).unwrap();
    let optimized = optimize(&program, &params());
    let params_val: Arc<dyn cel::common::value::Val> = Arc::from(
        Box::<dyn cel::common::value::Val>::try_from(FactValue::Map(params()).to_cel()).unwrap(),
    );
    let patterns = crate::policy::regex::Patterns::collect(
        vec![Arc::new(optimized.clone())],
        Arc::clone(&params_val),
    );
    let mut context = cel::Context::with_env(env);
    crate::policy::regex::register(&mut context, Arc::new(patterns)).unwrap();
    context.add_variable_as_val("params", params_val.clone_as_boxed());
    context.add_variable_as_val("x", to_val(&x));
    context.add_variable_as_val("s", to_val(&s));
    context.add_variable_as_val("items", to_val(&items));
    let text = |r: cel::ResolveResult| r.map_err(|e| e.to_string());
    (
        text(cel::Value::resolve(&program, &context)),
        text(cel::Value::resolve(&optimized, &context)),
    )
}

/// Each condition with whether its program evaluates: an optimized tree gives
/// the program's result, or fails where the program fails.
#[test]
fn rewritten_conditions_give_the_programs_results() {
    for (source, evaluates) in [
        ("x > params.limit", true),
        ("double(x) * params.ratio > 4.0 && params.on", true),
        ("params.none == null", true),
        ("s.matches(params.pattern)", true),
        ("matches(s, params.pattern) && !s.matches('^Z')", true),
        ("items.exists(i, !i.matches(params.pattern))", true),
        ("items.filter(i, !(i in params.names)).size() == 2", true),
        ("!(x > 1) || !params.on", true),
        ("has(params.limit) && !has(params.absent)", true),
        ("[params.limit, {'k': params.ratio}][1].k == 1.5", true),
        ("!x", false),
        ("!undeclared", false),
        ("params.absent > 1", false),
        ("x.matches('1')", false),
        ("s.matches('(')", false),
        ("!s.matches(x)", false),
    ] {
        let (program, optimized) = both(source);
        assert_eq!(program.is_ok(), evaluates, "{source}: {program:?}");
        if evaluates {
            assert_eq!(program, optimized, "{source}");
        } else {
            assert!(optimized.is_err(), "{source}: {optimized:?}");
        }
    }
}

#[test]
fn not_becomes_a_conditional_and_params_literals() {
    let program = crate::policy::parse::parse("!(x > params.limit)").unwrap();
    let Expr::Call(call) = optimize(&program, &params()).expr else {
        panic!("not a call");
    };
    assert_eq!(call.func_name, operators::CONDITIONAL);
    let Expr::Call(greater) = &call.args[0].expr else {
        panic!("not a call");
    };
    assert!(matches!(
        greater.args[1].expr,
        Expr::Literal(LiteralValue::Int(_))
    ));
}
