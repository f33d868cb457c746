//! The variables one evaluation reads, resolved lazily.
//!
//! Binding every fact up front converted each one twice (FactValue -> cel
//! `Value` -> boxed `Val`), copying every string, for facts no rule reads,
//! and dropped it all again: a fifth of a submission's evaluation. Here the
//! interpreter asks a [`VariableResolver`] for a name when a rule reads it;
//! the fact is converted once, straight into a `Val` that borrows its strings
//! from the [`Facts`], and kept for the other rules of the evaluation.

use std::collections::HashMap;
use std::sync::OnceLock;

use cel::common::types::{
    CelBool, CelDouble, CelDuration, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString,
    CelTimestamp,
};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use chrono::{DateTime, Utc};

use super::facts::{FactValue, Facts};

/// The CEL value of a fact, borrowing its strings from it.
///
/// The same value as [`FactValue::to_cel`] converted to a `Val`, without the
/// intermediate `Value` and without copying.
pub(crate) fn to_val(value: &FactValue) -> Box<dyn Val + '_> {
    match value {
        FactValue::Null => Box::new(CelNull),
        FactValue::Bool(b) => Box::new(CelBool::from(*b)),
        FactValue::Int(i) => Box::new(CelInt::from(*i)),
        FactValue::Float(f) => Box::new(CelDouble::from(*f)),
        FactValue::String(s) => Box::new(CelString::from(s.as_str())),
        FactValue::Instant(t) => Box::new(CelTimestamp::from(t.fixed_offset())),
        FactValue::Duration(d) => Box::new(CelDuration::from(*d)),
        FactValue::List(items) => {
            Box::new(CelList::from(items.iter().map(to_val).collect::<Vec<_>>()))
        }
        FactValue::Map(map) => Box::new(CelMap::from(
            map.iter()
                .map(|(k, v)| (CelMapKey::from(k.as_str()), to_val(v)))
                .collect::<HashMap<_, _>>(),
        )),
    }
}

/// The resolver of one evaluation: `params`, then the variables some rule of
/// the version reads (`names`), each converted from `facts` on first use.
///
/// A name no rule reads is never asked for; a name some rule reads but the
/// facts lack resolves to nothing, so the rule fails with an undeclared
/// reference and fires as unevaluated (fail closed), as when facts were bound.
pub(crate) struct Bindings<'f> {
    params: &'f (dyn Val + 'static),
    names: &'f [String],
    facts: &'f Facts,
    /// `now` when the facts have none: the evaluation instant.
    at: DateTime<Utc>,
    /// One slot per name, filled on first use: `None` when the facts lack it.
    slots: Vec<OnceLock<Option<Box<dyn Val + 'f>>>>,
}

impl<'f> Bindings<'f> {
    pub(crate) fn new(
        params: &'f (dyn Val + 'static),
        names: &'f [String],
        facts: &'f Facts,
        at: DateTime<Utc>,
    ) -> Self {
        Bindings {
            params,
            names,
            facts,
            at,
            slots: names.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    fn convert(&self, name: &'f str) -> Option<Box<dyn Val + 'f>> {
        match self.facts.get(name) {
            Some(value) => Some(to_val(value)),
            None if name == "now" => Some(Box::new(CelTimestamp::from(self.at.fixed_offset()))),
            None => None,
        }
    }
}

impl VariableResolver for Bindings<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        if variable == "params" {
            return Some(CowVal::Borrowed(self.params));
        }
        // The interpreter also asks for dotted prefixes (`campaign.logo`)
        // before the variable itself: a short scan of the names rules read
        // turns them down without hashing.
        let index = self.names.iter().position(|n| n == variable)?;
        let name = self.names.get(index)?;
        let slot = self.slots.get(index)?;
        let value = slot.get_or_init(|| self.convert(name)).as_deref()?;
        Some(CowVal::Borrowed(value))
    }
}

#[cfg(test)]
#[path = "bindings_test.rs"]
mod tests;
