//! Sequence definitions read from the `sequences` policy in force (see
//! `policies/sequences/` and `policies/README.md`): steps, their trigger, delay,
//! window and per-locale wording; the buyer's locale picks a template; the
//! content policy checks the wording ([`check_wording`]), both at
//! `engage policy check` time ([`check_version`]) and before every send.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

use crate::app::facts::{Channel, Text, check_content};
use crate::domain::brand::Marketplace;
use crate::domain::order::{Order, OrderChangeKind};
use crate::domain::schedule::{self, add_local_days, local_date};
use crate::policy::{
    FactValue, PolicyError, PolicyName, PolicySet, PolicyVersion, format_duration, parse_duration,
};

/// The policy that holds the sequences.
pub const POLICY: PolicyName = PolicyName::Sequences;

/// Why the sequences policy cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    /// A param is missing or has the wrong shape.
    #[error("{policy}: {reason}")]
    Invalid {
        /// `sequences@version`.
        policy: String,
        /// What is wrong.
        reason: String,
    },
    /// The policy could not be read.
    #[error("sequences policy unavailable")]
    Policy(#[from] PolicyError),
}

/// The marketplace event that starts a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Order Placed.
    OrderPlaced,
    /// Order Shipped.
    OrderShipped,
    /// Order Delivered.
    OrderDelivered,
    /// Return Received.
    ReturnReceived,
}

impl Trigger {
    /// When the order had this event, if it had it.
    pub fn at(self, order: &Order) -> Option<DateTime<Utc>> {
        match self {
            Self::OrderPlaced => Some(order.purchased_at),
            Self::OrderShipped => order.shipped_at,
            Self::OrderDelivered => order.delivered_at,
            Self::ReturnReceived => order.return_received.as_ref().map(|r| r.received_at),
        }
    }

    /// The trigger an order event reports, and its instant.
    pub fn of_change(kind: &OrderChangeKind) -> (Self, DateTime<Utc>) {
        match kind {
            OrderChangeKind::Placed(p) => (Self::OrderPlaced, p.purchased_at),
            OrderChangeKind::Shipped { shipped_at, .. } => (Self::OrderShipped, *shipped_at),
            OrderChangeKind::Delivered { delivered_at } => (Self::OrderDelivered, *delivered_at),
            OrderChangeKind::ReturnReceived(r) => (Self::ReturnReceived, r.received_at),
        }
    }

    /// The snake_case name, as written in the policy.
    pub fn name(self) -> &'static str {
        match self {
            Self::OrderPlaced => "order_placed",
            Self::OrderShipped => "order_shipped",
            Self::OrderDelivered => "order_delivered",
            Self::ReturnReceived => "return_received",
        }
    }
}

/// The wording of one message in one locale (minijinja text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The subject line.
    pub subject: String,
    /// The paragraphs, in order.
    pub body: Vec<String>,
    /// The line before the brand's name at the end.
    pub closing: String,
}

/// One step of a sequence: one message type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The message type (`review_request`, ...).
    pub message_type: String,
    /// The event that starts it.
    pub trigger: Trigger,
    /// How long after the trigger it is due.
    pub delay: Duration,
    /// How long after the trigger it may still be sent (the job stops trying then).
    pub window: Duration,
    /// Whether the step runs.
    pub enabled: bool,
    /// Events that cancel the step when the order has them by the time it is due.
    pub unless: Vec<Trigger>,
    /// The wording per locale tag.
    pub templates: BTreeMap<String, Template>,
}

/// The sequences of one policy version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequences {
    /// `sequences@version`.
    pub policy: String,
    /// The locale used when the buyer's language has no template.
    pub fallback_locale: String,
    /// The locales every step must have.
    pub required_locales: Vec<String>,
    /// Every step, in file order.
    pub steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    #[serde(rename = "type")]
    message_type: String,
    trigger: Trigger,
    delay: String,
    window: String,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    unless: Vec<Trigger>,
    templates: BTreeMap<String, Template>,
}

fn yes() -> bool {
    true
}

/// A fact value as JSON, durations written as text (`"7d"`), for serde.
fn to_json(v: &FactValue) -> serde_json::Value {
    use serde_json::Value;
    match v {
        FactValue::Null => Value::Null,
        FactValue::Bool(b) => Value::Bool(*b),
        FactValue::Int(i) => Value::from(*i),
        FactValue::Float(f) => Value::from(*f),
        FactValue::String(s) => Value::String(s.clone()),
        FactValue::Instant(t) => Value::String(t.to_rfc3339()),
        FactValue::Duration(d) => Value::String(format_duration(d)),
        FactValue::List(items) => Value::Array(items.iter().map(to_json).collect()),
        FactValue::Map(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

impl Sequences {
    /// The sequences of the policy version in force at `at`.
    ///
    /// # Errors
    /// No such policy in force, or a malformed one.
    pub fn in_force(policies: &PolicySet, at: DateTime<Utc>) -> Result<Self, DefinitionError> {
        Self::from_version(policies.in_force(POLICY, at)?)
    }

    /// Reads and checks the structure of one version: known triggers, one step per
    /// type, `0 <= delay <= window`, every required locale and the fallback present,
    /// every template compiling.
    ///
    /// # Errors
    /// The first problem found.
    pub fn from_version(v: &PolicyVersion) -> Result<Self, DefinitionError> {
        Self::read(v, true)
    }

    /// The sequences in force at `at` for scheduling due entries: the same
    /// structure checks without compiling the templates, since the events job needs
    /// only triggers, delays and windows and runs once per order event (a template
    /// that does not compile is caught by `engage policy check` and at send time).
    ///
    /// # Errors
    /// No such policy in force, or a malformed one.
    pub fn timing_in_force(
        policies: &PolicySet,
        at: DateTime<Utc>,
    ) -> Result<Self, DefinitionError> {
        Self::read(policies.in_force(POLICY, at)?, false)
    }

    fn read(v: &PolicyVersion, compile_templates: bool) -> Result<Self, DefinitionError> {
        let policy = v.id();
        let invalid = |reason: String| DefinitionError::Invalid {
            policy: policy.clone(),
            reason,
        };
        let fallback_locale = v.param_str("fallback_locale")?.to_owned();
        let required_locales: Vec<String> = v
            .param_strings("required_locales")?
            .into_iter()
            .map(str::to_owned)
            .collect();
        let raw = to_json(v.param("steps")?);
        let files: Vec<StepFile> =
            serde_json::from_value(raw).map_err(|e| invalid(format!("steps: {e}")))?;
        let mut steps: Vec<Step> = Vec::new();
        for f in files {
            let name = f.message_type.clone();
            if steps.iter().any(|s| s.message_type == name) {
                return Err(invalid(format!(
                    "step {name}: a second step of the same type"
                )));
            }
            let delay =
                parse_duration(&f.delay).map_err(|e| invalid(format!("step {name}: delay {e}")))?;
            let window = parse_duration(&f.window)
                .map_err(|e| invalid(format!("step {name}: window {e}")))?;
            if delay < Duration::zero() || window < delay {
                return Err(invalid(format!(
                    "step {name}: the delay must be 0 or more and the window at least the delay"
                )));
            }
            for locale in required_locales
                .iter()
                .chain(std::iter::once(&fallback_locale))
            {
                if !f.templates.contains_key(locale) {
                    return Err(invalid(format!(
                        "step {name}: no template for locale {locale}"
                    )));
                }
            }
            for (locale, t) in f.templates.iter().filter(|_| compile_templates) {
                for (field, text) in t.fields() {
                    compile(&text).map_err(|e| {
                        invalid(format!("step {name}, template {locale}, {field}: {e}"))
                    })?;
                }
            }
            steps.push(Step {
                message_type: f.message_type,
                trigger: f.trigger,
                delay,
                window,
                enabled: f.enabled,
                unless: f.unless,
                templates: f.templates,
            });
        }
        Ok(Self {
            policy,
            fallback_locale,
            required_locales,
            steps,
        })
    }

    /// The enabled steps.
    pub fn enabled(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.enabled)
    }

    /// The longest window of an enabled step: how far back the job looks.
    pub fn horizon(&self) -> Duration {
        self.enabled()
            .map(|s| s.window)
            .max()
            .unwrap_or_else(Duration::zero)
    }
}

impl Template {
    /// `(field name, text)` of every part: `subject`, `body[i]`, `closing`.
    pub fn fields(&self) -> Vec<(String, String)> {
        let mut out = vec![("subject".to_owned(), self.subject.clone())];
        for (i, p) in self.body.iter().enumerate() {
            out.push((format!("body[{i}]"), p.clone()));
        }
        out.push(("closing".to_owned(), self.closing.clone()));
        out
    }

    /// The wording with `vars` filled in (unknown variables are errors).
    ///
    /// # Errors
    /// A template that does not compile or uses a variable `vars` lacks.
    pub fn render(&self, vars: &MessageVars) -> Result<Template, minijinja::Error> {
        let env = environment();
        let ctx = minijinja::Value::from(minijinja::value::Serde(vars));
        let r = |text: &str| env.render_str(text, ctx.clone());
        let mut body = Vec::with_capacity(self.body.len());
        for p in &self.body {
            let text = r(p)?;
            // A paragraph about an optional fact (`{% if expected_delivery_date
            // is defined %}`) renders empty without it: left out, not a blank line.
            if !text.trim().is_empty() {
                body.push(text);
            }
        }
        Ok(Template {
            subject: r(&self.subject)?,
            body,
            closing: r(&self.closing)?,
        })
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
}

fn compile(text: &str) -> Result<(), minijinja::Error> {
    environment().template_from_str(text).map(|_| ())
}

/// `at` plus a step's delay or window, its whole days counted as marketplace
/// calendar days in `tz` (RULES.md: "N days"): the same local wall-clock time
/// that many dates later ([`add_local_days`]), then the rest (hours, minutes,
/// seconds) as elapsed time. So `"7d"` after a delivery at 10:00 is 10:00 seven
/// dates later, 167 or 169 hours across a clock change; `"1d12h"` is the next
/// date's same time plus 12 hours; `"36h"` is read as `"1d12h"`.
pub fn after_span(at: DateTime<Utc>, span: Duration, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let days = span.num_days().max(0);
    let rest = span - Duration::days(days);
    add_local_days(at, days, tz) + rest
}

impl Step {
    /// When the step triggered at `trigger_at` is due, in the brand's zone.
    pub fn due_at(&self, trigger_at: DateTime<Utc>, tz: chrono_tz::Tz) -> DateTime<Utc> {
        after_span(trigger_at, self.delay, tz)
    }

    /// When its window closes, in the brand's zone.
    pub fn closes_at(&self, trigger_at: DateTime<Utc>, tz: chrono_tz::Tz) -> DateTime<Utc> {
        after_span(trigger_at, self.window, tz)
    }

    /// The earliest instant the step can be due over every marketplace's zone:
    /// where the due index files it when the brand is not known yet (an order
    /// event may come before Order Placed). The pass decides with the brand's
    /// zone, so an entry filed early waits in the index.
    pub fn earliest_due_at(&self, trigger_at: DateTime<Utc>) -> DateTime<Utc> {
        Marketplace::ALL
            .iter()
            .map(|m| self.due_at(trigger_at, schedule::zone(*m)))
            .min()
            .unwrap_or(trigger_at + self.delay)
    }

    /// Whether the window has closed at `now` in every marketplace's zone (an
    /// old event replayed: nothing to file).
    pub fn closed_everywhere(&self, trigger_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        Marketplace::ALL
            .iter()
            .all(|m| self.closes_at(trigger_at, schedule::zone(*m)) < now)
    }

    /// The template for a buyer's locale tag: the same tag, else a template of the
    /// same language (the fallback's if it is that language), else the fallback.
    /// Returns the locale tag chosen and its template.
    pub fn template_for<'a>(
        &'a self,
        buyer: &str,
        fallback: &'a str,
    ) -> Option<(&'a str, &'a Template)> {
        let norm = |s: &str| s.trim().replace('_', "-").to_ascii_lowercase();
        let want = norm(buyer);
        let lang = |s: &str| norm(s).split('-').next().unwrap_or_default().to_owned();
        let want_lang = lang(&want);
        let exact = self.templates.iter().find(|(k, _)| norm(k) == want);
        let same_language = || {
            if lang(fallback) == want_lang {
                self.templates.get_key_value(fallback)
            } else {
                self.templates.iter().find(|(k, _)| lang(k) == want_lang)
            }
        };
        exact
            .or_else(same_language)
            .or_else(|| self.templates.get_key_value(fallback))
            .map(|(k, t)| (k.as_str(), t))
    }
}

/// The primary language subtag of a locale tag (`fr` of `fr-CA`), lowercase.
pub fn language(tag: &str) -> String {
    tag.trim()
        .replace('_', "-")
        .split('-')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// What a template may quote. Absent values are undefined (a template using them fails).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageVars {
    /// The brand's name.
    pub brand_name: String,
    /// The order id.
    pub order_id: String,
    /// The product.
    pub asin: String,
    /// The refunded amount (return_received only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_amount: Option<String>,
    /// Its currency (return_received only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The day the return arrived, `YYYY-MM-DD` in the marketplace's time
    /// zone (return_received only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_date: Option<String>,
    /// The day the refund was issued, marketplace time zone (return_received
    /// only): the event's `refundedAt`, else the day the return arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_date: Option<String>,
    /// The carrier (once shipped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// The carrier's tracking number (once shipped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// The day it shipped, marketplace time zone (once shipped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipped_date: Option<String>,
    /// The expected delivery day, marketplace time zone, when Order Shipped
    /// gave one (`expectedDeliveryAt`): templates test `is defined`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_delivery_date: Option<String>,
}

impl MessageVars {
    /// The values of an order; dates are calendar dates in `zone`, the
    /// brand's marketplace time zone (a return received at 01:00 UTC arrived
    /// the evening before in Pacific time).
    pub fn of(order: &Order, brand_name: &str, zone: chrono_tz::Tz) -> Self {
        let r = order.return_received.as_ref();
        let day = |at: chrono::DateTime<chrono::Utc>| local_date(at, zone).to_string();
        Self {
            brand_name: brand_name.to_owned(),
            order_id: order.order_id.to_string(),
            asin: order.asin.clone(),
            refund_amount: r.map(|r| r.refund_amount.clone()),
            currency: r.map(|r| r.currency.clone()),
            received_date: r.map(|r| day(r.received_at)),
            refund_date: r.map(|r| day(r.refunded_at.unwrap_or(r.received_at))),
            carrier: order.carrier.clone(),
            tracking_id: order.tracking_id.clone(),
            shipped_date: order.shipped_at.map(day),
            expected_delivery_date: order.expected_delivery_at.map(day),
        }
    }

    /// Sample values for checking the templates of a step started by `trigger`
    /// (every optional value set: [`Self::without_optional`] takes them out).
    pub fn sample(trigger: Trigger) -> Self {
        let ret = trigger == Trigger::ReturnReceived;
        // Shipping values are known from Order Shipped on.
        let shipped = matches!(
            trigger,
            Trigger::OrderShipped | Trigger::OrderDelivered | Trigger::ReturnReceived
        );
        Self {
            carrier: shipped.then(|| "UPS".into()),
            tracking_id: shipped.then(|| "1Z999AA10123456784".into()),
            shipped_date: shipped.then(|| "2026-11-18".into()),
            expected_delivery_date: shipped.then(|| "2026-11-20".into()),
            brand_name: "Northwind Outfitters".into(),
            order_id: "O-1001".into(),
            asin: "B0ENGAGE01".into(),
            refund_amount: ret.then(|| "25.00".into()),
            currency: ret.then(|| "USD".into()),
            received_date: ret.then(|| "2026-11-20".into()),
            refund_date: ret.then(|| "2026-11-20".into()),
        }
    }

    /// The same values without those an event may leave out (the expected
    /// delivery date): a template must render both ways.
    #[must_use]
    pub fn without_optional(mut self) -> Self {
        self.expected_delivery_date = None;
        self
    }
}

/// One content-policy violation in a message's wording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentViolation {
    /// `subject`, `body[i]`, `closing` or `text`.
    pub field: String,
    /// The rule, e.g. `R-MSG-9.web_address`.
    pub rule: String,
    /// The rule's message.
    pub message: String,
    /// The offending sentence (the whole field when no single sentence fires alone).
    pub text: String,
}

impl std::fmt::Display for ContentViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} ({}): {:?}",
            self.field, self.rule, self.message, self.text
        )
    }
}

/// Runs the `content` policy in force at `at` (channel `buyer_message`) over each
/// `(field, text)`; the subject is a header field. Every violation names its rule
/// and the offending sentence.
///
/// # Errors
/// The content policy is missing or cannot bind the facts.
pub fn check_wording(
    policies: &PolicySet,
    at: DateTime<Utc>,
    fields: &[(String, String)],
) -> Result<Vec<ContentViolation>, PolicyError> {
    let check = |field: &str, text: &str| {
        let header = field == "subject";
        check_content(
            policies,
            at,
            Channel::BuyerMessage,
            [Text {
                field,
                text,
                header,
            }],
        )
    };
    let mut out = Vec::new();
    for (field, text) in fields {
        let decision = check(field, text)?;
        for v in &decision.violations {
            let offending = sentences(text)
                .into_iter()
                .find(|s| check(field, s).is_ok_and(|d| d.has_fired(&v.rule)))
                .unwrap_or_else(|| text.clone());
            out.push(ContentViolation {
                field: field.clone(),
                rule: v.rule.clone(),
                message: v.message.clone(),
                text: offending.trim().to_owned(),
            });
        }
    }
    Ok(out)
}

/// The sentences of a text: cut after `.`, `!` or `?` followed by white space,
/// and at line breaks.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            out.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
        if matches!(c, '.' | '!' | '?') && chars.peek().is_some_and(|n| n.is_whitespace()) {
            out.push(std::mem::take(&mut current));
        }
    }
    out.push(current);
    out.retain(|s| !s.trim().is_empty());
    out
}

/// [`check_version`] as `engage policy check`'s hook for this policy.
pub const VERSION_CHECK: crate::policy::VersionCheck = crate::policy::VersionCheck {
    policy: POLICY.as_str(),
    check: |v, policies| {
        check_version(v, policies)
            .map(|n| format!("{n} templates pass the content policy and fit the message policy"))
    },
};

/// `engage policy check` over one `sequences` version: its structure
/// ([`Sequences::from_version`]); every step's type permitted by the `message`
/// policy in force at its `effective_from`, a review request's delay and window
/// inside that policy's window after delivery (R-MSG-6); and every template, rendered
/// with sample values, clean under the `content` policy (R-MSG-3, R-MSG-9).
/// Returns the number of templates checked, or every problem found.
///
/// # Errors
/// One line per problem, each naming the step, the locale, the field, the rule
/// and the offending text.
pub fn check_version(v: &PolicyVersion, policies: &PolicySet) -> Result<usize, Vec<String>> {
    let seq = Sequences::from_version(v).map_err(|e| vec![error_text(&e)])?;
    let at = v.effective_from();
    let message = policies
        .in_force(PolicyName::Message, at)
        .map_err(|e| vec![e.to_string()])?;
    let permitted = message
        .param_strings("permitted_types")
        .map_err(|e| vec![e.to_string()])?;
    let min = message
        .param_days("review_request_min_days_after_delivery")
        .map_err(|e| vec![e.to_string()])?;
    let max = message
        .param_days("review_request_max_days_after_delivery")
        .map_err(|e| vec![e.to_string()])?;
    let mut problems = Vec::new();
    let mut checked = 0;
    for step in &seq.steps {
        let name = &step.message_type;
        if !permitted.contains(&name.as_str()) {
            problems.push(format!(
                "step {name}: not a permitted buyer message of {} (R-MSG-2)",
                message.id()
            ));
        }
        if name == "review_request" {
            if step.trigger != Trigger::OrderDelivered {
                problems.push(format!(
                    "step {name}: a review request follows order_delivered (R-MSG-6)"
                ));
            }
            if step.delay < min || step.window > max {
                problems.push(format!(
                    "step {name}: delay {} and window {} must lie within {} to {} after delivery ({}, R-MSG-6)",
                    format_duration(&step.delay),
                    format_duration(&step.window),
                    format_duration(&min),
                    format_duration(&max),
                    message.id()
                ));
            }
        }
        for (locale, template) in &step.templates {
            checked += 1;
            let full = MessageVars::sample(step.trigger);
            let mut rendered = Vec::new();
            for vars in [full.clone(), full.without_optional()] {
                match template.render(&vars) {
                    Ok(r) => rendered.push(r),
                    Err(e) => problems.push(format!(
                        "step {name}, template {locale}: {}",
                        template_error(&e)
                    )),
                }
            }
            rendered.dedup();
            for r in rendered {
                match check_wording(policies, at, &r.fields()) {
                    Ok(violations) => problems.extend(
                        violations
                            .into_iter()
                            .map(|v| format!("step {name}, template {locale}, {v}")),
                    ),
                    Err(e) => problems.push(e.to_string()),
                }
            }
        }
    }
    // A template error shows once, not once per set of sample values.
    problems.dedup();
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems)
    }
}

/// A template error with its detail (minijinja puts it in the display form).
pub fn template_error(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.to_string(),
    }
}

fn error_text(e: &DefinitionError) -> String {
    match e {
        DefinitionError::Policy(p) => format!("{e}: {p}"),
        DefinitionError::Invalid { .. } => e.to_string(),
    }
}

#[cfg(test)]
#[path = "definition_test.rs"]
mod tests;
