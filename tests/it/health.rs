//! Seller health (issue 7; R-MSG-7, R-MSG-8, R-MAIL-3): `GET /v1/brands/{brandId}/health`
//! on sample data, every figure checked against a hand computation.

use crate::common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use engage::api::{AppState, router};
use engage::app::App;
use engage::app::health::{self, Level};
use engage::auth::{Role, TokenKeys, new_claims};
use engage::domain::contact::{Contact, ContactReason};
use engage::domain::review::Review;
use engage::domain::{BrandId, ContactId, CustomerId, OrderId, ReviewId};
use engage::store::{Entity, FeedbackKind, Store};
use serde_json::Value;

use crate::common::{rep, t};

const NOW: &str = "2026-12-01T12:00:00Z";

async fn brand(s: &Arc<dyn Store>, id: &str) {
    common::brand(&**s, id, &format!("Brand {id}")).await;
}

async fn order(s: &Arc<dyn Store>, brand: &str, id: &str, at: DateTime<Utc>) {
    // Placed, nothing after: the parts not given are absent.
    let order = serde_json::json!({"orderId": id, "sellerId": "S1", "brandId": brand,
        "asin": "B0ENGAGE01", "customerId": format!("cu-{id}"),
        "relayEmail": format!("cu-{id}@relay.example"), "locale": "en-US",
        "purchasedAt": at, "updatedAt": at});
    s.upsert(&Entity::Order(serde_json::from_value(order).unwrap()))
        .await
        .unwrap();
}

async fn review(s: &Arc<dyn Store>, brand: &str, id: &str, rating: u8, at: DateTime<Utc>) {
    s.upsert(&Entity::Review(Review {
        review_id: ReviewId::new(id),
        brand_id: BrandId::new(brand),
        asin: "B0ENGAGE01".into(),
        order_id: OrderId::new(format!("o-{id}")),
        customer_id: CustomerId::new(format!("cu-{id}")),
        rating,
        title: "t".into(),
        body: "b".into(),
        verified_purchase: true,
        posted_at: at,
        updated_at: at,
    }))
    .await
    .unwrap();
}

fn now() -> DateTime<Utc> {
    t(NOW)
}

fn app(s: &Arc<dyn Store>) -> App {
    common::app(Arc::clone(s), now())
}

/// The sample of brand B1 (now = 2026-12-01T12:00Z):
/// - orders: 40 placed in the last 30 days (one every 17 hours from now-29d to now-33h), 60 placed
///   31 to 89 days ago, 5 placed 100 days ago (outside every period);
/// - reviews: R-fresh 2 stars 10 hours ago; R-good 5 stars 5 days ago; R-contacted
///   3 stars 40 days ago (answered by a contact); R-old1 1 star 50 days ago; R-fine
///   4 stars 60 days ago; R-old2 2 stars 80 days ago; R-ancient 1 star 100 days ago;
/// - SES feedback: 1000 deliveries, 2 complaints (0.2%, counted from the send
///   policy's minimum volume of 1000 deliveries).
async fn sample(s: &Arc<dyn Store>) {
    brand(s, "B1").await;
    brand(s, "B2").await;
    let n = now();
    for i in 0..40 {
        order(
            s,
            "B1",
            &format!("o30-{i}"),
            n - Duration::days(29) + Duration::hours(17 * i),
        )
        .await;
    }
    for i in 0..60 {
        order(
            s,
            "B1",
            &format!("o90-{i}"),
            n - Duration::days(31) - Duration::hours(23 * i),
        )
        .await;
    }
    for i in 0..5 {
        order(s, "B1", &format!("o-old-{i}"), n - Duration::days(100)).await;
    }
    // Another brand's negative reviews never count for B1.
    order(s, "B2", "o-b2", n - Duration::days(1)).await;
    review(s, "B2", "R-b2", 1, n - Duration::days(2)).await;

    review(s, "B1", "R-fresh", 2, n - Duration::hours(10)).await;
    review(s, "B1", "R-good", 5, n - Duration::days(5)).await;
    review(s, "B1", "R-contacted", 3, n - Duration::days(40)).await;
    review(s, "B1", "R-old1", 1, n - Duration::days(50)).await;
    review(s, "B1", "R-fine", 4, n - Duration::days(60)).await;
    review(s, "B1", "R-old2", 2, n - Duration::days(80)).await;
    review(s, "B1", "R-ancient", 1, n - Duration::days(100)).await;
    s.put_contact(&Contact {
        id: ContactId::new("ct-1"),
        review_id: ReviewId::new("R-contacted"),
        brand_id: BrandId::new("B1"),
        customer_id: CustomerId::new("cu-R-contacted"),
        order_id: OrderId::new("o-R-contacted"),
        reason: ContactReason::CustomerSupport,
        sent_at: n - Duration::days(39),
        policy: "contact@2026-11-01".into(),
    })
    .await
    .unwrap();
    feedback(s, "B1", 1000, 2).await;
}

/// `delivered` deliveries and `complained` complaints of a brand's emails.
async fn feedback(s: &Arc<dyn Store>, brand: &str, delivered: usize, complained: usize) {
    let b = BrandId::new(brand);
    let n = now();
    for i in 0..delivered {
        s.count_feedback(&b, &format!("{brand}-d-{i}"), FeedbackKind::Delivered, n)
            .await
            .unwrap();
    }
    for i in 0..complained {
        s.count_feedback(&b, &format!("{brand}-c-{i}"), FeedbackKind::Complained, n)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_figures_match_the_hand_computation() {
    let (s, _d) = common::embedded();
    sample(&s).await;
    let h = health::health(&app(&s), &rep(&["B1"]), "B1").await.unwrap();

    // 30 days: negative (1-3 stars) reviews posted since 2026-11-01T12:00Z: R-fresh only
    // (R-good has 5 stars) = 1; orders placed since then: 40. 1 / 40 = 0.025.
    assert_eq!((h.counts.negative30, h.counts.orders30), (1, 40));
    assert!(
        (h.negative_review_rate.days30 - 0.025).abs() < 1e-12,
        "{h:?}"
    );
    // 0.02 <= 0.025 <= 0.05: watch (R-MSG-8.watch, a warning).
    assert_eq!(h.negative_review_rate.level, Level::Watch);
    // 90 days: R-fresh, R-contacted, R-old1, R-old2 = 4 (R-ancient is 100 days old);
    // orders: 40 + 60 = 100 (the 5 orders 100 days old are outside). 4 / 100 = 0.04.
    assert_eq!((h.counts.negative90, h.counts.orders90), (4, 100));
    assert!(
        (h.negative_review_rate.days90 - 0.04).abs() < 1e-12,
        "{h:?}"
    );
    // Unanswered after 24 hours: R-fresh is 10 hours old (not yet late), R-contacted
    // has a contact; R-old2 (80 days = 1920 hours) and R-old1 (50 days = 1200 hours).
    let unanswered: Vec<(&str, i64)> = h
        .unanswered_negative_reviews
        .iter()
        .map(|u| (u.review_id.as_str(), u.hours_waiting))
        .collect();
    assert_eq!(unanswered, vec![("R-old2", 1920), ("R-old1", 1200)]);
    // Complaints: 2 / 1000 = 0.002: over the send policy's 0.001 target, under its
    // 0.003 limit, from its 1000 deliveries.
    assert!((h.complaint_rate - 0.002).abs() < 1e-12);
    assert_eq!(h.policy, "health@2026-11-01");
    let rules =
        |v: &[engage::policy::Violation]| v.iter().map(|v| v.rule.clone()).collect::<Vec<_>>();
    assert_eq!(
        rules(&h.warnings),
        vec!["R-MSG-8.watch", "R-MAIL-3.complaint_target"]
    );
    assert_eq!(rules(&h.violations), vec!["R-MSG-7.unanswered"]);
    // The complaint warning is the send policy's rule (one source with the
    // suspension), the other rules the health policy's.
    let policies: Vec<&str> = h.warnings.iter().map(|v| v.policy.as_str()).collect();
    assert_eq!(policies, vec!["health@2026-11-01", "send@2026-11-01"]);
}

/// Issue 12: the complaint rate's warning and limit are the send policy's
/// brand-level rules, minimum volume included: 1 complaint in 500 deliveries
/// (0.2%) warns of nothing yet (one complaint in a few hundred emails is noise,
/// the send policy's `complaint_min_deliveries`); 3 in 1000 (0.3%) is the limit:
/// a violation, the one that suspends the brand's campaigns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_complaint_rate_follows_the_send_policy() {
    let (s, _d) = common::embedded();
    brand(&s, "B1").await;
    feedback(&s, "B1", 500, 1).await;
    let app = app(&s);
    let h = health::health(&app, &rep(&["B1"]), "B1").await.unwrap();
    assert!((h.complaint_rate - 0.002).abs() < 1e-12);
    assert!(h.warnings.is_empty() && h.violations.is_empty(), "{h:?}");

    brand(&s, "B2").await;
    feedback(&s, "B2", 1000, 3).await;
    let h = health::health(&app, &rep(&["B2"]), "B2").await.unwrap();
    let fired: Vec<(&str, &str)> = h
        .violations
        .iter()
        .map(|v| (v.rule.as_str(), v.policy.as_str()))
        .collect();
    assert_eq!(fired, vec![("R-MAIL-3.complaint_limit", "send@2026-11-01")]);
    assert!(h.warnings.is_empty(), "{h:?}");
}

#[tokio::test]
async fn the_level_follows_the_policy_thresholds() {
    // 100 orders in the last 30 days; negative reviews added one by one:
    // 1/100 = 0.01 ok; 2/100 = 0.02 watch (the lower bound is watch); 5/100 = 0.05
    // watch (the upper bound is still watch); 6/100 = 0.06 act.
    let (s, _d) = common::embedded();
    brand(&s, "B1").await;
    let n = now();
    for i in 0..100 {
        order(
            &s,
            "B1",
            &format!("o-{i}"),
            n - Duration::days(1) - Duration::minutes(i),
        )
        .await;
    }
    let app = app(&s);
    let mut levels = Vec::new();
    for i in 1..=6 {
        review(&s, "B1", &format!("r-{i}"), 1, n - Duration::hours(2)).await;
        let h = health::health(&app, &rep(&["B1"]), "B1").await.unwrap();
        levels.push((i, h.negative_review_rate.level));
    }
    use Level::*;
    assert_eq!(
        levels,
        vec![
            (1, Ok),
            (2, Watch),
            (3, Watch),
            (4, Watch),
            (5, Watch),
            (6, Act)
        ]
    );
    // No orders and no reviews: 0, ok; the complaint rate is 0 before any delivery.
    brand(&s, "B3").await;
    let h = health::health(&app, &rep(&["B3"]), "B3").await.unwrap();
    assert_eq!(
        (
            h.negative_review_rate.days30,
            h.negative_review_rate.level,
            h.complaint_rate
        ),
        (0.0, Ok, 0.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_route_answers_brand_representatives_of_the_brand_only() {
    let (s, _d) = common::embedded();
    sample(&s).await;
    let keys = Arc::new(TokenKeys::from_secret(b"health-test-secret"));
    let state = AppState {
        keys: Arc::clone(&keys),
        app: app(&s),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state, 65536)).await });
    let token = |brands: &[&str], role: Role| {
        let claims = new_claims(
            "u1",
            "S1",
            brands.iter().map(|b| (*b).to_owned()).collect(),
            vec![role],
            Duration::hours(1),
        );
        keys.sign(&claims).unwrap()
    };
    let client = reqwest::Client::new();
    let get = |path: &str, brands: &[&str], role: Role| {
        let req = client
            .get(format!("http://{addr}{path}"))
            .header("authorization", format!("Bearer {}", token(brands, role)));
        async move { req.send().await.unwrap() }
    };
    let r = get("/v1/brands/B1/health", &["B1"], Role::BrandRepresentative).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["policy"], "health@2026-11-01");
    assert_eq!(body["negativeReviewRate"]["days30"], 0.025);
    assert_eq!(body["negativeReviewRate"]["days90"], 0.04);
    assert_eq!(body["negativeReviewRate"]["level"], "watch");
    assert_eq!(body["complaintRate"], 0.002);
    assert_eq!(body["unansweredNegativeReviews"][0]["reviewId"], "R-old2");
    // Another brand: 404 (never a 403 that would confirm it exists).
    let r = get("/v1/brands/B2/health", &["B1"], Role::BrandRepresentative).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // Without the role: 403.
    let r = get("/v1/brands/B1/health", &["B1"], Role::Moderator).await;
    assert_eq!(r.status(), 403);
}

/// Black box through `engage serve` (issue 12): "the last 30 days" are 30
/// marketplace dates. At 10:00 PST on 2026-11-20 the period starts at 10:00 PDT on
/// 2026-10-21 (17:00 UTC; 30 x 24 hours would start at 18:00 UTC), so an order
/// and a 1-star review at 17:30 UTC that day count; one at 16:30 UTC does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_periods_count_marketplace_dates_through_engage_serve() {
    let dir = tempfile::tempdir().unwrap();
    let (data, outbox) = (dir.path().join("data"), dir.path().join("outbox"));
    {
        let s: Arc<dyn Store> = Arc::new(engage::store::EmbeddedStore::open(&data).unwrap());
        brand(&s, "B1").await;
        order(&s, "B1", "o-in", t("2026-10-21T17:30:00Z")).await;
        review(&s, "B1", "r-in", 1, t("2026-10-21T17:30:00Z")).await;
        order(&s, "B1", "o-out", t("2026-10-21T16:30:00Z")).await;
        review(&s, "B1", "r-out", 1, t("2026-10-21T16:30:00Z")).await;
    }
    let server = crate::server::Server::start_in(
        &data,
        &outbox,
        &["--now", "2026-11-20T18:00:00Z", "--tick", "0"],
    );
    let token = crate::server::token("S1", &["B1"], &["brand_representative"]);
    let body = server.get_json("/v1/brands/B1/health", &token).await;
    assert_eq!(body["counts"]["orders30"], 1, "{body}");
    assert_eq!(body["counts"]["negative30"], 1, "{body}");
    assert_eq!(body["negativeReviewRate"]["days30"], 1.0, "{body}");
    assert_eq!(body["counts"]["orders90"], 2, "{body}");
}
