//! Buyer-message sequences (issue 7, R-MSG-1..9): each trigger, the window edges,
//! once per order (sequential and concurrent runs), locale choice, opt-outs, the
//! content policy at send time and at `engage policy check` time, crash recovery.

use crate::common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use engage::app::App;
use engage::clock::FixedClock;
use engage::domain::order::{OrderChangeKind, OrderPlaced, ReturnReceived};
use engage::domain::suppression::{Suppression, SuppressionReason, SuppressionScope};
use engage::domain::{BrandId, CustomerId, OrderId, SellerId};
use engage::jobs::events;
use engage::jobs::send_window::RecordingMailer;
use engage::jobs::sequences::{self, SequenceOptions, SequenceReport};
use engage::mail::OutgoingEmail;
use engage::policy::PolicySet;
use engage::store::{MessageClaim, MessageRecord, MessageStatus, Store};
use engage::unsubscribe::{Scope, TokenSigner};

use crate::common::t;

const BRAND: &str = "B1";

fn signer() -> TokenSigner {
    TokenSigner::new(b"test-unsubscribe-secret")
}

/// The bundled policies, with the `sequences` file edited by `edit`.
fn policies_with(edit: impl Fn(String) -> String) -> Arc<PolicySet> {
    let sources = common::bundled_sources(|name, text| {
        if name == "sequences" {
            edit(text)
        } else {
            text
        }
    });
    Arc::new(PolicySet::from_sources(sources).unwrap())
}

fn bundled() -> Arc<PolicySet> {
    Arc::new(PolicySet::bundled())
}

/// Every step enabled (product_information on shipment, order_problem on placement).
fn all_enabled() -> Arc<PolicySet> {
    policies_with(|s| s.replace("enabled = false", "enabled = true"))
}

fn app(store: &Arc<dyn Store>, policies: &Arc<PolicySet>, now: &str) -> App {
    App::new(
        Arc::clone(store),
        Arc::clone(policies),
        Arc::new(FixedClock(t(now))),
    )
    .unwrap()
    .with_public_url("https://engage.example")
    .with_unsubscribe_secret(b"test-unsubscribe-secret")
}

async fn tick(
    store: &Arc<dyn Store>,
    policies: &Arc<PolicySet>,
    now: &str,
    mailer: &RecordingMailer,
) -> SequenceReport {
    let app = app(store, policies, now).with_mailer(Arc::new(mailer.clone()));
    sequences::run(&app, &SequenceOptions::default())
        .await
        .unwrap()
}

/// The ledger entry of O-1's review request, which must exist.
async fn review_request_of_o1(s: &Arc<dyn Store>) -> MessageRecord {
    s.get_message(&OrderId::new("O-1"), "review_request")
        .await
        .unwrap()
        .unwrap()
}

/// An order event through the events job (merged, and its due entries written with
/// `policies`), arriving when it happened.
async fn change(store: &Arc<dyn Store>, policies: &PolicySet, order: &str, kind: OrderChangeKind) {
    use engage::jobs::events::{
        Event, MarketplaceEvent, OrderDelivered, OrderPlacedEvent, OrderShipped,
        ReturnReceivedEvent,
    };
    let order_id = OrderId::new(order);
    let (detail_type, at, event) = match kind {
        OrderChangeKind::Placed(placed) => (
            "Order Placed",
            placed.purchased_at,
            MarketplaceEvent::OrderPlaced(OrderPlacedEvent { order_id, placed }),
        ),
        OrderChangeKind::Shipped {
            shipped_at,
            carrier,
            tracking_id,
            expected_delivery_at,
        } => (
            "Order Shipped",
            shipped_at,
            MarketplaceEvent::OrderShipped(OrderShipped {
                order_id,
                shipped_at,
                carrier,
                tracking_id,
                expected_delivery_at,
            }),
        ),
        OrderChangeKind::Delivered { delivered_at } => (
            "Order Delivered",
            delivered_at,
            MarketplaceEvent::OrderDelivered(OrderDelivered {
                order_id,
                delivered_at,
            }),
        ),
        OrderChangeKind::ReturnReceived(received) => (
            "Return Received",
            received.received_at,
            MarketplaceEvent::ReturnReceived(ReturnReceivedEvent { order_id, received }),
        ),
    };
    let event = Event {
        id: format!("{order}-{detail_type}"),
        detail_type: detail_type.to_owned(),
        time: None,
        event,
    };
    events::apply_with(store.as_ref(), policies, &event, at)
        .await
        .unwrap();
}

/// A store with the brand seeded, the policies its order events and ticks run
/// with, and the store's folder (kept as long as the shop).
struct Shop {
    s: Arc<dyn Store>,
    policies: Arc<PolicySet>,
    _dir: tempfile::TempDir,
}

impl Shop {
    async fn new(brand_name: &str, policies: Arc<PolicySet>) -> Self {
        let (s, _dir) = common::embedded();
        common::brand(&*s, BRAND, brand_name).await;
        Self { s, policies, _dir }
    }

    async fn change(&self, order: &str, kind: OrderChangeKind) {
        change(&self.s, &self.policies, order, kind).await;
    }

    async fn placed(&self, order: &str, customer: &str, locale: &str, at: DateTime<Utc>) {
        let placed = OrderPlaced {
            seller_id: SellerId::new("S1"),
            brand_id: BrandId::new(BRAND),
            asin: "B0ENGAGE01".into(),
            customer_id: CustomerId::new(customer),
            relay_email: format!("{customer}@relay.marketplace.example"),
            locale: locale.into(),
            purchased_at: at,
        };
        self.change(order, OrderChangeKind::Placed(placed)).await;
    }

    async fn shipped(&self, order: &str, at: DateTime<Utc>) {
        let shipped = OrderChangeKind::Shipped {
            shipped_at: at,
            carrier: "UPS".into(),
            tracking_id: "1Z".into(),
            expected_delivery_at: None,
        };
        self.change(order, shipped).await;
    }

    async fn delivered(&self, order: &str, at: DateTime<Utc>) {
        let delivered = OrderChangeKind::Delivered { delivered_at: at };
        self.change(order, delivered).await;
    }

    async fn returned(&self, order: &str, at: DateTime<Utc>) {
        let received = ReturnReceived {
            received_at: at,
            refund_amount: "25.00".into(),
            currency: "USD".into(),
            refunded_at: None,
        };
        self.change(order, OrderChangeKind::ReturnReceived(received))
            .await;
    }

    /// An order of `cu-<order>` placed two days before `delivered_at`, shipped a day
    /// before it.
    async fn delivered_order(&self, order: &str, locale: &str, delivered_at: DateTime<Utc>) {
        let customer = format!("cu-{order}");
        let placed_at = delivered_at - Duration::days(2);
        self.placed(order, &customer, locale, placed_at).await;
        self.shipped(order, delivered_at - Duration::days(1)).await;
        self.delivered(order, delivered_at).await;
    }

    /// The brand's suppression of `customer` on 2026-11-12 (after the deliveries of
    /// the tests, before their review requests are due).
    async fn suppressed(
        &self,
        customer: &str,
        reason: SuppressionReason,
        scope: Option<SuppressionScope>,
    ) {
        let at = t("2026-11-12T00:00:00Z");
        let brand = BrandId::new(BRAND);
        let suppression = Suppression::new(brand, CustomerId::new(customer), reason, scope, at);
        self.s.suppress(&suppression).await.unwrap();
    }

    async fn tick(&self, now: &str, mailer: &RecordingMailer) -> SequenceReport {
        tick(&self.s, &self.policies, now, mailer).await
    }
}

/// A shop whose O-1 (en-US) was delivered on 2026-11-10 at 18:00 UTC, with the
/// bundled policies: its review request is due 7 days later to the hour.
async fn o1_delivered(brand_name: &str) -> Shop {
    let shop = Shop::new(brand_name, bundled()).await;
    shop.delivered_order("O-1", "en-US", t("2026-11-10T18:00:00Z"))
        .await;
    shop
}

fn kinds(sent: &[OutgoingEmail]) -> Vec<String> {
    let mut v: Vec<String> = sent
        .iter()
        .map(|e| e.header("X-Engage-Message").unwrap_or_default().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn review_request_goes_7_days_after_order_delivered_with_its_headers() {
    let shop = o1_delivered("Northwind Outfitters").await;
    let mail = RecordingMailer::new();

    // 6 days 23 hours after delivery: not due (the step's 7-day delay).
    let r = shop.tick("2026-11-17T17:00:00Z", &mail).await;
    assert!(r.sent.is_empty() && r.refused.is_empty(), "{r:?}");
    // 7 days after: sent.
    let r = shop.tick("2026-11-17T18:00:00Z", &mail).await;
    assert_eq!(r.sent.len(), 1, "{r:?}");
    let sent = mail.sent();
    assert_eq!(sent.len(), 1);
    let e = &sent[0];
    assert_eq!(e.message_id, "msg-O-1-review_request");
    assert_eq!(e.to, "cu-O-1@relay.marketplace.example");
    assert_eq!(e.header("X-Engage-Message"), Some("O-1/review_request"));
    assert_eq!(e.content_language.as_deref(), Some("en-US"));
    assert_eq!(e.from.name.as_deref(), Some("Northwind Outfitters"));
    assert_eq!(e.subject, "How is your order from Northwind Outfitters?");
    assert!(
        e.text
            .contains("Thank you for your order O-1 from Northwind Outfitters."),
        "{}",
        e.text
    );
    // One-click unsubscribe with a token of scope `message`.
    let link = e.list_unsubscribe.as_deref().unwrap();
    assert!(
        link.starts_with("https://engage.example/v1/unsubscribe/"),
        "{link}"
    );
    let claims = signer().verify(link.rsplit('/').next().unwrap()).unwrap();
    assert_eq!(claims.scope, Scope::Message);
    assert_eq!(claims.customer_id.as_str(), "cu-O-1");
    assert!(e.text.contains(link) && e.html.contains(link));
    // The ledger says sent, with the policies that allowed it.
    let rec = review_request_of_o1(&shop.s).await;
    assert_eq!(rec.status, MessageStatus::Sent);
    assert_eq!(rec.locale.as_deref(), Some("en-US"));
    assert!(
        rec.policy
            .as_deref()
            .unwrap()
            .contains("sequences@2026-11-01"),
        "{rec:?}"
    );
}

#[tokio::test]
async fn return_received_goes_on_the_first_tick_after_the_event() {
    let shop = Shop::new("Northwind", bundled()).await;
    shop.delivered_order("O-2", "en-US", t("2026-11-10T18:00:00Z"))
        .await;
    // Issue 12: 03:30 UTC on Nov 13 is 19:30 on Nov 12 in the marketplace (Pacific):
    // the message prints the marketplace's date, for the return and the refund.
    shop.returned("O-2", t("2026-11-13T03:30:00Z")).await;
    let mail = RecordingMailer::new();
    let r = shop.tick("2026-11-13T03:31:00Z", &mail).await;
    assert_eq!(kinds(&mail.sent()), vec!["O-2/return_received"], "{r:?}");
    let e = &mail.sent()[0];
    assert_eq!(e.subject, "We received your return for order O-2");
    assert!(e.text.contains("on 2026-11-12."), "{}", e.text);
    assert!(
        e.text
            .contains("Your refund of 25.00 USD was issued on 2026-11-12"),
        "{}",
        e.text
    );
}

#[tokio::test]
async fn every_trigger_starts_its_step() {
    // Order Placed -> order_problem (3 days later, unless shipped by then);
    // Order Shipped -> shipment_confirmation (the first tick) and
    // product_information (1 day later);
    // Order Delivered -> review_request (7 days); Return Received -> return_received.
    let shop = Shop::new("Northwind", all_enabled()).await;
    // O-P: placed, never shipped.
    shop.placed("O-P", "cu-p", "en-US", t("2026-11-01T10:00:00Z"))
        .await;
    // O-S: placed, shipped the next day (so no order_problem).
    shop.placed("O-S", "cu-s", "en-US", t("2026-11-01T10:00:00Z"))
        .await;
    shop.shipped("O-S", t("2026-11-02T10:00:00Z")).await;

    let mail = RecordingMailer::new();
    // Day 3 + 1s after placement: O-S's product information (due 11-03 10:00) and
    // O-P's order problem (due 11-04 10:00, not yet).
    shop.tick("2026-11-03T10:00:00Z", &mail).await;
    assert_eq!(
        kinds(&mail.sent()),
        vec!["O-S/product_information", "O-S/shipment_confirmation"]
    );
    let r = shop.tick("2026-11-04T10:00:00Z", &mail).await;
    assert_eq!(
        kinds(&mail.sent()),
        vec![
            "O-P/order_problem",
            "O-S/product_information",
            "O-S/shipment_confirmation"
        ],
        "{r:?}"
    );

    // O-S delivered, then returned.
    shop.delivered("O-S", t("2026-11-05T10:00:00Z")).await;
    shop.tick("2026-11-12T10:00:00Z", &mail).await;
    shop.returned("O-S", t("2026-11-13T10:00:00Z")).await;
    shop.tick("2026-11-13T10:05:00Z", &mail).await;
    assert_eq!(
        kinds(&mail.sent()),
        vec![
            "O-P/order_problem",
            "O-S/product_information",
            "O-S/return_received",
            "O-S/review_request",
            "O-S/shipment_confirmation"
        ]
    );
}

#[tokio::test]
async fn review_request_window_edges_day_4_and_31_refused_day_5_and_30_allowed() {
    // A sequence that tries the review request from delivery on, for 60 days: the
    // message policy's window (R-MSG-6: 5 to 30 days after delivery) decides alone.
    let policies = policies_with(|s| {
        s.replacen(
            "delay = { duration = \"7d\" }",
            "delay = { duration = \"0s\" }",
            1,
        )
        .replacen(
            "window = { duration = \"30d\" }   # R-MSG-6",
            "window = { duration = \"60d\" }   # R-MSG-6",
            1,
        )
    });
    let shop = Shop::new("Northwind", policies).await;
    let now = t("2026-12-20T12:00:00Z");
    for day in [4, 5, 30, 31] {
        let order = format!("O-D{day}");
        shop.delivered_order(&order, "en-US", now - Duration::days(day))
            .await;
    }
    let mail = RecordingMailer::new();
    let r = shop.tick("2026-12-20T12:00:00Z", &mail).await;
    assert_eq!(
        kinds(&mail.sent()),
        vec!["O-D30/review_request", "O-D5/review_request"]
    );
    let mut refused: Vec<(String, String)> = r
        .refused
        .iter()
        .map(|m| (m.order_id.clone(), m.reasons.join("; ")))
        .collect();
    refused.sort();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(refused[0].0, "O-D31");
    assert!(
        refused[0].1.starts_with("R-MSG-6.review_too_late"),
        "{refused:?}"
    );
    assert_eq!(refused[1].0, "O-D4");
    assert!(
        refused[1].1.starts_with("R-MSG-6.review_too_early"),
        "{refused:?}"
    );

    // The shipped sequence: day 30 is the last day of its window, day 31 is past it.
    let shop = Shop::new("Northwind", bundled()).await;
    shop.delivered_order("O-E30", "en-US", now - Duration::days(30))
        .await;
    shop.delivered_order("O-E31", "en-US", now - Duration::days(31))
        .await;
    let mail = RecordingMailer::new();
    let r = shop.tick("2026-12-20T12:00:00Z", &mail).await;
    assert_eq!(kinds(&mail.sent()), vec!["O-E30/review_request"], "{r:?}");
}

#[tokio::test]
async fn once_per_order_and_type_across_runs_and_concurrent_runs() {
    let shop = o1_delivered("Northwind").await;
    shop.returned("O-1", t("2026-11-17T10:00:00Z")).await;
    let mail = RecordingMailer::new();
    shop.tick("2026-11-17T18:00:00Z", &mail).await;
    let r = shop.tick("2026-11-17T19:00:00Z", &mail).await;
    assert!(r.sent.is_empty(), "{r:?}");
    assert_eq!(
        kinds(&mail.sent()),
        vec!["O-1/return_received", "O-1/review_request"]
    );

    // Eight runs at once over another order: one message of each type in total.
    shop.delivered_order("O-2", "en-US", t("2026-11-10T18:00:00Z"))
        .await;
    shop.returned("O-2", t("2026-11-17T10:00:00Z")).await;
    let mail = Arc::new(RecordingMailer::new());
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (s, policies) = (Arc::clone(&shop.s), Arc::clone(&shop.policies));
        let mail = Arc::clone(&mail);
        handles.push(tokio::spawn(async move {
            let app = app(&s, &policies, "2026-11-17T20:00:00Z").with_mailer(mail);
            sequences::run(&app, &SequenceOptions::default())
                .await
                .unwrap()
        }));
    }
    let mut sent = 0;
    for h in handles {
        sent += h.await.unwrap().sent.len();
    }
    assert_eq!(sent, 2);
    assert_eq!(
        kinds(&mail.sent()),
        vec!["O-2/return_received", "O-2/review_request"]
    );
}

#[tokio::test]
async fn the_buyers_locale_picks_the_template() {
    let shop = Shop::new("Northwind", bundled()).await;
    let at = t("2026-11-10T18:00:00Z");
    for (order, locale) in [
        ("O-FR", "fr-CA"),
        ("O-DE", "de-DE"),
        ("O-CA", "en-CA"),
        ("O-FF", "fr_FR"),
        ("O-US", "en-US"),
    ] {
        shop.delivered_order(order, locale, at).await;
    }
    let mail = RecordingMailer::new();
    shop.tick("2026-11-17T18:00:00Z", &mail).await;
    let lang = |order: &str| -> (String, String) {
        let e = mail
            .sent()
            .into_iter()
            .find(|e| e.header("X-Engage-Message") == Some(&format!("{order}/review_request")))
            .unwrap();
        (e.content_language.clone().unwrap(), e.subject.clone())
    };
    let (l, subject) = lang("O-FR");
    assert_eq!(l, "fr-CA");
    assert_eq!(
        subject,
        "Votre commande chez Northwind vous convient-elle ?"
    );
    assert!(mail.sent().iter().any(|e| {
        e.text
            .contains("Merci pour votre commande O-FR chez Northwind.")
    }));
    // German has no template: English (the fallback locale).
    let (l, subject) = lang("O-DE");
    assert_eq!(l, "en-US");
    assert_eq!(subject, "How is your order from Northwind?");
    assert_eq!(lang("O-CA").0, "en-CA");
    // Another French tag: the French template.
    assert_eq!(lang("O-FF").0, "fr-CA");
    assert_eq!(lang("O-US").0, "en-US");
}

#[tokio::test]
async fn a_message_opt_out_stops_review_requests_but_not_return_received() {
    let shop = o1_delivered("Northwind").await;
    shop.returned("O-1", t("2026-11-16T10:00:00Z")).await;
    // The customer used the one-click unsubscribe of an earlier buyer message.
    let scope = Some(SuppressionScope::Message);
    shop.suppressed("cu-O-1", SuppressionReason::Unsubscribe, scope)
        .await;
    let mail = RecordingMailer::new();
    let r = shop.tick("2026-11-17T18:00:00Z", &mail).await;
    assert_eq!(kinds(&mail.sent()), vec!["O-1/return_received"]);
    assert_eq!(r.refused.len(), 1, "{r:?}");
    assert_eq!(r.refused[0].message_type, "review_request");
    assert!(
        r.refused[0].reasons[0].starts_with("R-MSG-5.unsubscribed"),
        "{r:?}"
    );

    // A hard bounce stops even the service message.
    shop.delivered_order("O-2", "en-US", t("2026-11-10T18:00:00Z"))
        .await;
    shop.returned("O-2", t("2026-11-16T10:00:00Z")).await;
    shop.suppressed("cu-O-2", SuppressionReason::Bounce, None)
        .await;
    let mail = RecordingMailer::new();
    shop.tick("2026-11-17T18:05:00Z", &mail).await;
    assert!(mail.sent().is_empty(), "{:?}", kinds(&mail.sent()));
}

#[tokio::test]
async fn the_content_policy_refuses_a_rendered_message_naming_the_rule_and_text() {
    // The brand's name lands in the subject and the body: a web address is refused
    // before anything is claimed or sent (R-MSG-9).
    let shop = o1_delivered("northwind.com").await;
    let mail = RecordingMailer::new();
    let r = shop.tick("2026-11-17T18:00:00Z", &mail).await;
    assert!(mail.sent().is_empty());
    let reasons = r.refused[0].reasons.join("\n");
    assert!(
        reasons.contains("subject: R-MSG-9.web_address")
            && reasons.contains("\"How is your order from northwind.com?\""),
        "{reasons}"
    );
    // The due entry is settled as refused, with the reasons, never claimed or sent;
    // it left the due index, so the next pass does not read it again.
    let rec = review_request_of_o1(&shop.s).await;
    assert_eq!(rec.status, MessageStatus::Refused);
    assert_eq!((rec.sent_at, rec.provider_id), (None, None));
    assert!(
        rec.note.unwrap().contains("R-MSG-9.web_address"),
        "the reasons are stored"
    );
    let r = shop.tick("2026-11-17T19:00:00Z", &mail).await;
    assert_eq!((r.orders, r.refused.len()), (0, 0), "{r:?}");
    assert!(mail.sent().is_empty());
}

/// Leases follow the business clock (CONTRACT.md): a claim left by a crashed run is
/// left alone by a pass whose `now` is before its lease, whatever the real clock
/// says, and taken over by a later pass whose `now` is past it.
#[tokio::test]
async fn a_claim_left_by_a_crashed_run_is_taken_over_once_the_business_clock_passes_its_lease() {
    let shop = o1_delivered("Northwind").await;
    // A run claimed the due message at 18:00 (business clock), 5 minutes of lease,
    // then died before sending or storing anything.
    let mut live = review_request_of_o1(&shop.s).await;
    assert_eq!(live.status, MessageStatus::Due);
    live.status = MessageStatus::Pending;
    live.owner = "dead-run".into();
    live.claimed_at = Some(t("2026-11-17T18:00:00Z"));
    live.lease_until_micros = t("2026-11-17T18:05:00Z").timestamp_micros();
    assert_eq!(
        shop.s
            .claim_message(&live, t("2026-11-17T18:00:00Z"))
            .await
            .unwrap(),
        MessageClaim::Claimed
    );
    let mail = RecordingMailer::new();
    let r = shop.tick("2026-11-17T18:04:00Z", &mail).await;
    assert!(mail.sent().is_empty());
    assert_eq!(r.held, 1, "a live claim is left alone: {r:?}");

    // A later tick, past the lease: the claim is taken over and sent, same message id.
    let r = shop.tick("2026-11-17T18:06:00Z", &mail).await;
    assert_eq!(r.sent.len(), 1, "{r:?}");
    assert_eq!(mail.sent().len(), 1);
    assert_eq!(mail.sent()[0].message_id, "msg-O-1-review_request");
    let rec = review_request_of_o1(&shop.s).await;
    assert_eq!(rec.status, MessageStatus::Sent);
    assert_ne!(rec.owner, "dead-run");
    assert_eq!(rec.claimed_at, Some(t("2026-11-17T18:06:00Z")));
}

#[test]
fn policy_check_rejects_a_template_with_a_link_or_dot_com() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let report = engage::jobs::check_policies(&dir);
    assert!(report.is_ok(), "{report}");
    let line = |file: &str| {
        report
            .lines
            .iter()
            .find(|l| l.text.contains(file))
            .unwrap_or_else(|| panic!("no line for {file}: {report}"))
            .clone()
    };
    let dot_com = line("2026-11-01--dot-com.toml");
    assert!(
        dot_com.ok && dot_com.text.starts_with("rejected "),
        "{dot_com:?}"
    );
    assert!(
        dot_com.text.contains("R-MSG-9.web_address") && dot_com.text.contains("northwind dot com"),
        "{dot_com:?}"
    );
    let link = line("2026-11-01--link.toml");
    assert!(
        link.text.contains("R-MSG-3.url") && link.text.contains("https://northwind.example/avis"),
        "{link:?}"
    );

    // The same text in the policy in force fails the check, naming rule and text.
    let tmp = common::policies_copy(|_, text| text);
    let seq = tmp.path().join("sequences/2026-11-01.toml");
    let text = std::fs::read_to_string(&seq).unwrap().replacen(
        "Every honest opinion helps us improve, whatever it is.",
        "Tell us more on northwind dot com.",
        1,
    );
    std::fs::write(&seq, text).unwrap();
    let report = engage::jobs::check_policies(tmp.path());
    assert!(!report.is_ok());
    let fails: Vec<_> = report.failures().map(|l| l.text.clone()).collect();
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert!(
        fails[0].contains("step review_request, template en-US, body[2]: R-MSG-9.web_address")
            && fails[0].contains("\"Tell us more on northwind dot com.\""),
        "{fails:?}"
    );
}

fn envelope(detail_type: &str, detail: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"detail-type": detail_type, "source": "marketplace", "detail": detail})
}

/// A sequences run reads what is due, not every recent order: 1,000 orders delivered over
/// the last 30 days (the review requests due before yesterday's run already handled), 10
/// due since then. The run's DynamoDB reads (requests and items, counted on the SDK
/// against moto) stay bounded by the due entries and the index partitions of the window.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_reads_only_what_is_due_dynamodb() {
    const ORDERS: i64 = 1_000;
    const DUE_TODAY: i64 = 10;
    let now = t("2026-12-20T12:00:00Z");
    let (seeded, table) = common::dynamo().await;
    let seeded: Arc<dyn Store> = seeded;
    events::handle(
        seeded.as_ref(),
        envelope(
            "Brand Registered",
            serde_json::json!({"brandId": BRAND, "name": "Northwind", "sellerId": "S1",
                "marketplace": "US", "hasStorePage": true}),
        ),
        now - Duration::days(60),
    )
    .await
    .unwrap();
    for i in 0..ORDERS {
        // The first 10 were delivered 7 days (and a few minutes) ago: due since this
        // morning. The others over the 30 days before, none between 7 and 8 days ago.
        let ago = if i < DUE_TODAY {
            Duration::days(7) + Duration::minutes(i + 1)
        } else {
            let m = (i - DUE_TODAY) * 29 * 1440 / (ORDERS - DUE_TODAY);
            Duration::minutes(if m >= 7 * 1440 { m + 1440 } else { m })
        };
        let delivered_at = now - ago;
        let id = format!("O-{i:04}");
        let placed = envelope(
            "Order Placed",
            serde_json::json!({"orderId": id, "sellerId": "S1", "brandId": BRAND,
                "asin": "B0ENGAGE01", "customerId": format!("cu-{i}"),
                "relayEmail": format!("cu-{i}@relay.example"), "locale": "en-US",
                "purchasedAt": delivered_at - Duration::days(2)}),
        );
        let delivered = envelope(
            "Order Delivered",
            serde_json::json!({"orderId": id, "deliveredAt": delivered_at}),
        );
        for e in [placed, delivered] {
            events::handle(seeded.as_ref(), e, delivered_at)
                .await
                .unwrap();
        }
    }
    let policies = bundled();
    let mail = RecordingMailer::new();
    let yesterday = tick(&seeded, &policies, "2026-12-19T12:00:00Z", &mail).await;
    assert!(yesterday.failed.is_empty(), "{yesterday:?}");

    let counter = common::RequestCounter::default();
    let store: Arc<dyn Store> = Arc::new(engage::store::DynamoStore::new(
        counter.client().await,
        table,
    ));
    let mail = RecordingMailer::new();
    let r = tick(&store, &policies, "2026-12-20T12:00:00Z", &mail).await;
    assert_eq!(r.sent.len(), usize::try_from(DUE_TODAY).unwrap(), "{r:?}");
    let (queries, gets, items) = (
        counter.get("Query"),
        counter.get("GetItem"),
        counter.get("items read"),
    );
    println!(
        "sequences run over {ORDERS} orders, {DUE_TODAY} due: {queries} Query, {gets} GetItem, \
         {items} items read; yesterday sent {}; requests {:?}",
        yesterday.sent.len(),
        counter.counts()
    );
    let due = usize::try_from(DUE_TODAY).unwrap();
    assert!(
        items <= 4 * due,
        "{items} items read for {due} due messages"
    );
    assert!(gets <= 3 * due, "{gets} point reads for {due} due messages");
}

/// Black box, through `engage event` and `engage tick` (issue 12, seed 002): the
/// marketplace events of one brand and four orders.
fn cli_events() -> Vec<serde_json::Value> {
    use crate::server::marketplace_event as ev;
    use serde_json::json;
    let placed = |id: &str, customer: &str, locale: &str| {
        ev(
            &format!("e-{id}-placed"),
            "Order Placed",
            json!({"orderId": id, "sellerId": "S1", "brandId": BRAND, "asin": "B0ENGAGE01",
                "customerId": customer, "relayEmail": format!("{customer}@relay.example"),
                "locale": locale, "purchasedAt": "2026-11-10T18:00:00Z"}),
        )
    };
    vec![
        ev(
            "e-brand",
            "Brand Registered",
            json!({"brandId": BRAND, "name": "Northwind", "sellerId": "S1",
                "marketplace": "US", "hasStorePage": true}),
        ),
        placed("O-10", "cu-10", "en-US"),
        placed("O-11", "cu-11", "fr-CA"),
        placed("O-12", "cu-12", "en-US"),
        // 05:30 UTC on Nov 12 is 21:30 on Nov 11 in the marketplace; the carrier
        // expects 07:00 UTC on Nov 15, 23:00 on Nov 14 there.
        ev(
            "e-O-10-shipped",
            "Order Shipped",
            json!({"orderId": "O-10", "shippedAt": "2026-11-12T05:30:00Z", "carrier": "UPS",
                "trackingId": "1Z999AA10123456784", "expectedDeliveryAt": "2026-11-15T07:00:00Z"}),
        ),
        // No expected delivery in the event: the paragraph is left out.
        ev(
            "e-O-11-shipped",
            "Order Shipped",
            json!({"orderId": "O-11", "shippedAt": "2026-11-12T05:30:00Z",
                "carrier": "Canada Post", "trackingId": "7023210039414604"}),
        ),
        // Delivered before the first tick: nothing left to confirm.
        ev(
            "e-O-12-shipped",
            "Order Shipped",
            json!({"orderId": "O-12", "shippedAt": "2026-11-12T05:30:00Z", "carrier": "USPS",
                "trackingId": "9400111899223197428490"}),
        ),
        ev(
            "e-O-12-delivered",
            "Order Delivered",
            json!({"orderId": "O-12", "deliveredAt": "2026-11-12T05:40:00Z"}),
        ),
    ]
}

#[test]
fn shipment_confirmation_through_engage_tick_carries_seed_002_once_per_order() {
    let dir = tempfile::tempdir().unwrap();
    let (data, outbox) = (dir.path().join("data"), dir.path().join("outbox"));
    crate::server::engage_event(&data, "2026-11-12T05:45:00Z", &cli_events());
    let out = crate::server::engage_tick(&data, &outbox, "2026-11-12T06:00:00Z");
    assert!(
        out.contains("message O-10/shipment_confirmation sent (en-US)"),
        "{out}"
    );
    assert!(
        out.contains("message O-11/shipment_confirmation sent (fr-CA)"),
        "{out}"
    );
    let emails = crate::server::outbox_emails(&outbox);
    let names: Vec<&str> = emails.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "msg-O-10-shipment_confirmation.eml",
            "msg-O-11-shipment_confirmation.eml"
        ],
        "O-12 was delivered before the tick: {out}"
    );

    let en = &emails[0].1;
    assert_eq!(
        en.header_raw("X-Engage-Message").unwrap().trim(),
        "O-10/shipment_confirmation"
    );
    assert_eq!(en.subject().unwrap(), "Your order O-10 has shipped");
    let text = en.body_text(0).unwrap();
    for part in [
        "Your order O-10 from Northwind shipped on 2026-11-11: product B0ENGAGE01.",
        "It travels with UPS, tracking number 1Z999AA10123456784.",
        "Expected delivery: 2026-11-14.",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }

    let fr = &emails[1].1;
    assert_eq!(fr.header_raw("Content-Language").unwrap().trim(), "fr-CA");
    let text = fr.body_text(0).unwrap();
    assert!(
        text.contains("Elle est acheminée par Canada Post, numéro de suivi 7023210039414604."),
        "{text}"
    );
    assert!(text.contains("expédiée le 2026-11-11"), "{text}");
    assert!(!text.contains("Livraison prévue"), "{text}");

    // Once per order: a later tick sends nothing more.
    let again = crate::server::engage_tick(&data, &outbox, "2026-11-12T07:00:00Z");
    assert!(again.contains("sent 0, refused 0"), "{again}");
    assert_eq!(crate::server::outbox_emails(&outbox).len(), 2);
}

#[test]
fn return_received_through_engage_tick_prints_the_refund_in_the_marketplace_zone() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let (data, outbox) = (dir.path().join("data"), dir.path().join("outbox"));
    let mut events = cli_events();
    // 03:30 UTC on Nov 14 is 19:30 on Nov 13 in the marketplace; the refund, at
    // 02:00 UTC on Nov 15, was issued on Nov 14 there.
    events.push(crate::server::marketplace_event(
        "e-O-10-returned",
        "Return Received",
        json!({"orderId": "O-10", "receivedAt": "2026-11-14T03:30:00Z",
            "refundAmount": 24.99, "currency": "USD", "refundedAt": "2026-11-15T02:00:00Z"}),
    ));
    crate::server::engage_event(&data, "2026-11-15T02:05:00Z", &events);
    let out = crate::server::engage_tick(&data, &outbox, "2026-11-15T02:10:00Z");
    assert!(
        out.contains("message O-10/return_received sent (en-US)"),
        "{out}"
    );
    let emails = crate::server::outbox_emails(&outbox);
    let (_, msg) = emails
        .iter()
        .find(|(n, _)| n == "msg-O-10-return_received.eml")
        .unwrap_or_else(|| panic!("no return_received email: {out}"));
    let text = msg.body_text(0).unwrap();
    assert!(
        text.contains("We received the item you returned from order O-10 on 2026-11-13."),
        "{text}"
    );
    assert!(
        text.contains("Your refund of 24.99 USD was issued on 2026-11-14"),
        "{text}"
    );
}

/// Issue 12: a step's `"7d"` is seven marketplace dates at the same local time.
/// Delivered 10:00 PST on 2027-03-10; the clocks go forward on 2027-03-14; the
/// review request is due 10:00 PDT on 2027-03-17, 17:00 UTC (167 hours later),
/// not at 18:00 UTC (7 x 24 hours).
#[test]
fn a_seven_day_delay_counts_marketplace_dates_across_the_march_clock_change() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let (data, outbox) = (dir.path().join("data"), dir.path().join("outbox"));
    let ev = crate::server::marketplace_event;
    let events = vec![
        ev(
            "e-brand",
            "Brand Registered",
            json!({"brandId": BRAND, "name": "Northwind", "sellerId": "S1",
                "marketplace": "US", "hasStorePage": true}),
        ),
        ev(
            "e-placed",
            "Order Placed",
            json!({"orderId": "O-20", "sellerId": "S1", "brandId": BRAND, "asin": "B0ENGAGE01",
                "customerId": "cu-20", "relayEmail": "cu-20@relay.example",
                "locale": "en-US", "purchasedAt": "2027-03-05T18:00:00Z"}),
        ),
        ev(
            "e-delivered",
            "Order Delivered",
            json!({"orderId": "O-20", "deliveredAt": "2027-03-10T18:00:00Z"}),
        ),
    ];
    crate::server::engage_event(&data, "2027-03-10T18:05:00Z", &events);
    let early = crate::server::engage_tick(&data, &outbox, "2027-03-17T16:59:00Z");
    assert!(early.contains("sent 0, refused 0"), "{early}");
    let due = crate::server::engage_tick(&data, &outbox, "2027-03-17T17:00:00Z");
    assert!(
        due.contains("message O-20/review_request sent (en-US)"),
        "{due}"
    );
}
