//! CEL's `matches`, with each version's patterns known when it loads and
//! compiled once, when a rule first needs them.
//!
//! The `cel` crate compiles the regular expression on every call; a content
//! rule's case-insensitive Unicode patterns cost about a millisecond each to
//! compile. A global cache keyed by the pattern took a lock and hashed the
//! pattern (up to 600 bytes) on each of a submission's ~20 calls. Instead,
//! each policy version collects the patterns its rules spell, as literals or
//! as `params.NAME`, and registers its own `matches` on its context.
//! A call recognises a known pattern by the address of its text, which lives
//! in the program's syntax tree or in the version's params: no lock, no
//! hashing. A pattern computed at run time (none in the shipped policies)
//! goes through the global cache.
//!
//! Compiling every pattern of every bundled version at load was half of a
//! cold start's CPU time, mostly for policies the function never evaluates;
//! so each pattern compiles on its first call (a `OnceLock`, no lock once
//! set). An invalid pattern fails each call that reaches it, as before.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock, RwLock};

use cel::common::types::{CelBool, CelString};
use cel::common::value::{CowVal, Val};
use cel::{ExecutionError, FunctionContext, IdedExpr};
use regex::Regex;

use super::calls::{Spelled, each_call, spelled};
use super::fast_tree::Function;

/// A pattern of a policy version, compiled when first used.
#[derive(Debug)]
pub(crate) struct Pattern {
    text: Box<str>,
    compiled: OnceLock<Result<Regex, String>>,
}

impl Pattern {
    fn new(text: &str) -> Self {
        Pattern {
            text: text.into(),
            compiled: OnceLock::new(),
        }
    }

    /// The compiled pattern, or why it does not compile.
    pub(crate) fn compiled(&self) -> &Result<Regex, String> {
        self.compiled.get_or_init(|| compile(&self.text))
    }

    /// The compiled pattern, `None` when it does not compile.
    pub(crate) fn regex(&self) -> Option<&Regex> {
        self.compiled().as_ref().ok()
    }
}

/// The patterns of one policy version.
pub(crate) struct Patterns {
    /// By the address and length of the pattern's text, sorted; one
    /// [`Pattern`] per distinct text.
    by_address: Vec<((usize, usize), Arc<Pattern>)>,
    /// What the addresses point into, kept alive with the table so that an
    /// address cannot be reused for another text while the table exists.
    _exprs: Vec<Arc<IdedExpr>>,
    params: Arc<dyn Val>,
}

fn key(text: &str) -> (usize, usize) {
    (text.as_ptr() as usize, text.len())
}

fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|err| format!("'{pattern}' not a valid regex:\n{err}"))
}

impl Patterns {
    /// Collects the pattern of every `matches` call of `exprs` (the syntax
    /// trees the engine evaluates) that is a string literal or a string param
    /// (`params.NAME`) of `params`.
    pub(crate) fn collect(exprs: Vec<Arc<IdedExpr>>, params: Arc<dyn Val>) -> Patterns {
        let mut patterns = Patterns {
            by_address: Vec::new(),
            _exprs: Vec::new(),
            params,
        };
        patterns.extend(exprs);
        patterns
    }

    /// Adds the patterns of more syntax trees (copies of parts of the
    /// first ones, see `skeleton.rs`): a text seen already shares its
    /// [`Pattern`], so it is compiled once.
    pub(crate) fn extend(&mut self, exprs: Vec<Arc<IdedExpr>>) {
        let mut texts: Vec<&str> = Vec::new();
        for expr in &exprs {
            walk(expr, &mut |pattern| {
                if let Some(text) = pattern_text(pattern, self.params.as_ref()) {
                    texts.push(text);
                }
            });
        }
        for text in texts {
            let same = self.by_address.iter().find(|(_, p)| &*p.text == text);
            let pattern = same.map_or_else(|| Arc::new(Pattern::new(text)), |(_, p)| Arc::clone(p));
            self.by_address.push((key(text), pattern));
        }
        self.by_address.sort_by_key(|(k, _)| *k);
        self.by_address.dedup_by_key(|(k, _)| *k);
        self._exprs.extend(exprs);
    }

    /// The pattern whose text is `pattern` itself (by address): a pattern of
    /// the syntax trees collected.
    pub(crate) fn get(&self, pattern: &str) -> Option<&Arc<Pattern>> {
        let k = key(pattern);
        self.by_address
            .binary_search_by_key(&k, |(k, _)| *k)
            .ok()
            .and_then(|i| self.by_address.get(i))
            .map(|(_, p)| p)
    }

    /// How many patterns were collected (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_address.len()
    }

    /// Whether `pattern` is one of the collected ones, by address (for tests).
    #[cfg(test)]
    pub(crate) fn knows(&self, pattern: &str) -> bool {
        self.get(pattern).is_some()
    }

    /// `text.matches(pattern)` / `matches(text, pattern)`: RE2-style search,
    /// as the CEL specification defines it.
    pub(crate) fn is_match(&self, text: &str, pattern: &str) -> Result<bool, ExecutionError> {
        let error = |message: &String| ExecutionError::FunctionError {
            function: "matches".to_owned(),
            message: message.clone(),
        };
        match self.get(pattern).map(|p| p.compiled()) {
            Some(Ok(re)) => Ok(re.is_match(text)),
            Some(Err(message)) => Err(error(message)),
            None => Ok(cached(pattern).map_err(|m| error(&m))?.is_match(text)),
        }
    }
}

/// Calls `found` with the pattern argument of every `matches` call in `expr`.
fn walk<'e>(expr: &'e IdedExpr, found: &mut impl FnMut(&'e IdedExpr)) {
    each_call(expr, &mut |call| {
        let pattern = match (&call.target, call.args.as_slice()) {
            (Some(_), [pattern]) | (None, [_, pattern]) => Some(pattern),
            _ => None,
        };
        if (call.func_name == "matches" || call.func_name == FAST_NAME)
            && let Some(pattern) = pattern
        {
            found(pattern);
        }
    });
}

/// The text of a pattern known at load: a string literal, borrowed from the
/// syntax tree, or `params.NAME`, borrowed from the bound params, the very
/// text a call receives.
fn pattern_text<'a>(pattern: &'a IdedExpr, params: &'a dyn Val) -> Option<&'a str> {
    match spelled(pattern)? {
        Spelled::Literal(text) => Some(text),
        Spelled::Param(name) => {
            let field = CelString::from(name);
            match params.as_indexer()?.get(&field).ok()? {
                CowVal::Borrowed(val) => val.downcast_ref::<CelString>().map(CelString::inner),
                CowVal::Owned(_) => None,
            }
        }
    }
}

/// `matches` for a version's context, with its compiled `patterns`.
pub(crate) fn register(
    context: &mut cel::Context<'_, '_>,
    patterns: Arc<Patterns>,
) -> Result<(), cel::DeclarationError> {
    let fast = Arc::clone(&patterns);
    let function: Function = Box::new(move |ftx| call(&patterns, ftx));
    context.add_function("matches", function)?;
    let function: Function = Box::new(move |ftx| call(&fast, ftx));
    context.add_function(FAST_NAME, function)
}

/// `matches` as fast trees call it (see `fast_tree.rs`): a name that sorts
/// before every function of the environment, which a call looks up first.
pub(crate) const FAST_NAME: &str = "!matches";

fn call<'c, 'a>(
    patterns: &Patterns,
    ftx: &mut FunctionContext<'c, 'a>,
) -> Result<CowVal<'c, 'a>, ExecutionError> {
    let (text, pattern) = match (&ftx.this, ftx.args.as_slice()) {
        (Some(text), [pattern]) | (None, [text, pattern]) => (text, pattern),
        (this, args) => {
            let given = args.len() + usize::from(this.is_some());
            return Err(ExecutionError::invalid_argument_count(2, given));
        }
    };
    match (
        text.downcast_ref::<CelString>(),
        pattern.downcast_ref::<CelString>(),
    ) {
        (Some(text), Some(pattern)) => Ok(CowVal::owned(CelBool::from(
            patterns.is_match(text.inner(), pattern.inner())?,
        ))),
        _ => {
            let types = [text, pattern]
                .iter()
                .map(|v| v.get_type().name().to_owned())
                .collect();
            Err(if ftx.this.is_some() {
                ExecutionError::no_such_member_overload("matches", types)
            } else {
                ExecutionError::no_such_overload("matches", types)
            })
        }
    }
}

/// At most this many run-time patterns are kept; past it a pattern is
/// compiled per call rather than growing memory.
const MAX_CACHED: usize = 4096;

static CACHE: LazyLock<RwLock<HashMap<String, Arc<Regex>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// A pattern computed at run time, compiled once per process.
fn cached(pattern: &str) -> Result<Arc<Regex>, String> {
    if let Ok(cache) = CACHE.read()
        && let Some(re) = cache.get(pattern)
    {
        return Ok(Arc::clone(re));
    }
    let re = compile(pattern).map(Arc::new)?;
    if let Ok(mut cache) = CACHE.write()
        && cache.len() < MAX_CACHED
    {
        cache.insert(pattern.to_owned(), Arc::clone(&re));
    }
    Ok(re)
}

#[cfg(test)]
#[path = "regex_test.rs"]
mod tests;
