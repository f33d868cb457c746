//! What an evaluation decided: the rules that fired.

use serde::{Deserialize, Serialize};

/// One rule that fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    /// The rule id, e.g. `R-MYCE-6`.
    pub rule: String,
    /// The message, params quoted.
    pub message: String,
    /// The input field the rule concerns (camelCase path), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The policy that decided it, `name@version`.
    pub policy: String,
    /// True when the rule could not be evaluated and fired because the
    /// engine fails closed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unevaluated: bool,
}

/// The outcome of evaluating one policy version (or several, merged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// `name@version`; for a merged decision, each one, comma-separated.
    pub policy: String,
    /// Error rules that fired (and every rule that could not be evaluated).
    pub violations: Vec<Violation>,
    /// Warning rules that fired.
    pub warnings: Vec<Violation>,
}

impl Decision {
    /// A decision of `policy` with nothing fired.
    pub fn new(policy: impl Into<String>) -> Self {
        Decision {
            policy: policy.into(),
            violations: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// True when no error rule fired (warnings do not block).
    pub fn is_allowed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The ids of every rule that fired, violations then warnings.
    pub fn fired(&self) -> Vec<&str> {
        self.violations
            .iter()
            .chain(&self.warnings)
            .map(|v| v.rule.as_str())
            .collect()
    }

    /// Whether the rule `id` fired.
    pub fn has_fired(&self, id: &str) -> bool {
        self.fired().contains(&id)
    }

    /// The policies that decided, `name@version` each.
    pub fn policies(&self) -> Vec<&str> {
        self.policy.split(',').filter(|p| !p.is_empty()).collect()
    }

    /// Merges `other` into this decision: violations and warnings of both,
    /// the policies of both.
    #[must_use]
    pub fn merge(mut self, other: Decision) -> Decision {
        if self.policy.is_empty() {
            self.policy = other.policy;
        } else if !other.policy.is_empty() {
            self.policy = format!("{},{}", self.policy, other.policy);
        }
        self.violations.extend(other.violations);
        self.warnings.extend(other.warnings);
        self
    }

    /// Merges several decisions (e.g. campaign + promotion + content for one
    /// submission) into one.
    pub fn merge_all(decisions: impl IntoIterator<Item = Decision>) -> Decision {
        decisions
            .into_iter()
            .fold(Decision::new(""), Decision::merge)
    }

    /// Sets `field` on every fired rule that names no field, e.g. when one
    /// `content` check ran on the `subject` of a campaign.
    #[must_use]
    pub fn with_field(mut self, field: &str) -> Decision {
        for v in self.violations.iter_mut().chain(self.warnings.iter_mut()) {
            if v.field.is_none() {
                v.field = Some(field.to_owned());
            }
        }
        self
    }
}

#[cfg(test)]
#[path = "decision_test.rs"]
mod tests;
