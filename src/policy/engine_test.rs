//! The engine's fast paths (the fast tree, its skeleton, the lazy resolver)
//! decide every rule of every shipped policy as the interpreter decides the
//! rule as written, over facts bound up front: on each shipped case, and on
//! each case with a fact or a field of one absent or null, where a rule that
//! reads it must fail closed.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::*;
use crate::policy::check::case_input;

/// What a rule came to in one evaluation.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Quiet,
    /// Fired, with its message (and detail).
    Fired(String),
    /// Could not be evaluated: fired, failing closed.
    Unevaluated,
}

/// Each rule's outcome in the engine's decision.
fn decided(version: &PolicyVersion, decision: &Decision) -> Vec<(String, Outcome)> {
    version
        .rules()
        .iter()
        .map(|rule| {
            let found = decision
                .violations
                .iter()
                .chain(&decision.warnings)
                .find(|v| v.rule == rule.id);
            let outcome = match found {
                None => Outcome::Quiet,
                Some(v) if v.unevaluated => Outcome::Unevaluated,
                Some(v) => Outcome::Fired(v.message.clone()),
            };
            (rule.id.clone(), outcome)
        })
        .collect()
}

/// Each rule's outcome with none of the engine's rewrites or lazy bindings:
/// the rule's program as compiled, every fact converted and bound up front.
fn interpreted(
    version: &PolicyVersion,
    at: DateTime<Utc>,
    facts: &Facts,
) -> Vec<(String, Outcome)> {
    let mut context = version.base.context.new_inner_scope();
    context.add_variable_from_value(
        "params",
        FactValue::Map(version.declared.params.clone()).to_cel(),
    );
    context.add_variable_from_value("now", FactValue::Instant(at).to_cel());
    for (name, value) in facts.iter() {
        context.add_variable_from_value(name.as_str(), value.to_cel());
    }
    version
        .rules()
        .iter()
        .map(|rule| {
            let outcome = match cel::Value::resolve(&rule.program, &context) {
                Ok(cel::Value::Bool(false)) => Outcome::Quiet,
                Ok(cel::Value::Bool(true)) => {
                    let message = version.render_message(rule);
                    Outcome::Fired(match &rule.detail {
                        Some(detail) => with_detail(message, cel::Value::resolve(detail, &context)),
                        None => message,
                    })
                }
                Ok(_) | Err(_) => Outcome::Unevaluated,
            };
            (rule.id.clone(), outcome)
        })
        .collect()
}

/// `facts`, then `facts` with each fact, and each field of a fact that is a
/// map, absent, then null.
fn variants(facts: &Facts) -> Vec<(String, Facts)> {
    let mut out = vec![("as given".to_owned(), facts.clone())];
    for (name, value) in facts.iter() {
        let without: Facts = facts
            .iter()
            .filter(|(n, _)| *n != name)
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        out.push((format!("without {name}"), without));
        out.push((
            format!("{name} null"),
            facts.clone().with(name.clone(), FactValue::Null),
        ));
        let FactValue::Map(fields) = value else {
            continue;
        };
        for field in fields.keys() {
            let mut less = fields.clone();
            less.remove(field);
            out.push((
                format!("without {name}.{field}"),
                facts.clone().with(name.clone(), FactValue::Map(less)),
            ));
            let mut null = fields.clone();
            null.insert(field.clone(), FactValue::Null);
            out.push((
                format!("{name}.{field} null"),
                facts.clone().with(name.clone(), FactValue::Map(null)),
            ));
        }
    }
    out
}

#[test]
fn every_shipped_case_and_its_absent_facts_are_decided_as_the_interpreter_decides() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let policies = PolicySet::load_dir(&root).unwrap();
    let (mut evaluations, mut closed) = (0, 0);
    for name in policies.names() {
        let versions = policies.versions(name).unwrap();
        let cases = sorted_entries(&root.join(name).join("cases")).unwrap();
        for case in cases
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        {
            let (index, at, facts) = case_input(case, versions).unwrap();
            let version = &versions[index];
            for (how, facts) in variants(&facts) {
                let decision = version.evaluate(at, &facts).unwrap();
                let engine = decided(version, &decision);
                let reference = interpreted(version, at, &facts);
                assert_eq!(engine, reference, "{} {how}", case.display());
                evaluations += 1;
                closed += engine
                    .iter()
                    .filter(|(_, o)| *o == Outcome::Unevaluated)
                    .count();
            }
        }
    }
    // the variants do reach rules that cannot be evaluated
    assert!(evaluations > 1000 && closed > 100, "{evaluations} {closed}");
}
