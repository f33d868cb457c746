//! The fast tree succeeds exactly where the optimized tree does, with the
//! same value, over facts that can and cannot follow its paths.

use std::collections::BTreeMap;
use std::sync::Arc;

use cel::common::types::CelNull;
use cel::common::value::Val;
use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::policy::bindings::{Bindings, to_val};
use crate::policy::engine::cel_env;
use crate::policy::facts::{FactValue, Facts};
use crate::policy::optimize::optimize;
use crate::policy::paths::Names;
use crate::policy::regex::Patterns;

pub(crate) fn instant() -> DateTime<Utc> {
    "2026-11-10T18:00:00Z".parse().unwrap()
}

pub(crate) fn params() -> BTreeMap<String, FactValue> {
    [
        ("limit", FactValue::Int(2)),
        ("names", FactValue::list(["a", "b"])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// What a version keeps of one rule whose condition is `source`, over [`params`].
pub(crate) struct Compiled {
    /// The optimized tree.
    pub slow: IdedExpr,
    /// Its fast tree.
    pub fast: IdedExpr,
    /// What the two read.
    pub names: Names,
    /// The params as a value.
    pub params_val: Arc<dyn Val>,
    /// The literal patterns of both.
    pub patterns: Patterns,
}

pub(crate) fn compiled(source: &str) -> Compiled {
    let program = crate::policy::parse::parse(source).unwrap();
    let slow = optimize(&program, &params());
    let mut reads = Vec::new();
    let fast = fast_tree(&slow, &mut reads);
    ReadPath::collect(&slow, &mut reads);
    let params_val: Arc<dyn Val> =
        Arc::from(Box::<dyn Val>::try_from(FactValue::Map(params()).to_cel()).unwrap());
    let patterns = Patterns::collect(
        vec![Arc::new(slow.clone()), Arc::new(fast.clone())],
        Arc::clone(&params_val),
    );
    Compiled {
        slow,
        fast,
        names: Names::new(reads),
        params_val,
        patterns,
    }
}

/// Evaluates `source` optimized and as its fast tree against `facts`.
fn both(source: &str, facts: &Facts) -> (Result<cel::Value, String>, Result<cel::Value, String>) {
    let env = cel_env().unwrap();
    let Compiled {
        slow,
        fast,
        names,
        params_val,
        patterns,
    } = compiled(source);
    let mut context = cel::Context::with_env(env);
    crate::policy::regex::register(&mut context, Arc::new(patterns)).unwrap();
    register(&mut context).unwrap();
    let bindings = Bindings::new(params_val.as_ref(), &names, facts, instant());
    let mut scope = context.new_inner_scope();
    scope.set_variable_resolver(&bindings);
    let run = |e: &IdedExpr| cel::Value::resolve(e, &scope).map_err(|e| e.to_string());
    (run(&slow), run(&fast))
}

pub(crate) const SOURCES: &[&str] = &[
    "campaign.logo != null && campaign.logo.width < params.limit * campaign.logo.height",
    "campaign.logo == null",
    "null == campaign.logo",
    "null != campaign.logo.url",
    "theme != null && (campaign.startsAt < theme.startsAt || campaign.startsAt >= theme.endsAt)",
    "campaign.subject.startsWith('B0') && size(campaign.subject) > 1",
    "campaign.tag in params.names",
    "!(campaign.tag in params.names)",
    "campaign.others.exists(o, o.startDate > campaign.startDate)",
    "campaign.others.filter(campaign, campaign.startDate <= '2026-11-20').map(o, o.nickname)",
    "campaign.startsAt - now < hours(params.limit)",
    "campaign.logo.width >= 'x'",
    "campaign.subject.matches('^B0')",
    "has(campaign.logo.url)",
    "[campaign.tag, campaign.logo.url]",
    "{'k': campaign.logo.width}",
];

pub(crate) fn facts_variants() -> Vec<Facts> {
    let logo = FactValue::map()
        .with("width", 600_i64)
        .with("height", 200_i64)
        .with("url", "https://x");
    let other = FactValue::map()
        .with("startDate", "2026-11-21")
        .with("nickname", "n");
    let campaign = FactValue::map()
        .with("logo", logo.clone())
        .with("subject", "B0 new")
        .with("tag", "a")
        .with("startDate", "2026-11-20")
        .with("startsAt", instant() + Duration::days(10))
        .with("others", FactValue::list([other]));
    let theme = FactValue::map()
        .with("startsAt", instant())
        .with("endsAt", instant() + Duration::days(30));
    vec![
        Facts::new()
            .with("campaign", campaign.clone())
            .with("theme", theme.clone()),
        Facts::new()
            .with("campaign", campaign.clone().with("logo", FactValue::Null))
            .with("theme", FactValue::Null),
        Facts::new().with(
            "campaign",
            campaign
                .clone()
                .with("logo", FactValue::map().with("width", "wide"))
                .with("tag", 3_i64),
        ),
        Facts::new().with("campaign", FactValue::map()),
        Facts::new().with("campaign", "not a map"),
        Facts::new(),
    ]
}

#[test]
fn fast_trees_succeed_where_the_optimized_ones_do_with_the_same_value() {
    for facts in facts_variants() {
        for source in SOURCES {
            let (slow, fast) = both(source, &facts);
            match &slow {
                Ok(_) => assert_eq!(fast, slow, "{source} over {facts:?}"),
                Err(_) => assert!(fast.is_err(), "{source} over {facts:?}: {fast:?}"),
            }
        }
    }
}

#[test]
fn paths_null_tests_and_comparisons_are_rewritten_bound_variables_are_not() {
    let program = crate::policy::parse::parse(
        "campaign.logo != null && o.x < 1 && [1].exists(o, o.y == null)",
    )
    .unwrap();
    let mut reads = Vec::new();
    let fast = format!("{:?}", fast_tree(&program, &mut reads));
    let names: Vec<&str> = reads.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["campaign.logo!=null", "o.x"]);
    assert!(fast.contains("\"!<\""), "{fast}");
    assert!(!fast.contains("\"o.y"), "{fast}");
}

#[test]
fn a_null_test_is_the_converted_fact_compared_with_null() {
    let kinds = [
        FactValue::Null,
        FactValue::Bool(false),
        FactValue::Int(0),
        FactValue::Float(0.0),
        FactValue::Float(f64::NAN),
        FactValue::String(String::new()),
        FactValue::Instant(instant()),
        FactValue::Duration(Duration::zero()),
        FactValue::List(Vec::new()),
        FactValue::map(),
    ];
    for kind in kinds {
        let facts = Facts::new().with("x", kind.clone());
        let converted = to_val(&kind);
        let is_null = matches!(kind, FactValue::Null);
        assert_eq!(converted.equals(&CelNull), is_null, "{kind:?}");
        assert_eq!(CelNull.equals(converted.as_ref()), is_null, "{kind:?}");
        for source in ["x == null", "null != x"] {
            let (slow, fast) = both(source, &facts);
            assert_eq!(fast, slow, "{source} over {kind:?}");
        }
    }
}
