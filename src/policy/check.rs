//! `engage policy check [DIR]`: validates every policy file, runs every case,
//! and requires every invalid file to be rejected.
//!
//! Layout checked, for each `DIR/<name>/`:
//! - `<version>.toml`: a policy version, which must load;
//! - `cases/*.toml`: a case, which must decide exactly `expect_fired`;
//! - `invalid/<version>--<what>.toml`: a file checked as if it were
//!   `<name>/<version>.toml`, which must be rejected; a line
//!   `# expect-error: <text>` requires the reason to contain `<text>`.
//!
//! A policy whose versions must pass more than loading (the sequences' steps and
//! templates) gets a [`VersionCheck`] from the layer that reads it: this module imports
//! nothing above `policy`, and `engage::jobs::check_policies` is the check with every hook.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::brand::Marketplace;
use crate::domain::schedule::{local_date, local_midnight, zone};

use super::engine::{PolicyVersion, cel_env, file_name, sorted_entries};
use super::error::PolicyError;
use super::facts::{Facts, is_special_table, parse_instant};
use super::file::{Source, parse_version};

/// One line of a check report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    /// Whether this item passed.
    pub ok: bool,
    /// What was checked and, on failure, why.
    pub text: String,
}

/// The outcome of [`check_dir`]: printable, with an exit status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// One line per version, failed case and invalid file, in order.
    pub lines: Vec<CheckLine>,
    /// Versions loaded.
    pub versions: usize,
    /// Cases run.
    pub cases: usize,
    /// Invalid files checked.
    pub invalid_files: usize,
}

impl CheckReport {
    fn ok(&mut self, text: String) {
        self.lines.push(CheckLine { ok: true, text });
    }

    fn fail(&mut self, text: String) {
        self.lines.push(CheckLine { ok: false, text });
    }

    /// True when nothing failed.
    pub fn is_ok(&self) -> bool {
        self.lines.iter().all(|l| l.ok)
    }

    /// The failed lines.
    pub fn failures(&self) -> impl Iterator<Item = &CheckLine> {
        self.lines.iter().filter(|l| !l.ok)
    }

    /// `SUCCESS` when nothing failed, `FAILURE` otherwise.
    pub fn exit_code(&self) -> std::process::ExitCode {
        if self.is_ok() {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        }
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            let tag = if line.ok { "ok  " } else { "FAIL" };
            writeln!(f, "{tag} {}", line.text)?;
        }
        let failed = self.failures().count();
        write!(
            f,
            "policy check: {} versions, {} cases, {} invalid files: {}",
            self.versions,
            self.cases,
            self.invalid_files,
            if failed == 0 {
                "all passed".to_owned()
            } else {
                format!("{failed} failed")
            }
        )
    }
}

/// A case file: facts evaluated at an instant, and the rules expected to fire.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    description: String,
    #[serde(default)]
    at: Option<toml::value::Datetime>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    facts: toml::Table,
    #[serde(default)]
    expect_fired: Option<Vec<String>>,
}

/// What a policy's versions must also pass, beyond loading and their cases, registered
/// by the layer that reads the policy.
#[derive(Debug, Clone, Copy)]
pub struct VersionCheck {
    /// The policy it applies to.
    pub policy: &'static str,
    /// Checks one version against the policies of the same folder: what it passed, or
    /// every problem.
    pub check: fn(&PolicyVersion, &super::PolicySet) -> Result<String, Vec<String>>,
}

/// Checks every policy under `dir` with no [`VersionCheck`], see the module docs.
pub fn check_dir(dir: &Path) -> CheckReport {
    check_dir_with(dir, &[])
}

/// Checks every policy under `dir`, each also through the [`VersionCheck`]s naming it.
pub fn check_dir_with(dir: &Path, hooks: &[VersionCheck]) -> CheckReport {
    let mut report = CheckReport::default();
    let env = match cel_env() {
        Ok(env) => env,
        Err(e) => {
            report.fail(e.to_string());
            return report;
        }
    };
    let entries = match sorted_entries(dir) {
        Ok(entries) => entries,
        Err(e) => {
            report.fail(format!("{e}: {}", source_text(&e)));
            return report;
        }
    };
    let mut any = false;
    for policy_dir in entries.into_iter().filter(|p| p.is_dir()) {
        any = true;
        check_policy(&policy_dir, &env, hooks, &mut report);
    }
    if !any {
        report.fail(format!("{}: no policy directory", dir.display()));
    }
    report
}

fn source_text(e: &PolicyError) -> String {
    std::error::Error::source(e).map_or_else(String::new, ToString::to_string)
}

fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    Ok(sorted_entries(dir)?
        .into_iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect())
}

fn check_policy(dir: &Path, env: &Arc<cel::Env>, hooks: &[VersionCheck], report: &mut CheckReport) {
    let Some(name) = file_name(dir) else {
        return;
    };
    let hooks: Vec<VersionCheck> = hooks.iter().filter(|h| h.policy == name).copied().collect();
    let mut versions: Vec<PolicyVersion> = Vec::new();
    let mut load_failed = false;
    match toml_files(dir) {
        Ok(files) => {
            for path in files {
                let file = path.display().to_string();
                let version = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                match std::fs::read_to_string(&path) {
                    Ok(text) => match parse_version(
                        &Source {
                            file: &file,
                            name: &name,
                            version,
                            text: &text,
                        },
                        env,
                    ) {
                        Ok(v) => match not_at_midnight(&v) {
                            Some(why) => {
                                load_failed = true;
                                report.fail(why);
                            }
                            None => versions.push(v),
                        },
                        Err(e) => {
                            load_failed = true;
                            report.fail(e.to_string());
                        }
                    },
                    Err(e) => {
                        load_failed = true;
                        report.fail(format!("{file}: cannot read: {e}"));
                    }
                }
            }
        }
        Err(e) => {
            report.fail(format!("{e}: {}", source_text(&e)));
            return;
        }
    }
    if versions.is_empty() && !load_failed {
        report.fail(format!("{}: no policy version file", dir.display()));
    }
    versions.sort_by_key(PolicyVersion::effective_from);
    for pair in versions.windows(2) {
        if pair[0].effective_from() == pair[1].effective_from() {
            report.fail(format!(
                "{}: effective_from is the same as {}'s",
                pair[1].source(),
                pair[0].id()
            ));
        }
    }
    report.versions += versions.len();

    // Cases: run them all first, so each version line can count its cases.
    let mut case_counts = vec![0usize; versions.len()];
    let mut case_lines = Vec::new();
    let cases_dir = dir.join("cases");
    match toml_files(&cases_dir) {
        Ok(files) => {
            for path in files {
                report.cases += 1;
                match run_case(&path, &versions) {
                    Ok(index) => case_counts[index] += 1,
                    Err(why) => case_lines.push(format!("{}: {why}", path.display())),
                }
            }
        }
        Err(e) => case_lines.push(format!("{e}: {}", source_text(&e))),
    }
    for (version, count) in versions.iter().zip(&case_counts) {
        report.ok(format!(
            "{} ({} rules, {} cases)",
            version.id(),
            version.rules().len(),
            count
        ));
    }
    for line in case_lines {
        report.fail(line);
    }
    for hook in &hooks {
        check_hook(dir, *hook, &versions, report);
    }

    let invalid_dir = dir.join("invalid");
    match toml_files(&invalid_dir) {
        Ok(files) => {
            for path in files {
                report.invalid_files += 1;
                check_invalid(&path, &name, env, &hooks, report);
            }
        }
        Err(e) => report.fail(format!("{e}: {}", source_text(&e))),
    }
}

fn check_invalid(
    path: &Path,
    name: &str,
    env: &Arc<cel::Env>,
    hooks: &[VersionCheck],
    report: &mut CheckReport,
) {
    let file = path.display().to_string();
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let version = stem.split_once("--").map_or(stem, |(v, _)| v);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            report.fail(format!("{file}: cannot read: {e}"));
            return;
        }
    };
    let expected: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("# expect-error:"))
        .map(str::trim)
        .collect();
    let outcome = parse_version(
        &Source {
            file: &file,
            name,
            version,
            text: &text,
        },
        env,
    );
    let outcome = outcome.and_then(|v| match not_at_midnight(&v) {
        Some(why) => Err(PolicyError::schema(&file, None, why)),
        None => Ok(v),
    });
    // A policy with hooks (the sequences' steps and templates) is also rejected by them.
    let outcome = outcome.and_then(|v| {
        if hooks.is_empty() {
            return Ok(v);
        }
        let root = path.parent().and_then(Path::parent).and_then(Path::parent);
        let Some(policies) = root.map(super::PolicySet::load_dir).transpose()? else {
            return Ok(v);
        };
        let problems: Vec<String> = hooks
            .iter()
            .filter_map(|h| (h.check)(&v, &policies).err())
            .flatten()
            .collect();
        if problems.is_empty() {
            Ok(v)
        } else {
            Err(PolicyError::schema(&file, None, problems.join("; ")))
        }
    });
    match outcome {
        Ok(_) => report.fail(format!(
            "{file}: loaded, but an invalid file must be rejected"
        )),
        Err(e) => {
            let reason = e.to_string();
            match expected.iter().find(|want| !reason.contains(**want)) {
                Some(want) => report.fail(format!(
                    "{file}: rejected for another reason than {want:?}: {reason}"
                )),
                None => report.ok(format!("rejected {reason}")),
            }
        }
    }
}

/// Why `v` may not take effect when it says: a version takes effect at
/// marketplace midnight (the start of a calendar day in every marketplace's
/// time zone, as the rules count days) unless its file gives
/// `effective_from_reason`. `None` when it may.
pub fn not_at_midnight(v: &PolicyVersion) -> Option<String> {
    if v.effective_from_reason()
        .is_some_and(|r| !r.trim().is_empty())
    {
        return None;
    }
    let at = v.effective_from();
    let off: Vec<String> = Marketplace::ALL
        .iter()
        .map(|m| (m, zone(*m)))
        .filter(|(_, tz)| local_midnight(local_date(at, *tz), *tz) != at)
        .map(|(m, tz)| {
            format!(
                "{m:?} ({})",
                at.with_timezone(&tz).format("%Y-%m-%d %H:%M %:z")
            )
        })
        .collect();
    if off.is_empty() {
        return None;
    }
    Some(format!(
        "{}: effective_from {} is not marketplace midnight in {}: write it with the marketplace offset (e.g. 00:00:00-08:00) or say why in effective_from_reason",
        v.source(),
        at.to_rfc3339(),
        off.join(", ")
    ))
}

/// Every version through a hook, against the policies of the same folder (for the
/// sequences: their steps and templates against the `message` and `content` policies).
fn check_hook(
    dir: &Path,
    hook: VersionCheck,
    versions: &[PolicyVersion],
    report: &mut CheckReport,
) {
    let root = dir.parent().unwrap_or(Path::new("."));
    let policies = match super::PolicySet::load_dir(root) {
        Ok(p) => p,
        Err(e) => {
            report.fail(format!(
                "{}: cannot load the policies the {} policy is checked against: {e}: {}",
                dir.display(),
                hook.policy,
                source_text(&e)
            ));
            return;
        }
    };
    for v in versions {
        match (hook.check)(v, &policies) {
            Ok(passed) => report.ok(format!("{}: {passed}", v.id())),
            Err(problems) => {
                for p in problems {
                    report.fail(format!("{}: {p}", v.source()));
                }
            }
        }
    }
}

const MAX_BASE_DEPTH: usize = 8;

/// Reads a case, following `base` (facts of the base, deep-merged under the
/// case's own).
fn read_case(path: &Path, depth: usize) -> Result<CaseFile, String> {
    if depth > MAX_BASE_DEPTH {
        return Err("base chain too deep (a cycle?)".to_owned());
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut case: CaseFile = toml::from_str(&text).map_err(|e| {
        let text = e.to_string();
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    })?;
    if let Some(base) = case.base.take() {
        let base_path = path.parent().unwrap_or(Path::new(".")).join(&base);
        let base_case =
            read_case(&base_path, depth + 1).map_err(|e| format!("base {base}: {e}"))?;
        let mut facts = base_case.facts;
        merge(&mut facts, std::mem::take(&mut case.facts));
        case.facts = facts;
        if case.at.is_none() {
            case.at = base_case.at;
        }
    }
    Ok(case)
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o))
                if !is_special_table(b) && !is_special_table(&o) =>
            {
                merge(b, o);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Runs one case: the index of the version it ran against, or why it failed.
fn run_case(path: &Path, versions: &[PolicyVersion]) -> Result<usize, String> {
    let case = read_case(path, 0)?;
    if case.description.trim().is_empty() {
        return Err("empty description".to_owned());
    }
    let expected = case
        .expect_fired
        .as_ref()
        .ok_or_else(|| "missing expect_fired".to_owned())?;
    let at = case_at(&case)?;
    let index = case_version(&case, at, versions)?;
    let version = &versions[index];
    for id in expected {
        if !version.rules().iter().any(|r| &r.id == id) {
            return Err(format!(
                "expects {id}, which {} does not have",
                version.id()
            ));
        }
    }
    let facts = Facts::from_toml(&case.facts).map_err(|e| e.to_string())?;
    let decision = version.evaluate(at, &facts).map_err(|e| e.to_string())?;
    let unevaluated: Vec<String> = decision
        .violations
        .iter()
        .filter(|v| v.unevaluated)
        .map(|v| v.message.clone())
        .collect();
    if !unevaluated.is_empty() {
        return Err(format!("{}: {}", version.id(), unevaluated.join("; ")));
    }
    let fired: BTreeSet<&str> = decision.fired().into_iter().collect();
    let wanted: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    if fired != wanted {
        return Err(format!(
            "{}: expected [{}] fired [{}]",
            version.id(),
            wanted.into_iter().collect::<Vec<_>>().join(", "),
            fired.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(index)
}

/// The instant a case is evaluated at.
fn case_at(case: &CaseFile) -> Result<DateTime<Utc>, String> {
    let at_text = case.at.as_ref().ok_or_else(|| "missing at".to_owned())?;
    if at_text.time.is_some() && at_text.offset.is_some() {
        parse_instant(&at_text.to_string())
    } else {
        None
    }
    .ok_or_else(|| format!("at {at_text} is not an instant with an offset"))
}

/// The index of the version a case runs against: the one it pins, else the
/// one in force at `at`.
fn case_version(
    case: &CaseFile,
    at: DateTime<Utc>,
    versions: &[PolicyVersion],
) -> Result<usize, String> {
    match &case.version {
        Some(pinned) => versions
            .iter()
            .position(|v| v.version() == pinned)
            .ok_or_else(|| format!("no version {pinned} to pin")),
        None => versions
            .iter()
            .rposition(|v| v.effective_from() <= at)
            .ok_or_else(|| format!("no version in force at {}", at.to_rfc3339())),
    }
}

/// A case's version (of `versions`, sorted by `effective_from`), instant and
/// facts, its base merged: for tests that evaluate the shipped cases their
/// own way.
#[cfg(test)]
pub(crate) fn case_input(
    path: &Path,
    versions: &[PolicyVersion],
) -> Result<(usize, DateTime<Utc>, Facts), String> {
    let case = read_case(path, 0)?;
    let at = case_at(&case)?;
    let index = case_version(&case, at, versions)?;
    let facts = Facts::from_toml(&case.facts).map_err(|e| e.to_string())?;
    Ok((index, at, facts))
}
