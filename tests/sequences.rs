//! Buyer-message sequences (issue 7, R-MSG-1..9): each trigger, the window edges,
//! once per order (sequential and concurrent runs), locale choice, opt-outs, the
//! content policy at send time and at `engage policy check` time, crash recovery.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use engage::app::App;
use engage::clock::FixedClock;
use engage::domain::brand::{Brand, Marketplace};
use engage::domain::order::{OrderChange, OrderChangeKind, OrderPlaced, ReturnReceived};
use engage::domain::suppression::{Suppression, SuppressionReason, SuppressionScope};
use engage::domain::{BrandId, CustomerId, OrderId, SellerId};
use engage::jobs::send_window::RecordingMailer;
use engage::jobs::sequences::{self, SequenceOptions, SequenceReport};
use engage::mail::OutgoingEmail;
use engage::policy::{PolicySet, SourceFile};
use engage::store::{Entity, EntityChange, MessageClaim, MessageRecord, MessageStatus, Store};
use engage::unsubscribe::{Scope, TokenSigner};

use common::t;

const BRAND: &str = "B1";

fn signer() -> TokenSigner {
    TokenSigner::new(b"test-unsubscribe-secret")
}

/// The bundled policies, with the `sequences` file edited by `edit`.
fn policies_with(edit: impl Fn(String) -> String) -> Arc<PolicySet> {
    let sources = engage::policy::bundled::files()
        .iter()
        .map(|(name, version, text)| SourceFile {
            file: format!("test:{name}/{version}.toml"),
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            text: if *name == "sequences" {
                edit((*text).to_owned())
            } else {
                (*text).to_owned()
            },
        });
    Arc::new(PolicySet::from_sources(sources).unwrap())
}

fn bundled() -> Arc<PolicySet> {
    Arc::new(PolicySet::bundled().unwrap())
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
}

async fn tick(
    store: &Arc<dyn Store>,
    policies: &Arc<PolicySet>,
    now: &str,
    mailer: &RecordingMailer,
) -> SequenceReport {
    sequences::run(
        &app(store, policies, now),
        mailer,
        &signer(),
        &SequenceOptions::default(),
    )
    .await
    .unwrap()
}

async fn seed_brand(store: &Arc<dyn Store>, name: &str) {
    store
        .upsert(&Entity::Brand(Brand {
            brand_id: BrandId::new(BRAND),
            name: name.to_owned(),
            seller_id: SellerId::new("S1"),
            marketplace: Marketplace::US,
            has_store_page: true,
            updated_at: t("2026-10-01T00:00:00Z"),
        }))
        .await
        .unwrap();
}

async fn change(store: &Arc<dyn Store>, order: &str, kind: OrderChangeKind) {
    store
        .merge(&EntityChange::Order(OrderChange {
            order_id: OrderId::new(order),
            kind,
        }))
        .await
        .unwrap();
}

async fn placed(
    store: &Arc<dyn Store>,
    order: &str,
    customer: &str,
    locale: &str,
    at: DateTime<Utc>,
) {
    change(
        store,
        order,
        OrderChangeKind::Placed(OrderPlaced {
            seller_id: SellerId::new("S1"),
            brand_id: BrandId::new(BRAND),
            asin: "B0ENGAGE01".into(),
            customer_id: CustomerId::new(customer),
            relay_email: format!("{customer}@relay.marketplace.example"),
            locale: locale.into(),
            purchased_at: at,
        }),
    )
    .await;
}

async fn shipped(store: &Arc<dyn Store>, order: &str, at: DateTime<Utc>) {
    change(
        store,
        order,
        OrderChangeKind::Shipped {
            shipped_at: at,
            carrier: "UPS".into(),
            tracking_id: "1Z".into(),
        },
    )
    .await;
}

async fn delivered(store: &Arc<dyn Store>, order: &str, at: DateTime<Utc>) {
    change(
        store,
        order,
        OrderChangeKind::Delivered { delivered_at: at },
    )
    .await;
}

async fn returned(store: &Arc<dyn Store>, order: &str, at: DateTime<Utc>) {
    change(
        store,
        order,
        OrderChangeKind::ReturnReceived(ReturnReceived {
            received_at: at,
            refund_amount: "25.00".into(),
            currency: "USD".into(),
        }),
    )
    .await;
}

/// An order placed at `at`, shipped a day later, delivered two days later.
async fn delivered_order(
    store: &Arc<dyn Store>,
    order: &str,
    locale: &str,
    delivered_at: DateTime<Utc>,
) {
    placed(
        store,
        order,
        &format!("cu-{order}"),
        locale,
        delivered_at - Duration::days(2),
    )
    .await;
    shipped(store, order, delivered_at - Duration::days(1)).await;
    delivered(store, order, delivered_at).await;
}

fn store() -> (Arc<dyn Store>, tempfile::TempDir) {
    common::embedded()
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
    let (s, _d) = store();
    seed_brand(&s, "Northwind Outfitters").await;
    delivered_order(&s, "O-1", "en-US", t("2026-11-10T18:00:00Z")).await;
    let policies = bundled();
    let mail = RecordingMailer::new();

    // 6 days 23 hours after delivery: not due (the step's 7-day delay).
    let r = tick(&s, &policies, "2026-11-17T17:00:00Z", &mail).await;
    assert!(r.sent.is_empty() && r.refused.is_empty(), "{r:?}");
    // 7 days after: sent.
    let r = tick(&s, &policies, "2026-11-17T18:00:00Z", &mail).await;
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
    let rec = s
        .get_message(&OrderId::new("O-1"), "review_request")
        .await
        .unwrap()
        .unwrap();
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
    let (s, _d) = store();
    seed_brand(&s, "Northwind").await;
    delivered_order(&s, "O-2", "en-US", t("2026-11-10T18:00:00Z")).await;
    returned(&s, "O-2", t("2026-11-12T09:30:00Z")).await;
    let policies = bundled();
    let mail = RecordingMailer::new();
    let r = tick(&s, &policies, "2026-11-12T09:31:00Z", &mail).await;
    assert_eq!(kinds(&mail.sent()), vec!["O-2/return_received"], "{r:?}");
    let e = &mail.sent()[0];
    assert_eq!(e.subject, "We received your return for order O-2");
    assert!(e.text.contains("on 2026-11-12."), "{}", e.text);
    assert!(
        e.text.contains("Your refund of 25.00 USD has been issued"),
        "{}",
        e.text
    );
}

#[tokio::test]
async fn every_trigger_starts_its_step() {
    // Order Placed -> order_problem (3 days later, unless shipped by then);
    // Order Shipped -> product_information (1 day later);
    // Order Delivered -> review_request (7 days); Return Received -> return_received.
    let (s, _d) = store();
    seed_brand(&s, "Northwind").await;
    let policies = all_enabled();
    // O-P: placed, never shipped.
    placed(&s, "O-P", "cu-p", "en-US", t("2026-11-01T10:00:00Z")).await;
    // O-S: placed, shipped the next day (so no order_problem).
    placed(&s, "O-S", "cu-s", "en-US", t("2026-11-01T10:00:00Z")).await;
    shipped(&s, "O-S", t("2026-11-02T10:00:00Z")).await;

    let mail = RecordingMailer::new();
    // Day 3 + 1s after placement: O-S's product information (due 11-03 10:00) and
    // O-P's order problem (due 11-04 10:00, not yet).
    tick(&s, &policies, "2026-11-03T10:00:00Z", &mail).await;
    assert_eq!(kinds(&mail.sent()), vec!["O-S/product_information"]);
    let r = tick(&s, &policies, "2026-11-04T10:00:00Z", &mail).await;
    assert_eq!(
        kinds(&mail.sent()),
        vec!["O-P/order_problem", "O-S/product_information"],
        "{r:?}"
    );

    // O-S delivered, then returned.
    delivered(&s, "O-S", t("2026-11-05T10:00:00Z")).await;
    tick(&s, &policies, "2026-11-12T10:00:00Z", &mail).await;
    returned(&s, "O-S", t("2026-11-13T10:00:00Z")).await;
    tick(&s, &policies, "2026-11-13T10:05:00Z", &mail).await;
    assert_eq!(
        kinds(&mail.sent()),
        vec![
            "O-P/order_problem",
            "O-S/product_information",
            "O-S/return_received",
            "O-S/review_request"
        ]
    );
}

#[tokio::test]
async fn review_request_window_edges_day_4_and_31_refused_day_5_and_30_allowed() {
    // A sequence that tries the review request from delivery on, for 60 days: the
    // message policy's window (R-MSG-6: 5 to 30 days after delivery) decides alone.
    let (s, _d) = store();
    seed_brand(&s, "Northwind").await;
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
    let now = t("2026-12-20T12:00:00Z");
    for day in [4, 5, 30, 31] {
        delivered_order(&s, &format!("O-D{day}"), "en-US", now - Duration::days(day)).await;
    }
    let mail = RecordingMailer::new();
    let r = tick(&s, &policies, "2026-12-20T12:00:00Z", &mail).await;
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
    let (s, _d2) = store();
    seed_brand(&s, "Northwind").await;
    delivered_order(&s, "O-E30", "en-US", now - Duration::days(30)).await;
    delivered_order(&s, "O-E31", "en-US", now - Duration::days(31)).await;
    let mail = RecordingMailer::new();
    let r = tick(&s, &bundled(), "2026-12-20T12:00:00Z", &mail).await;
    assert_eq!(kinds(&mail.sent()), vec!["O-E30/review_request"], "{r:?}");
}

#[tokio::test]
async fn once_per_order_and_type_across_runs_and_concurrent_runs() {
    let (s, _d) = store();
    seed_brand(&s, "Northwind").await;
    delivered_order(&s, "O-1", "en-US", t("2026-11-10T18:00:00Z")).await;
    returned(&s, "O-1", t("2026-11-17T10:00:00Z")).await;
    let policies = bundled();
    let mail = RecordingMailer::new();
    tick(&s, &policies, "2026-11-17T18:00:00Z", &mail).await;
    let r = tick(&s, &policies, "2026-11-17T19:00:00Z", &mail).await;
    assert!(r.sent.is_empty(), "{r:?}");
    assert_eq!(
        kinds(&mail.sent()),
        vec!["O-1/return_received", "O-1/review_request"]
    );

    // Eight runs at once over another order: one message of each type in total.
    delivered_order(&s, "O-2", "en-US", t("2026-11-10T18:00:00Z")).await;
    returned(&s, "O-2", t("2026-11-17T10:00:00Z")).await;
    let mail = Arc::new(RecordingMailer::new());
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (s, policies, mail) = (Arc::clone(&s), Arc::clone(&policies), Arc::clone(&mail));
        handles.push(tokio::spawn(async move {
            let app = app(&s, &policies, "2026-11-17T20:00:00Z");
            sequences::run(&app, mail.as_ref(), &signer(), &SequenceOptions::default())
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
    let (s, _d) = store();
    seed_brand(&s, "Northwind").await;
    let at = t("2026-11-10T18:00:00Z");
    for (order, locale) in [
        ("O-FR", "fr-CA"),
        ("O-DE", "de-DE"),
        ("O-CA", "en-CA"),
        ("O-FF", "fr_FR"),
        ("O-US", "en-US"),
    ] {
        delivered_order(&s, order, locale, at).await;
    }
    let mail = RecordingMailer::new();
    tick(&s, &bundled(), "2026-11-17T18:00:00Z", &mail).await;
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
    let (s, _d) = store();
    seed_brand(&s, "Northwind").await;
    delivered_order(&s, "O-1", "en-US", t("2026-11-10T18:00:00Z")).await;
    returned(&s, "O-1", t("2026-11-16T10:00:00Z")).await;
    // The customer used the one-click unsubscribe of an earlier buyer message.
    s.suppress(&Suppression::new(
        BrandId::new(BRAND),
        CustomerId::new("cu-O-1"),
        SuppressionReason::Unsubscribe,
        Some(SuppressionScope::Message),
        t("2026-11-12T00:00:00Z"),
    ))
    .await
    .unwrap();
    let mail = RecordingMailer::new();
    let r = tick(&s, &bundled(), "2026-11-17T18:00:00Z", &mail).await;
    assert_eq!(kinds(&mail.sent()), vec!["O-1/return_received"]);
    assert_eq!(r.refused.len(), 1, "{r:?}");
    assert_eq!(r.refused[0].message_type, "review_request");
    assert!(
        r.refused[0].reasons[0].starts_with("R-MSG-5.unsubscribed"),
        "{r:?}"
    );

    // A hard bounce stops even the service message.
    delivered_order(&s, "O-2", "en-US", t("2026-11-10T18:00:00Z")).await;
    returned(&s, "O-2", t("2026-11-16T10:00:00Z")).await;
    s.suppress(&Suppression::new(
        BrandId::new(BRAND),
        CustomerId::new("cu-O-2"),
        SuppressionReason::Bounce,
        None,
        t("2026-11-12T00:00:00Z"),
    ))
    .await
    .unwrap();
    let mail = RecordingMailer::new();
    tick(&s, &bundled(), "2026-11-17T18:05:00Z", &mail).await;
    assert!(mail.sent().is_empty(), "{:?}", kinds(&mail.sent()));
}

#[tokio::test]
async fn the_content_policy_refuses_a_rendered_message_naming_the_rule_and_text() {
    // The brand's name lands in the subject and the body: a web address is refused
    // before anything is claimed or sent (R-MSG-9).
    let (s, _d) = store();
    seed_brand(&s, "northwind.com").await;
    delivered_order(&s, "O-1", "en-US", t("2026-11-10T18:00:00Z")).await;
    let mail = RecordingMailer::new();
    let r = tick(&s, &bundled(), "2026-11-17T18:00:00Z", &mail).await;
    assert!(mail.sent().is_empty());
    let reasons = r.refused[0].reasons.join("\n");
    assert!(
        reasons.contains("subject: R-MSG-9.web_address")
            && reasons.contains("\"How is your order from northwind.com?\""),
        "{reasons}"
    );
    assert!(
        s.get_message(&OrderId::new("O-1"), "review_request")
            .await
            .unwrap()
            .is_none()
    );
}

fn record(order: &str, owner: &str, lease_until: DateTime<Utc>) -> MessageRecord {
    MessageRecord {
        order_id: OrderId::new(order),
        message_type: "review_request".into(),
        brand_id: BrandId::new(BRAND),
        customer_id: CustomerId::new(format!("cu-{order}")),
        message_id: format!("msg-{order}-review_request"),
        status: MessageStatus::Pending,
        owner: owner.into(),
        lease_until_micros: lease_until.timestamp_micros(),
        claimed_at: t("2026-11-17T18:00:00Z"),
        locale: None,
        policy: None,
        sent_at: None,
        provider_id: None,
        note: None,
    }
}

#[tokio::test]
async fn a_run_that_died_after_its_claim_is_resumed_once_the_lease_expires() {
    let (s, _d) = store();
    seed_brand(&s, "Northwind").await;
    delivered_order(&s, "O-1", "en-US", t("2026-11-10T18:00:00Z")).await;
    // A run claimed the message, then died (its lease runs on the real clock).
    let live = record("O-1", "dead-run", Utc::now() + Duration::minutes(5));
    assert_eq!(
        s.claim_message(&live, Utc::now()).await.unwrap(),
        MessageClaim::Claimed
    );
    let mail = RecordingMailer::new();
    let r = tick(&s, &bundled(), "2026-11-17T18:00:00Z", &mail).await;
    assert!(mail.sent().is_empty());
    assert_eq!(r.held, 1, "a live claim is left alone: {r:?}");

    // Its lease expired: the next run takes it over and sends, same message id.
    let expired = record("O-1", "dead-run", Utc::now() - Duration::seconds(1));
    s.finish_message(&expired).await.unwrap();
    let r = tick(&s, &bundled(), "2026-11-17T18:10:00Z", &mail).await;
    assert_eq!(r.sent.len(), 1, "{r:?}");
    assert_eq!(mail.sent()[0].message_id, "msg-O-1-review_request");
    let rec = s
        .get_message(&OrderId::new("O-1"), "review_request")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.status, MessageStatus::Sent);
    assert_ne!(rec.owner, "dead-run");
}

#[test]
fn policy_check_rejects_a_template_with_a_link_or_dot_com() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let report = engage::policy::check_dir(&dir);
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
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        if !entry.path().is_dir() {
            continue;
        }
        let to = tmp.path().join(entry.file_name());
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(entry.path()).unwrap() {
            let f = f.unwrap();
            if f.path().is_file() {
                std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
            }
        }
    }
    let seq = tmp.path().join("sequences/2026-11-01.toml");
    let text = std::fs::read_to_string(&seq).unwrap().replacen(
        "Every honest opinion helps us improve, whatever it is.",
        "Tell us more on northwind dot com.",
        1,
    );
    std::fs::write(&seq, text).unwrap();
    let report = engage::policy::check_dir(tmp.path());
    assert!(!report.is_ok());
    let fails: Vec<_> = report.failures().map(|l| l.text.clone()).collect();
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert!(
        fails[0].contains("step review_request, template en-US, body[2]: R-MSG-9.web_address")
            && fails[0].contains("\"Tell us more on northwind dot com.\""),
        "{fails:?}"
    );
}
