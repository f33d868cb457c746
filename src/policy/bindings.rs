//! The variables one evaluation reads, resolved lazily.
//!
//! Binding every fact up front converted each one twice (FactValue -> cel
//! `Value` -> boxed `Val`), copying every string, for facts no rule reads,
//! and dropped it all again: a fifth of a submission's evaluation. Here the
//! interpreter asks a [`VariableResolver`] for a name when a rule reads it;
//! the fact is converted once, straight into a `Val` that borrows its strings
//! from the [`Facts`], and kept for the other rules of the evaluation.
//!
//! The names are the variables and the field paths rules read
//! (`campaign.logo.width`): the interpreter asks for the longest name of a
//! path first, as CEL resolves a qualified name, so a path answered here
//! costs one lookup instead of three and no map indexing, and only the
//! fields read are converted. A path that cannot be followed (a missing
//! field, a null on the way) is not answered: the interpreter then selects
//! the fields itself from a shorter name and fails as it always did.

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
use super::paths::{Link, Names, Read, ReadPath};

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

/// The resolver of one evaluation: `params`, then the variables and paths
/// some rule of the version reads (`names`), each converted from `facts` on
/// first use.
///
/// A name no rule reads is never asked for; a name some rule reads but the
/// facts lack resolves to nothing, so the rule fails with an undeclared
/// reference and fires as unevaluated (fail closed), as when facts were bound.
pub(crate) struct Bindings<'f> {
    params: &'f (dyn Val + 'static),
    names: &'f Names,
    facts: &'f Facts,
    /// `now` when the facts have none: the evaluation instant.
    at: DateTime<Utc>,
    /// One slot per name, filled on first use.
    slots: Vec<Slot<'f>>,
}

/// What an evaluation found of one name: `None` when the facts lack it.
#[derive(Default)]
struct Slot<'f> {
    fact: OnceLock<Option<Fact<'f>>>,
    value: OnceLock<Option<Box<dyn Val + 'f>>>,
}

impl<'f> Bindings<'f> {
    pub(crate) fn new(
        params: &'f (dyn Val + 'static),
        names: &'f Names,
        facts: &'f Facts,
        at: DateTime<Utc>,
    ) -> Self {
        Bindings {
            params,
            names,
            facts,
            at,
            slots: (0..names.len()).map(|_| Slot::default()).collect(),
        }
    }

    /// The fact at the path of `index`, found from its prefix's (see
    /// `Link`); `now` is the evaluation instant when the facts have none.
    /// `None` when the facts cannot follow the path.
    fn fact(&self, index: usize) -> Option<Fact<'f>> {
        *self.slots.get(index)?.fact.get_or_init(|| {
            let names: &'f Names = self.names;
            let (path, link) = names.get(index)?;
            match link {
                Link::Root => self.follow(path),
                Link::Same(value) => self.fact(value),
                Link::Field(parent) => match self.fact(parent)? {
                    Fact::Value(value) => value.get(path.segments.last()?).map(Fact::Value),
                    Fact::Now => None,
                },
            }
        })
    }

    /// The fact at `path`, followed from its variable.
    fn follow(&self, path: &ReadPath) -> Option<Fact<'f>> {
        let (root, fields) = path.segments.split_first()?;
        let Some(mut value) = self.facts.get(root) else {
            return (root == "now" && fields.is_empty()).then_some(Fact::Now);
        };
        for field in fields {
            value = value.get(field)?;
        }
        Some(Fact::Value(value))
    }

    fn convert(&self, index: usize) -> Option<Box<dyn Val + 'f>> {
        Some(match self.fact(index)? {
            Fact::Value(value) => to_val(value),
            Fact::Now => Box::new(CelTimestamp::from(self.at.fixed_offset())),
        })
    }

    /// A param's field, `params.NAME`, borrowed from the params.
    fn param<'b>(&'b self, path: &ReadPath) -> Option<CowVal<'b, 'b>> {
        let [_, field] = path.segments.as_slice() else {
            return None;
        };
        let params: &'b (dyn Val + 'static) = self.params;
        params
            .as_indexer()?
            .get(&CelString::from(field.as_str()))
            .ok()
    }
}

/// What a path leads to.
#[derive(Clone, Copy)]
enum Fact<'f> {
    Value(&'f FactValue),
    /// `now`, absent from the facts: the evaluation instant.
    Now,
}

impl<'f> Bindings<'f> {
    /// What the resolver answers for the name of `index` (see [`Names`]),
    /// which a skeleton's plan found at load.
    pub(crate) fn resolve_index<'b>(&'b self, index: usize) -> Option<CowVal<'b, 'b>> {
        let names: &'f Names = self.names;
        let (path, _) = names.get(index)?;
        let null = match path.read {
            Read::Value if path.segments.first().is_some_and(|r| r == "params") => {
                return self.param(path);
            }
            Read::Value => {
                let slot = self.slots.get(index)?;
                let value = slot.value.get_or_init(|| self.convert(index)).as_deref()?;
                return Some(CowVal::Borrowed(value));
            }
            // what `to_val(fact) == null` is, without converting the fact
            Read::IsNull | Read::NotNull => {
                matches!(self.fact(index)?, Fact::Value(FactValue::Null))
            }
        };
        let holds = null == (path.read == Read::IsNull);
        Some(CowVal::Borrowed(if holds {
            &CelBool::TRUE
        } else {
            &CelBool::FALSE
        }))
    }
}

impl VariableResolver for Bindings<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        if variable == "params" {
            return Some(CowVal::Borrowed(self.params));
        }
        let (index, _) = self.names.find(variable)?;
        self.resolve_index(index)
    }
}

#[cfg(test)]
#[path = "bindings_test.rs"]
mod tests;
