//! The skeleton answers only with the interpreter's value.

use std::sync::Arc;

use super::*;
use crate::policy::engine::cel_env;
use crate::policy::fast_tree::tests::{
    Compiled, SOURCES, compiled, facts_variants, instant, params,
};

#[test]
fn the_skeleton_gives_the_interpreters_value_or_nothing() {
    let env = cel_env().unwrap();
    let extra = [
        "campaign.logo.width < 1 || campaign.tag == 'a' ? size(campaign.subject) : 0",
        "size(campaign.others) > 0 && 1 / 0 == 0",
        "renderableUrl(campaign.logo.url) && int('x') == 1",
        "campaign.missing || true",
        "1 && false",
        "int == type(1)",
        "localDate(campaign.startsAt, 'America/Los_Angeles') < addDays(campaign.startDate, -1)",
        "matches(campaign.subject, '^B0') && campaign.tag.matches('a')",
        "campaign.logo.width - 1 > campaign.logo.height * 2 + 1 && campaign.logo.width / 0 > 1",
        "campaign.logo.width % 7 == 5 || campaign.startsAt - duration('1h') > now",
        "campaign.tag + 'x' == 'ax' && matches(campaign.subject, campaign.tag)",
        "params.names == ['a', 'b'] && 'b' in params.names && params.missing == 1",
        "params.limit == 2 && params == params && size(params.names) == params.limit",
    ];
    let mut answers = 0;
    // each plan over every variant in turn: a call site sees other types
    for source in SOURCES.iter().chain(&extra) {
        let Compiled {
            slow,
            fast,
            names,
            params_val,
            mut patterns,
        } = compiled(source);
        let mut planner = Planner {
            names: &names,
            params: &params(),
            env: &env,
            patterns: &patterns,
            interpreted: Vec::new(),
        };
        let plan = planner.plan(&fast);
        let interpreted = planner.interpreted;
        patterns.extend(interpreted);
        let patterns = Arc::new(patterns);
        let mut context = cel::Context::with_env(Arc::clone(&env));
        crate::policy::regex::register(&mut context, Arc::clone(&patterns)).unwrap();
        crate::policy::fast_tree::register(&mut context).unwrap();
        for facts in facts_variants() {
            let bindings = Bindings::new(params_val.as_ref(), &names, &facts, instant());
            let mut scope = context.new_inner_scope();
            scope.set_variable_resolver(&bindings);
            let skeleton = Skeleton {
                context: &scope,
                bindings: &bindings,
                env: &env,
                patterns: &patterns,
            };
            let interpreted = cel::Value::resolve(&slow, &scope);
            let answered = skeleton
                .eval(&plan)
                .map(|v| cel::Value::try_from(v.as_ref()).unwrap());
            answers += usize::from(answered.is_some());
            match (&interpreted, &answered) {
                (_, None) => {}
                (Ok(value), Some(answer)) => {
                    assert_eq!(answer, value, "{source} over {facts:?}")
                }
                (Err(e), Some(answer)) => {
                    panic!("{source} over {facts:?}: {answer:?} where the interpreter fails: {e}")
                }
            }
        }
    }
    // it does answer, and not only for literals
    assert!(answers > SOURCES.len(), "{answers}");
}
