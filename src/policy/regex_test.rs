//! `matches`: patterns collected at load and compiled on first use, recognised
//! by address, and the run-time fallback.

use super::*;
use crate::policy::{Facts, PolicySet, SourceFile};

fn demo(rules: &str) -> PolicySet {
    let text = format!(
        "name = \"demo\"\nversion = \"2026-11-01\"\neffective_from = 2026-11-01T08:00:00Z\n\n[params]\nasin = \"^B0[A-Z0-9]{{8}}$\"\nword = \"x\"\n\n{rules}"
    );
    PolicySet::from_sources([SourceFile {
        file: "test:demo/2026-11-01.toml".into(),
        name: "demo".into(),
        version: "2026-11-01".into(),
        text,
    }])
    .unwrap()
}

fn rule(id: &str, condition: &str) -> String {
    format!(
        "[[rules]]\nid = \"{id}\"\nseverity = \"error\"\ncondition = '''{condition}'''\nmessage = \"m\"\n\n"
    )
}

fn fired(set: &PolicySet, facts: &Facts) -> Vec<(String, bool)> {
    let at = "2026-11-10T18:00:00Z".parse().unwrap();
    let decision = set.evaluate("demo", at, facts).unwrap();
    decision
        .violations
        .iter()
        .map(|v| (v.rule.clone(), v.unevaluated))
        .collect()
}

#[test]
fn literal_and_param_patterns_are_collected_at_load_and_compiled_on_first_use() {
    let program = |source: &str| Arc::new(crate::policy::parse::parse(source).unwrap());
    let params: Arc<dyn Val> = Arc::from(
        Box::<dyn Val>::try_from(
            crate::policy::FactValue::map()
                .with("asin", "^B0$")
                .with("n", 1_i64)
                .to_cel(),
        )
        .unwrap(),
    );
    let programs = vec![
        program(r#"a.matches("x+") && matches(b, "y") && c.exists(i, i.matches(params.asin))"#),
        program(r#"a.matches(b) || a.matches(params.n) || a.matches("x+")"#),
    ];
    let patterns = Patterns::collect(programs.clone(), params);
    // "x+" twice (two literals, two addresses), "y", params.asin
    assert_eq!(patterns.len(), 4);
    assert!(
        !patterns.knows("x+"),
        "a copy of the text is not the literal"
    );
    let compiled = |patterns: &Patterns| {
        patterns
            .by_address
            .iter()
            .filter(|(_, p)| p.compiled.get().is_some())
            .count()
    };
    assert_eq!(compiled(&patterns), 0, "nothing compiles at load");
    let x: Vec<_> = patterns
        .by_address
        .iter()
        .filter(|(_, p)| &*p.text == "x+")
        .map(|(_, p)| p)
        .collect();
    assert!(
        x.len() == 2 && Arc::ptr_eq(x[0], x[1]),
        "one text, one pattern"
    );
    assert!(x[0].regex().unwrap().is_match("xx"));
    assert_eq!(compiled(&patterns), 2, "both addresses of x+ share it");
}

#[test]
fn matches_in_both_forms_with_literals_params_and_run_time_patterns() {
    let set = demo(
        &[
            rule("R-MYCE-1.member", r#"text.matches(r"(?i)^hello")"#),
            rule("R-MYCE-2.global", r#"matches(text, "world$")"#),
            rule("R-MYCE-3.param", "asin.matches(params.asin)"),
            rule("R-MYCE-4.runtime", "text.matches(params.word + \"y\")"),
            rule("R-MYCE-5.loop", "items.exists(i, i.matches(params.asin))"),
        ]
        .concat(),
    );
    let facts = Facts::new()
        .with("text", "Hello xy world")
        .with("asin", "B0TESTASIN")
        .with("items", vec!["nope", "B0COMPL001"]);
    let fired = fired(&set, &facts);
    let ids: Vec<&str> = fired.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "R-MYCE-1.member",
            "R-MYCE-2.global",
            "R-MYCE-3.param",
            "R-MYCE-4.runtime",
            "R-MYCE-5.loop"
        ]
    );
    assert!(fired.iter().all(|(_, unevaluated)| !unevaluated));
    // the patterns known at load never reach the run-time cache
    let cache = CACHE.read().unwrap();
    assert!(cache.contains_key("xy"));
    for known in ["(?i)^hello", "world$", "^B0[A-Z0-9]{8}$"] {
        assert!(!cache.contains_key(known), "{known} went through the cache");
    }
}

#[test]
fn a_bad_pattern_or_argument_fails_closed() {
    let set = demo(
        &[
            rule("R-MYCE-1.bad", r#"text.matches("(unclosed")"#),
            rule("R-MYCE-2.type", r#"count.matches("1")"#),
            rule("R-MYCE-3.absent", r#"missing.matches("1")"#),
        ]
        .concat(),
    );
    let facts = Facts::new().with("text", "t").with("count", 1_i64);
    let fired = fired(&set, &facts);
    assert_eq!(
        fired,
        [
            ("R-MYCE-1.bad".to_owned(), true),
            ("R-MYCE-2.type".to_owned(), true),
            ("R-MYCE-3.absent".to_owned(), true)
        ]
    );
}
