//! The errors of the policy engine.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// Why a policy could not be loaded, selected or evaluated.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A file or directory could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The path that could not be read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A policy file is not valid TOML, or does not fit the schema.
    #[error("{file}: {}{reason}", rule_prefix(.rule))]
    Schema {
        /// The file (path or bundled name).
        file: String,
        /// The rule the problem is in, when it is in a rule.
        rule: Option<String>,
        /// Why.
        reason: String,
    },
    /// A rule's condition does not compile.
    #[error("{file}: rule {rule}: condition does not compile: {reason}")]
    Compile {
        /// The file (path or bundled name).
        file: String,
        /// The rule.
        rule: String,
        /// The parser's errors on one line.
        reason: String,
        /// The parser's errors.
        #[source]
        source: cel::ParseErrors,
    },
    /// A bundled policy that did not load when it was first used; every later use gets
    /// the same error.
    #[error("policy {name} does not load")]
    Load {
        /// The policy name.
        name: String,
        /// Why, as found on its first use.
        #[source]
        source: std::sync::Arc<PolicyError>,
    },
    /// The CEL environment could not be set up (a helper function clashes).
    #[error("cannot set up the cel environment")]
    Environment(#[source] cel::DeclarationError),
    /// No policy of that name is loaded.
    #[error("unknown policy {name}")]
    UnknownPolicy {
        /// The policy name.
        name: String,
    },
    /// The policy has no version in force at that instant.
    #[error("no version of policy {name} is in force at {at}")]
    NotInForce {
        /// The policy name.
        name: String,
        /// The instant asked for.
        at: DateTime<Utc>,
    },
    /// The policy has no such version.
    #[error("policy {name} has no version {version}")]
    UnknownVersion {
        /// The policy name.
        name: String,
        /// The version asked for.
        version: String,
    },
    /// A param is missing or of the wrong type.
    #[error("{policy}: param {param}: {reason}")]
    Param {
        /// `name@version`.
        policy: String,
        /// The param.
        param: String,
        /// Why.
        reason: String,
    },
    /// A fact cannot be converted or bound.
    #[error("fact {name}: {reason}")]
    Fact {
        /// The variable.
        name: String,
        /// Why.
        reason: String,
    },
}

fn rule_prefix(rule: &Option<String>) -> String {
    match rule {
        Some(rule) => format!("rule {rule}: "),
        None => String::new(),
    }
}

impl PolicyError {
    pub(crate) fn schema(file: &str, rule: Option<&str>, reason: impl Into<String>) -> Self {
        PolicyError::Schema {
            file: file.to_owned(),
            rule: rule.map(str::to_owned),
            reason: reason.into(),
        }
    }
}
