//! SES feedback (R-MAIL-3): the configuration set's event destination publishes
//! SES events to EventBridge (`source: aws.ses`, `detail-type` such as
//! `Email Delivered`, `Email Bounced`, `Email Complaint Received`; `detail` is the
//! SES event record `{eventType, mail, bounce | complaint | delivery ...}`), and
//! `functions/ses-events` hands each one to [`handle_delivery`].
//!
//! - A permanent bounce or a complaint suppresses the customer for the brand
//!   ([`SuppressionReason::Bounce`] / [`SuppressionReason::Complaint`], combined
//!   with what is stored, never weakening it). Transient and undetermined bounces
//!   are ignored (SES retried them already; the address may work tomorrow).
//! - Deliveries, complaints and hard bounces are counted per brand, each SES event
//!   once ([`crate::store::FeedbackStore`], keyed by `messageId#eventType`).
//! - After a complaint (or the delivery that reaches the minimum volume), the
//!   send policy's brand-level rules are evaluated over the brand's counts
//!   (`R-MAIL-3.complaint_limit`: at or over `complaint_rate_limit` from
//!   `complaint_min_deliveries` deliveries); when one fires, the brand's
//!   `APPROVED` and `SENDING` campaigns move to `SUSPENDED` with the rule named
//!   in the reason (conditional transitions). The send path evaluates the same
//!   rules before every wave.
//!
//! # Finding the brand and the customer of an email
//!
//! In this order, from the event's `mail` object:
//! 1. SES message tags [`TAG_BRAND`], [`TAG_CUSTOMER`], [`TAG_CAMPAIGN`], which the
//!    sender sets (SES v2 `EmailTags`, or the [`HEADER_SES_MESSAGE_TAGS`] header of
//!    the raw message, which SES removes before delivery; [`message_tags_header`]
//!    builds it). Tag values are limited to `[A-Za-z0-9_.@-]`: ids outside it are
//!    left out and the next source is used.
//! 2. The [`HEADER_LIST_UNSUBSCRIBE`] header (SES includes the original headers in
//!    `mail.headers`): its `/v1/unsubscribe/{token}` token is verified with the
//!    unsubscribe secret and names the brand and the customer. Every campaign and
//!    buyer message carries it, so no extra header is needed.
//! 3. The [`HEADER_CAMPAIGN`] header (`X-Engage-Campaign`): the campaign's brand
//!    (enough to count; without a customer nothing can be suppressed).
//!
//! An event naming none of them is not one of ours and is ignored.
//!
//! # Failures
//!
//! Like the marketplace events: a transient store failure is an `Err` (Lambda
//! retries, then the dead-letter queue); a malformed event is logged and
//! acknowledged as [`SesDelivery::Rejected`] with its reason, never retried forever.
//! Every step is idempotent, so a retried event finishes what a failed try began.
//! No customer address is logged.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::App;
use crate::domain::suppression::{Suppression, SuppressionReason};
use crate::domain::{BrandId, CampaignId, CustomerId};
use crate::jobs::delivery::{self, DeliveryError};
use crate::jobs::events::{self, Envelope, EventError};
use crate::policy::{PolicyError, PolicySet};
use crate::store::{FeedbackCounts, FeedbackKind, FeedbackOutcome, Store, StoreError};
use crate::unsubscribe::TokenSigner;

pub use crate::mail::HEADER_CAMPAIGN;
pub use crate::mail::tags::{
    HEADER_SES_MESSAGE_TAGS, TAG_BRAND, TAG_CAMPAIGN, TAG_CUSTOMER, is_tag_value, message_tags,
    message_tags_header,
};

/// The `source` of SES events on EventBridge.
pub const SOURCE: &str = "aws.ses";
/// The one-click unsubscribe header whose token names brand and customer.
pub const HEADER_LIST_UNSUBSCRIBE: &str = "List-Unsubscribe";
/// The policy whose brand-level rules and minimum volume decide a pause.
pub const POLICY: crate::policy::PolicyName = crate::policy::PolicyName::Send;
/// Param: deliveries a brand needs before its complaint rate can suspend anything.
pub const PARAM_MIN_DELIVERIES: &str = "complaint_min_deliveries";

/// One header of `mail.headers`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MailHeader {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// The `mail` object of an SES event record (the fields engage reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mail {
    /// The SES message id.
    pub message_id: String,
    /// The original headers (absent when the configuration set leaves them out).
    #[serde(default)]
    pub headers: Vec<MailHeader>,
    /// Message tags, each with its values.
    #[serde(default)]
    pub tags: HashMap<String, Vec<String>>,
}

impl Mail {
    fn tag(&self, name: &str) -> Option<&str> {
        self.tags
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

/// The `bounce` object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bounce {
    /// `Permanent`, `Transient` or `Undetermined`.
    pub bounce_type: String,
    /// E.g. `General`, `NoEmail`, `MailboxFull`.
    #[serde(default)]
    pub bounce_sub_type: Option<String>,
}

/// An SES event record (`detail`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesRecord {
    /// `Delivery`, `Bounce`, `Complaint`, `Send`, `Reject`, `Open`, ...
    pub event_type: String,
    /// The email.
    pub mail: Mail,
    /// Bounce details (`eventType: Bounce`).
    #[serde(default)]
    pub bounce: Option<Bounce>,
}

/// Why an SES event was not applied.
#[derive(Debug, thiserror::Error)]
pub enum SesEventError {
    /// What a marketplace event can fail with too: not an EventBridge envelope, another
    /// source, a detail that is not an SES event record, the store.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The send policy in force lacks the complaint params.
    #[error("event {id}: the send policy cannot be read")]
    Policy {
        /// The event id.
        id: String,
        /// The policy error.
        #[source]
        source: PolicyError,
    },
}

impl DeliveryError for SesEventError {
    /// Transient store failures only.
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Event(e) if e.is_retryable())
    }

    fn event_id(&self) -> &str {
        match self {
            Self::Event(e) => e.event_id(),
            Self::Policy { id, .. } => id,
        }
    }
}

/// What the Lambda reports for one SES event that did not fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "result")]
pub enum SesDelivery {
    /// Used: counted and, for hard bounces and complaints, suppressed.
    #[serde(rename_all = "camelCase")]
    Applied {
        /// The event id.
        id: String,
        /// The SES event type.
        event_type: String,
        /// The brand concerned.
        brand_id: String,
        /// Whether a customer was suppressed (or already was).
        suppressed: bool,
        /// Whether the counter moved (false for a repeat).
        counted: bool,
        /// The brand's counters after this event.
        counts: FeedbackCounts,
        /// Campaigns this event suspended (complaint rate over the threshold).
        paused: Vec<String>,
    },
    /// Not used (a transient bounce, an event type engage does not count, an
    /// email that is not engage's); acknowledged.
    Ignored {
        /// The event id.
        id: String,
        /// Why.
        reason: String,
    },
    /// Refused for good (not an SES event, malformed): acknowledged so EventBridge
    /// does not redeliver it forever; logged with its reason.
    Rejected {
        /// The event id.
        id: String,
        /// Why.
        reason: String,
    },
}

/// A parsed SES event.
#[derive(Debug, Clone, PartialEq)]
pub struct SesEvent {
    /// The envelope id (`""` when absent).
    pub id: String,
    /// The envelope's detail-type.
    pub detail_type: String,
    /// The SES record.
    pub record: SesRecord,
}

/// Parses an EventBridge envelope carrying an SES event.
pub fn parse(value: Value) -> Result<SesEvent, SesEventError> {
    let env = Envelope::read(value, SOURCE)?;
    let id = env.id.unwrap_or_default();
    let record: SesRecord = events::detail(&id, &env.detail_type, env.detail)?;
    let invalid = |reason: &str| EventError::Invalid {
        id: id.clone(),
        detail_type: env.detail_type.clone(),
        reason: reason.to_owned(),
    };
    if record.mail.message_id.trim().is_empty() {
        return Err(invalid("mail.messageId is empty").into());
    }
    if record.event_type == "Bounce" && record.bounce.is_none() {
        return Err(invalid("a Bounce event has no bounce object").into());
    }
    Ok(SesEvent {
        id,
        detail_type: env.detail_type,
        record,
    })
}

/// Who an email was for, as far as the event tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The brand that sent it.
    pub brand: BrandId,
    /// The customer, when known.
    pub customer: Option<CustomerId>,
}

/// The unsubscribe token inside a `List-Unsubscribe` value.
fn unsubscribe_token(value: &str) -> Option<&str> {
    let start = value.find("/v1/unsubscribe/")? + "/v1/unsubscribe/".len();
    let rest = &value[start..];
    let end = rest
        .find(|c: char| c == '>' || c == ',' || c == '?' || c.is_whitespace())
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|t| !t.is_empty())
}

/// Finds the brand and customer of an email (see the module docs for the order).
pub async fn resolve<S: Store + ?Sized>(
    store: &S,
    signer: &TokenSigner,
    mail: &Mail,
) -> Result<Option<Recipient>, StoreError> {
    let mut brand = mail.tag(TAG_BRAND).map(BrandId::new);
    let mut customer = mail.tag(TAG_CUSTOMER).map(CustomerId::new);
    if customer.is_none()
        && let Some(claims) = mail
            .header(HEADER_LIST_UNSUBSCRIBE)
            .and_then(unsubscribe_token)
            .and_then(|t| signer.verify(t).ok())
        && brand.as_ref().is_none_or(|b| *b == claims.brand_id)
    {
        brand = Some(claims.brand_id);
        customer = Some(claims.customer_id);
    }
    if brand.is_none() {
        let campaign = mail
            .tag(TAG_CAMPAIGN)
            .or_else(|| mail.header(HEADER_CAMPAIGN))
            .map(|c| CampaignId::new(c.trim()));
        if let Some(id) = campaign {
            brand = store.get_campaign(&id).await?.map(|c| c.brand_id);
        }
    }
    Ok(brand.map(|brand| Recipient { brand, customer }))
}

/// Evaluates the send policy's brand-level rules (those reading only
/// `sender`: R-MAIL-3.complaint_limit) over the brand's counts; when one
/// fires, suspends the brand's APPROVED and SENDING campaigns with the rule
/// named. The campaigns it moved.
pub async fn pause_if_over_threshold<S: Store + ?Sized>(
    store: &S,
    policies: &PolicySet,
    brand: &BrandId,
    counts: FeedbackCounts,
    now: DateTime<Utc>,
) -> Result<Vec<CampaignId>, PauseError> {
    let rules = crate::jobs::send::rules::SendRules::in_force(policies, now)?;
    let decision = rules.brand(now, &counts)?;
    if decision.is_allowed() {
        return Ok(Vec::new());
    }
    let moved =
        crate::jobs::suspend::suspend_brand(store, brand, &decision.violations, now).await?;
    Ok(moved.into_iter().map(|s| s.campaign_id).collect())
}

/// Why [`pause_if_over_threshold`] failed.
#[derive(Debug, thiserror::Error)]
pub enum PauseError {
    /// The store failed.
    #[error("store failed")]
    Store(#[from] StoreError),
    /// The policy lacks the params.
    #[error("policy failed")]
    Policy(#[from] PolicyError),
}

/// Applies one parsed SES event received at `now`; `signer` verifies the unsubscribe
/// tokens that name an email's customer.
pub async fn apply<S: Store + ?Sized>(
    store: &S,
    policies: &PolicySet,
    signer: &TokenSigner,
    event: &SesEvent,
    now: DateTime<Utc>,
) -> Result<SesDelivery, SesEventError> {
    let id = event.id.clone();
    let store_err = |source: StoreError| {
        SesEventError::Event(EventError::Store {
            id: id.clone(),
            source,
        })
    };
    let rec = &event.record;
    let ignored = |reason: String| SesDelivery::Ignored {
        id: id.clone(),
        reason,
    };
    let (kind, suppress_reason) = match rec.event_type.as_str() {
        "Delivery" => (FeedbackKind::Delivered, None),
        "Complaint" => (FeedbackKind::Complained, Some(SuppressionReason::Complaint)),
        "Bounce" => {
            let bounce_type = rec.bounce.as_ref().map_or("", |b| b.bounce_type.as_str());
            if bounce_type != "Permanent" {
                return Ok(ignored(format!("{bounce_type} bounce: not a hard bounce")));
            }
            (FeedbackKind::Bounced, Some(SuppressionReason::Bounce))
        }
        other => return Ok(ignored(format!("{other} events are not used"))),
    };
    let Some(recipient) = resolve(store, signer, &rec.mail).await.map_err(store_err)? else {
        return Ok(ignored(
            "not an engage email: no brand tag, unsubscribe token or campaign header".to_owned(),
        ));
    };
    let brand = recipient.brand.clone();

    let mut suppressed = false;
    if let (Some(reason), Some(customer)) = (suppress_reason, &recipient.customer) {
        // Folded into the stored record by the store under a condition: an unsubscribe
        // racing this bounce or complaint never overwrites it.
        let new = Suppression::new(brand.clone(), customer.clone(), reason, None, now);
        store.suppress(&new).await.map_err(store_err)?;
        suppressed = true;
    }

    let key = format!("{}#{}", rec.mail.message_id, rec.event_type);
    let outcome = store
        .count_feedback(&brand, &key, kind, now)
        .await
        .map_err(store_err)?;
    let counts = outcome.counts();

    // Complaints raise the rate; a delivery can only matter when it reaches the
    // minimum volume. Repeats check again, so a retry finishes an interrupted pause.
    let min = policies
        .in_force(POLICY, now)
        .and_then(|p| p.param_i64(PARAM_MIN_DELIVERIES))
        .map_err(|source| SesEventError::Policy {
            id: id.clone(),
            source,
        })?;
    let at_min = i64::try_from(counts.delivered).is_ok_and(|d| d == min);
    let paused = if kind == FeedbackKind::Complained || (kind == FeedbackKind::Delivered && at_min)
    {
        pause_if_over_threshold(store, policies, &brand, counts, now)
            .await
            .map_err(|e| match e {
                PauseError::Store(source) => store_err(source),
                PauseError::Policy(source) => SesEventError::Policy {
                    id: id.clone(),
                    source,
                },
            })?
    } else {
        Vec::new()
    };

    Ok(SesDelivery::Applied {
        id: id.clone(),
        event_type: rec.event_type.clone(),
        brand_id: brand.to_string(),
        suppressed,
        counted: matches!(outcome, FeedbackOutcome::Counted(_)),
        counts,
        paused: paused.iter().map(ToString::to_string).collect(),
    })
}

/// The Lambda handler's logic: applies one EventBridge delivery of an SES event with
/// the app's store, policies, unsubscribe signer and clock (the instant it is received).
///
/// Retryable failures (a throttled or unavailable store) return `Err`; events that
/// can never succeed are logged and acknowledged as [`SesDelivery::Rejected`]
/// ([`delivery::answer`]).
pub async fn handle_delivery(app: &App, payload: Value) -> Result<SesDelivery, SesEventError> {
    let (store, signer, now) = (app.store.as_ref(), &app.unsubscribe, app.clock.now());
    deliver(store, &app.policies, signer, payload, now).await
}

/// [`handle_delivery`] over these parts.
pub async fn deliver<S: Store + ?Sized>(
    store: &S,
    policies: &PolicySet,
    signer: &TokenSigner,
    payload: Value,
    now: DateTime<Utc>,
) -> Result<SesDelivery, SesEventError> {
    let result = match parse(payload) {
        Ok(event) => apply(store, policies, signer, &event, now).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(delivery) => {
            match &delivery {
                SesDelivery::Applied {
                    id,
                    event_type,
                    brand_id,
                    suppressed,
                    counted,
                    paused,
                    ..
                } => {
                    tracing::info!(event_id = %id, event_type, brand = %brand_id, suppressed, counted, paused = paused.len(), "ses event applied");
                }
                SesDelivery::Ignored { id, reason } | SesDelivery::Rejected { id, reason } => {
                    tracing::info!(event_id = %id, reason, "ses event ignored");
                }
            }
            Ok(delivery)
        }
        Err(e) => delivery::answer("ses event", e, |id, reason| SesDelivery::Rejected {
            id,
            reason,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_tokens() {
        let h = message_tags_header(
            &BrandId::new("B1"),
            &CustomerId::new("c 1"),
            Some(&CampaignId::new("K1")),
        );
        assert_eq!(h.as_deref(), Some("engage-brand=B1, engage-campaign=K1"));
        assert_eq!(
            unsubscribe_token("<mailto:x@y>, <https://e.example/v1/unsubscribe/abc.def>"),
            Some("abc.def")
        );
        assert_eq!(unsubscribe_token("<https://e.example/other>"), None);
    }
}
