//! The TOML schema of a policy version file and its validation.
//!
//! See `policies/README.md` for the format.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cel::IdedExpr;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::engine::{Declared, PolicyVersion, Rule, Severity};
use super::error::PolicyError;
use super::facts::{FactValue, parse_instant};
use super::parse::{ParseFailure, parse};
use super::zones::missing_zone;

/// The top of a policy file, without its rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    name: String,
    version: String,
    effective_from: toml::value::Datetime,
    /// Why the version takes effect at a time other than marketplace
    /// midnight (`engage policy check` refuses that without a reason).
    #[serde(default)]
    effective_from_reason: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    params: toml::Table,
}

/// One `[[rules]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    severity: String,
    condition: String,
    message: String,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// What a file is expected to be: `policies/<name>/<version>.toml`.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// The file, for messages (a path, or the bundled name).
    pub file: &'a str,
    /// The directory name: the policy name the file must declare.
    pub name: &'a str,
    /// The file stem: the version the file must declare.
    pub version: &'a str,
    /// The TOML text.
    pub text: &'a str,
}

/// Parses and validates one policy version file and every condition in it,
/// for evaluation in `env`.
///
/// # Errors
/// The first problem found, naming the file and, when it is in a rule, the rule.
pub fn parse_version(src: &Source<'_>, env: &Arc<cel::Env>) -> Result<PolicyVersion, PolicyError> {
    let file = src.file;
    let mut table: toml::Table = toml::from_str(src.text)
        .map_err(|e| PolicyError::schema(file, None, one_line(&e.to_string())))?;
    let rules_value = table.remove("rules");
    let header: Header = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| PolicyError::schema(file, None, one_line(&e.to_string())))?;

    // The file declares the name and version its path gives it.
    for (key, declared, path, part) in [
        ("name", &header.name, src.name, "directory"),
        ("version", &header.version, src.version, "file name"),
    ] {
        if declared != path {
            return Err(PolicyError::schema(
                file,
                None,
                format!("{key} {declared:?} does not match its {part} {path:?}"),
            ));
        }
    }
    let effective_from = offset_instant(&header.effective_from).ok_or_else(|| {
        PolicyError::schema(
            file,
            None,
            format!(
                "effective_from {} is not an instant with an offset",
                header.effective_from
            ),
        )
    })?;

    let mut params = BTreeMap::new();
    for (key, value) in &header.params {
        if !is_identifier(key) {
            return Err(PolicyError::schema(
                file,
                None,
                format!("param {key:?} is not an identifier (letters, digits, _)"),
            ));
        }
        let value = FactValue::from_toml(value)
            .map_err(|e| PolicyError::schema(file, None, format!("param {key}: {e}")))?;
        params.insert(key.clone(), value);
    }

    let entries = match rules_value {
        None => Vec::new(),
        Some(toml::Value::Array(entries)) => entries,
        Some(_) => {
            return Err(PolicyError::schema(
                file,
                None,
                "rules must be an array of tables ([[rules]])",
            ));
        }
    };
    if entries.is_empty() {
        return Err(PolicyError::schema(
            file,
            None,
            "a policy has at least one rule",
        ));
    }

    let mut ids = BTreeSet::new();
    let mut rules = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let label = entry
            .get("id")
            .and_then(toml::Value::as_str)
            .map_or_else(|| format!("#{}", index + 1), str::to_owned);
        let rule: RuleFile = entry.try_into().map_err(|e: toml::de::Error| {
            PolicyError::schema(file, Some(&label), one_line(&e.to_string()))
        })?;
        let id = rule.id.as_str();
        if !is_rule_id(id) {
            return Err(PolicyError::schema(
                file,
                Some(id),
                "id must start with the RULES.md number it enforces, e.g. R-MYCE-6 or R-MYCE-11.type",
            ));
        }
        if !ids.insert(id.to_owned()) {
            return Err(PolicyError::schema(file, Some(id), "duplicate rule id"));
        }
        let severity = match rule.severity.as_str() {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            other => {
                return Err(PolicyError::schema(
                    file,
                    Some(id),
                    format!("unknown severity {other:?} (error or warning)"),
                ));
            }
        };
        if rule.message.trim().is_empty() {
            return Err(PolicyError::schema(file, Some(id), "empty message"));
        }
        for quoted in
            quoted_params(&rule.message).map_err(|e| PolicyError::schema(file, Some(id), e))?
        {
            if !params.contains_key(quoted) {
                return Err(PolicyError::schema(
                    file,
                    Some(id),
                    format!("message quotes unknown param {{{quoted}}}"),
                ));
            }
        }
        for used in referenced_params(&rule.condition) {
            if !params.contains_key(used) {
                return Err(PolicyError::schema(
                    file,
                    Some(id),
                    format!("condition reads unknown param params.{used}"),
                ));
            }
        }
        if rule.field.as_ref().is_some_and(|f| f.trim().is_empty()) {
            return Err(PolicyError::schema(file, Some(id), "empty field"));
        }
        if rule.condition.trim().is_empty() {
            return Err(PolicyError::schema(file, Some(id), "empty condition"));
        }
        let program = compile(file, id, &rule.condition, &params)?;
        let mut inputs: Vec<String> = program
            .references()
            .variables()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let detail = match &rule.detail {
            None => None,
            Some(expr) => {
                let detail = compile(file, &format!("{id} (detail)"), expr, &params)?;
                for v in detail.references().variables() {
                    if !inputs.iter().any(|i| i == v) {
                        inputs.push(v.to_owned());
                    }
                }
                Some(Arc::new(detail))
            }
        };
        rules.push(Rule {
            id: rule.id,
            severity,
            condition: rule.condition,
            message: rule.message,
            field: rule.field,
            inputs,
            program: Arc::new(program),
            detail,
        });
    }

    let declared = Declared {
        name: header.name,
        version: header.version,
        effective_from,
        effective_from_reason: header.effective_from_reason,
        description: header.description,
        params,
        rules,
        source: file.to_owned(),
    };
    PolicyVersion::new(declared, Arc::clone(env))
}

fn offset_instant(dt: &toml::value::Datetime) -> Option<DateTime<Utc>> {
    if dt.date.is_none() || dt.time.is_none() || dt.offset.is_none() {
        return None;
    }
    parse_instant(&dt.to_string())
}

/// `text`, a rule's condition or detail, parsed; every time zone it spells
/// must be one this build carries (see `zones.rs`).
fn compile(
    file: &str,
    rule: &str,
    text: &str,
    params: &BTreeMap<String, FactValue>,
) -> Result<IdedExpr, PolicyError> {
    let expr = parse(text).map_err(|failure| match failure {
        ParseFailure::Syntax(source) => PolicyError::Compile {
            file: file.to_owned(),
            rule: rule.to_owned(),
            reason: one_line(&source.to_string()),
            source,
        },
        ParseFailure::Macro(name) => PolicyError::schema(
            file,
            Some(rule),
            format!("condition calls the {name} macro, which engage's CEL parser does not expand"),
        ),
    })?;
    match missing_zone(&expr, params) {
        Some(zone) => Err(PolicyError::schema(
            file,
            Some(rule),
            format!(
                "time zone {zone:?} is not one this build carries \
                 (CHRONO_TZ_TIMEZONE_FILTER in .cargo/config.toml)"
            ),
        )),
        None => Ok(expr),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !text.starts_with(|c: char| c.is_ascii_digit())
}

/// `R-<AREA>-<number>` optionally followed by `.<suffix>`.
fn is_rule_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("R-") else {
        return false;
    };
    let (head, suffix) = match rest.split_once('.') {
        Some((head, suffix)) => (head, Some(suffix)),
        None => (rest, None),
    };
    let Some((area, number)) = head.rsplit_once('-') else {
        return false;
    };
    let area_ok = !area.is_empty() && area.chars().all(|c| c.is_ascii_uppercase() || c == '-');
    let number_ok = !number.is_empty() && number.chars().all(|c| c.is_ascii_digit());
    let suffix_ok = suffix.is_none_or(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    });
    area_ok && number_ok && suffix_ok
}

/// The `{param}` placeholders of a message.
///
/// # Errors
/// An unclosed `{` or a placeholder that is not an identifier.
pub(crate) fn quoted_params(message: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after
            .find('}')
            .ok_or_else(|| "message has an unclosed {".to_owned())?;
        let name = &after[..end];
        if !is_identifier(name) {
            return Err(format!(
                "message placeholder {{{name}}} is not a param name"
            ));
        }
        out.push(name);
        rest = &after[end + 1..];
    }
    Ok(out)
}

/// The names read as `params.<name>` in a condition (a textual scan).
fn referenced_params(condition: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = condition.as_bytes();
    let mut from = 0;
    while let Some(pos) = condition[from..].find("params.") {
        let start = from + pos;
        let preceded_ok = start == 0 || {
            let b = bytes[start - 1];
            !(b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        };
        let name_start = start + "params.".len();
        let name_end = condition[name_start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(condition.len(), |e| name_start + e);
        if preceded_ok && name_end > name_start {
            out.push(&condition[name_start..name_end]);
        }
        from = name_end.max(start + 1);
    }
    out
}

#[cfg(test)]
#[path = "file_test.rs"]
mod tests;
