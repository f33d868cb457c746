//! Policy evaluation of one campaign submission: the campaign policy, the
//! promotion policy and the content policy over the subject and the section
//! header, merged, exactly as `POST /v1/campaigns` does it (issue 3's goal:
//! <= 20 us). Facts come from the shipped valid cases.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    reason = "criterion_group! makes undocumented pub fns; a broken setup panics"
)]

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use engage::policy::{Decision, Facts, PolicySet};

fn case_facts(path: &str) -> Facts {
    let text = std::fs::read_to_string(path).unwrap();
    let table: toml::Table = text.parse().unwrap();
    Facts::from_toml(table["facts"].as_table().unwrap()).unwrap()
}

fn submission(c: &mut Criterion) {
    let policies = PolicySet::bundled();
    let campaign = case_facts("policies/campaign/cases/valid.toml");
    let promotion = case_facts("policies/promotion/cases/valid.toml");
    let at: DateTime<Utc> = "2026-11-10T18:00:00Z".parse().unwrap();
    let subject = Facts::new()
        .with("text", "New from a brand you follow")
        .with("channel", "campaign")
        .with("header", true);
    let header = Facts::new()
        .with("text", "Gifts for the trail")
        .with("channel", "campaign")
        .with("header", true);

    let evaluate = || {
        let decisions = vec![
            policies.evaluate("campaign", at, &campaign).unwrap(),
            policies.evaluate("promotion", at, &promotion).unwrap(),
            policies
                .evaluate("content", at, &subject)
                .unwrap()
                .with_field("subject"),
            policies
                .evaluate("content", at, &header)
                .unwrap()
                .with_field("sectionHeader"),
        ];
        Decision::merge_all(decisions)
    };
    assert!(
        evaluate().is_allowed(),
        "the bench must evaluate a valid submission: {:?}",
        evaluate()
    );
    c.bench_function("policy/one_submission", |b| {
        b.iter(|| black_box(evaluate()))
    });
    c.bench_function("policy/campaign_only", |b| {
        b.iter(|| black_box(policies.evaluate("campaign", at, &campaign).unwrap()))
    });
}

/// Every bundled version parsed, checked and planned: what each Lambda function's
/// cold start did before a bundled policy was parsed on its first use, and what a
/// process that evaluates every policy still does once.
fn load(c: &mut Criterion) {
    c.bench_function("policy/load_bundled", |b| {
        b.iter(|| {
            let set = PolicySet::bundled();
            for name in set.names() {
                black_box(set.versions(name).unwrap());
            }
        })
    });
}

criterion_group!(benches, submission, load);
criterion_main!(benches);
