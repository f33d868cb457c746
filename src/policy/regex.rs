//! CEL's `matches` with compiled expressions cached.
//!
//! The `cel` crate compiles the regular expression on every call; a content
//! rule's case-insensitive Unicode patterns cost about a millisecond each to
//! compile, which made one submission's evaluation ~1000x slower than the
//! rules themselves. Patterns come from policy files and params, so the set
//! is small and fixed: each is compiled once per process.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use cel::ExecutionError;
use cel::common::types::{CelBool, CelString};
use regex::Regex;

/// At most this many distinct patterns are kept; past it (never with the
/// shipped policies) a pattern is compiled per call rather than growing memory.
const MAX_CACHED: usize = 4096;

static CACHE: LazyLock<RwLock<HashMap<String, Arc<Regex>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

fn compiled(pattern: &str) -> Result<Arc<Regex>, ExecutionError> {
    if let Ok(cache) = CACHE.read()
        && let Some(re) = cache.get(pattern)
    {
        return Ok(Arc::clone(re));
    }
    let re = Regex::new(pattern)
        .map(Arc::new)
        .map_err(|err| ExecutionError::FunctionError {
            function: "matches".to_owned(),
            message: format!("'{pattern}' not a valid regex:\n{err}"),
        })?;
    if let Ok(mut cache) = CACHE.write()
        && cache.len() < MAX_CACHED
    {
        cache.insert(pattern.to_owned(), Arc::clone(&re));
    }
    Ok(re)
}

/// `text.matches(pattern)` / `matches(text, pattern)`: RE2-style search, as
/// the CEL specification defines it.
pub(crate) fn matches(
    text: &CelString<'_>,
    pattern: &CelString<'_>,
) -> Result<CelBool, ExecutionError> {
    Ok(CelBool::from(
        compiled(pattern.inner())?.is_match(text.inner()),
    ))
}

/// Registers `matches` (global and member forms) on `env`.
pub(crate) fn register(env: &mut cel::Env) -> Result<(), cel::DeclarationError> {
    cel::add_overload!(env, fn matches: (CelString, CelString) -> Result<CelBool>, id = "matches")?;
    cel::add_member_overload!(env, fn matches: (CelString, CelString) -> Result<CelBool>)?;
    Ok(())
}
