//! Versioned policy files: load, validate, pick the version in force, evaluate, explain.
//!
//! A policy version is one TOML file `policies/<name>/<version>.toml` with an
//! `effective_from` instant, `[params]` and `[[rules]]` whose conditions are
//! CEL expressions (see `policies/README.md`). [`PolicySet`] loads them from a
//! directory ([`PolicySet::load_dir`]) or from the copy bundled at build time
//! ([`PolicySet::bundled`]), picks the version in force
//! ([`PolicySet::in_force`]) and evaluates every rule against typed [`Facts`],
//! failing closed ([`PolicySet::evaluate`] -> [`Decision`]). Code reads the
//! numbers of RULES.md from the version in force
//! ([`PolicyVersion::param_days`], ...), never from constants.
//! [`check::check_dir_with`] is `engage policy check` (`engage::jobs::check_policies` adds the jobs' hooks).

mod bindings;
pub mod bundled;
mod calendar;
mod calls;
pub mod check;
mod decision;
mod engine;
mod error;
mod facts;
mod fast_tree;
mod file;
mod name;
mod optimize;
mod parse;
mod paths;
mod regex;
mod skeleton;
mod zones;

pub use check::{CheckLine, CheckReport, VersionCheck, check_dir, check_dir_with};
pub use decision::{Decision, Violation};
pub use engine::{PolicySet, PolicyVersion, Rule, Severity, SourceFile, cel_env};
pub use error::PolicyError;
pub use facts::{FactValue, Facts, format_duration, parse_duration};
pub use name::PolicyName;

#[cfg(test)]
#[path = "policy_test.rs"]
mod tests;
