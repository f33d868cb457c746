//! The engine: the CEL environment, policy versions and the set of them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use cel::IdedExpr;
use cel::common::types::{CelBool, CelDuration, CelInt, CelString};
use cel::common::value::{CowVal, Val};
use chrono::{DateTime, Duration, Utc};

use super::bindings::Bindings;
use super::decision::{Decision, Violation};
use super::error::PolicyError;
use super::facts::{FactValue, Facts};
use super::fast_tree::fast_tree;
use super::file::{Source, parse_version};
use super::optimize::optimize;
use super::paths::{Names, ReadPath};
use super::skeleton::{Node, Planner, Skeleton};

/// Whether a fired rule blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Blocks: the decision is not allowed.
    Error,
    /// Informs: reported among the warnings.
    Warning,
}

/// One compiled rule of a policy version.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The id, starting with the RULES.md number it enforces.
    pub id: String,
    /// Error or warning.
    pub severity: Severity,
    /// The CEL condition: the rule fires when it is true.
    pub condition: String,
    /// The message template; `{param}` quotes a param.
    pub message: String,
    /// The input field the rule concerns, if any.
    pub field: Option<String>,
    /// The variables (facts) its condition reads, e.g. `recipient`, `params`.
    pub inputs: Vec<String>,
    pub(crate) program: Arc<IdedExpr>,
    /// `detail`: an expression evaluated when the rule fires, whose value
    /// (a string or a list of them) is added to the message, e.g. the
    /// nicknames of the campaigns a date overlaps.
    pub(crate) detail: Option<Arc<IdedExpr>>,
}

impl Rule {
    /// Whether the condition reads the fact `name`.
    pub fn reads(&self, name: &str) -> bool {
        self.inputs.iter().any(|r| r == name)
    }
}

/// One version of one policy: params and compiled rules.
#[derive(Debug, Clone)]
pub struct PolicyVersion {
    declared: Declared,
    /// `name@version`, named by every decision and violation.
    id: String,
    base: BaseContext,
}

/// What a policy file declares of a version (read and checked by `file.rs`).
#[derive(Debug, Clone)]
pub(crate) struct Declared {
    pub name: String,
    pub version: String,
    pub effective_from: DateTime<Utc>,
    pub effective_from_reason: Option<String>,
    pub description: Option<String>,
    pub params: BTreeMap<String, FactValue>,
    pub rules: Vec<Rule>,
    /// The file it was loaded from (a path or a bundled name).
    pub source: String,
}

/// What every evaluation of a version shares, built once at load: the CEL
/// context with this version's `matches` (its patterns, each compiled on
/// first use), the params as a CEL value, and the variables some rule reads,
/// which are all an evaluation resolves (see `bindings.rs`).
#[derive(Clone)]
struct BaseContext {
    context: Arc<cel::Context<'static, 'static>>,
    params: Arc<dyn Val>,
    /// The variables and field paths some rule reads.
    variables: Arc<Names>,
    /// What is evaluated of each rule, in rule order.
    rules: Arc<[Compiled]>,
    /// The environment and the patterns of `context`, which the skeleton of
    /// a fast tree calls directly (see `skeleton.rs`).
    env: Arc<cel::Env>,
    patterns: Arc<super::regex::Patterns>,
}

/// A rule's condition and detail, as evaluated.
type Evaluated = (Arc<IdedExpr>, Option<Arc<IdedExpr>>);

/// What is evaluated of one rule, tried in reverse order of the fields.
struct Compiled {
    /// Its condition and detail rewritten at load (see `optimize.rs`).
    slow: Evaluated,
    /// The same, rewritten further: evaluated first, `slow` when they fail
    /// (see `fast_tree.rs`).
    fast: Evaluated,
    /// The skeleton of the fast condition, planned (see `skeleton.rs`):
    /// evaluated first, the fast tree when it gives no answer.
    plan: Node,
}

impl std::fmt::Debug for BaseContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaseContext")
            .field("variables", &self.variables)
            .finish_non_exhaustive()
    }
}

impl BaseContext {
    fn new(
        env: Arc<cel::Env>,
        values: &BTreeMap<String, FactValue>,
        rules: &[Rule],
    ) -> Result<Self, PolicyError> {
        let params: Box<dyn Val> = FactValue::Map(values.clone()).to_cel().try_into().map_err(
            |e: cel::ExecutionError| PolicyError::Fact {
                name: "params".to_owned(),
                reason: e.to_string(),
            },
        )?;
        let params: Arc<dyn Val> = Arc::from(params);
        let optimized = |p: &IdedExpr| Arc::new(optimize(p, values));
        let exprs: Vec<Evaluated> = rules
            .iter()
            .map(|r| (optimized(&r.program), r.detail.as_deref().map(optimized)))
            .collect();
        let mut variables = Vec::new();
        let fast_tree =
            |e: &Arc<IdedExpr>, reads: &mut Vec<ReadPath>| Arc::new(fast_tree(e, reads));
        let fast: Vec<Evaluated> = exprs
            .iter()
            .map(|(condition, detail)| {
                let detail = detail.as_ref().map(|d| fast_tree(d, &mut variables));
                (fast_tree(condition, &mut variables), detail)
            })
            .collect();
        for (condition, detail) in exprs.iter() {
            for expr in std::iter::once(condition).chain(detail) {
                ReadPath::collect(expr, &mut variables);
            }
        }
        let variables = Names::new(variables);
        let trees = exprs
            .iter()
            .chain(fast.iter())
            .flat_map(|(condition, detail)| std::iter::once(condition).chain(detail))
            .map(Arc::clone)
            .collect();
        let mut patterns = super::regex::Patterns::collect(trees, Arc::clone(&params));
        let mut planner = Planner {
            names: &variables,
            params: values,
            env: &env,
            patterns: &patterns,
            interpreted: Vec::new(),
        };
        let plans: Vec<Node> = fast.iter().map(|(c, _)| planner.plan(c)).collect();
        let interpreted = planner.interpreted;
        patterns.extend(interpreted);
        let patterns = Arc::new(patterns);
        let mut context = cel::Context::with_env(Arc::clone(&env));
        super::regex::register(&mut context, Arc::clone(&patterns))
            .map_err(PolicyError::Environment)?;
        super::fast_tree::register(&mut context).map_err(PolicyError::Environment)?;
        Ok(BaseContext {
            context: Arc::new(context),
            params,
            variables: Arc::new(variables),
            rules: exprs
                .into_iter()
                .zip(fast)
                .zip(plans)
                .map(|((slow, fast), plan)| Compiled { slow, fast, plan })
                .collect(),
            env,
            patterns,
        })
    }
}

/// Builds the CEL environment of every policy: the standard library, the
/// `strings` and `lists` extensions, the helpers `days(int)`,
/// `hours(int)`, `minutes(int)` returning durations, `renderableUrl(string)`,
/// and the calendar helpers `localDate(timestamp, zone)` and `addDays(date, int)`
/// (marketplace calendar days, see `calendar.rs`). `matches(string, string)`
/// is not declared here but on each version's context, with the version's
/// patterns (see `regex.rs`).
///
/// # Errors
/// [`PolicyError::Environment`] if a helper clashes with a declared function.
pub fn cel_env() -> Result<Arc<cel::Env>, PolicyError> {
    let mut env = cel::Env::stdlib();
    env.add_extension(cel::extensions::strings)
        .map_err(PolicyError::Environment)?;
    env.add_extension(cel::extensions::lists)
        .map_err(PolicyError::Environment)?;
    super::calendar::register(&mut env).map_err(PolicyError::Environment)?;
    cel::add_overload!(env, fn days: (CelInt) -> Result<CelDuration>)
        .map_err(PolicyError::Environment)?;
    cel::add_overload!(env, fn renderable_url: (CelString) -> Result<CelBool>)
        .map_err(PolicyError::Environment)?;
    cel::add_overload!(env, fn hours: (CelInt) -> Result<CelDuration>)
        .map_err(PolicyError::Environment)?;
    cel::add_overload!(env, fn minutes: (CelInt) -> Result<CelDuration>)
        .map_err(PolicyError::Environment)?;
    Ok(Arc::new(env))
}

fn duration_of(
    function: &str,
    n: &CelInt,
    make: fn(i64) -> Option<Duration>,
) -> Result<CelDuration, cel::ExecutionError> {
    make(*n.inner())
        .map(CelDuration::from)
        .ok_or_else(|| cel::ExecutionError::function_error(function, "duration out of range"))
}

/// `renderableUrl(string)`: whether the email renderer takes the address as an
/// image or link URL (the renderer's own check, so a policy cannot drift from it).
fn renderable_url(url: &CelString<'_>) -> Result<CelBool, cel::ExecutionError> {
    Ok(CelBool::from(crate::domain::campaign::renderable_url(
        url.inner(),
        false,
    )))
}

fn days(n: &CelInt) -> Result<CelDuration, cel::ExecutionError> {
    duration_of("days", n, Duration::try_days)
}

fn hours(n: &CelInt) -> Result<CelDuration, cel::ExecutionError> {
    duration_of("hours", n, Duration::try_hours)
}

fn minutes(n: &CelInt) -> Result<CelDuration, cel::ExecutionError> {
    duration_of("minutes", n, Duration::try_minutes)
}

impl PolicyVersion {
    /// Builds what every evaluation shares from a declared version.
    pub(crate) fn new(declared: Declared, env: Arc<cel::Env>) -> Result<Self, PolicyError> {
        let base = BaseContext::new(env, &declared.params, &declared.rules)?;
        let id = format!("{}@{}", declared.name, declared.version);
        Ok(PolicyVersion { declared, id, base })
    }

    /// The policy name, e.g. `campaign`.
    pub fn name(&self) -> &str {
        &self.declared.name
    }

    /// The version, e.g. `2026-11-01`.
    pub fn version(&self) -> &str {
        &self.declared.version
    }

    /// `name@version`, as decisions name it.
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// From when this version is in force.
    pub fn effective_from(&self) -> DateTime<Utc> {
        self.declared.effective_from
    }

    /// Why the version takes effect at a time other than marketplace
    /// midnight, when its file says.
    pub fn effective_from_reason(&self) -> Option<&str> {
        self.declared.effective_from_reason.as_deref()
    }

    /// The description, if any.
    pub fn description(&self) -> Option<&str> {
        self.declared.description.as_deref()
    }

    /// Every param, by name.
    pub fn params(&self) -> &BTreeMap<String, FactValue> {
        &self.declared.params
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.declared.rules
    }

    /// The file this version was loaded from (a path or a bundled name).
    pub fn source(&self) -> &str {
        &self.declared.source
    }

    /// The param `name`.
    ///
    /// # Errors
    /// [`PolicyError::Param`] when there is no such param.
    pub fn param(&self, name: &str) -> Result<&FactValue, PolicyError> {
        self.declared
            .params
            .get(name)
            .ok_or_else(|| self.param_error(name, "no such param".to_owned()))
    }

    fn param_error(&self, name: &str, reason: String) -> PolicyError {
        PolicyError::Param {
            policy: self.id(),
            param: name.to_owned(),
            reason,
        }
    }

    fn wrong_type(&self, name: &str, want: &str, got: &FactValue) -> PolicyError {
        self.param_error(name, format!("expected {want}, found {}", got.type_name()))
    }

    /// The integer param `name`.
    ///
    /// # Errors
    /// Missing, or not an integer.
    pub fn param_i64(&self, name: &str) -> Result<i64, PolicyError> {
        match self.param(name)? {
            FactValue::Int(i) => Ok(*i),
            other => Err(self.wrong_type(name, "an integer", other)),
        }
    }

    /// The number param `name` (an integer is accepted).
    ///
    /// # Errors
    /// Missing, or not a number.
    pub fn param_f64(&self, name: &str) -> Result<f64, PolicyError> {
        match self.param(name)? {
            FactValue::Float(f) => Ok(*f),
            #[allow(clippy::cast_precision_loss)]
            FactValue::Int(i) => Ok(*i as f64),
            other => Err(self.wrong_type(name, "a number", other)),
        }
    }

    /// The string param `name`.
    ///
    /// # Errors
    /// Missing, or not a string.
    pub fn param_str(&self, name: &str) -> Result<&str, PolicyError> {
        match self.param(name)? {
            FactValue::String(s) => Ok(s),
            other => Err(self.wrong_type(name, "a string", other)),
        }
    }

    /// The list-of-strings param `name`.
    ///
    /// # Errors
    /// Missing, or not a list of strings.
    pub fn param_strings(&self, name: &str) -> Result<Vec<&str>, PolicyError> {
        match self.param(name)? {
            FactValue::List(items) => items
                .iter()
                .map(|item| match item {
                    FactValue::String(s) => Ok(s.as_str()),
                    other => Err(self.wrong_type(name, "a list of strings", other)),
                })
                .collect(),
            other => Err(self.wrong_type(name, "a list of strings", other)),
        }
    }

    /// The param `name`, a whole number of days, as a duration.
    ///
    /// # Errors
    /// Missing, not an integer, out of range.
    pub fn param_days(&self, name: &str) -> Result<Duration, PolicyError> {
        let n = self.param_i64(name)?;
        Duration::try_days(n).ok_or_else(|| self.param_error(name, "out of range".to_owned()))
    }

    /// The param `name`, a whole number of hours, as a duration.
    ///
    /// # Errors
    /// Missing, not an integer, out of range.
    pub fn param_hours(&self, name: &str) -> Result<Duration, PolicyError> {
        let n = self.param_i64(name)?;
        Duration::try_hours(n).ok_or_else(|| self.param_error(name, "out of range".to_owned()))
    }

    /// The duration param `name` (written `{ duration = "72h" }`).
    ///
    /// # Errors
    /// Missing, or not a duration.
    pub fn param_duration(&self, name: &str) -> Result<Duration, PolicyError> {
        match self.param(name)? {
            FactValue::Duration(d) => Ok(*d),
            other => Err(self.wrong_type(name, "a duration", other)),
        }
    }

    /// The message of `rule` with its `{param}` placeholders filled in.
    pub fn render_message(&self, rule: &Rule) -> String {
        let mut out = String::with_capacity(rule.message.len());
        let mut rest = rule.message.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            match after.find('}') {
                Some(end) => {
                    let name = &after[..end];
                    match self.declared.params.get(name) {
                        Some(value) => out.push_str(&value.to_string()),
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Evaluates every rule against `facts`.
    ///
    /// `params` is bound to this version's params; `now` is bound to `at`
    /// unless the facts set it. Facts are converted when a rule first reads
    /// them, and only those some rule reads. A rule whose condition fails or yields
    /// something other than a bool fires as a violation (fail closed), with
    /// `unevaluated` set and a message saying why.
    ///
    /// # Errors
    /// [`PolicyError::Fact`] when the facts use the reserved name `params`.
    pub fn evaluate(&self, at: DateTime<Utc>, facts: &Facts) -> Result<Decision, PolicyError> {
        self.evaluate_where(at, facts, |_| true)
    }

    /// [`PolicyVersion::evaluate`] over the rules `keep` selects only (e.g. the
    /// rules that read no per-recipient fact, evaluated once per wave).
    ///
    /// # Errors
    /// As [`PolicyVersion::evaluate`].
    pub fn evaluate_where(
        &self,
        at: DateTime<Utc>,
        facts: &Facts,
        keep: impl Fn(&Rule) -> bool,
    ) -> Result<Decision, PolicyError> {
        if facts.contains("params") {
            return Err(PolicyError::Fact {
                name: "params".to_owned(),
                reason: "params is reserved for the policy's params".to_owned(),
            });
        }
        let bindings = Bindings::new(self.base.params.as_ref(), &self.base.variables, facts, at);
        let mut context = self.base.context.new_inner_scope();
        context.set_variable_resolver(&bindings);

        let id = &self.id;
        let mut decision = Decision::new(id.clone());
        let evaluated = self.declared.rules.iter().zip(self.base.rules.iter());
        let skeleton = Skeleton {
            context: &context,
            bindings: &bindings,
            env: &self.base.env,
            patterns: &self.base.patterns,
        };
        for (rule, compiled) in evaluated.filter(|(r, _)| keep(r)) {
            match condition(&skeleton, compiled) {
                Ok(false) => {}
                Ok(true) => {
                    let mut message = self.render_message(rule);
                    if let (Some(fast), Some(slow)) = (&compiled.fast.1, &compiled.slow.1) {
                        message = with_detail(message, resolve(skeleton.context, fast, slow));
                    }
                    let violation = Violation {
                        rule: rule.id.clone(),
                        message,
                        field: rule.field.clone(),
                        policy: id.clone(),
                        unevaluated: false,
                    };
                    match rule.severity {
                        Severity::Error => decision.violations.push(violation),
                        Severity::Warning => decision.warnings.push(violation),
                    }
                }
                Err(why) => decision.violations.push(Violation {
                    rule: rule.id.clone(),
                    message: format!("rule {} could not be evaluated: {why}", rule.id),
                    field: rule.field.clone(),
                    policy: id.clone(),
                    unevaluated: true,
                }),
            }
        }
        Ok(decision)
    }
}

/// Whether the condition holds: the fast tree's answer when it gives a
/// bool (its skeleton's plan's, else the interpreter's), else the optimized
/// tree's, whose failure (or value of another type) says why the rule could
/// not be evaluated.
fn condition<'a>(skeleton: &Skeleton<'a, '_>, compiled: &'a Compiled) -> Result<bool, String> {
    let Compiled {
        slow: (slow, _),
        fast: (fast, _),
        plan,
    } = compiled;
    let context = skeleton.context;
    let bool = |value: CowVal<'_, '_>| value.downcast_ref::<CelBool>().map(|b| *b.inner());
    if let Some(fired) = skeleton.eval(plan).and_then(bool) {
        return Ok(fired);
    }
    if let Some(fired) = cel::Value::resolve_val(fast, context).ok().and_then(bool) {
        return Ok(fired);
    }
    match cel::Value::resolve(slow, context) {
        Ok(cel::Value::Bool(fired)) => Ok(fired),
        Ok(other) => Err(format!(
            "the condition returned a {} ({other:?}), not a bool",
            other.type_of()
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// The value of the fast tree, or of the optimized tree when it fails.
fn resolve(
    context: &cel::Context<'_, '_>,
    fast: &IdedExpr,
    slow: &IdedExpr,
) -> Result<cel::Value, cel::ExecutionError> {
    cel::Value::resolve(fast, context).or_else(|_| cel::Value::resolve(slow, context))
}

/// `message (detail)`: a string as it is, a list of strings joined by
/// commas; nothing when the detail is empty or fails (the rule fired anyway).
fn with_detail(message: String, detail: Result<cel::Value, cel::ExecutionError>) -> String {
    let text = match detail {
        Ok(cel::Value::String(s)) => s.to_string(),
        Ok(cel::Value::List(items)) => items
            .iter()
            .map(|v| match v {
                cel::Value::String(s) => s.to_string(),
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    };
    if text.is_empty() {
        message
    } else {
        format!("{message} ({text})")
    }
}

/// Every loaded policy, each with its versions ordered by `effective_from`. Not `Clone`:
/// a copy would parse a lazily loaded policy a second time; share it in an `Arc`.
#[derive(Debug)]
pub struct PolicySet {
    policies: BTreeMap<String, Policy>,
}

/// One policy's version files and, once parsed, its versions.
///
/// Files from a directory are parsed when the set loads, so an invalid one refuses the
/// whole set at start. The bundled files are parsed on the policy's first use: they
/// are checked at build time and by the tests (`engage policy check policies/`), and a
/// function evaluates only some policies, so its cold start no longer parses every rule
/// of the others (the CEL parse was the largest part of the policy load, `perf`).
#[derive(Debug)]
struct Policy {
    sources: Vec<SourceFile>,
    versions: OnceLock<Result<Vec<PolicyVersion>, Arc<PolicyError>>>,
}

impl Policy {
    fn parsed(versions: Vec<PolicyVersion>) -> Self {
        Self {
            sources: Vec::new(),
            versions: OnceLock::from(Ok(versions)),
        }
    }

    fn versions(&self, name: &str) -> Result<&[PolicyVersion], PolicyError> {
        let parsed = self.versions.get_or_init(|| {
            let parse = || {
                let env = cel_env()?;
                let versions = (self.sources.iter())
                    .map(|src| parse_version(&src.as_source(), &env))
                    .collect::<Result<Vec<_>, _>>()?;
                ordered(versions)
            };
            parse().map_err(Arc::new)
        });
        match parsed {
            Ok(versions) => Ok(versions),
            Err(error) => Err(PolicyError::Load {
                name: name.to_owned(),
                source: Arc::clone(error),
            }),
        }
    }
}

/// `versions` by `effective_from`, refusing two that take effect at the same instant.
fn ordered(mut versions: Vec<PolicyVersion>) -> Result<Vec<PolicyVersion>, PolicyError> {
    versions.sort_by_key(PolicyVersion::effective_from);
    for pair in versions.windows(2) {
        if pair[0].effective_from() == pair[1].effective_from() {
            return Err(PolicyError::schema(
                pair[1].source(),
                None,
                format!(
                    "effective_from {} is the same as {}'s",
                    pair[1].effective_from().to_rfc3339(),
                    pair[0].id()
                ),
            ));
        }
    }
    Ok(versions)
}

/// One policy version file to load: `<name>/<version>.toml` and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The file, for messages.
    pub file: String,
    /// The policy name (its directory).
    pub name: String,
    /// The version (its file stem).
    pub version: String,
    /// The TOML text.
    pub text: String,
}

impl SourceFile {
    fn as_source(&self) -> Source<'_> {
        Source {
            file: &self.file,
            name: &self.name,
            version: &self.version,
            text: &self.text,
        }
    }
}

impl PolicySet {
    /// Loads and validates every version file `DIR/<name>/<version>.toml`
    /// (the `cases/` and `invalid/` subdirectories are not policy versions).
    ///
    /// # Errors
    /// The first invalid file, or an unreadable directory.
    pub fn load_dir(dir: &Path) -> Result<PolicySet, PolicyError> {
        PolicySet::from_sources(read_sources(dir)?)
    }

    /// The policies bundled into the binary at build time (every version file under
    /// `policies/`), each parsed on its first use: an invalid bundled file (which the
    /// build's `engage policy check` prevents) fails every use of its policy with
    /// [`PolicyError::Load`].
    pub fn bundled() -> PolicySet {
        PolicySet::lazy(super::bundled::sources())
    }

    /// Version files given as text, each policy parsed and checked on its first use.
    pub fn lazy(sources: impl IntoIterator<Item = SourceFile>) -> PolicySet {
        let mut policies: BTreeMap<String, Policy> = BTreeMap::new();
        for src in sources {
            let policy = policies.entry(src.name.clone()).or_insert_with(|| Policy {
                sources: Vec::new(),
                versions: OnceLock::new(),
            });
            policy.sources.push(src);
        }
        PolicySet { policies }
    }

    /// Loads and validates version files given as text.
    ///
    /// # Errors
    /// The first invalid file; two versions of a policy with the same
    /// `effective_from`.
    pub fn from_sources(
        sources: impl IntoIterator<Item = SourceFile>,
    ) -> Result<PolicySet, PolicyError> {
        let env = cel_env()?;
        let mut parsed: BTreeMap<String, Vec<PolicyVersion>> = BTreeMap::new();
        for src in sources {
            let version = parse_version(&src.as_source(), &env)?;
            parsed.entry(src.name.clone()).or_default().push(version);
        }
        let mut policies = BTreeMap::new();
        for (name, versions) in parsed {
            policies.insert(name, Policy::parsed(ordered(versions)?));
        }
        Ok(PolicySet { policies })
    }

    /// The policy names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.policies.keys().map(String::as_str)
    }

    /// Every version of `name`, oldest first.
    ///
    /// # Errors
    /// [`PolicyError::UnknownPolicy`].
    pub fn versions(&self, name: impl AsRef<str>) -> Result<&[PolicyVersion], PolicyError> {
        let name = name.as_ref();
        let policy = self
            .policies
            .get(name)
            .ok_or_else(|| PolicyError::UnknownPolicy {
                name: name.to_owned(),
            })?;
        policy.versions(name)
    }

    /// The version of `name` in force at `at`: the latest whose
    /// `effective_from <= at`.
    ///
    /// # Errors
    /// [`PolicyError::UnknownPolicy`], [`PolicyError::NotInForce`].
    pub fn in_force(
        &self,
        name: impl AsRef<str>,
        at: DateTime<Utc>,
    ) -> Result<&PolicyVersion, PolicyError> {
        let name = name.as_ref();
        self.versions(name)?
            .iter()
            .rev()
            .find(|v| v.effective_from() <= at)
            .ok_or_else(|| PolicyError::NotInForce {
                name: name.to_owned(),
                at,
            })
    }

    /// The version `version` of `name`.
    ///
    /// # Errors
    /// [`PolicyError::UnknownPolicy`], [`PolicyError::UnknownVersion`].
    pub fn version(&self, name: &str, version: &str) -> Result<&PolicyVersion, PolicyError> {
        self.versions(name)?
            .iter()
            .find(|v| v.version() == version)
            .ok_or_else(|| PolicyError::UnknownVersion {
                name: name.to_owned(),
                version: version.to_owned(),
            })
    }

    /// Evaluates the version of `name` in force at `at` against `facts`
    /// (`now` defaults to `at`), every rule, failing closed.
    ///
    /// # Errors
    /// No such policy or version in force; facts that cannot be bound.
    pub fn evaluate(
        &self,
        name: impl AsRef<str>,
        at: DateTime<Utc>,
        facts: &Facts,
    ) -> Result<Decision, PolicyError> {
        self.in_force(name, at)?.evaluate(at, facts)
    }
}

/// Reads `DIR/<name>/<version>.toml` files, sorted by path.
pub(crate) fn read_sources(dir: &Path) -> Result<Vec<SourceFile>, PolicyError> {
    let mut out = Vec::new();
    for policy_dir in sorted_entries(dir)? {
        if !policy_dir.is_dir() {
            continue;
        }
        let Some(name) = file_name(&policy_dir) else {
            continue;
        };
        for path in sorted_entries(&policy_dir)? {
            if !path.is_file() || path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let Some(version) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).map_err(|source| PolicyError::Io {
                path: path.clone(),
                source,
            })?;
            out.push(SourceFile {
                file: path.display().to_string(),
                name: name.clone(),
                version,
                text,
            });
        }
    }
    Ok(out)
}

pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<std::path::PathBuf>, PolicyError> {
    let io = |source| PolicyError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort();
    Ok(entries)
}

pub(crate) fn file_name(path: &Path) -> Option<String> {
    path.file_name().and_then(|s| s.to_str()).map(str::to_owned)
}

#[cfg(test)]
#[path = "engine_test.rs"]
mod tests;
