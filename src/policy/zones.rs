//! The time zones a condition names, checked when its policy loads.
//!
//! chrono-tz carries only the zones `.cargo/config.toml` selects
//! (`CHRONO_TZ_TIMEZONE_FILTER`: the marketplaces' zones; UTC and GMT always):
//! every zone of the IANA database was about 1 MB of tables in every function,
//! and engage's own zones are its marketplaces'. A rule is not meant to fail
//! at every evaluation because it names a zone the build left out, so a zone
//! spelled in a condition (a literal or a param given to `localDate` or to a
//! timestamp accessor) must be one the build carries, or the file does not
//! load and `engage policy check` says which zone to add to the filter.

use std::collections::BTreeMap;

use cel::IdedExpr;
use chrono_tz::Tz;

use super::calls::{Spelled, each_call, spelled};
use super::facts::FactValue;

/// The functions whose argument at that position is a time zone: engage's
/// `localDate(timestamp, zone)` and CEL's timestamp accessors
/// (`t.getHours(zone)`...).
const ZONE_ARGUMENTS: [(&str, usize); 11] = [
    ("localDate", 1),
    ("getFullYear", 0),
    ("getMonth", 0),
    ("getDayOfYear", 0),
    ("getDayOfMonth", 0),
    ("getDate", 0),
    ("getDayOfWeek", 0),
    ("getHours", 0),
    ("getMinutes", 0),
    ("getSeconds", 0),
    ("getMilliseconds", 0),
];

/// The first zone `expr` names, as a literal or as one of `params`, that this
/// build does not carry.
pub(crate) fn missing_zone(
    expr: &IdedExpr,
    params: &BTreeMap<String, FactValue>,
) -> Option<String> {
    let mut named = Vec::new();
    each_call(expr, &mut |call| {
        let zone = ZONE_ARGUMENTS
            .iter()
            .find(|(name, _)| *name == call.func_name)
            .and_then(|(_, at)| call.args.get(*at));
        named.extend(zone.and_then(spelled).and_then(|zone| match zone {
            Spelled::Literal(text) => Some(text),
            Spelled::Param(name) => match params.get(name) {
                Some(FactValue::String(text)) => Some(text.as_str()),
                _ => None,
            },
        }));
    });
    named
        .into_iter()
        .find(|z| z.parse::<Tz>().is_err())
        .map(str::to_owned)
}

#[cfg(test)]
#[path = "zones_test.rs"]
mod tests;
