//! The sequences job (issue 7; R-MSG-1..9): automated buyer messages. One pass
//! ([`run`]) sends every step that is due; the same function runs in
//! `engage tick`, and on an EventBridge schedule in `functions/sequences`.
//!
//! # What is due
//! The steps are policy data: the `sequences` policy in force
//! ([`definition::Sequences`]): a trigger event (Order Placed, Shipped,
//! Delivered, Return Received), a delay, a window and the wording per locale.
//! When the events job merges an order event that triggers a step, it writes a
//! due entry ([`due::schedule`]): the ledger entry of (order, type), in a sparse
//! index of its due day. A pass reads only that index, from the day the longest
//! window began to `now`, every shard, page by page
//! ([`MessageStore::list_due_messages`]); entries due later are not read. For each
//! entry it reads the order and, in order:
//! 1. the `sequences` policy in force decides whether the step is up (enabled, due,
//!    window open, not cancelled): not yet due leaves the entry in the index;
//!    any other refusal stores it as `expired`, out of the index;
//! 2. the `message` policy in force decides (R-MSG-1, 2, 5, 6: the window after
//!    delivery, 30 days of the order for proactive messages, a customer who
//!    unsubscribed gets service messages only; suppression records say so); a
//!    hard-bounced address gets nothing (R-MAIL-3);
//! 3. the buyer's locale picks the template (same tag, same language, else the
//!    fallback locale); the wording is rendered and the `content` policy runs over
//!    it and over the text part (the unsubscribe link excepted) (R-MSG-3, R-MSG-9):
//!    a violation refuses the message, naming the rule and the offending text;
//! 4. the (order, type) is **claimed** with one conditional put
//!    ([`MessageStore::claim_message`]); a claim held by another run is left alone;
//! 5. the email goes out with `X-Engage-Message: <order>/<type>`,
//!    `Content-Language` and the one-click unsubscribe headers (scope `message`),
//!    message id `msg-<order>-<type>`;
//! 6. the outcome is stored on the condition that this run still holds the claim.
//!
//! A refusal (steps 2 and 3) is stored as `refused` with its reasons, by the same
//! conditional put as a claim, and leaves the index: a refused message is not
//! retried, since otherwise every pass would read and refuse it again until its
//! window closes (an unsubscribed buyer, a bounced address); the one refusal that
//! time can lift (a review request asked too early) cannot happen under a
//! sequences policy that passes `engage policy check`.
//!
//! # Once per order and type, crash-safe
//! Two runs never both hold a live claim (the conditional put), so concurrent runs
//! send once. A run killed between claim and finish leaves a `pending` record, still
//! in the due index, whose lease ([`SequenceOptions::lease`], on the business clock
//! like every instant the job stores) expires; a later pass whose `now` is past it
//! takes it over and sends again with the same message id, which the outbox rewrites
//! in place.
//! **The duplicate window**: through SES, a message accepted just before the
//! process died and before its outcome was stored is sent a second time on
//! takeover: at most one message per crashed run (messages are sent one at a
//! time), the window between `Mailer::send` returning and `finish_message`
//! committing. A transient mail failure releases the claim (retried next pass); a
//! permanent one is stored as `failed` and never retried.
//!
//! Cost: a pass reads one index partition per shard and day of the longest window
//! ([`crate::store::keys::DUE_SHARDS`] x 31 with the shipped policy, mostly empty
//! queries) plus, per due entry, the order and the suppression record (the brand's
//! name once per brand); nothing for the orders whose messages are not due.

pub mod definition;
pub mod due;

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use minijinja::value::{Serde, Value};
use serde::Serialize;

use crate::app::App;
use crate::app::facts::message::{message_facts, step_facts};
use crate::domain::BrandId;
use crate::domain::order::Order;
use crate::mail::{MailError, Mailbox, OutgoingEmail, RenderedEmail};
use crate::policy::{PolicyError, PolicyName};
use crate::store::{MessageClaim, MessageFinish, MessageRecord, MessageStatus, StoreError};
use crate::unsubscribe::{self, Scope};

pub use definition::{
    ContentViolation, DefinitionError, MessageVars, Sequences, Step, Template, Trigger,
};
pub use due::{ScheduleError, schedule};

/// The sender address used when none is configured (`ENGAGE_FROM_ADDRESS`).
pub const DEFAULT_FROM_ADDRESS: &str = "messages@engage.localhost";

/// The layout template pair around a step's wording.
const LAYOUT: &str = "message_buyer";

/// How one pass sends.
#[derive(Debug, Clone)]
pub struct SequenceOptions {
    /// The sender address; the display name is the brand's name.
    pub from_address: String,
    /// How long a claim holds (on the business clock) before another run may take it over.
    pub lease: StdDuration,
    /// This run's id (the claim owner).
    pub owner: String,
    /// Due entries read per page of the due index.
    pub page_size: usize,
}

impl Default for SequenceOptions {
    fn default() -> Self {
        Self {
            from_address: DEFAULT_FROM_ADDRESS.to_owned(),
            lease: StdDuration::from_secs(300),
            owner: format!("seq-{}", uuid::Uuid::new_v4().simple()),
            page_size: 100,
        }
    }
}

impl SequenceOptions {
    /// Options from the process configuration (`ENGAGE_FROM_ADDRESS`).
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            from_address: config
                .from_address
                .clone()
                .unwrap_or_else(|| DEFAULT_FROM_ADDRESS.to_owned()),
            ..Self::default()
        }
    }

    /// The same options with a new run id (one per pass of a timer).
    #[must_use]
    pub fn fresh_run(&self) -> Self {
        Self {
            owner: format!("seq-{}", uuid::Uuid::new_v4().simple()),
            ..self.clone()
        }
    }
}

/// Why a pass could not run at all (per-message failures are in the report).
pub type SequenceError = crate::jobs::PassError;

/// One message the pass handled.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageOutcome {
    /// The order.
    pub order_id: String,
    /// The message type.
    pub message_type: String,
    /// The template locale (when one was chosen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Why, for refusals and failures: each rule with its message (and offending text).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SequenceReport {
    /// `sequences@version` used.
    pub policy: String,
    /// Due entries read (each an order and a message type).
    pub orders: usize,
    /// Sent now.
    pub sent: Vec<MessageOutcome>,
    /// Due but refused by a policy (stored as refused; not retried).
    pub refused: Vec<MessageOutcome>,
    /// Failed permanently (stored as failed) or with an error (retried next pass).
    pub failed: Vec<MessageOutcome>,
    /// Claimed by another run right now: left alone.
    pub held: usize,
    /// Due entries whose step is no longer up (window closed, cancelled, turned off):
    /// stored as expired.
    pub expired: usize,
}

impl SequenceReport {
    /// Whether some message failed.
    pub fn has_errors(&self) -> bool {
        !self.failed.is_empty()
    }
}

/// The message id of a buyer message: `msg-<order>-<type>`, stable across retries.
pub fn message_id(order: &str, message_type: &str) -> String {
    crate::mail::message_id(&["msg", order, message_type])
}

/// One pass over what is due (see the module docs).
///
/// # Errors
/// The sequences or message policy cannot be used, or the due index cannot be read.
/// A failure of one message is reported in [`SequenceReport::failed`] instead.
pub async fn run(app: &App, options: &SequenceOptions) -> Result<SequenceReport, SequenceError> {
    let now = app.clock.now();
    let seq = Sequences::in_force(&app.policies, now)?;
    // Fail the pass early, not per message, when the message policy is missing.
    app.policies.in_force(PolicyName::Message, now)?;
    // One UTC day more than the longest window: a window of N calendar days can
    // close up to a clock change (an hour) after N x 24 hours.
    let from_day = (now - seq.horizon()).date_naive() - chrono::Days::new(1);
    let mut pass = Pass {
        app,
        options,
        seq: &seq,
        now,
        brands: HashMap::new(),
        report: SequenceReport {
            policy: seq.policy.clone(),
            ..SequenceReport::default()
        },
    };
    let mut token: Option<String> = None;
    loop {
        let page = app
            .store
            .list_due_messages(from_day, now, token.as_deref(), options.page_size)
            .await?;
        pass.report.orders += page.items.len();
        for entry in &page.items {
            pass.try_entry(entry).await;
        }
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    Ok(pass.report)
}

struct Pass<'a> {
    app: &'a App,
    options: &'a SequenceOptions,
    seq: &'a Sequences,
    now: DateTime<Utc>,
    /// Each brand's name and marketplace time zone, read once per pass.
    brands: HashMap<BrandId, (String, chrono_tz::Tz)>,
    report: SequenceReport,
}

/// How one due entry ended.
enum Fate {
    /// Not due yet, the order not placed yet, already settled: nothing to report.
    Quiet,
    Sent(String),
    Refused(Option<String>, Vec<String>),
    Failed(Option<String>, Vec<String>),
    Held,
    Expired,
}

impl Pass<'_> {
    async fn try_entry(&mut self, entry: &MessageRecord) {
        let fate = match self.entry(entry).await {
            Ok(f) => f,
            Err(e) => Fate::Failed(None, vec![crate::jobs::events::error_chain(&e)]),
        };
        let outcome = |locale: Option<String>, reasons: Vec<String>| MessageOutcome {
            order_id: entry.order_id.to_string(),
            message_type: entry.message_type.clone(),
            locale,
            reasons,
        };
        match fate {
            Fate::Quiet => {}
            Fate::Held => self.report.held += 1,
            Fate::Expired => self.report.expired += 1,
            Fate::Sent(locale) => self.report.sent.push(outcome(Some(locale), Vec::new())),
            Fate::Refused(l, r) => self.report.refused.push(outcome(l, r)),
            Fate::Failed(l, r) => self.report.failed.push(outcome(l, r)),
        }
    }

    async fn entry(&mut self, entry: &MessageRecord) -> Result<Fate, StepError> {
        if !entry.status.is_open() {
            // Settled since the (eventually consistent) index listed it.
            return Ok(Fate::Quiet);
        }
        let Some(step) = self
            .seq
            .enabled()
            .find(|s| s.message_type == entry.message_type)
        else {
            let why = format!(
                "no enabled step {} in {}",
                entry.message_type, self.seq.policy
            );
            return self
                .settle(entry, None, MessageStatus::Expired, vec![why])
                .await;
        };
        match self.app.store.get_order(&entry.order_id).await? {
            Some(order) => self.step(&order, step, entry).await,
            // Order Placed has not arrived yet: the entry waits in the index.
            None => Ok(Fate::Quiet),
        }
    }

    /// Stores a due entry's outcome when nothing is to be sent (refused or expired),
    /// with the claim's condition, so it leaves the due index.
    async fn settle(
        &self,
        entry: &MessageRecord,
        order: Option<&Order>,
        status: MessageStatus,
        reasons: Vec<String>,
    ) -> Result<Fate, StepError> {
        let mut record = entry.clone();
        record.status = status;
        record.owner.clone_from(&self.options.owner);
        record.lease_until_micros = 0;
        record.claimed_at = Some(self.now);
        if let Some(order) = order {
            record.brand_id = Some(order.brand_id.clone());
            record.customer_id = Some(order.customer_id.clone());
        }
        record.policy = Some(self.seq.policy.clone());
        record.note = Some(reasons.join("; "));
        let claim = self
            .app
            .store
            .claim_message(&record, self.app.clock.now())
            .await?;
        Ok(match (claim, status) {
            (MessageClaim::Held(other), _) => held(&other),
            (MessageClaim::Claimed, MessageStatus::Refused) => {
                Fate::Refused(record.locale.clone(), reasons)
            }
            (MessageClaim::Claimed, _) => Fate::Expired,
        })
    }

    /// The brand's name and marketplace time zone (its dates are that zone's).
    async fn brand(&mut self, brand: &BrandId) -> Result<(String, chrono_tz::Tz), StoreError> {
        if let Some(known) = self.brands.get(brand) {
            return Ok(known.clone());
        }
        let profile = self.app.store.get_brand(brand).await?;
        let zone = crate::app::campaigns::brand_zone(profile.as_ref());
        let name = profile.map_or_else(|| brand.to_string(), |b| b.name);
        self.brands.insert(brand.clone(), (name.clone(), zone));
        Ok((name, zone))
    }

    async fn step(
        &mut self,
        order: &Order,
        step: &Step,
        entry: &MessageRecord,
    ) -> Result<Fate, StepError> {
        let now = self.now;
        let Some(trigger_at) = step.trigger.at(order) else {
            let why = format!("the order has no {} event", step.trigger.name());
            return self
                .settle(entry, Some(order), MessageStatus::Expired, vec![why])
                .await;
        };
        // Delays and windows count the brand's marketplace calendar days.
        let (brand_name, zone) = self.brand(&order.brand_id).await?;
        let due_at = step.due_at(trigger_at, zone);
        // The sequences policy: enabled, due, window open, not cancelled.
        let up = self.app.policies.evaluate(
            definition::POLICY,
            now,
            &step_facts(order, step, trigger_at, zone, now),
        )?;
        if !up.is_allowed() {
            if now < due_at {
                // Due later under the policy in force: the entry stays in the index.
                return Ok(Fate::Quiet);
            }
            return self
                .settle(entry, Some(order), MessageStatus::Expired, reasons(&up))
                .await;
        }
        let store = &self.app.store;
        let suppression = store
            .get_suppression(&order.brand_id, &order.customer_id)
            .await?;

        let Some((locale, template)) = step.template_for(&order.locale, &self.seq.fallback_locale)
        else {
            return Ok(Fate::Failed(
                None,
                vec![format!("no template for {}", order.locale)],
            ));
        };
        let locale = locale.to_owned();
        let mut entry = entry.clone();
        entry.locale = Some(locale.clone());
        let decision = self.app.policies.evaluate(
            PolicyName::Message,
            now,
            &message_facts(
                order,
                step,
                &locale,
                due_at,
                zone,
                suppression.as_ref(),
                Some(&entry),
            ),
        )?;
        if !decision.is_allowed() {
            return self
                .settle(
                    &entry,
                    Some(order),
                    MessageStatus::Refused,
                    reasons(&decision),
                )
                .await;
        }
        if suppression
            .as_ref()
            .is_some_and(|s| !s.allows_service_messages())
        {
            let why = "R-MAIL-3: the address hard-bounced: nothing is sent to it".to_owned();
            return self
                .settle(&entry, Some(order), MessageStatus::Refused, vec![why])
                .await;
        }

        let wording = template
            .render(&MessageVars::of(order, &brand_name, zone))
            .map_err(|e| StepError::Template(definition::template_error(&e)))?;
        let link = self.unsubscribe_link(order);
        let email = self.email(order, step, &locale, &brand_name, &wording, &link)?;
        let mut fields = wording.fields();
        fields.push(("text".to_owned(), email.text.replace(&link, "")));
        let violations = definition::check_wording(&self.app.policies, now, &fields)?;
        if !violations.is_empty() {
            let reasons = violations.iter().map(ToString::to_string).collect();
            return self
                .settle(&entry, Some(order), MessageStatus::Refused, reasons)
                .await;
        }

        // Leases are business-clock instants (CONTRACT.md), read at claim time so a
        // long pass on the real clock does not shorten them.
        let lease_now = self.app.clock.now();
        let lease = Duration::from_std(self.options.lease).unwrap_or_else(|_| Duration::minutes(5));
        let mut record = MessageRecord {
            brand_id: Some(order.brand_id.clone()),
            customer_id: Some(order.customer_id.clone()),
            message_id: email.message_id.clone(),
            status: MessageStatus::Pending,
            owner: self.options.owner.clone(),
            lease_until_micros: (lease_now + lease).timestamp_micros(),
            claimed_at: Some(now),
            policy: Some(format!("{}, {}", self.seq.policy, decision.policy)),
            sent_at: None,
            provider_id: None,
            note: None,
            ..entry
        };
        if let MessageClaim::Held(other) = store.claim_message(&record, lease_now).await? {
            return Ok(held(&other));
        }
        let fate = match self.app.mailer.send(&email).await {
            Ok(sent) => {
                record.status = MessageStatus::Sent;
                record.sent_at = Some(now);
                record.provider_id = Some(sent.provider_id);
                Fate::Sent(locale.clone())
            }
            Err(e) if e.is_retryable() => {
                // Release the claim: the next pass tries again.
                record.lease_until_micros = 0;
                record.note = Some(e.to_string());
                Fate::Failed(
                    Some(locale.clone()),
                    vec![format!("{e} (retried next pass)")],
                )
            }
            Err(e) => {
                record.status = MessageStatus::Failed;
                record.note = Some(e.to_string());
                Fate::Failed(Some(locale.clone()), vec![e.to_string()])
            }
        };
        match store.finish_message(&record).await? {
            MessageFinish::Finished => Ok(fate),
            MessageFinish::Lost(_) => Ok(Fate::Failed(
                Some(locale),
                vec![
                    "the claim expired before the outcome was stored; another run took it over"
                        .to_owned(),
                ],
            )),
        }
    }

    fn unsubscribe_link(&self, order: &Order) -> String {
        let base = &self.app.public_url;
        let base = match base.strip_prefix("http://") {
            Some(rest) => format!("https://{rest}"),
            None => base.clone(),
        };
        let token = self.app.unsubscribe.token(
            &order.brand_id,
            &order.customer_id,
            Scope::Message,
            self.now,
        );
        unsubscribe::link(&base, &token)
    }

    fn email(
        &self,
        order: &Order,
        step: &Step,
        locale: &str,
        brand_name: &str,
        wording: &Template,
        link: &str,
    ) -> Result<OutgoingEmail, StepError> {
        let ctx = LayoutContext {
            lang: locale,
            fr: definition::language(locale) == "fr",
            subject: &wording.subject,
            paragraphs: &wording.body,
            closing: &wording.closing,
            brand_name,
            order_id: order.order_id.as_str(),
            unsubscribe_url: link,
        };
        let (html, text) = self
            .app
            .renderer
            .render_pair(LAYOUT, Value::from(Serde(&ctx)))
            .map_err(|e| StepError::Template(e.to_string()))?;
        let content = RenderedEmail {
            subject: wording.subject.clone(),
            html,
            text,
        };
        Ok(OutgoingEmail::new(
            message_id(order.order_id.as_str(), &step.message_type),
            Mailbox::new(brand_name, self.options.from_address.clone()),
            order.relay_email.clone(),
            content,
            self.now,
        )
        .with_buyer_message(order.order_id.as_str(), &step.message_type)
        .with_content_language(locale)
        .with_list_unsubscribe(link))
    }
}

#[derive(Serialize)]
struct LayoutContext<'a> {
    lang: &'a str,
    fr: bool,
    subject: &'a str,
    paragraphs: &'a [String],
    closing: &'a str,
    brand_name: &'a str,
    order_id: &'a str,
    unsubscribe_url: &'a str,
}

/// Each rule that fired, with its message.
fn reasons(decision: &crate::policy::Decision) -> Vec<String> {
    decision
        .violations
        .iter()
        .map(|v| format!("{}: {}", v.rule, v.message))
        .collect()
}

/// A claim that found the entry taken: another run's live claim is reported as held;
/// an entry settled meanwhile (its index listing was stale) needs nothing more.
fn held(other: &MessageRecord) -> Fate {
    if other.status == MessageStatus::Pending {
        Fate::Held
    } else {
        Fate::Quiet
    }
}

/// Why one message could not be handled (reported, the pass goes on).
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("policy failed")]
    Policy(#[from] PolicyError),
    #[error("template failed: {0}")]
    Template(String),
    #[error("mail failed")]
    Mail(#[from] MailError),
}
