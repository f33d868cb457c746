//! Contact Customer (R-CC-1..7, R-MSG-3, R-MSG-4): the negative reviews of the caller's
//! brands with their eligibility, and one contact per review by email.
//!
//! Eligibility is the `contact` policy in force (`policies/contact/`): this module only
//! gathers its facts ([`contact_facts`]) and reports every rule that fired.
//!
//! # Record, then send
//!
//! `POST /reviews/{id}/contact` renders the email and checks it against the `content`
//! policy, then records the contact with a conditional put (one per review: of two
//! simultaneous requests one gets 201, the other 409), and only then sends. Delivery
//! (the email, then for a courtesy refund the `Courtesy Refund Requested` event) is
//! claimed through the idempotency records under [`DELIVERY_SCOPE`] and the contact id:
//! the claim is `pending` while it runs and completed (`sent`) afterwards. So:
//! - a crash between the put and the send never sends twice: the contact exists with no
//!   completed delivery, and [`resume`] delivers it once;
//! - a resend always uses the same message id (`contact-<contact id>`) and `Date`, so the
//!   outbox rewrites the same `.eml` file; SES has no duplicate suppression, so the one
//!   window where a customer could get two copies is SES accepting the message and the
//!   process dying before the delivery is marked sent (milliseconds);
//! - the event is published at least once per delivery; consumers deduplicate on the
//!   contact id (the event id).

pub mod email;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use self::email::{ContactEmail, Locale, check_content};
use super::campaigns::brand_zone;
pub use super::facts::contact::contact_facts;
use super::{App, AppError, Invariant, require_role};
use crate::auth::{Caller, Role};
use crate::bus::{COURTESY_REFUND_REQUESTED, CourtesyRefundRequested, Event};
use crate::domain::bounds;
use crate::domain::brand::Brand;
use crate::domain::contact::{Contact, ContactReason};
use crate::domain::order::Order;
use crate::domain::review::Review;
use crate::domain::schedule::{local_midnight, midnight_days_before};
use crate::domain::{BrandId, ContactId, ReviewId};
use crate::mail::{Mailbox, OutgoingEmail, tags};
use crate::policy::{Decision, PolicyName, PolicyVersion, Violation};
use crate::store::{ContactOutcome, IdempotencyOutcome};

/// The policy deciding eligibility.
pub const POLICY: PolicyName = PolicyName::Contact;

/// The idempotency scope of contact deliveries (key: the contact id).
pub const DELIVERY_SCOPE: &str = "contact-delivery";

/// Technical retention, not a rule: how long a delivery record is kept (longer
/// than a contact can be answered).
pub const DELIVERY_RETENTION_DAYS: i64 = 730;

/// The address contact emails come from when `ENGAGE_FROM_ADDRESS` is not set (the
/// brand's name is the display name; the customer only sees it through the relay).
pub const DEFAULT_CONTACT_SENDER: &str = "contact@engage.example";

/// The idempotency scope of delivery leases (key: the contact id): one attempt at a
/// time, and one that dies is taken over once its lease ends.
pub const LEASE_SCOPE: &str = "contact-delivery-lease";

/// How long one delivery attempt holds its lease (business clock): far longer than a
/// send takes, so a live attempt is never overtaken.
pub const DELIVERY_LEASE_SECONDS: i64 = 300;

/// The body of `POST /reviews/{id}/contact`. The reason stays text so an unknown one is
/// explained by the policy (`R-CC-4.reason`, 422) rather than a bare 400.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactInput {
    /// `courtesy_refund` or `customer_support`.
    pub reason: String,
}

/// One end of the listing period: a calendar date (the brand's marketplace time zone;
/// `from` is its first instant, `to` its last) or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodBound {
    /// `YYYY-MM-DD`.
    Date(NaiveDate),
    /// RFC 3339.
    Instant(DateTime<Utc>),
}

impl PeriodBound {
    /// Parses `YYYY-MM-DD` or an RFC 3339 instant inside the calendar bounds (400
    /// otherwise).
    pub fn parse(name: &str, text: &str) -> Result<Self, AppError> {
        let bad = |e: bounds::DateError| AppError::BadRequest(e.to_string());
        if let Ok(d) = text.parse::<NaiveDate>() {
            return bounds::date(name, d).map(Self::Date).map_err(bad);
        }
        match bounds::parse_instant(name, text) {
            Ok(t) => Ok(Self::Instant(t)),
            Err(e @ bounds::DateError::OutOfBounds { .. }) => Err(bad(e)),
            Err(bounds::DateError::Malformed { .. }) => Err(AppError::BadRequest(format!(
                "{name} must be a date YYYY-MM-DD or an RFC 3339 instant, got {text:?}"
            ))),
        }
    }
}

/// Parses `stars=1,2,3`: each one digit 1 to 5, nothing else (400 otherwise: the
/// document's pattern `^[1-5](,[1-5])*$`), duplicates ignored.
pub fn parse_stars(text: &str) -> Result<Vec<u8>, AppError> {
    let mut stars = Vec::new();
    for part in text.split(',') {
        let digit = match part.as_bytes() {
            [d @ b'1'..=b'5'] => Some(d - b'0'),
            _ => None,
        };
        match digit {
            Some(n) => {
                if !stars.contains(&n) {
                    stars.push(n);
                }
            }
            _ => {
                return Err(AppError::BadRequest(format!(
                    "stars must be a comma-separated list of 1 to 5, got {part:?}"
                )));
            }
        }
    }
    stars.sort_unstable();
    Ok(stars)
}

/// The filters of `GET /reviews` (R-CC-3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewQuery {
    /// One of the caller's brands (another brand is a 404); all of them when absent.
    pub brand_id: Option<String>,
    /// Star ratings to keep; every rating when absent.
    pub stars: Option<Vec<u8>>,
    /// Posted at or after; when absent, the contact policy's
    /// `contact_max_days_since_order` days before now (an older review's order is
    /// older still: it can never be answered).
    pub from: Option<PeriodBound>,
    /// Posted at or before; now (the business clock) when absent.
    pub to: Option<PeriodBound>,
}

/// Whether a review can be answered, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactState {
    /// No rule of the contact policy fired.
    pub eligible: bool,
    /// Every rule that fired (rule, message, policy): "Unable to contact customer" and why.
    pub reasons: Vec<Violation>,
    /// When the review's customer was contacted, if they were.
    pub contacted_at: Option<DateTime<Utc>>,
}

/// One review of `GET /reviews`: the review and its contact state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewItem {
    /// The review.
    #[serde(flatten)]
    pub review: Review,
    /// Its contact state.
    pub contact: ContactState,
}

/// The answer of a created contact (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactCreated {
    /// The contact id (the `X-Engage-Contact` header of its email).
    pub id: String,
    /// The review answered.
    pub review_id: String,
    /// The reason.
    pub reason: ContactReason,
    /// When the email was sent.
    pub sent_at: DateTime<Utc>,
    /// `name@version` of the contact policy that allowed it.
    pub policy: String,
}

impl From<&Contact> for ContactCreated {
    fn from(c: &Contact) -> Self {
        Self {
            id: c.id.to_string(),
            review_id: c.review_id.to_string(),
            reason: c.reason,
            sent_at: c.sent_at,
            policy: c.policy.clone(),
        }
    }
}

/// The caller's brands a listing covers: one (404 unless the caller's) or all.
fn listed_brands(caller: &Caller, brand: Option<&str>) -> Result<Vec<String>, AppError> {
    match brand {
        Some(b) if caller.represents(b) => Ok(vec![b.to_owned()]),
        Some(b) => Err(AppError::NotFound(format!("brand {b}"))),
        None => Ok(caller.brands.iter().cloned().collect()),
    }
}

fn period(
    q: &ReviewQuery,
    policy: &PolicyVersion,
    brand: Option<&Brand>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let tz = brand_zone(brand);
    let from = match q.from {
        // R-CC-6 compares marketplace dates: an order placed on the date
        // `contact_max_days_since_order` dates before today is still in time,
        // so the listing starts at that date's local midnight.
        None => midnight_days_before(
            now,
            policy
                .param_i64("contact_max_days_since_order")?
                .max(0)
                .unsigned_abs(),
            tz,
        ),
        Some(PeriodBound::Instant(t)) => t,
        Some(PeriodBound::Date(d)) => local_midnight(d, tz),
    };
    let to = match q.to {
        None => now,
        Some(PeriodBound::Instant(t)) => t,
        Some(PeriodBound::Date(d)) => match d.succ_opt() {
            Some(next) => local_midnight(next, tz) - Duration::microseconds(1),
            None => return Err(AppError::BadRequest("to is out of range".into())),
        },
    };
    if from > to {
        return Err(AppError::BadRequest("from must not be after to".into()));
    }
    Ok((from, to))
}

/// The page size of `GET /reviews` when the request names none.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page `GET /reviews` answers.
pub const MAX_PAGE_SIZE: usize = 200;

/// Where a page of reviews starts: after the review posted at `posted_at` with id
/// `review_id` in the listing's order (newest first, then by id). Opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewCursor {
    posted_at: DateTime<Utc>,
    review_id: ReviewId,
}

#[derive(Serialize, Deserialize)]
struct CursorDoc {
    p: DateTime<Utc>,
    r: String,
}

impl ReviewCursor {
    fn after(review: &Review) -> Self {
        Self {
            posted_at: review.posted_at,
            review_id: review.review_id.clone(),
        }
    }

    /// The text clients send back as `cursor`.
    pub fn encode(&self) -> String {
        use base64::Engine as _;
        let doc = CursorDoc {
            p: self.posted_at,
            r: self.review_id.to_string(),
        };
        let json = serde_json::to_vec(&doc).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// Reads a `cursor` this service gave out (400 for anything else).
    pub fn decode(text: &str) -> Result<Self, AppError> {
        use base64::Engine as _;
        let bad = || AppError::BadRequest("cursor is not one this listing gave out".into());
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| bad())?;
        let doc: CursorDoc = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        Ok(Self {
            posted_at: doc.p,
            review_id: ReviewId::new(doc.r),
        })
    }

    /// Whether `review` comes after the cursor in the listing's order.
    fn precedes(&self, review: &Review) -> bool {
        review.posted_at < self.posted_at
            || (review.posted_at == self.posted_at && review.review_id > self.review_id)
    }
}

/// Which page of `GET /reviews` to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many reviews.
    pub limit: usize,
    /// After this position; the first page when absent.
    pub cursor: Option<ReviewCursor>,
}

impl PageRequest {
    /// Parses `limit` (1 to [`MAX_PAGE_SIZE`], [`DEFAULT_PAGE_SIZE`] when absent) and
    /// `cursor` (400 otherwise).
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, AppError> {
        let limit = match limit {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<usize>() {
                Ok(n @ 1..=MAX_PAGE_SIZE) => n,
                _ => {
                    return Err(AppError::BadRequest(format!(
                        "limit must be 1 to {MAX_PAGE_SIZE}, got {text:?}"
                    )));
                }
            },
        };
        Ok(Self {
            limit,
            cursor: cursor.map(ReviewCursor::decode).transpose()?,
        })
    }

    /// Every review at once (the demo).
    pub fn all() -> Self {
        Self {
            limit: usize::MAX,
            cursor: None,
        }
    }
}

/// One page of `GET /reviews`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewPage {
    /// The reviews, newest first.
    pub items: Vec<ReviewItem>,
    /// What to send as `cursor` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /reviews?brandId=&stars=&from=&to=` (R-CC-3): every review of the period at once.
pub async fn list_reviews(
    app: &App,
    caller: &Caller,
    q: &ReviewQuery,
) -> Result<Vec<ReviewItem>, AppError> {
    Ok(review_page(app, caller, q, &PageRequest::all())
        .await?
        .items)
}

/// `GET /reviews?brandId=&stars=&from=&to=&limit=&cursor=` (R-CC-3): one page of the
/// caller's brands' reviews posted in the period, newest first, each with its contact
/// state. Eligibility is evaluated as for a contact with the policy's first reason, so
/// `R-CC-4.reason` never fires here; only the page's reviews are evaluated.
pub async fn review_page(
    app: &App,
    caller: &Caller,
    q: &ReviewQuery,
    page: &PageRequest,
) -> Result<ReviewPage, AppError> {
    require_role(caller, Role::BrandRepresentative)?;
    let brands = listed_brands(caller, q.brand_id.as_deref())?;
    let now = app.clock.now();
    let policy = app.policies.in_force(POLICY, now)?;
    let reason = policy
        .param_strings("reasons")?
        .first()
        .map(|s| (*s).to_owned())
        .unwrap_or_default();
    let mut listed = Vec::new();
    for b in brands {
        let brand_id = BrandId::new(b);
        let brand = app.store.get_brand(&brand_id).await?;
        let (from, mut to) = period(q, policy, brand.as_ref(), now)?;
        // Newest first: what follows the cursor was posted at or before it.
        if let Some(c) = &page.cursor {
            to = to.min(c.posted_at);
        }
        if from > to {
            continue;
        }
        for review in app.store.list_reviews(&brand_id, from, to).await? {
            let rating_kept = q.stars.as_ref().is_none_or(|s| s.contains(&review.rating));
            let after_cursor = page.cursor.as_ref().is_none_or(|c| c.precedes(&review));
            if rating_kept && after_cursor {
                listed.push((review, brand.clone()));
            }
        }
    }
    listed.sort_by(|(a, _), (b, _)| {
        b.posted_at
            .cmp(&a.posted_at)
            .then_with(|| a.review_id.cmp(&b.review_id))
    });
    let more = listed.len() > page.limit;
    listed.truncate(page.limit);
    let next_cursor = match (more, listed.last()) {
        (true, Some((last, _))) => Some(ReviewCursor::after(last).encode()),
        _ => None,
    };
    let mut items = Vec::with_capacity(listed.len());
    for (review, brand) in listed {
        let order = app.store.get_order(&review.order_id).await?;
        let contact = app.store.get_contact(&review.review_id).await?;
        let facts = contact_facts(
            &review,
            order.as_ref(),
            brand.as_ref(),
            caller,
            &reason,
            contact.is_some(),
            now,
        );
        let decision = policy.evaluate(now, &facts)?;
        items.push(ReviewItem {
            review,
            contact: ContactState {
                eligible: decision.is_allowed(),
                reasons: decision.violations,
                contacted_at: contact.map(|c| c.sent_at),
            },
        });
    }
    Ok(ReviewPage { items, next_cursor })
}

/// A review of the caller's brands (404 otherwise, never a 403 that would confirm it).
async fn own_review(app: &App, caller: &Caller, id: &str) -> Result<Review, AppError> {
    require_role(caller, Role::BrandRepresentative)?;
    app.store
        .get_review(&ReviewId::new(id))
        .await?
        .filter(|r| caller.represents(r.brand_id.as_str()))
        .ok_or_else(|| AppError::NotFound(format!("review {id}")))
}

fn already_contacted(c: &Contact) -> AppError {
    AppError::Conflict(format!(
        "review {} was already answered by contact {} at {}: one contact per review",
        c.review_id,
        c.id,
        c.sent_at.to_rfc3339()
    ))
}

fn rules_violated(what: &str, decision: Decision) -> AppError {
    AppError::Rules {
        detail: format!(
            "{what} breaks {} rule(s) of {}",
            decision.violations.len(),
            decision.policy
        ),
        policy: decision.policy,
        violations: decision.violations,
    }
}

/// The buyer's locale: the order's (Order Placed carries it), else the follower's, else
/// English.
async fn buyer_locale(app: &App, review: &Review, order: &Order) -> Result<Locale, AppError> {
    if !order.locale.trim().is_empty() {
        return Ok(Locale::for_tag(Some(&order.locale)));
    }
    let follower = app
        .store
        .get_follower(&review.brand_id, &review.customer_id)
        .await?;
    Ok(Locale::for_tag(
        follower.as_ref().map(|f| f.locale.as_str()),
    ))
}

/// The email of a contact, rendered and checked against the `content` policy (422 with
/// every violation if a rule fires: e.g. a brand name that is a web address).
async fn contact_email(
    app: &App,
    contact: &Contact,
    review: &Review,
    order: &Order,
    brand: Option<&Brand>,
) -> Result<OutgoingEmail, AppError> {
    let brand_name = brand.map_or_else(|| review.brand_id.to_string(), |b| b.name.clone());
    let view = ContactEmail {
        reason: contact.reason,
        locale: buyer_locale(app, review, order).await?,
        brand_name: brand_name.clone(),
        order_id: order.order_id.to_string(),
    };
    let rendered = view
        .render(&app.renderer)
        .map_err(|source| AppError::Render {
            email: "contact",
            source,
        })?;
    let content = check_content(&app.policies, &rendered, contact.sent_at)?;
    if !content.is_allowed() {
        return Err(rules_violated("the contact email", content));
    }
    let email = OutgoingEmail::new(
        format!("contact-{}", contact.id),
        Mailbox::new(brand_name, app.from_address.clone()),
        order.relay_email.clone(),
        rendered,
        contact.sent_at,
    )
    .with_contact(contact.id.as_str())
    .with_content_language(view.locale.tag());
    // SES message tags: a contact email has no unsubscribe link, so its bounce or
    // complaint names the brand and the customer only through them (counted, suppressed).
    Ok(
        match tags::message_tags_header(&review.brand_id, &review.customer_id, None) {
            Some(value) => email.with_header(tags::HEADER_SES_MESSAGE_TAGS, value),
            None => email,
        },
    )
}

/// What a delivery attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// This call sent the email (and published the event of a courtesy refund).
    Delivered,
    /// An earlier call already did.
    AlreadyDelivered,
    /// Another call is delivering it right now.
    InProgress,
}

/// Takes the delivery lease of a contact: `false` while another attempt holds a live one.
async fn take_lease(app: &App, contact: &ContactId) -> Result<bool, AppError> {
    let lease = Duration::seconds(DELIVERY_LEASE_SECONDS);
    let outcome = app
        .store
        .begin(
            LEASE_SCOPE,
            contact.as_str(),
            "lease",
            app.clock.now(),
            lease,
            lease,
        )
        .await?;
    Ok(outcome == IdempotencyOutcome::New)
}

/// Sends the contact's email then publishes its event, once. An attempt first takes the
/// contact's lease ([`LEASE_SCOPE`]), then claims [`DELIVERY_SCOPE`]: completed when both
/// succeeded, released on failure (so a later [`resume`] retries with the same message
/// id). A claim left in progress by an attempt that died is taken over once its lease
/// has ended.
async fn deliver(
    app: &App,
    contact: &Contact,
    order: &Order,
    email: &OutgoingEmail,
) -> Result<Delivery, AppError> {
    if !take_lease(app, &contact.id).await? {
        return Ok(Delivery::InProgress);
    }
    let outcome = deliver_leased(app, contact, order, email).await;
    app.store.release(LEASE_SCOPE, contact.id.as_str()).await?;
    outcome
}

async fn deliver_leased(
    app: &App,
    contact: &Contact,
    order: &Order,
    email: &OutgoingEmail,
) -> Result<Delivery, AppError> {
    let now = app.clock.now();
    let retention = Duration::days(DELIVERY_RETENTION_DAYS);
    match app
        .store
        .begin(
            DELIVERY_SCOPE,
            contact.id.as_str(),
            &email.message_id,
            now,
            // No lease of its own: an attempt left in progress is taken over under
            // the contact's lease (`take_lease`), below.
            retention,
            retention,
        )
        .await?
    {
        // In progress under our lease: its attempt died; this one takes it over.
        IdempotencyOutcome::New | IdempotencyOutcome::InProgress => {}
        IdempotencyOutcome::Replay(_) => return Ok(Delivery::AlreadyDelivered),
        IdempotencyOutcome::Mismatch => {
            return Err(Invariant::DeliveryUnderAnotherMessageId(contact.id.clone()).into());
        }
    }
    let outcome = async {
        let sent = app.mailer.send(email).await?;
        if contact.reason == ContactReason::CourtesyRefund {
            let detail = CourtesyRefundRequested {
                contact_id: contact.id.to_string(),
                review_id: contact.review_id.to_string(),
                order_id: order.order_id.to_string(),
                brand_id: contact.brand_id.to_string(),
                seller_id: order.seller_id.to_string(),
                customer_id: contact.customer_id.to_string(),
                requested_at: contact.sent_at,
            };
            let detail = serde_json::to_value(&detail)
                .map_err(AppError::json_write("the courtesy refund event"))?;
            let event = Event::new(
                contact.id.as_str(),
                COURTESY_REFUND_REQUESTED,
                contact.sent_at,
                detail,
            );
            app.publisher.publish(&event).await?;
        }
        Ok::<_, AppError>(sent)
    }
    .await;
    match outcome {
        Ok(sent) => {
            let record = serde_json::json!({
                "state": "sent",
                "messageId": sent.message_id,
                "providerId": sent.provider_id,
            });
            app.store
                .complete(DELIVERY_SCOPE, contact.id.as_str(), &record)
                .await?;
            Ok(Delivery::Delivered)
        }
        Err(e) => {
            tracing::error!(contact = %contact.id, error = %e.chain(), "contact delivery failed; it stays pending");
            app.store
                .release(DELIVERY_SCOPE, contact.id.as_str())
                .await?;
            Err(e)
        }
    }
}

/// `POST /reviews/{id}/contact` (R-CC-4, R-CC-7): 201 with the contact, 404 for a review
/// that is not the caller's, 409 when already contacted, 422 with every rule of the
/// contact policy (or of the content policy over the email) that fired.
pub async fn contact(
    app: &App,
    caller: &Caller,
    review_id: &str,
    input: ContactInput,
) -> Result<ContactCreated, AppError> {
    let review = own_review(app, caller, review_id).await?;
    if let Some(existing) = app.store.get_contact(&review.review_id).await? {
        return Err(already_contacted(&existing));
    }
    let now = app.clock.now();
    let policy = app.policies.in_force(POLICY, now)?;
    let brand = app.store.get_brand(&review.brand_id).await?;
    let order = app.store.get_order(&review.order_id).await?;
    let facts = contact_facts(
        &review,
        order.as_ref(),
        brand.as_ref(),
        caller,
        &input.reason,
        false,
        now,
    );
    let decision = policy.evaluate(now, &facts)?;
    if !decision.is_allowed() {
        return Err(rules_violated("the contact", decision));
    }
    let reason: ContactReason =
        serde_json::from_value(serde_json::Value::String(input.reason.clone())).map_err(|_| {
            AppError::BadRequest(format!(
                "reason {:?} is not courtesy_refund or customer_support",
                input.reason
            ))
        })?;
    let Some(order) = order else {
        return Err(Invariant::ContactAllowedWithoutOrder(review.review_id.clone()).into());
    };
    let contact = Contact {
        id: ContactId::new(uuid::Uuid::new_v4().to_string()),
        review_id: review.review_id.clone(),
        brand_id: review.brand_id.clone(),
        customer_id: review.customer_id.clone(),
        order_id: review.order_id.clone(),
        reason,
        sent_at: now,
        policy: policy.id(),
    };
    let email = contact_email(app, &contact, &review, &order, brand.as_ref()).await?;
    match app.store.put_contact(&contact).await? {
        ContactOutcome::Inserted => {}
        ContactOutcome::AlreadyContacted(existing) => return Err(already_contacted(&existing)),
    }
    deliver(app, &contact, &order, &email).await?;
    Ok(ContactCreated::from(&contact))
}

/// How far back [`resume_pending`] looks for contacts whose delivery did not complete
/// (business clock): a scheduled pass runs every few minutes, so two days cover any
/// outage of the mail port or the bus that a pass could still repair.
pub const PENDING_CONTACT_DAYS: i64 = 2;

/// What [`resume_pending`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resumed {
    /// Contacts whose email this pass sent.
    pub delivered: usize,
    /// Contacts already delivered (nothing done).
    pub already_delivered: usize,
    /// Contacts another live attempt is delivering (left to it).
    pub in_progress: usize,
    /// Contacts whose delivery failed again (left pending for a later pass).
    pub failed: usize,
}

/// Finds the contacts created in the last `lookback` (business clock) whose delivery did
/// not complete, and delivers each once ([`resume`]): a pending one is sent, one whose
/// attempt died is taken over after its lease ([`DELIVERY_LEASE_SECONDS`]), a delivered
/// one is left alone, a live attempt is never doubled. Meant for `engage tick` and a
/// scheduled function; safe to run concurrently. One contact's failure does not stop the
/// others: it is counted, logged and retried by a later pass.
pub async fn resume_pending(app: &App, lookback: Duration) -> Result<Resumed, AppError> {
    let now = app.clock.now();
    let mut done = Resumed::default();
    let since = now
        .checked_sub_signed(lookback)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    for contact in app.store.list_contacts(since, now).await? {
        match resume(app, &contact.review_id).await {
            Ok(Some(Delivery::Delivered)) => done.delivered += 1,
            Ok(Some(Delivery::AlreadyDelivered)) => done.already_delivered += 1,
            Ok(Some(Delivery::InProgress)) => done.in_progress += 1,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(contact = %contact.id, error = %e.chain(), "pending contact not delivered");
                done.failed += 1;
            }
        }
    }
    Ok(done)
}

/// Delivers a recorded contact whose delivery did not complete (the process died between
/// the put and the send, or the mail port or the bus failed): the same message id and
/// bytes, the event once more. Safe to call any number of times and concurrently; meant
/// for a scheduled job. `Ok(None)` when the review has no contact.
pub async fn resume(app: &App, review_id: &ReviewId) -> Result<Option<Delivery>, AppError> {
    let Some(contact) = app.store.get_contact(review_id).await? else {
        return Ok(None);
    };
    let review = app
        .store
        .get_review(review_id)
        .await?
        .ok_or_else(|| Invariant::ContactWithoutReview(contact.id.clone()))?;
    let order = app
        .store
        .get_order(&contact.order_id)
        .await?
        .ok_or_else(|| Invariant::ContactWithoutOrder(contact.id.clone()))?;
    let brand = app.store.get_brand(&contact.brand_id).await?;
    let email = contact_email(app, &contact, &review, &order, brand.as_ref()).await?;
    deliver(app, &contact, &order, &email).await.map(Some)
}
