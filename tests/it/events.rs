//! Marketplace events: every detail-type stored (embedded store, and the Lambda
//! handler path on DynamoDB via moto with real EventBridge payloads), repeats and
//! out-of-order arrivals converging, clear errors, and `engage event` on the sample.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};
use engage::domain::promotion::{PromotionState, PromotionType};
use engage::domain::{BrandId, CustomerId, OrderId, PromotionId, ReviewId};
use engage::jobs::events::{
    self, Applied, Delivery, EventError, MarketplaceEvent, deliver, parse, parse_input,
};
use engage::store::{EmbeddedStore, EntityStore, Store, StoreError};
use serde_json::{Value, json};

use crate::common::t;

const NOW: &str = "2026-11-26T12:00:00Z";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every EventBridge payload fixture, by file name, sorted.
fn eventbridge_fixtures() -> Vec<(String, Value)> {
    let mut out: Vec<_> = std::fs::read_dir(fixtures_dir().join("eventbridge"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_str(&text).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn fixture(name: &str) -> Value {
    eventbridge_fixtures()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .1
}

fn envelope(id: &str, detail_type: &str, time: &str, detail: Value) -> Value {
    json!({
        "version": "0", "id": id, "detail-type": detail_type, "source": "marketplace",
        "account": "123456789012", "time": time, "region": "us-east-1", "resources": [],
        "detail": detail
    })
}

/// Applies every fixture through the Lambda handler twice, then checks what was stored.
async fn every_detail_type_is_stored(store: &dyn Store) {
    let now = t(NOW);
    let fixtures = eventbridge_fixtures();
    assert_eq!(
        fixtures.len(),
        events::DETAIL_TYPES.len(),
        "one fixture per detail-type"
    );
    for (name, payload) in &fixtures {
        match deliver(store, payload.clone(), now).await.unwrap() {
            Delivery::Applied { id, written, .. } => {
                assert!(written, "{name} stored");
                assert!(id.starts_with("fx-"), "{name}: the event id is reported");
            }
            Delivery::Rejected { reason, .. } => panic!("{name} rejected: {reason}"),
        }
    }
    for (name, payload) in &fixtures {
        match deliver(store, payload.clone(), now).await.unwrap() {
            Delivery::Applied { written, .. } => assert!(!written, "{name} repeated is stale"),
            Delivery::Rejected { reason, .. } => panic!("{name} rejected: {reason}"),
        }
    }

    let brand = store.get_brand(&BrandId::new("B1")).await.unwrap().unwrap();
    assert_eq!(brand.name, "Northwind Outfitters");
    assert!(brand.has_store_page);
    assert_eq!(
        brand.updated_at,
        t("2026-09-01T16:00:00Z"),
        "envelope time versions it"
    );

    let f = store
        .get_follower(&BrandId::new("B1"), &CustomerId::new("c001"))
        .await
        .unwrap()
        .unwrap();
    assert!(f.reachable());
    assert_eq!(f.relay_email, "c001@relay.marketplace.example");
    // Only an unfollow is known for c020: a record that is not reachable.
    let gone = store
        .get_follower(&BrandId::new("B1"), &CustomerId::new("c020"))
        .await
        .unwrap()
        .unwrap();
    assert!(gone.unfollowed && !gone.reachable());

    let deal = store
        .get_promotion(&PromotionId::new("P-DEAL-DEC"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deal.promotion_type, PromotionType::SevenDayDeal);
    assert_eq!(deal.state, PromotionState::Active);
    assert_eq!(
        deal.updated_at,
        t("2026-11-12T17:00:00Z"),
        "the update is the newest"
    );
    assert_eq!(
        store
            .list_promotions(&BrandId::new("B1"), Some("B0ENGAGE01"))
            .await
            .unwrap()
            .len(),
        1
    );

    let review = store
        .get_review(&ReviewId::new("R-1001"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((review.rating, review.verified_purchase), (1, true));

    let placed = store
        .get_order(&OrderId::new("O-1000"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(placed.placed.purchased_at, t("2025-10-20T19:00:00Z"));

    // Shipped and Delivered of O-1006 arrived without its Order Placed: not an order
    // yet, but kept; the late Order Placed completes it.
    let o1006 = OrderId::new("O-1006");
    assert_eq!(store.get_order(&o1006).await.unwrap(), None);
    let late_placed = envelope(
        "late-placed",
        "Order Placed",
        "2026-11-10T19:00:00Z",
        json!({"orderId": "O-1006", "sellerId": "S1", "brandId": "B1", "asin": "B0ENGAGE01",
               "customerId": "c006", "relayEmail": "c006@relay.marketplace.example",
               "locale": "en-US", "purchasedAt": "2026-11-10T19:00:00Z"}),
    );
    deliver(store, late_placed, now).await.unwrap();
    let order = store.get_order(&o1006).await.unwrap().unwrap();
    assert_eq!(order.fulfilment.shipped_at, Some(t("2026-11-11T14:00:00Z")));
    assert_eq!(order.fulfilment.carrier.as_deref(), Some("UPS"));
    assert_eq!(
        order.fulfilment.delivered_at,
        Some(t("2026-11-14T18:30:00Z"))
    );
    assert_eq!(order.updated_at, t("2026-11-14T18:30:00Z"));
    let listed = store
        .list_orders(&BrandId::new("B1"), t("2026-11-01T00:00:00Z"), now)
        .await
        .unwrap();
    assert_eq!(listed, vec![order]);

    // Return Received of O-1007 before its order: kept too.
    let late = envelope(
        "late-1007",
        "Order Placed",
        "2026-11-12T19:00:00Z",
        json!({"orderId": "O-1007", "sellerId": "S1", "brandId": "B1", "asin": "B0ENGAGE01",
               "customerId": "c007", "relayEmail": "c007@relay.marketplace.example",
               "locale": "en-CA", "purchasedAt": "2026-11-12T19:00:00Z"}),
    );
    deliver(store, late, now).await.unwrap();
    let ret = store
        .get_order(&OrderId::new("O-1007"))
        .await
        .unwrap()
        .unwrap()
        .fulfilment
        .return_received
        .unwrap();
    assert_eq!(
        (ret.refund_amount.as_str(), ret.currency.as_str()),
        ("24.99", "USD")
    );

    // Cancelled and rejected before their creation arrived: the creation does not revive them.
    for (id, brand, state) in [
        ("P-DEAL-CANCELED", "B1", PromotionState::Canceled),
        ("P-B2-REJECTED", "B2", PromotionState::Rejected),
    ] {
        assert_eq!(
            store.get_promotion(&PromotionId::new(id)).await.unwrap(),
            None
        );
        let created = envelope(
            &format!("late-{id}"),
            "Promotion Created",
            "2026-11-05T15:00:00Z",
            json!({"promotionId": id, "brandId": brand, "asin": "B0ENGAGE01",
                   "type": "seven_day_deal", "startsAt": "2026-12-01T08:00:00Z",
                   "endsAt": "2026-12-15T08:00:00Z", "createdAt": "2026-11-05T15:00:00Z"}),
        );
        deliver(store, created, now).await.unwrap();
        let p = store
            .get_promotion(&PromotionId::new(id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.state, state, "{id}");
    }
}

common::on_each_store!(
    #[tokio::test]
    every_detail_type_is_stored_embedded,
    every_detail_type_is_stored_through_the_lambda_handler_on_dynamodb,
    |store| every_detail_type_is_stored(store.as_ref()).await
);

/// What the convergence tests compare.
async fn snapshot(store: &dyn Store) -> String {
    let b = BrandId::new("B9");
    let o9 = OrderId::new("O9");
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        store
            .get_follower(&b, &CustomerId::new("k1"))
            .await
            .unwrap(),
        store
            .get_follower(&b, &CustomerId::new("k2"))
            .await
            .unwrap(),
        store.get_order(&OrderId::new("O9")).await.unwrap(),
        store.get_promotion(&PromotionId::new("P9")).await.unwrap(),
        // The due entries the order's events wrote converge too.
        store.get_message(&o9, "review_request").await.unwrap(),
        store.get_message(&o9, "return_received").await.unwrap(),
    )
}

/// A scenario whose events arrive in any order, with repeats.
fn scenario() -> Vec<Value> {
    let follow = |id: &str, c: &str, relay: &str, at: &str| {
        envelope(
            id,
            "Brand Followed",
            at,
            json!({"brandId": "B9", "customerId": c, "relayEmail": relay, "locale": "fr-CA", "followedAt": at}),
        )
    };
    vec![
        // k1 follows, unfollows, follows again with a new relay address.
        follow(
            "f1",
            "k1",
            "k1-old@relay.marketplace.example",
            "2026-10-01T00:00:00Z",
        ),
        envelope(
            "u1",
            "Brand Unfollowed",
            "2026-10-05T00:00:00Z",
            json!({"brandId": "B9", "customerId": "k1"}),
        ),
        follow(
            "f2",
            "k1",
            "k1-new@relay.marketplace.example",
            "2026-10-10T00:00:00Z",
        ),
        // k2 follows then unfollows for good.
        follow(
            "f3",
            "k2",
            "k2@relay.marketplace.example",
            "2026-10-02T00:00:00Z",
        ),
        envelope(
            "u2",
            "Brand Unfollowed",
            "2026-10-03T00:00:00Z",
            json!({"brandId": "B9", "customerId": "k2"}),
        ),
        // An order's whole life.
        envelope(
            "o1",
            "Order Placed",
            "2026-11-01T00:00:00Z",
            json!({
            "orderId": "O9", "sellerId": "S9", "brandId": "B9", "asin": "B0X", "customerId": "k1",
            "relayEmail": "k1@relay.marketplace.example", "locale": "en-US", "purchasedAt": "2026-11-01T00:00:00Z"}),
        ),
        envelope(
            "o2",
            "Order Shipped",
            "2026-11-02T00:00:00Z",
            json!({
            "orderId": "O9", "shippedAt": "2026-11-02T00:00:00Z", "carrier": "UPS", "trackingId": "T1"}),
        ),
        envelope(
            "o3",
            "Order Delivered",
            "2026-11-04T00:00:00Z",
            json!({"orderId": "O9", "deliveredAt": "2026-11-04T00:00:00Z"}),
        ),
        envelope(
            "o4",
            "Return Received",
            "2026-11-09T00:00:00Z",
            json!({
            "orderId": "O9", "receivedAt": "2026-11-09T00:00:00Z", "refundAmount": "10.00", "currency": "CAD"}),
        ),
        // A promotion created, updated, cancelled.
        envelope(
            "p1",
            "Promotion Created",
            "2026-11-01T00:00:00Z",
            json!({
            "promotionId": "P9", "brandId": "B9", "asin": "B0X", "type": "coupon",
            "startsAt": "2026-12-01T08:00:00Z", "endsAt": "2026-12-10T08:00:00Z", "createdAt": "2026-11-01T00:00:00Z"}),
        ),
        envelope(
            "p2",
            "Promotion Updated",
            "2026-11-03T00:00:00Z",
            json!({
            "promotionId": "P9", "brandId": "B9", "asin": "B0X", "type": "coupon",
            "startsAt": "2026-12-01T08:00:00Z", "endsAt": "2026-12-20T08:00:00Z", "createdAt": "2026-11-01T00:00:00Z"}),
        ),
        envelope(
            "p3",
            "Promotion Canceled",
            "2026-11-05T00:00:00Z",
            json!({"promotionId": "P9", "brandId": "B9"}),
        ),
    ]
}

async fn apply_all(store: &dyn Store, events: &[Value]) {
    for e in events {
        events::handle(store, e.clone(), t(NOW)).await.unwrap();
    }
}

/// Simple deterministic shuffles (no rand dependency): rotations, reversal, interleavings.
fn orders_of(n: usize) -> Vec<Vec<usize>> {
    let mut out = vec![(0..n).rev().collect::<Vec<_>>()];
    for step in [2, 3, 5, 7] {
        for start in 0..n.min(4) {
            let mut v: Vec<usize> = (0..n).map(|i| (start + i * step) % n).collect();
            v.dedup();
            let mut seen = std::collections::HashSet::new();
            v.retain(|x| seen.insert(*x));
            for i in 0..n {
                if seen.insert(i) {
                    v.push(i);
                }
            }
            out.push(v);
        }
    }
    out
}

#[tokio::test]
async fn repeats_and_out_of_order_converge_embedded() {
    let events = scenario();
    let reference = EmbeddedStore::open_in_memory().unwrap();
    apply_all(&reference, &events).await;
    let expected = snapshot(&reference).await;
    // The in-order state is the one a reader expects.
    let k1 = reference
        .get_follower(&BrandId::new("B9"), &CustomerId::new("k1"))
        .await
        .unwrap()
        .unwrap();
    assert!(k1.reachable());
    assert_eq!(k1.relay_email, "k1-new@relay.marketplace.example");
    let k2 = reference
        .get_follower(&BrandId::new("B9"), &CustomerId::new("k2"))
        .await
        .unwrap()
        .unwrap();
    assert!(k2.unfollowed);
    assert_eq!(
        k2.relay_email, "k2@relay.marketplace.example",
        "kept after unfollow"
    );
    let p = reference
        .get_promotion(&PromotionId::new("P9"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.state, PromotionState::Canceled);
    assert_eq!(p.ends_at, t("2026-12-20T08:00:00Z"));

    for order in orders_of(events.len()) {
        let store = EmbeddedStore::open_in_memory().unwrap();
        let shuffled: Vec<Value> = order.iter().map(|&i| events[i].clone()).collect();
        apply_all(&store, &shuffled).await;
        apply_all(&store, &shuffled).await; // every event repeated
        assert_eq!(snapshot(&store).await, expected, "order {order:?}");
    }
}

#[tokio::test]
async fn repeats_and_out_of_order_converge_on_dynamodb() {
    let events = scenario();
    let (reference, _) = common::dynamo().await;
    apply_all(reference.as_ref(), &events).await;
    let expected = snapshot(reference.as_ref()).await;
    let embedded = EmbeddedStore::open_in_memory().unwrap();
    apply_all(&embedded, &events).await;
    assert_eq!(expected, snapshot(&embedded).await, "both adapters agree");

    let (store, _) = common::dynamo().await;
    let reversed: Vec<Value> = events.iter().rev().cloned().collect();
    apply_all(store.as_ref(), &reversed).await;
    apply_all(store.as_ref(), &events).await;
    assert_eq!(snapshot(store.as_ref()).await, expected);
}

#[tokio::test]
async fn concurrent_parts_of_one_order_all_land_on_dynamodb() {
    let (store, _) = common::dynamo().await;
    let events: Vec<Value> = scenario()
        .into_iter()
        .filter(|e| e["detail"]["orderId"] == "O9")
        .collect();
    let tasks: Vec<_> = events
        .into_iter()
        .map(|e| {
            let store = store.clone();
            tokio::spawn(async move { events::handle(store.as_ref(), e, t(NOW)).await.unwrap() })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().written());
    }
    let order = store.get_order(&OrderId::new("O9")).await.unwrap().unwrap();
    assert!(
        order.fulfilment.shipped_at.is_some()
            && order.fulfilment.delivered_at.is_some()
            && order.fulfilment.return_received.is_some()
    );
}

#[tokio::test]
async fn malformed_and_unknown_events_are_clear_non_retryable_errors() {
    let (store, _dir) = common::embedded();
    let store = store.as_ref();
    let now = t(NOW);
    let good = fixture("brand-followed.json");

    let mut unknown = good.clone();
    unknown["detail-type"] = json!("Brand Renamed");
    let mut wrong_source = good.clone();
    wrong_source["source"] = json!("aws.events");
    let mut missing = good.clone();
    missing["detail"]
        .as_object_mut()
        .unwrap()
        .remove("followedAt");
    let mut bad_rating = fixture("review-posted.json");
    bad_rating["detail"]["rating"] = json!(7);
    let mut bad_instant = fixture("order-delivered.json");
    bad_instant["detail"]["deliveredAt"] = json!("yesterday");
    let not_envelope = json!({"hello": "world"});

    type Case = (Value, fn(&EventError) -> bool, &'static str);
    let cases: Vec<Case> = vec![
        (
            unknown,
            |e| matches!(e, EventError::UnknownType { .. }),
            "unknown detail-type \"Brand Renamed\"",
        ),
        (
            wrong_source,
            |e| matches!(e, EventError::WrongSource { .. }),
            "source \"aws.events\" is not \"marketplace\"",
        ),
        (
            missing,
            |e| matches!(e, EventError::MalformedDetail { .. }),
            "missing field `followedAt`",
        ),
        (
            bad_rating,
            |e| matches!(e, EventError::Invalid { .. }),
            "rating 7 is not 1 to 5",
        ),
        (
            bad_instant,
            |e| matches!(e, EventError::MalformedDetail { .. }),
            "malformed Order Delivered detail",
        ),
        (
            not_envelope,
            |e| matches!(e, EventError::Envelope { .. }),
            "not an eventbridge envelope",
        ),
    ];
    for (payload, kind, text) in cases {
        let err = parse(payload.clone()).unwrap_err();
        let message = events::error_chain(&err);
        assert!(kind(&err), "{message}");
        assert!(
            message.contains(text),
            "{message:?} should contain {text:?}"
        );
        assert!(!err.is_retryable());
        if !matches!(err, EventError::Envelope { .. }) {
            assert!(
                err.event_id().starts_with("fx-"),
                "{message}: names the event"
            );
            assert!(message.contains(err.event_id()));
        }
        // The Lambda path acknowledges it (no infinite retry) and says why.
        match deliver(store, payload, now).await.unwrap() {
            Delivery::Rejected { reason, .. } => assert!(reason.contains(text), "{reason}"),
            other => panic!("accepted: {other:?}"),
        }
    }
    // Nothing was stored by the rejected events.
    assert_eq!(
        store
            .get_follower(&BrandId::new("B1"), &CustomerId::new("c001"))
            .await
            .unwrap(),
        None
    );
    // A transient store failure is retryable and keeps its source.
    let transient = EventError::Store {
        id: "e1".into(),
        source: StoreError::Transient {
            op: "merge",
            source: "throttled".into(),
        },
    };
    assert!(transient.is_retryable());
    assert!(events::error_chain(&transient).contains("throttled"));
    let permanent = EventError::Store {
        id: "e1".into(),
        source: StoreError::Permanent {
            op: "merge",
            source: "no such table".into(),
        },
    };
    assert!(!permanent.is_retryable());
}

#[test]
fn every_detail_type_parses_into_its_variant() {
    for (name, payload) in eventbridge_fixtures() {
        let e = parse(payload).unwrap();
        assert!(
            events::DETAIL_TYPES.contains(&e.detail_type.as_str()),
            "{name}"
        );
        let ok = matches!(
            (e.detail_type.as_str(), &e.event),
            ("Brand Registered", MarketplaceEvent::BrandRegistered(_))
                | ("Brand Followed", MarketplaceEvent::BrandFollowed(_))
                | ("Brand Unfollowed", MarketplaceEvent::BrandUnfollowed(_))
                | ("Promotion Created", MarketplaceEvent::PromotionCreated(_))
                | ("Promotion Updated", MarketplaceEvent::PromotionUpdated(_))
                | ("Promotion Canceled", MarketplaceEvent::PromotionCanceled(_))
                | ("Promotion Rejected", MarketplaceEvent::PromotionRejected(_))
                | ("Order Placed", MarketplaceEvent::OrderPlaced(_))
                | ("Review Posted", MarketplaceEvent::ReviewPosted(_))
                | ("Order Shipped", MarketplaceEvent::OrderShipped(_))
                | ("Order Delivered", MarketplaceEvent::OrderDelivered(_))
                | ("Return Received", MarketplaceEvent::ReturnReceived(_))
        );
        assert!(ok, "{name}: {:?}", e.event);
    }
}

#[tokio::test]
async fn promotion_end_reports_the_suspension_hook_every_time() {
    let store = EmbeddedStore::open_in_memory().unwrap();
    let payload = fixture("promotion-canceled.json");
    for written in [true, false] {
        let applied = events::handle(&store, payload.clone(), t(NOW))
            .await
            .unwrap();
        assert_eq!(
            applied,
            Applied::PromotionEnded {
                promotion_id: PromotionId::new("P-DEAL-CANCELED"),
                brand_id: BrandId::new("B1"),
                state: PromotionState::Canceled,
                written,
            }
        );
    }
}

#[test]
fn input_is_one_envelope_an_array_or_ndjson() {
    let one = fixture("brand-registered.json");
    let two = fixture("brand-followed.json");
    let pretty = serde_json::to_string_pretty(&one).unwrap();
    assert_eq!(parse_input(&pretty).len(), 1);
    let array = serde_json::to_string_pretty(&json!([one, two])).unwrap();
    assert_eq!(parse_input(&array).len(), 2);
    let ndjson = format!("{one}\n\n{two}\n");
    let items = parse_input(&ndjson);
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(Result::is_ok));
    let broken = format!("{one}\n{{not json\n{two}\n");
    let items = parse_input(&broken);
    assert_eq!(items.len(), 3);
    assert!(items[0].is_ok() && items[2].is_ok());
    assert!(events::error_chain(items[1].as_ref().unwrap_err()).starts_with("line 2: not json"));
}

fn engage_event(data: &Path, input: &str, stdin: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_engage"));
    cmd.args(["event", "--data"])
        .arg(data)
        .args(["--now", NOW, input])
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn sample_state(data: &Path) -> String {
    let store = EmbeddedStore::open(data).unwrap();
    let mut out = String::new();
    for brand in ["B1", "B2"] {
        let b = BrandId::new(brand);
        out += &format!("{:?}\n", store.get_brand(&b).await.unwrap());
        let mut followers = store.list_followers(&b, None, 1000).await.unwrap().items;
        followers.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
        out += &format!("{followers:?}\n");
        out += &format!("{:?}\n", store.list_promotions(&b, None).await.unwrap());
        let (from, to): (DateTime<Utc>, DateTime<Utc>) = (t("2020-01-01T00:00:00Z"), t(NOW));
        out += &format!("{:?}\n", store.list_orders(&b, from, to).await.unwrap());
        out += &format!("{:?}\n", store.list_reviews(&b, from, to).await.unwrap());
    }
    out
}

#[tokio::test]
async fn engage_event_applies_the_sample_and_a_rerun_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sample = fixtures_dir().join("sample-events.ndjson");
    let lines = std::fs::read_to_string(&sample).unwrap().lines().count();
    let (ok, out) = engage_event(&data, sample.to_str().unwrap(), None);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!(
            "{lines} events: {lines} applied, 0 stale (already applied or older), 0 failed"
        )),
        "{out}"
    );
    let first = sample_state(&data).await;

    let (ok, out) = engage_event(&data, sample.to_str().unwrap(), None);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("{lines} events: 0 applied, {lines} stale")),
        "{out}"
    );
    assert_eq!(
        sample_state(&data).await,
        first,
        "a rerun leaves the same state"
    );

    // What the sample holds (tests/fixtures/README.md).
    let store = EmbeddedStore::open(&data).unwrap();
    let b1 = BrandId::new("B1");
    let followers = store.list_followers(&b1, None, 1000).await.unwrap().items;
    assert_eq!(followers.len(), 20);
    assert_eq!(followers.iter().filter(|f| f.reachable()).count(), 19);
    let promos = store
        .list_promotions(&b1, Some("B0ENGAGE01"))
        .await
        .unwrap();
    assert_eq!(promos.len(), 5);
    let reviews = store
        .list_reviews(&b1, t("2020-01-01T00:00:00Z"), t(NOW))
        .await
        .unwrap();
    assert!(reviews.iter().any(|r| r.rating <= 3 && r.verified_purchase));
    assert!(reviews.iter().any(|r| !r.verified_purchase));
    let o1009 = store
        .get_order(&OrderId::new("O-1009"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        o1009.fulfilment.delivered_at.is_some(),
        "delivered before placed, in the file"
    );
}

#[test]
fn engage_event_reads_stdin_and_fails_on_a_bad_event() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let good = fixture("brand-registered.json");
    let mut bad = fixture("brand-followed.json");
    bad["detail-type"] = json!("Brand Renamed");
    let input = serde_json::to_string(&json!([good, bad])).unwrap();
    let (ok, out) = engage_event(&data, "-", Some(&input));
    assert!(!ok, "a failed event fails the command: {out}");
    assert!(out.contains("applied fx-brand-registered"), "{out}");
    assert!(
        out.contains(
            "error   event fx-brand-followed-0b8c-4a1f-9d7e: unknown detail-type \"Brand Renamed\""
        ),
        "{out}"
    );
    assert!(
        out.contains("2 events: 1 applied, 0 stale (already applied or older), 1 failed"),
        "{out}"
    );
}

/// An order event that triggers a step of the sequences policy in force writes that
/// message's due entry (review_request 7 days after delivery, return_received at
/// once); repeats and out-of-order reports give the same entry (the newest report
/// wins, as in the order), Delivered before Placed included; an event whose window
/// already closed writes nothing.
async fn order_events_write_due_entries(store: &dyn Store) {
    use engage::store::MessageStatus;
    let placed = envelope(
        "d1",
        "Order Placed",
        "2026-11-01T00:00:00Z",
        json!({"orderId": "O-D", "sellerId": "S1", "brandId": "B1", "asin": "B0X",
               "customerId": "c1", "relayEmail": "c1@relay.example", "locale": "en-US",
               "purchasedAt": "2026-11-01T00:00:00Z"}),
    );
    let delivered = |id: &str, at: &str| {
        envelope(
            id,
            "Order Delivered",
            at,
            json!({"orderId": "O-D", "deliveredAt": at}),
        )
    };
    let returned = envelope(
        "d4",
        "Return Received",
        "2026-11-20T09:00:00Z",
        json!({"orderId": "O-D", "receivedAt": "2026-11-20T09:00:00Z", "refundAmount": "5.00",
               "currency": "USD"}),
    );
    let now = t(NOW);
    let get =
        |m: &'static str| async move { store.get_message(&OrderId::new("O-D"), m).await.unwrap() };
    // Delivered (twice, the later report first) before Placed, all repeated.
    for e in [
        delivered("d3", "2026-11-05T10:00:00Z"),
        delivered("d2", "2026-11-04T10:00:00Z"),
        placed.clone(),
        delivered("d3", "2026-11-05T10:00:00Z"),
        delivered("d2", "2026-11-04T10:00:00Z"),
    ] {
        events::handle(store, e, now).await.unwrap();
    }
    let review = get("review_request").await.unwrap();
    assert_eq!(review.status, MessageStatus::Due);
    assert_eq!(
        review.due_at,
        Some(t("2026-11-12T10:00:00Z")),
        "the newest delivery + 7 days"
    );
    assert_eq!(review.message_id, "msg-O-D-review_request");
    assert_eq!(get("return_received").await, None);
    events::handle(store, returned.clone(), now).await.unwrap();
    events::handle(store, returned, now).await.unwrap();
    let ret = get("return_received").await.unwrap();
    assert_eq!(ret.due_at, Some(t("2026-11-20T09:00:00Z")), "due at once");
    // The disabled steps of the shipped policy wrote nothing.
    assert_eq!(get("order_problem").await, None);

    // A delivery reported after its window closed (a replay): the order is stored,
    // no due entry is written.
    let old = envelope(
        "old",
        "Order Delivered",
        "2026-09-01T00:00:00Z",
        json!({"orderId": "O-OLD", "deliveredAt": "2026-09-01T00:00:00Z"}),
    );
    events::handle(store, old, now).await.unwrap();
    assert_eq!(
        store
            .get_message(&OrderId::new("O-OLD"), "review_request")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn instants_outside_2000_to_2100_are_refused_naming_the_field() {
    let (store, _dir) = common::embedded();
    let mut late = fixture("order-delivered.json");
    late["detail"]["deliveredAt"] = json!("2150-01-01T00:00:00Z");
    let mut early = fixture("promotion-created.json");
    early["detail"]["createdAt"] = json!("1999-12-31T23:59:59Z");
    let mut envelope_time = fixture("brand-registered.json");
    envelope_time["time"] = json!("+262142-12-31T00:00:00Z");
    for (payload, field) in [
        (late, "deliveredAt"),
        (early, "createdAt"),
        (envelope_time, "time"),
    ] {
        let err = parse(payload.clone()).unwrap_err();
        let message = events::error_chain(&err);
        assert!(matches!(err, EventError::Invalid { .. }), "{message}");
        assert!(message.contains(field), "{message}");
        assert!(message.contains("2000 to 2100"), "{message}");
        assert!(!err.is_retryable());
        match deliver(store.as_ref(), payload, t(NOW)).await.unwrap() {
            Delivery::Rejected { reason, .. } => assert!(reason.contains(field), "{reason}"),
            other => panic!("accepted: {other:?}"),
        }
    }

    // `engage event` refuses it with the same clear error and fails.
    let dir = tempfile::tempdir().unwrap();
    let mut late = fixture("order-delivered.json");
    late["detail"]["deliveredAt"] = json!("2150-01-01T00:00:00Z");
    let (ok, out) = engage_event(
        &dir.path().join("data"),
        "-",
        Some(&serde_json::to_string(&late).unwrap()),
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("deliveredAt must fall in the years 2000 to 2100"),
        "{out}"
    );
}

#[tokio::test]
async fn order_events_write_due_entries_embedded() {
    let store = EmbeddedStore::open_in_memory().unwrap();
    order_events_write_due_entries(&store).await;
}

#[tokio::test]
async fn order_events_write_due_entries_on_dynamodb() {
    let (store, _) = common::dynamo().await;
    order_events_write_due_entries(store.as_ref()).await;
}

#[tokio::test]
async fn a_refund_amount_is_a_decimal_string_or_a_json_number_kept_exact() {
    let (store, _dir) = common::embedded();
    let now = t(NOW);
    for (amount, stored) in [
        (json!("24.99"), "24.99"),
        (json!(24.99), "24.99"),
        (json!(0.1), "0.1"),
        (json!(1234567890123.45), "1234567890123.45"),
        (json!(10), "10"),
    ] {
        let mut ev = fixture("return-received.json");
        ev["detail"]["refundAmount"] = amount.clone();
        let parsed = parse(ev.clone()).unwrap_or_else(|e| panic!("{amount}: {e}"));
        let MarketplaceEvent::ReturnReceived(r) = &parsed.event else {
            panic!("{parsed:?}")
        };
        assert_eq!(r.received.refund_amount, stored, "{amount}");
        // `engage event` reads it from text, not from a built value.
        let text = serde_json::to_string(&ev).unwrap();
        let from_text = parse(parse_input(&text).remove(0).unwrap()).unwrap();
        assert_eq!(from_text, parsed);
        assert!(events::apply(store.as_ref(), &parsed, now).await.is_ok());
    }
    // More digits than a JSON number holds exactly: refused, not rounded.
    let mut ev = fixture("return-received.json");
    ev["detail"]["refundAmount"] = json!(0.1234567890123456);
    let err = parse(ev).unwrap_err();
    assert!(
        events::error_chain(&err).contains("send it as a string"),
        "{err}"
    );
}
