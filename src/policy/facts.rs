//! Typed facts: the variables a policy's conditions read.
//!
//! A [`Facts`] is a set of named top-level variables, each a [`FactValue`].
//! Instants reach CEL as `timestamp`s and durations as `duration`s, never as
//! strings. Facts come from Rust code (builders, `From` impls, or any
//! `serde::Serialize` value through [`Facts::insert_serialized`]) or from the
//! `[facts]` table of a case file (see [`FactValue::from_toml`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::error::PolicyError;

/// One fact value: what a CEL variable (or a part of one) holds.
#[derive(Debug, Clone, PartialEq)]
pub enum FactValue {
    /// Absent: an optional fact that is not there (CEL `null`).
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer (CEL `int`).
    Int(i64),
    /// A floating point number (CEL `double`).
    Float(f64),
    /// A string.
    String(String),
    /// An instant (CEL `timestamp`).
    Instant(DateTime<Utc>),
    /// A duration (CEL `duration`).
    Duration(Duration),
    /// A list.
    List(Vec<FactValue>),
    /// A map with string keys (CEL `map(string, dyn)`), e.g. an object.
    Map(BTreeMap<String, FactValue>),
}

impl FactValue {
    /// An empty map, to fill with [`FactValue::with`].
    pub fn map() -> Self {
        FactValue::Map(BTreeMap::new())
    }

    /// This value with `key` set to `value`, when it is a map (otherwise
    /// it is turned into a map holding only that key).
    #[must_use]
    pub fn with(self, key: impl Into<String>, value: impl Into<FactValue>) -> Self {
        let mut map = match self {
            FactValue::Map(map) => map,
            _ => BTreeMap::new(),
        };
        map.insert(key.into(), value.into());
        FactValue::Map(map)
    }

    /// A list of values.
    pub fn list<T: Into<FactValue>>(items: impl IntoIterator<Item = T>) -> Self {
        FactValue::List(items.into_iter().map(Into::into).collect())
    }

    /// The field `key` of a map value.
    pub fn get(&self, key: &str) -> Option<&FactValue> {
        match self {
            FactValue::Map(map) => map.get(key),
            _ => None,
        }
    }

    /// The name of this value's type, as CEL calls it.
    pub fn type_name(&self) -> &'static str {
        match self {
            FactValue::Null => "null",
            FactValue::Bool(_) => "bool",
            FactValue::Int(_) => "int",
            FactValue::Float(_) => "double",
            FactValue::String(_) => "string",
            FactValue::Instant(_) => "timestamp",
            FactValue::Duration(_) => "duration",
            FactValue::List(_) => "list",
            FactValue::Map(_) => "map",
        }
    }

    /// The CEL value of this fact.
    pub fn to_cel(&self) -> cel::Value {
        match self {
            FactValue::Null => cel::Value::Null,
            FactValue::Bool(b) => cel::Value::Bool(*b),
            FactValue::Int(i) => cel::Value::Int(*i),
            FactValue::Float(f) => cel::Value::Float(*f),
            FactValue::String(s) => cel::Value::String(Arc::new(s.clone())),
            FactValue::Instant(t) => cel::Value::Timestamp(t.fixed_offset()),
            FactValue::Duration(d) => cel::Value::Duration(*d),
            FactValue::List(items) => {
                cel::Value::List(Arc::new(items.iter().map(FactValue::to_cel).collect()))
            }
            FactValue::Map(map) => {
                let entries: HashMap<String, cel::Value> =
                    map.iter().map(|(k, v)| (k.clone(), v.to_cel())).collect();
                cel::Value::from(entries)
            }
        }
    }

    /// Converts a TOML value of a case file or of `[params]`.
    ///
    /// - an offset date-time (`2026-11-05T08:00:00Z`) becomes an instant;
    /// - a local date (`2026-11-05`) becomes the string `"2026-11-05"`
    ///   (calendar dates are strings, as in the API);
    /// - the inline table `{ duration = "72h" }` becomes a duration (units
    ///   `d`, `h`, `m`, `s`, combinable: `"1d12h"`, negative with a leading `-`);
    /// - the inline table `{ null = true }` becomes null (TOML has no null);
    /// - other tables become maps, arrays lists.
    ///
    /// # Errors
    /// A local date-time or time (no offset), a malformed duration.
    pub fn from_toml(value: &toml::Value) -> Result<FactValue, String> {
        Ok(match value {
            toml::Value::String(s) => FactValue::String(s.clone()),
            toml::Value::Integer(i) => FactValue::Int(*i),
            toml::Value::Float(f) => FactValue::Float(*f),
            toml::Value::Boolean(b) => FactValue::Bool(*b),
            toml::Value::Datetime(dt) => datetime_fact(dt)?,
            toml::Value::Array(items) => FactValue::List(
                items
                    .iter()
                    .map(FactValue::from_toml)
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(table) => {
                if let Some(special) = special_table(table)? {
                    return Ok(special);
                }
                let mut map = BTreeMap::new();
                for (k, v) in table {
                    let v = FactValue::from_toml(v).map_err(|e| format!("{k}: {e}"))?;
                    map.insert(k.clone(), v);
                }
                FactValue::Map(map)
            }
        })
    }

    /// Converts a JSON value: strings holding a full RFC 3339 instant with an
    /// offset (`2026-11-05T08:00:00Z`) become instants, everything else keeps
    /// its JSON type (integers that fit `i64` stay integers).
    pub fn from_json(value: &serde_json::Value) -> FactValue {
        match value {
            serde_json::Value::Null => FactValue::Null,
            serde_json::Value::Bool(b) => FactValue::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => FactValue::Int(i),
                None => FactValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => match parse_instant(s) {
                Some(t) => FactValue::Instant(t),
                None => FactValue::String(s.clone()),
            },
            serde_json::Value::Array(items) => {
                FactValue::List(items.iter().map(FactValue::from_json).collect())
            }
            serde_json::Value::Object(map) => FactValue::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), FactValue::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Whether a TOML table is one of the special inline tables of case files.
pub(crate) fn is_special_table(table: &toml::Table) -> bool {
    table.len() == 1 && (table.contains_key("duration") || table.contains_key("null"))
}

fn special_table(table: &toml::Table) -> Result<Option<FactValue>, String> {
    if !is_special_table(table) {
        return Ok(None);
    }
    if let Some(d) = table.get("duration") {
        let text = d
            .as_str()
            .ok_or_else(|| "a duration is written as a string, e.g. \"72h\"".to_owned())?;
        return parse_duration(text).map(|d| Some(FactValue::Duration(d)));
    }
    match table.get("null") {
        Some(toml::Value::Boolean(true)) => Ok(Some(FactValue::Null)),
        _ => Err("null is written { null = true }".to_owned()),
    }
}

fn datetime_fact(dt: &toml::value::Datetime) -> Result<FactValue, String> {
    match (dt.date, dt.time, dt.offset) {
        (Some(_), Some(_), Some(_)) => parse_instant(&dt.to_string())
            .map(FactValue::Instant)
            .ok_or_else(|| format!("{dt} is not a valid instant")),
        (Some(_), None, None) => Ok(FactValue::String(dt.to_string())),
        _ => Err(format!(
            "{dt} has no offset: write an instant with an offset (e.g. 2026-11-05T08:00:00Z)"
        )),
    }
}

/// Parses an RFC 3339 instant with an offset into UTC.
pub(crate) fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    // RFC 3339 needs a time part; guard against plain dates and other strings cheaply.
    if text.len() < 20
        || !text
            .as_bytes()
            .get(10)
            .is_some_and(|b| *b == b'T' || *b == b't')
    {
        return None;
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Parses a duration written as `72h`, `6d`, `1d12h`, `90m`, `30s` or `-2h`.
///
/// # Errors
/// Empty text, a number without a unit, an unknown unit, an overflow.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration like \"72h\", \"6d\" or \"1d12h\"");
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::zero();
    let mut number = String::new();
    for c in rest.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().map_err(|_| bad())?;
        number.clear();
        let part = match c {
            'd' => Duration::try_days(n),
            'h' => Duration::try_hours(n),
            'm' => Duration::try_minutes(n),
            's' => Duration::try_seconds(n),
            _ => None,
        }
        .ok_or_else(bad)?;
        total = total.checked_add(&part).ok_or_else(bad)?;
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(if negative { -total } else { total })
}

/// Formats a duration the way [`parse_duration`] reads it.
pub fn format_duration(d: &Duration) -> String {
    let mut secs = d.num_seconds();
    let mut out = String::new();
    if secs < 0 {
        out.push('-');
        secs = -secs;
    }
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (hours, rem) = (rem / 3_600, rem % 3_600);
    let (mins, s) = (rem / 60, rem % 60);
    for (n, unit) in [(days, 'd'), (hours, 'h'), (mins, 'm'), (s, 's')] {
        if n != 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() || out == "-" {
        out = "0s".to_owned();
    }
    out
}

impl std::fmt::Display for FactValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FactValue::Null => write!(f, "null"),
            FactValue::Bool(b) => write!(f, "{b}"),
            FactValue::Int(i) => write!(f, "{i}"),
            FactValue::Float(x) => write!(f, "{x}"),
            FactValue::String(s) => write!(f, "{s}"),
            FactValue::Instant(t) => write!(f, "{}", t.to_rfc3339()),
            FactValue::Duration(d) => write!(f, "{}", format_duration(d)),
            FactValue::List(items) => {
                let parts: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "{}", parts.join(", "))
            }
            FactValue::Map(map) => {
                let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                write!(f, "{{{}}}", parts.join(", "))
            }
        }
    }
}

macro_rules! fact_from {
    ($($t:ty => $variant:ident $(as $cast:ty)?),* $(,)?) => {
        $(impl From<$t> for FactValue {
            fn from(v: $t) -> Self {
                FactValue::$variant(v $(as $cast)?)
            }
        })*
    };
}

fact_from!(
    bool => Bool,
    i64 => Int,
    i32 => Int as i64,
    u32 => Int as i64,
    u16 => Int as i64,
    u8 => Int as i64,
    f64 => Float,
    f32 => Float as f64,
    String => String,
    DateTime<Utc> => Instant,
    Duration => Duration,
);

impl From<&str> for FactValue {
    fn from(v: &str) -> Self {
        FactValue::String(v.to_owned())
    }
}

impl From<&String> for FactValue {
    fn from(v: &String) -> Self {
        FactValue::String(v.clone())
    }
}

impl<T: Into<FactValue>> From<Option<T>> for FactValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(FactValue::Null, Into::into)
    }
}

impl<T: Into<FactValue>> From<Vec<T>> for FactValue {
    fn from(v: Vec<T>) -> Self {
        FactValue::list(v)
    }
}

impl From<BTreeMap<String, FactValue>> for FactValue {
    fn from(v: BTreeMap<String, FactValue>) -> Self {
        FactValue::Map(v)
    }
}

/// The top-level variables a policy is evaluated with (`now`, `campaign`, ...).
///
/// `params` is reserved: the engine binds the policy's params under it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    vars: BTreeMap<String, FactValue>,
}

impl Facts {
    /// No facts.
    pub fn new() -> Self {
        Self::default()
    }

    /// `now` and `zone` (its IANA name): what every time-aware policy reads.
    pub fn at(now: DateTime<Utc>, zone: chrono_tz::Tz) -> Self {
        Self::new().with("now", now).with("zone", zone.name())
    }

    /// These facts with `name` set to `value`.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<FactValue>) -> Self {
        self.insert(name, value);
        self
    }

    /// Sets the variable `name` to `value`.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<FactValue>) {
        self.vars.insert(name.into(), value.into());
    }

    /// Sets the variable `name` from any serializable value (through JSON):
    /// RFC 3339 strings with an offset become instants, see
    /// [`FactValue::from_json`]. Durations are not recognised: insert them
    /// as [`FactValue::Duration`].
    ///
    /// # Errors
    /// [`PolicyError::Fact`] when the value cannot be serialized.
    pub fn insert_serialized<T: Serialize + ?Sized>(
        &mut self,
        name: impl Into<String>,
        value: &T,
    ) -> Result<(), PolicyError> {
        let name = name.into();
        let json = serde_json::to_value(value).map_err(|e| PolicyError::Fact {
            name: name.clone(),
            reason: e.to_string(),
        })?;
        self.vars.insert(name, FactValue::from_json(&json));
        Ok(())
    }

    /// The variable `name`.
    pub fn get(&self, name: &str) -> Option<&FactValue> {
        self.vars.get(name)
    }

    /// Whether the variable `name` is set.
    pub fn contains(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// Every variable, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &FactValue)> {
        self.vars.iter()
    }

    /// Facts from a TOML table (the `[facts]` of a case), see
    /// [`FactValue::from_toml`].
    ///
    /// # Errors
    /// [`PolicyError::Fact`] naming the variable that cannot be converted.
    pub fn from_toml(table: &toml::Table) -> Result<Facts, PolicyError> {
        let mut facts = Facts::new();
        for (name, value) in table {
            let value = FactValue::from_toml(value).map_err(|reason| PolicyError::Fact {
                name: name.clone(),
                reason,
            })?;
            facts.vars.insert(name.clone(), value);
        }
        Ok(facts)
    }
}

impl<K: Into<String>, V: Into<FactValue>> FromIterator<(K, V)> for Facts {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Facts {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

#[cfg(test)]
#[path = "facts_test.rs"]
mod tests;
