//! Engine tests: version selection, fail-closed evaluation, every violation,
//! and the policy check over the shipped and broken policy trees.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};

use super::*;

/// The check as `engage policy check` runs it, with the jobs' hooks: the shipped
/// sequences' invalid files are rejected by them. Only this test reaches above `policy`.
fn check(dir: &Path) -> CheckReport {
    crate::jobs::check_policies(dir)
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn source(name: &str, version: &str, text: &str) -> SourceFile {
    SourceFile {
        file: format!("test:{name}/{version}.toml"),
        name: name.into(),
        version: version.into(),
        text: text.into(),
    }
}

fn policy(version: &str, from: &str, limit: i64, rules: &str) -> SourceFile {
    source(
        "demo",
        version,
        &format!(
            "name = \"demo\"\nversion = \"{version}\"\neffective_from = {from}\n\n[params]\nlimit = {limit}\n\n{rules}"
        ),
    )
}

const LIMIT_RULE: &str = r#"
[[rules]]
id = "R-MYCE-6"
severity = "error"
condition = "size(items) > params.limit"
message = "at most {limit} items"
field = "items"
"#;

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")
}

#[test]
fn newer_version_applies_only_from_its_effective_from() {
    let set = PolicySet::from_sources([
        policy("2026-11-01", "2026-11-01T00:00:00Z", 4, LIMIT_RULE),
        policy("2027-01-01", "2027-01-01T00:00:00Z", 2, LIMIT_RULE),
    ])
    .unwrap();
    let facts = Facts::new().with("items", vec!["a", "b", "c"]);
    let switch = at("2027-01-01T00:00:00Z");
    let before = switch - Duration::seconds(1);

    assert_eq!(
        set.in_force("demo", before).unwrap().version(),
        "2026-11-01"
    );
    let d = set.evaluate("demo", before, &facts).unwrap();
    assert_eq!(d.policy, "demo@2026-11-01");
    assert!(d.is_allowed());

    assert_eq!(
        set.in_force("demo", switch).unwrap().version(),
        "2027-01-01"
    );
    let d = set.evaluate("demo", switch, &facts).unwrap();
    assert_eq!(d.policy, "demo@2027-01-01");
    assert_eq!(d.fired(), ["R-MYCE-6"]);
    assert_eq!(d.violations[0].message, "at most 2 items");
    assert_eq!(d.violations[0].field.as_deref(), Some("items"));

    assert!(matches!(
        set.in_force("demo", at("2026-10-31T23:59:59Z")),
        Err(PolicyError::NotInForce { .. })
    ));
    assert!(matches!(
        set.in_force("nope", switch),
        Err(PolicyError::UnknownPolicy { .. })
    ));
}

#[test]
fn shipped_campaign_policy_has_the_seed_lead_only() {
    // Issue 12: no shipped version changes a number no seed changes.
    let set = PolicySet::load_dir(&shipped()).unwrap();
    for v in set.versions("campaign").unwrap() {
        assert_eq!(v.param_days("min_lead_days").unwrap(), Duration::days(6));
        assert!(
            crate::policy::check::not_at_midnight(v).is_none(),
            "{}",
            v.id()
        );
    }
}

#[test]
fn failing_rules_fail_closed() {
    let rules = r#"
[[rules]]
id = "R-MYCE-6.missing"
severity = "warning"
condition = "missing.fact > params.limit"
message = "m"

[[rules]]
id = "R-MYCE-6.not_bool"
severity = "error"
condition = "size(items)"
message = "m"

[[rules]]
id = "R-MYCE-6.ok"
severity = "error"
condition = "size(items) > params.limit"
message = "m"
"#;
    let set =
        PolicySet::from_sources([policy("2026-11-01", "2026-11-01T00:00:00Z", 4, rules)]).unwrap();
    let facts = Facts::new().with("items", vec!["a"]);
    let d = set
        .evaluate("demo", at("2026-11-02T00:00:00Z"), &facts)
        .unwrap();
    assert!(!d.is_allowed());
    assert_eq!(d.fired(), ["R-MYCE-6.missing", "R-MYCE-6.not_bool"]);
    assert!(d.violations.iter().all(|v| v.unevaluated));
    assert!(d.violations[0].message.contains("could not be evaluated"));
    assert!(
        d.violations[0].message.contains("missing"),
        "{}",
        d.violations[0].message
    );
    assert!(
        d.violations[1].message.contains("not a bool"),
        "{}",
        d.violations[1].message
    );
    assert!(d.warnings.is_empty());
}

#[test]
fn decision_lists_every_violated_rule() {
    let set = PolicySet::load_dir(&shipped()).unwrap();
    let now = at("2026-11-10T18:00:00Z");
    let facts = Facts::new()
        .with("now", now)
        .with("zone", "America/Los_Angeles")
        .with("frequencyCapDays", 7)
        .with(
            "brand",
            FactValue::map()
                .with("registered", false)
                .with("hasStorePage", false)
                .with("followerCount", 0),
        )
        .with(
            "campaign",
            FactValue::map()
                .with("purpose", "featured_product")
                .with("theme", FactValue::Null)
                .with("primaryAsin", "B0TESTASIN")
                .with("promotionId", FactValue::Null)
                .with(
                    "lifestyleImage",
                    FactValue::map()
                        .with("url", "https://img.example/u")
                        .with("width", 1000)
                        .with("height", 1000),
                )
                .with(
                    "complementaryAsins",
                    vec![
                        "B0COMPL001",
                        "B0COMPL002",
                        "B0COMPL003",
                        "B0COMPL004",
                        "B0COMPL005",
                    ],
                )
                .with("startDate", "2026-11-12")
                .with("startsAt", at("2026-11-12T08:00:00Z"))
                .with("subject", "")
                .with("sectionHeader", "Header")
                .with(
                    "logo",
                    FactValue::map()
                        .with("url", "https://img.example/u")
                        .with("width", 100)
                        .with("height", 100)
                        .with("format", "png")
                        .with("background", "transparent"),
                )
                .with("headerStyle", "dark")
                .with("nickname", "n")
                .with(
                    "others",
                    FactValue::List(vec![
                        FactValue::map()
                            .with("id", "c-2")
                            .with("nickname", "spring launch")
                            .with("status", "IN_REVIEW")
                            .with("startDate", "2026-11-15"),
                    ]),
                ),
        )
        .with("theme", FactValue::Null)
        .with("promotion", FactValue::Null);
    let d = set.evaluate("campaign", now, &facts).unwrap();
    let mut fired = d.fired();
    fired.sort_unstable();
    assert_eq!(
        fired,
        [
            "R-MYCE-1.followers",
            "R-MYCE-1.registered",
            "R-MYCE-1.store",
            "R-MYCE-13.lead",
            "R-MYCE-13.overlap",
            "R-MYCE-16.review_time",
            "R-MYCE-6.count",
            "R-MYCE-8.subject",
            "R-MYCE-9.aspect",
        ]
    );
    assert_eq!(d.warnings.len(), 1);
    // The overlap warning names the other campaign (its `detail`).
    assert!(
        d.warnings[0].message.ends_with("(spring launch)"),
        "{:?}",
        d.warnings
    );
    assert!(
        d.violations
            .iter()
            .all(|v| !v.unevaluated && v.policy == "campaign@2026-11-01")
    );
}

#[test]
fn typed_params_and_errors() {
    let set = PolicySet::bundled();
    let send = set.in_force("send", at("2026-11-20T00:00:00Z")).unwrap();
    assert_eq!(
        send.param_days("send_window_days").unwrap(),
        Duration::days(5)
    );
    assert_eq!(
        send.param_days("frequency_cap_days").unwrap(),
        Duration::days(7)
    );
    assert!((send.param_f64("complaint_rate_limit").unwrap() - 0.003).abs() < 1e-12);
    assert!(
        send.param_strings("required_headers")
            .unwrap()
            .contains(&"List-Unsubscribe")
    );
    assert!(matches!(
        send.param_i64("nope"),
        Err(PolicyError::Param { .. })
    ));
    assert!(send.param_i64("complaint_rate_limit").is_err());
    let promo = set
        .in_force("promotion", at("2026-11-20T00:00:00Z"))
        .unwrap();
    assert_eq!(
        promo.param_hours("promotion_min_age_hours").unwrap(),
        Duration::hours(24)
    );
}

#[test]
fn bundled_matches_the_directory() {
    let bundled = PolicySet::bundled();
    let dir = PolicySet::load_dir(&shipped()).unwrap();
    let names: Vec<&str> = bundled.names().collect();
    assert_eq!(names, dir.names().collect::<Vec<_>>());
    for name in [
        "campaign",
        "promotion",
        "send",
        "contact",
        "content",
        "message",
        "health",
    ] {
        assert!(names.contains(&name), "{name} not bundled");
    }
    // Each bundled policy parses on first use into the directory's versions.
    for name in names {
        let ids = |set: &PolicySet| -> Vec<String> {
            let versions = set.versions(name).unwrap();
            versions.iter().map(|v| v.id()).collect()
        };
        assert_eq!(ids(&bundled), ids(&dir), "{name}");
    }
}

/// A lazily loaded policy is parsed and checked on its first use, with the checks of an
/// eager load; its error comes back on every use, and the other policies still load.
#[test]
fn a_lazy_policy_that_does_not_parse_fails_each_use_only() {
    let broken = LIMIT_RULE.replace("size(items) > params.limit", "size(items) >");
    let same_instant = [
        policy("2026-11-01", "2026-11-01T00:00:00Z", 4, LIMIT_RULE),
        policy("2026-11-02", "2026-11-01T00:00:00Z", 2, LIMIT_RULE),
    ];
    for sources in [
        vec![policy("2026-11-01", "2026-11-01T00:00:00Z", 4, &broken)],
        same_instant.to_vec(),
    ] {
        assert!(PolicySet::from_sources(sources.clone()).is_err());
        let mut lazy = sources;
        let other = policy("2026-11-01", "2026-11-01T00:00:00Z", 4, LIMIT_RULE).text;
        let other = other.replace("name = \"demo\"", "name = \"other\"");
        lazy.push(source("other", "2026-11-01", &other));
        let set = PolicySet::lazy(lazy);
        for _ in 0..2 {
            let error = set.versions("demo").unwrap_err();
            assert!(matches!(error, PolicyError::Load { ref name, .. } if name == "demo"));
        }
        assert_eq!(set.versions("other").unwrap().len(), 1);
    }
}

#[test]
fn reserved_params_fact_is_rejected() {
    let set =
        PolicySet::from_sources([policy("2026-11-01", "2026-11-01T00:00:00Z", 4, LIMIT_RULE)])
            .unwrap();
    let facts = Facts::new().with("params", 1).with("items", vec!["a"]);
    assert!(matches!(
        set.evaluate("demo", at("2026-11-02T00:00:00Z"), &facts),
        Err(PolicyError::Fact { .. })
    ));
}

#[test]
fn check_passes_on_shipped_policies() {
    let report = check(&shipped());
    assert!(report.is_ok(), "{report}");
    assert!(report.versions >= 8);
    assert!(report.cases > 50);
    assert!(report.invalid_files >= 6);
    let text = report.to_string();
    assert!(text.contains("ok   campaign@2026-11-01 ("), "{text}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn invalid_files_fail_with_a_named_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("campaign");
    std::fs::create_dir_all(&dir).unwrap();
    // Every shipped invalid file, placed as a real version file, fails the check
    // naming the file and why.
    let invalid = shipped().join("campaign").join("invalid");
    let mut count = 0;
    for entry in std::fs::read_dir(&invalid).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let version = stem
            .split_once("--")
            .map_or(stem.as_str(), |(v, _)| v)
            .to_owned();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join(format!("{version}.toml"));
        std::fs::copy(&path, &target).unwrap();
        let report = check(tmp.path());
        assert!(!report.is_ok(), "{} was accepted", path.display());
        let failure = report.failures().next().unwrap().text.clone();
        assert!(failure.contains(&target.display().to_string()), "{failure}");
        let text = std::fs::read_to_string(&path).unwrap();
        for want in text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect-error:"))
        {
            assert!(failure.contains(want.trim()), "{failure} lacks {want}");
        }
        count += 1;
    }
    assert!(count >= 6);
}

#[test]
fn wrong_expectations_fail() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&shipped().join("campaign"), &tmp.path().join("campaign"));
    let case = tmp
        .path()
        .join("campaign/cases/complementary-too-many.toml");
    let text = std::fs::read_to_string(&case).unwrap();
    std::fs::write(
        &case,
        text.replace("[\"R-MYCE-6.count\"]", "[\"R-MYCE-6.duplicate\"]"),
    )
    .unwrap();
    // An invalid file that loads must fail too.
    std::fs::copy(
        shipped().join("campaign/2026-11-01.toml"),
        tmp.path()
            .join("campaign/invalid/2026-11-01--actually-valid.toml"),
    )
    .unwrap();
    let report = check(tmp.path());
    let failures: Vec<String> = report.failures().map(|l| l.text.clone()).collect();
    assert_eq!(failures.len(), 2, "{report}");
    assert!(
        failures[0].contains("complementary-too-many.toml"),
        "{}",
        failures[0]
    );
    assert!(
        failures[0].contains("expected [R-MYCE-6.duplicate] fired [R-MYCE-6.count]"),
        "{}",
        failures[0]
    );
    assert!(
        failures[1].contains("actually-valid.toml: loaded"),
        "{}",
        failures[1]
    );
    assert_eq!(report.exit_code(), std::process::ExitCode::FAILURE);
}

#[test]
fn policy_set_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PolicySet>();
}
