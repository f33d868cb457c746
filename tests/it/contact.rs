//! Contact Customer (issue 5): `GET /v1/reviews` and `POST /v1/reviews/{id}/contact`
//! through the real `engage serve` (seeded with `engage event` and the shipped sample
//! events), and the use case over DynamoDB (moto) with a mailer that counts.
//!
//! Every eligibility rule (eligible and not), every filter, every status code, tenant
//! isolation, one contact per review under concurrency (embedded and moto), the
//! `Courtesy Refund Requested` event, crash recovery, and the content policy over every
//! shipped contact template.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::fired;
use crate::server::{Server, engage_bin, token};
use async_trait::async_trait;
use engage::app::contact::{self, ContactInput, Delivery};
use engage::app::{App, AppError};
use engage::auth::{Caller, Role};
use engage::bus::{BusError, Event, EventPublisher};
use engage::clock::FixedClock;
use engage::domain::ReviewId;
use engage::mail::{MailError, Mailer, OutgoingEmail, SentMessage};
use engage::policy::PolicySet;
use engage::store::{Entity, Store};
use serde_json::{Value, json};

const NOW: &str = "2026-11-26T12:00:00Z";
const POLICY: &str = "contact@2026-11-01";

fn envelope(id: &str, kind: &str, time: &str, detail: Value) -> String {
    json!({"version": "0", "id": id, "detail-type": kind, "source": "marketplace",
        "account": "123456789012", "time": time, "region": "us-east-1", "resources": [], "detail": detail})
    .to_string()
}

fn order_placed(
    id: &str,
    seller: &str,
    brand: &str,
    customer: &str,
    locale: &str,
    at: &str,
) -> String {
    envelope(
        &format!("x-{id}"),
        "Order Placed",
        at,
        json!({"orderId": id, "sellerId": seller, "brandId": brand,
        "asin": "B0ENGAGE01", "customerId": customer, "relayEmail": format!("{customer}@relay.marketplace.example"),
        "locale": locale, "purchasedAt": at}),
    )
}

fn review_posted(
    id: &str,
    brand: &str,
    order: &str,
    customer: &str,
    rating: u8,
    verified: bool,
    at: &str,
) -> String {
    envelope(
        &format!("x-{id}"),
        "Review Posted",
        at,
        json!({"reviewId": id, "brandId": brand, "asin": "B0ENGAGE01",
        "orderId": order, "customerId": customer, "rating": rating, "title": "Not great", "body": "It broke.",
        "verifiedPurchase": verified, "postedAt": at}),
    )
}

/// Events beyond the shipped sample: one review per remaining eligibility rule.
fn extra_events() -> String {
    [
        // Eligible, en-US (O-1006), en-CA (O-1007), fr-CA (O-1008).
        review_posted(
            "R-1006",
            "B1",
            "O-1006",
            "c006",
            3,
            true,
            "2026-11-24T22:00:00Z",
        ),
        review_posted(
            "R-1007",
            "B1",
            "O-1007",
            "c007",
            2,
            true,
            "2026-11-25T10:00:00Z",
        ),
        review_posted(
            "R-1008",
            "B1",
            "O-1008",
            "c008",
            1,
            true,
            "2026-11-25T11:00:00Z",
        ),
        // Another seller sold the order: not the seller of record.
        order_placed(
            "O-9001",
            "S9",
            "B1",
            "c901",
            "en-US",
            "2026-11-01T10:00:00Z",
        ),
        review_posted(
            "R-9001",
            "B1",
            "O-9001",
            "c901",
            2,
            true,
            "2026-11-23T10:00:00Z",
        ),
        // No order behind the review.
        review_posted(
            "R-9002",
            "B1",
            "O-MISSING",
            "c902",
            1,
            true,
            "2026-11-23T11:00:00Z",
        ),
        // A brand that never registered.
        order_placed(
            "O-3001",
            "S1",
            "B3",
            "c301",
            "en-US",
            "2026-11-05T10:00:00Z",
        ),
        review_posted(
            "R-3001",
            "B3",
            "O-3001",
            "c301",
            2,
            true,
            "2026-11-22T10:00:00Z",
        ),
        // Issue 12: a review by someone other than the order's buyer (c702 on c701's order).
        order_placed(
            "O-7001",
            "S1",
            "B1",
            "c701",
            "en-US",
            "2026-11-03T10:00:00Z",
        ),
        review_posted(
            "R-7001",
            "B1",
            "O-7001",
            "c702",
            1,
            true,
            "2026-11-23T12:00:00Z",
        ),
        // Posted more than 365 days ago: outside the default period.
        review_posted(
            "R-OLD",
            "B1",
            "O-1000",
            "c011",
            1,
            true,
            "2025-10-25T10:00:00Z",
        ),
    ]
    .join("\n")
}

fn apply_events(data: &Path, file: &Path) {
    let out = std::process::Command::new(engage_bin())
        .args(["event", "--data"])
        .arg(data)
        .args(["--now", NOW])
        .arg(file)
        .output()
        .unwrap();
    crate::server::succeeded("engage event", &out);
}

struct Env {
    server: Server,
    outbox: PathBuf,
    /// S1, brand representative of B1 and B3.
    rep: String,
    /// S2, brand representative of B2.
    other: String,
    moderator: String,
}

async fn env() -> Env {
    env_with(&[]).await
}

/// The sample events and this area's extra events applied to `<dir>/data`, returned.
fn seed_world(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sample-events.ndjson");
    apply_events(&data, &sample);
    let extra = dir.join("extra.ndjson");
    std::fs::write(&extra, extra_events()).unwrap();
    apply_events(&data, &extra);
    data
}

/// The sample world served with `more` arguments after `--now`.
async fn env_with(more: &[&str]) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = seed_world(dir.path());
    let outbox = dir.path().join("outbox");
    let mut args = vec!["--now", NOW];
    args.extend_from_slice(more);
    let mut server = Server::start_in(&data, &outbox, &args);
    server.keep(dir);
    Env {
        server,
        outbox,
        rep: token("S1", &["B1", "B3"], &["brand_representative"]),
        other: token("S2", &["B2"], &["brand_representative"]),
        moderator: token("M1", &["B1"], &["moderator"]),
    }
}

impl Env {
    async fn get(&self, path: &str, tok: &str) -> (u16, Value) {
        let (s, _, b) = self
            .server
            .send(reqwest::Method::GET, path, Some(tok), None)
            .await;
        (s, b)
    }
    /// The ids a listing answers (200) with, sorted.
    async fn ids(&self, path: &str, tok: &str) -> Vec<String> {
        let (status, list) = self.get(path, tok).await;
        assert_eq!(status, 200, "{path}: {list}");
        ids(&list)
    }
    /// The problem of a contact the policy refuses (422, problem+json).
    async fn refused(&self, review: &str, tok: &str, reason: &str) -> Value {
        let (status, ct, p) = self.contact(review, tok, reason).await;
        assert_eq!(status, 422, "{review} ({reason}): {p}");
        assert_eq!(ct, "application/problem+json", "{review}");
        p
    }
    async fn contact(&self, review: &str, tok: &str, reason: &str) -> (u16, String, Value) {
        let body = json!({"reason": reason}).to_string();
        let path = format!("/v1/reviews/{review}/contact");
        self.server.post(&path, Some(tok), body).await
    }
    fn published(&self) -> Vec<Value> {
        let path = self.server.data.join("published-events.ndjson");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
    fn emails(&self) -> Vec<(String, mail_parser::Message<'static>)> {
        crate::server::outbox_emails(&self.outbox)
    }
}

/// reviewId -> (eligible, fired rule ids), from a listing.
fn states(list: &Value) -> BTreeMap<String, (bool, Vec<String>)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let reasons = i["contact"]["reasons"].as_array().unwrap();
            for r in reasons {
                assert_eq!(r["policy"], POLICY, "{r}");
                assert!(!r["message"].as_str().unwrap().is_empty());
            }
            let mut fired: Vec<String> = reasons
                .iter()
                .map(|r| r["rule"].as_str().unwrap().to_owned())
                .collect();
            fired.sort();
            (
                i["reviewId"].as_str().unwrap().to_owned(),
                (i["contact"]["eligible"].as_bool().unwrap(), fired),
            )
        })
        .collect()
}

fn ids(list: &Value) -> Vec<String> {
    common::sorted_field(list, "items", "reviewId")
}

/// The item of review `id` in a listing.
fn item<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["reviewId"] == id)
        .unwrap_or_else(|| panic!("{id} missing from {list}"))
}

#[tokio::test]
async fn every_eligibility_rule_is_a_listed_reason() {
    let e = env().await;
    let (status, list) = e.get("/v1/reviews", &e.rep).await;
    assert_eq!(status, 200, "{list}");
    let s = states(&list);
    let expect: &[(&str, &[&str])] = &[
        ("R-1001", &[]), // 1 star, verified, en-CA order of 2026-11-02
        ("R-1002", &[]), // 2 stars, fr-CA
        ("R-1006", &[]), // 3 stars
        ("R-1007", &[]),
        ("R-1008", &[]),
        ("R-1004", &["R-CC-1.stars"]),            // 5 stars
        ("R-1005", &["R-CC-1.stars"]),            // 4 stars
        ("R-1003", &["R-CC-6.verified"]),         // not a verified purchase
        ("R-1000", &["R-CC-6.order_age"]),        // ordered 2025-10-20: more than 365 days
        ("R-9001", &["R-CC-2.seller_of_record"]), // sold by S9
        ("R-9002", &["R-CC-2.seller_of_record", "R-CC-6.order_age"]), // no order
        ("R-3001", &["R-CC-2.good_standing", "R-CC-2.registered"]), // B3 never registered
        ("R-7001", &["R-CC-6.buyer"]),            // written by c702 about c701's order
    ];
    for (id, rules) in expect {
        let (eligible, got) = s
            .get(*id)
            .unwrap_or_else(|| panic!("{id} missing from {list}"));
        assert_eq!(
            got,
            &rules.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            "{id}"
        );
        assert_eq!(*eligible, rules.is_empty(), "{id}");
    }
    assert_eq!(
        s.len(),
        expect.len(),
        "only the caller's brands, default period: {:?}",
        s.keys()
    );
    // Newest first; review fields and contact state.
    let first = &list["items"][0];
    assert_eq!(first["reviewId"], "R-1008");
    assert_eq!(first["rating"], 1);
    assert_eq!(first["brandId"], "B1");
    assert!(first["contact"]["contactedAt"].is_null());

    // A representative whose seller is not the seller of record of any order.
    let reseller = token("S7", &["B1"], &["brand_representative"]);
    let (_, list) = e.get("/v1/reviews?brandId=B1&stars=1", &reseller).await;
    assert_eq!(
        states(&list)["R-1001"],
        (false, vec!["R-CC-2.seller_of_record".to_owned()])
    );

    // Contacted before: R-CC-7.once, with contactedAt.
    let (status, _, created) = e.contact("R-1001", &e.rep, "customer_support").await;
    assert_eq!(status, 201, "{created}");
    let (_, list) = e.get("/v1/reviews?stars=1", &e.rep).await;
    assert_eq!(
        states(&list)["R-1001"],
        (false, vec!["R-CC-7.once".to_owned()])
    );
    assert_eq!(
        item(&list, "R-1001")["contact"]["contactedAt"],
        created["sentAt"]
    );
}

#[test]
fn the_role_rule_and_the_reason_rule_fire_at_the_policy() {
    // Through HTTP a caller without the role gets 403 and another brand's review 404
    // before the policy runs; the rule itself is checked here on the same facts.
    let policies = PolicySet::bundled();
    let now = common::t(NOW);
    let review: engage::domain::review::Review = serde_json::from_value(json!({"reviewId": "R", "brandId": "B1",
        "asin": "A", "orderId": "O", "customerId": "C", "rating": 2, "title": "t", "body": "b",
        "verifiedPurchase": true, "postedAt": "2026-11-20T00:00:00Z", "updatedAt": "2026-11-20T00:00:00Z"})).unwrap();
    let order: engage::domain::order::Order = serde_json::from_value(json!({"orderId": "O", "sellerId": "S1",
        "brandId": "B1", "asin": "A", "customerId": "C", "relayEmail": "c@relay.example", "locale": "en-US",
        "purchasedAt": "2026-11-01T00:00:00Z", "updatedAt": "2026-11-01T00:00:00Z"})).unwrap();
    let brand: engage::domain::brand::Brand = serde_json::from_value(json!({"brandId": "B1", "name": "N",
        "sellerId": "S1", "marketplace": "US", "hasStorePage": true, "updatedAt": "2026-11-01T00:00:00Z"})).unwrap();
    let caller = |brands: &[&str], roles: &[Role]| Caller {
        user: "u".into(),
        seller_id: "S1".into(),
        brands: brands.iter().map(|b| b.to_string()).collect(),
        roles: roles.iter().copied().collect(),
    };
    let decide = |c: &Caller, reason: &str| {
        let facts =
            contact::contact_facts(&review, Some(&order), Some(&brand), c, reason, false, now);
        policies
            .evaluate("contact", now, &facts)
            .unwrap()
            .fired()
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(
        decide(
            &caller(&["B1"], &[Role::BrandRepresentative]),
            "courtesy_refund"
        )
        .is_empty()
    );
    assert_eq!(
        decide(&caller(&["B1"], &[Role::Moderator]), "courtesy_refund"),
        ["R-CC-2.role"]
    );
    assert_eq!(
        decide(
            &caller(&["B2"], &[Role::BrandRepresentative]),
            "customer_support"
        ),
        ["R-CC-2.role"]
    );
    assert_eq!(
        decide(&caller(&["B1"], &[Role::BrandRepresentative]), "discount"),
        ["R-CC-4.reason"]
    );
}

#[tokio::test]
async fn filters_by_brand_stars_and_period() {
    let e = env().await;
    // Stars.
    let (status, list) = e.get("/v1/reviews?brandId=B1&stars=1,2", &e.rep).await;
    assert_eq!(status, 200);
    assert_eq!(
        ids(&list),
        [
            "R-1000", "R-1001", "R-1002", "R-1007", "R-1008", "R-7001", "R-9001", "R-9002"
        ]
    );
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["rating"] == 1 || i["rating"] == 2)
    );
    for bad in ["0", "6", "x", "1,,2", "1.5", "-1"] {
        let (status, body) = e.get(&format!("/v1/reviews?stars={bad}"), &e.rep).await;
        assert_eq!(status, 400, "stars={bad}: {body}");
    }
    for (query, listed) in [
        ("brandId=B1&stars=5", vec!["R-1004"]),
        ("stars=3,3", vec!["R-1003", "R-1006"]),
        // Brand: one of the caller's (all of them below).
        ("brandId=B3", vec!["R-3001"]),
        // Period: dates are days of the marketplace (Pacific), both ends included.
        (
            "brandId=B1&from=2026-11-21&to=2026-11-22",
            vec!["R-1002", "R-1003"],
        ),
        // Instants.
        (
            "brandId=B1&from=2026-11-24T00:00:00Z&to=2026-11-25T10:00:00Z",
            vec!["R-1005", "R-1006", "R-1007"],
        ),
        // The default period starts 365 days ago: an older review needs `from`.
        ("brandId=B1&from=2025-01-01&to=2025-12-31", vec!["R-OLD"]),
    ] {
        let path = format!("/v1/reviews?{query}");
        assert_eq!(e.ids(&path, &e.rep).await, listed, "{query}");
    }
    assert_eq!(e.ids("/v1/reviews", &e.other).await, ["R-2001", "R-2002"]);
    let default_period = e.ids("/v1/reviews?brandId=B1&stars=1", &e.rep).await;
    assert!(!default_period.contains(&"R-OLD".to_owned()));
    for bad in [
        "from=yesterday",
        "to=2026-13-01",
        "from=2026-11-25&to=2026-11-20",
    ] {
        let (status, body) = e.get(&format!("/v1/reviews?{bad}"), &e.rep).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["status"], 400);
    }
}

#[tokio::test]
async fn listing_statuses_and_tenant_isolation() {
    let e = env().await;
    let (status, _, body) = e
        .server
        .send(reqwest::Method::GET, "/v1/reviews", None, None)
        .await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = e.get("/v1/reviews", &e.moderator).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = e.get("/v1/reviews?brandId=B2", &e.rep).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = e.get("/v1/reviews?brandId=B1", &e.other).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn courtesy_refund_sends_one_email_and_publishes_the_event() {
    let e = env().await;
    let (status, ct, created) = e.contact("R-1001", &e.rep, "courtesy_refund").await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(ct, "application/json");
    assert_eq!(created["reviewId"], "R-1001");
    assert_eq!(created["reason"], "courtesy_refund");
    assert_eq!(created["sentAt"], NOW);
    assert_eq!(created["policy"], POLICY);
    let id = created["id"].as_str().unwrap();

    // The email: in the outbox at once (not on a tick), to the relay address, en-CA.
    let emails = e.emails();
    assert_eq!(emails.len(), 1);
    let (file, msg) = &emails[0];
    assert_eq!(file, &format!("contact-{id}.eml"));
    assert_eq!(
        msg.to().unwrap().first().unwrap().address().unwrap(),
        "c001@relay.marketplace.example"
    );
    assert_eq!(msg.header_raw("X-Engage-Contact").unwrap().trim(), id);
    assert_eq!(msg.header_raw("Content-Language").unwrap().trim(), "en-CA");
    assert_eq!(
        msg.subject().unwrap(),
        "A full refund of your order from Northwind Outfitters"
    );
    let text = msg.body_text(0).unwrap();
    assert!(text.contains("full refund of your order O-1001"), "{text}");
    assert!(text.contains("message centre"), "{text}");
    let html = msg.body_html(0).unwrap();
    assert!(html.contains("lang=\"en-CA\""));
    assert!(
        !html.contains("href") && !html.contains("<img"),
        "no link, no image: {html}"
    );

    // The event, recorded locally.
    let events = e.published();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["detail-type"], "Courtesy Refund Requested");
    assert_eq!(events[0]["source"], "engage");
    assert_eq!(events[0]["id"], id);
    assert_eq!(
        events[0]["detail"],
        json!({"contactId": id, "reviewId": "R-1001", "orderId": "O-1001", "brandId": "B1", "sellerId": "S1",
            "customerId": "c001", "requestedAt": NOW})
    );

    // Once per review: 409, nothing more sent or published.
    let (status, ct, body) = e.contact("R-1001", &e.rep, "customer_support").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(e.emails().len(), 1);
    assert_eq!(e.published().len(), 1);
}

#[tokio::test]
async fn customer_support_is_in_the_buyers_locale_and_publishes_nothing() {
    let e = env().await;
    for (review, relay, lang, needle) in [
        (
            "R-1002",
            "c002@relay.marketplace.example",
            "fr-CA",
            "messagerie acheteur-vendeur",
        ),
        (
            "R-1006",
            "c006@relay.marketplace.example",
            "en-US",
            "message center",
        ),
        (
            "R-1007",
            "c007@relay.marketplace.example",
            "en-CA",
            "message centre",
        ),
    ] {
        let (status, _, created) = e.contact(review, &e.rep, "customer_support").await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap();
        let emails = e.emails();
        let (_, msg) = emails
            .iter()
            .find(|(f, _)| f == &format!("contact-{id}.eml"))
            .unwrap();
        assert_eq!(msg.to().unwrap().first().unwrap().address().unwrap(), relay);
        assert_eq!(msg.header_raw("Content-Language").unwrap().trim(), lang);
        assert!(msg.body_text(0).unwrap().contains(needle), "{review}");
        assert!(
            msg.body_html(0)
                .unwrap()
                .contains(&format!("lang=\"{lang}\""))
        );
    }
    assert!(
        e.published().is_empty(),
        "only a courtesy refund publishes an event"
    );
}

#[tokio::test]
async fn every_status_code_of_the_contact_route() {
    let e = env().await;
    // 422: every reason, with the policy.
    let p = e.refused("R-9002", &e.rep, "courtesy_refund").await;
    assert_eq!(p["policy"], POLICY);
    assert_eq!(fired(&p), ["R-CC-2.seller_of_record", "R-CC-6.order_age"]);
    for (review, rules) in [
        ("R-1003", vec!["R-CC-6.verified"]),
        ("R-1000", vec!["R-CC-6.order_age"]),
        ("R-1004", vec!["R-CC-1.stars"]),
        ("R-9001", vec!["R-CC-2.seller_of_record"]),
        ("R-3001", vec!["R-CC-2.good_standing", "R-CC-2.registered"]),
    ] {
        let p = e.refused(review, &e.rep, "customer_support").await;
        assert_eq!(fired(&p), rules, "{review}");
        assert!(
            p["violations"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v["policy"] == POLICY)
        );
    }
    // 422: an unknown reason is a rule of the policy, with the allowed ones quoted.
    let p = e.refused("R-1001", &e.rep, "discount").await;
    assert_eq!(fired(&p), ["R-CC-4.reason"]);
    assert!(
        p["violations"][0]["message"]
            .as_str()
            .unwrap()
            .contains("courtesy_refund")
    );
    // 400: malformed bodies.
    for body in [
        "{}",
        "not json",
        r#"{"reason": 1}"#,
        r#"{"reason": "courtesy_refund", "note": "hi"}"#,
        "[]",
    ] {
        let (status, ct, p) = e
            .server
            .post("/v1/reviews/R-1001/contact", Some(&e.rep), body)
            .await;
        assert_eq!(status, 400, "{body}: {p}");
        assert_eq!(ct, "application/problem+json");
    }
    // 401, 403, 404 (unknown, and another brand's review).
    let (status, _, _) = e
        .server
        .post("/v1/reviews/R-1001/contact", None, "{}")
        .await;
    assert_eq!(status, 401);
    let (status, _, _) = e.contact("R-1001", &e.moderator, "courtesy_refund").await;
    assert_eq!(status, 403);
    let (status, _, _) = e.contact("R-NOPE", &e.rep, "courtesy_refund").await;
    assert_eq!(status, 404);
    let (status, _, p) = e.contact("R-2001", &e.rep, "courtesy_refund").await;
    assert_eq!(status, 404, "{p}");
    let (status, _, _) = e.contact("R-1001", &e.other, "courtesy_refund").await;
    assert_eq!(status, 404);
    // Nothing was sent by any of these.
    assert!(e.emails().is_empty());
    // 201 then 409.
    let (status, _, _) = e.contact("R-1001", &e.rep, "courtesy_refund").await;
    assert_eq!(status, 201);
    let (status, _, p) = e.contact("R-1001", &e.rep, "courtesy_refund").await;
    assert_eq!(status, 409, "{p}");
}

#[tokio::test]
async fn simultaneous_contacts_give_one_201_and_one_email_on_the_embedded_store() {
    let e = env().await;
    for review in ["R-1007", "R-1008"] {
        let futs: Vec<_> = (0..8)
            .map(|i| {
                let reason = if i % 2 == 0 {
                    "courtesy_refund"
                } else {
                    "customer_support"
                };
                e.contact(review, &e.rep, reason)
            })
            .collect();
        let results = futures::future::join_all(futs).await;
        let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{review}: {statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            7,
            "{review}: {statuses:?}"
        );
    }
    let emails = e.emails();
    assert_eq!(emails.len(), 2, "one email per review");
    let contacted: BTreeSet<String> = emails
        .iter()
        .map(|(_, m)| {
            m.to()
                .unwrap()
                .first()
                .unwrap()
                .address()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(contacted.len(), 2);
}

// ---------------------------------------------------------------------------------------
// The use case over a store: a mailer and a publisher that count.

#[derive(Default)]
struct CountingMailer {
    sent: std::sync::Mutex<Vec<OutgoingEmail>>,
    fail: std::sync::atomic::AtomicBool,
}

impl CountingMailer {
    fn sent(&self) -> Vec<OutgoingEmail> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl Mailer for CountingMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError> {
        engage::mail::build_mime(email)?;
        // Widen the window between the contact's put and the delivery.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if self.fail.load(Ordering::SeqCst) {
            return Err(MailError::transient("mail is down", "test"));
        }
        self.sent.lock().unwrap().push(email.clone());
        Ok(SentMessage {
            message_id: email.message_id.clone(),
            provider_id: "test".into(),
        })
    }
}

#[derive(Default)]
struct CountingPublisher {
    events: std::sync::Mutex<Vec<Event>>,
    calls: AtomicUsize,
}

#[async_trait]
impl EventPublisher for CountingPublisher {
    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.events.lock().unwrap().push(event.clone());
        Ok(())
    }
}

async fn seed_store(store: &dyn Store) {
    let entities = [
        json!({"brandId": "B1", "name": "Northwind Outfitters", "sellerId": "S1", "marketplace": "US",
            "hasStorePage": true, "updatedAt": "2026-09-01T00:00:00Z"}),
    ];
    for b in entities {
        store
            .upsert(&Entity::Brand(serde_json::from_value(b).unwrap()))
            .await
            .unwrap();
    }
    for (order, review, customer, locale) in [
        ("O-1", "R-1", "c1", "fr-CA"),
        ("O-2", "R-2", "c2", "en-US"),
        ("O-3", "R-3", "c3", "en-CA"),
    ] {
        store.upsert(&Entity::Order(serde_json::from_value(json!({"orderId": order, "sellerId": "S1", "brandId": "B1",
            "asin": "A1", "customerId": customer, "relayEmail": format!("{customer}@relay.example"), "locale": locale,
            "purchasedAt": "2026-11-01T00:00:00Z", "updatedAt": "2026-11-01T00:00:00Z"})).unwrap())).await.unwrap();
        store.upsert(&Entity::Review(serde_json::from_value(json!({"reviewId": review, "brandId": "B1", "asin": "A1",
            "orderId": order, "customerId": customer, "rating": 1, "title": "t", "body": "b", "verifiedPurchase": true,
            "postedAt": "2026-11-10T00:00:00Z", "updatedAt": "2026-11-10T00:00:00Z"})).unwrap())).await.unwrap();
    }
}

fn app_over(store: Arc<dyn Store>) -> (App, Arc<CountingMailer>, Arc<CountingPublisher>) {
    let mailer = Arc::new(CountingMailer::default());
    let publisher = Arc::new(CountingPublisher::default());
    let app = common::app(store, common::t(NOW))
        .with_mailer(mailer.clone())
        .with_publisher(publisher.clone());
    (app, mailer, publisher)
}

fn rep() -> Caller {
    common::rep(&["B1"])
}

/// What `run(app, i)` answers for `i` in `0..n`, all spawned at once, each on a clone
/// of `app`.
async fn at_once<T, F>(app: &App, n: usize, run: impl Fn(App, usize) -> F) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(run(app.clone(), i))).collect();
    let mut answers = Vec::with_capacity(n);
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

async fn race(app: &App, review: &str, n: usize) -> (usize, usize) {
    let outcomes = at_once(app, n, |app, i| {
        let review = review.to_owned();
        async move {
            let reason = if i % 2 == 0 {
                "courtesy_refund"
            } else {
                "customer_support"
            };
            contact::contact(
                &app,
                &rep(),
                &review,
                ContactInput {
                    reason: reason.into(),
                },
            )
            .await
        }
    })
    .await;
    let (mut created, mut conflicts) = (0, 0);
    for outcome in outcomes {
        match outcome {
            Ok(_) => created += 1,
            Err(AppError::Conflict(_)) => conflicts += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    (created, conflicts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn simultaneous_contacts_give_one_contact_and_one_email_on_dynamodb() {
    let (store, _table) = common::dynamo().await;
    seed_store(store.as_ref()).await;
    let (app, mailer, publisher) = app_over(store);
    for review in ["R-1", "R-2"] {
        assert_eq!(race(&app, review, 8).await, (1, 7), "{review}");
    }
    let sent = mailer.sent();
    assert_eq!(sent.len(), 2, "exactly one email per review");
    let fr = sent.iter().find(|m| m.to == "c1@relay.example").unwrap();
    assert_eq!(fr.content_language.as_deref(), Some("fr-CA"));
    // Courtesy refunds published exactly as often as they were sent.
    let refunds = sent
        .iter()
        .filter(|m| m.subject.contains("rembours") || m.subject.contains("refund"))
        .count();
    assert_eq!(publisher.calls.load(Ordering::SeqCst), refunds);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn simultaneous_contacts_at_the_use_case_on_the_embedded_store() {
    let (store, _dir) = common::embedded();
    seed_store(store.as_ref()).await;
    let (app, mailer, _) = app_over(store);
    assert_eq!(race(&app, "R-3", 8).await, (1, 7));
    assert_eq!(mailer.sent().len(), 1);
}

async fn crash_recovery(store: Arc<dyn Store>) {
    seed_store(store.as_ref()).await;
    let (app, mailer, publisher) = app_over(store.clone());
    // The mail port fails after the contact was recorded: the request fails, the contact
    // stays (one per review), nothing was sent or published.
    mailer.fail.store(true, Ordering::SeqCst);
    let err = contact::contact(
        &app,
        &rep(),
        "R-1",
        ContactInput {
            reason: "courtesy_refund".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Mail(_)), "{err:?}");
    assert!(mailer.sent().is_empty());
    assert_eq!(publisher.calls.load(Ordering::SeqCst), 0);
    let again = contact::contact(
        &app,
        &rep(),
        "R-1",
        ContactInput {
            reason: "courtesy_refund".into(),
        },
    )
    .await;
    assert!(matches!(again, Err(AppError::Conflict(_))), "{again:?}");
    // Resume delivers it once, with the same message id; later resumes do nothing.
    mailer.fail.store(false, Ordering::SeqCst);
    let r1 = ReviewId::new("R-1");
    assert_eq!(
        contact::resume(&app, &r1).await.unwrap(),
        Some(Delivery::Delivered)
    );
    assert_eq!(
        contact::resume(&app, &r1).await.unwrap(),
        Some(Delivery::AlreadyDelivered)
    );
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    let stored = store.get_contact(&r1).await.unwrap().unwrap();
    assert_eq!(sent[0].message_id, format!("contact-{}", stored.id));
    assert_eq!(sent[0].header("X-Engage-Contact"), Some(stored.id.as_str()));
    assert_eq!(publisher.calls.load(Ordering::SeqCst), 1);
    assert_eq!(publisher.events.lock().unwrap()[0].id, stored.id.as_str());
    // A delivered contact: resume is a no-op; a review without a contact: None.
    assert_eq!(
        contact::resume(&app, &ReviewId::new("R-2")).await.unwrap(),
        None
    );
    // Concurrent resumes of a pending contact send once.
    mailer.fail.store(true, Ordering::SeqCst);
    assert!(
        contact::contact(
            &app,
            &rep(),
            "R-2",
            ContactInput {
                reason: "customer_support".into()
            }
        )
        .await
        .is_err()
    );
    mailer.fail.store(false, Ordering::SeqCst);
    let answers = at_once(&app, 6, |app, _| async move {
        contact::resume(&app, &ReviewId::new("R-2")).await.unwrap()
    })
    .await;
    let delivered = answers.iter().filter(|a| **a == Some(Delivery::Delivered));
    assert_eq!(delivered.count(), 1, "{answers:?}");
    assert_eq!(mailer.sent().len(), 2, "R-1's email and R-2's, once each");
}

common::on_each_store!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    a_pending_contact_is_resumed_once_on_the_embedded_store,
    a_pending_contact_is_resumed_once_on_dynamodb,
    |store| crash_recovery(store).await
);

// ---------------------------------------------------------------------------------------
// The fixed templates.

/// The bundled content policy's decision on `email`, now.
fn check_content(email: &engage::mail::RenderedEmail) -> engage::policy::Decision {
    let policies = PolicySet::bundled();
    contact::email::check_content(&policies, email, common::t(NOW)).unwrap()
}

#[test]
fn the_content_policy_passes_every_shipped_contact_template() {
    let renderer = engage::mail::Renderer::new();
    let mut rendered_templates = BTreeSet::new();
    for sample in contact::email::samples() {
        let email = sample.render(&renderer).unwrap();
        let decision = check_content(&email);
        assert!(
            decision.is_allowed(),
            "{sample:?}: {:?}",
            decision.violations
        );
        assert!(
            decision
                .policies()
                .iter()
                .all(|p| p.starts_with("content@"))
        );
        for part in [&email.text, &email.html, &email.subject] {
            assert!(
                !part.contains("http") && !part.contains("www") && !part.contains('@'),
                "{sample:?}: {part}"
            );
        }
        assert!(
            email.html.contains("Northwind Outfitters &amp; Co"),
            "the brand name is escaped"
        );
        let french = sample.locale == contact::email::Locale::FrCa;
        assert_eq!(email.text.contains("Bonjour"), french, "{sample:?}");
        assert_eq!(email.text.contains("Hello"), !french, "{sample:?}");
        let name = contact::email::template_name(sample.reason);
        rendered_templates.insert(format!("{name}.html"));
        rendered_templates.insert(format!("{name}.txt"));
    }
    let shipped: BTreeSet<String> = engage::mail::render::TEMPLATES
        .iter()
        .map(|(n, _)| n.to_string())
        .filter(|n| n.starts_with("contact_"))
        .collect();
    assert_eq!(shipped.len(), 4);
    assert_eq!(
        rendered_templates, shipped,
        "every shipped contact template is checked"
    );
}

#[test]
fn the_content_check_would_catch_a_forbidden_template() {
    // The check is not vacuous: the wording a template must never have is refused.
    for bad in [
        "Could you remove your review?",
        "Please update your rating.",
        "Visit northwind dot com for more.",
        "Write to help@northwind.example",
        "Pourriez-vous modifier votre avis ?",
    ] {
        let email = engage::mail::RenderedEmail {
            subject: "Hello".into(),
            html: "<p>ok</p>".into(),
            text: bad.into(),
        };
        let d = check_content(&email);
        assert!(!d.is_allowed(), "{bad}");
        assert_eq!(d.violations[0].field.as_deref(), Some("text"));
    }
}

// ---------------------------------------------------------------------------------------
// The EventBridge adapter.

#[tokio::test]
async fn eventbridge_publisher_puts_events_on_moto() {
    let client = aws_sdk_eventbridge::Client::new(&common::aws());
    let publisher = engage::bus::EventBridgePublisher::new(client, "default");
    let detail = json!({"contactId": "c-1", "reviewId": "R-1", "orderId": "O-1", "brandId": "B1", "sellerId": "S1",
        "customerId": "c1", "requestedAt": NOW});
    let event = Event::new(
        "c-1",
        engage::bus::COURTESY_REFUND_REQUESTED,
        common::t(NOW),
        detail,
    );
    publisher.publish(&event).await.unwrap();
    // A bus that does not exist is a refusal, never a silent success.
    let missing = engage::bus::EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(&common::aws()),
        "no-such-bus",
    );
    assert!(missing.publish(&event).await.is_err());
}

/// Follows `nextCursor` from `first` to the end: every page's review ids, in order.
async fn pages(e: &Env, first: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut path = first.to_owned();
    loop {
        let (status, page) = e.get(&path, &e.rep).await;
        assert_eq!(status, 200, "{path}: {page}");
        out.push(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["reviewId"].as_str().unwrap().to_owned())
                .collect(),
        );
        match page.get("nextCursor").and_then(Value::as_str) {
            Some(c) => path = format!("{first}&cursor={c}"),
            None => break,
        }
        assert!(out.len() < 100, "the cursor must move on");
    }
    out
}

#[tokio::test]
async fn reviews_come_in_pages_with_a_cursor() {
    let e = env().await;
    // 60 more reviews of B3, some sharing one instant (the cursor must split ties).
    let many: String = (0..60)
        .map(|i| {
            let at = format!("2026-11-{:02}T10:00:00Z", 1 + i / 3);
            review_posted(&format!("R-P{i:02}"), "B3", "O-1000", "C-1", 2, true, &at) + "\n"
        })
        .collect();
    let file = e.server.data.with_extension("many.ndjson");
    std::fs::write(&file, many).unwrap();
    apply_events(&e.server.data, &file);

    let (_, all) = e.get("/v1/reviews?limit=200", &e.rep).await;
    assert!(all.get("nextCursor").is_none(), "{all}");
    let all: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reviewId"].as_str().unwrap().to_owned())
        .collect();
    assert!(all.len() > 60, "{}", all.len());

    // The default page is 50, then the rest.
    let default = pages(&e, "/v1/reviews?stars=1,2,3,4,5").await;
    assert_eq!(default[0].len(), 50);
    assert_eq!(default.concat(), all);

    // Small pages: the same reviews in the same order, none twice, none lost.
    let small = pages(&e, "/v1/reviews?limit=7").await;
    assert!(small.iter().all(|p| p.len() <= 7 && !p.is_empty()));
    assert_eq!(small.concat(), all);
    // Filters hold across pages.
    let b3 = pages(&e, "/v1/reviews?brandId=B3&stars=2&limit=11").await;
    let b3 = b3.concat();
    assert_eq!(b3.iter().filter(|i| i.starts_with("R-P")).count(), 60);
    assert!(
        b3.iter()
            .all(|i| i.starts_with("R-P") || i.starts_with("R-3"))
    );

    for bad in [
        "limit=0",
        "limit=201",
        "limit=x",
        "cursor=nope",
        "cursor=e30",
    ] {
        let (status, body) = e.get(&format!("/v1/reviews?{bad}"), &e.rep).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

/// The same app with its business clock at `at`.
fn at(app: &App, at: &str) -> App {
    let mut app = app.clone();
    app.clock = Arc::new(FixedClock(common::t(at)));
    app
}

async fn pending_contacts_are_found_and_resumed(store: Arc<dyn Store>) {
    seed_store(store.as_ref()).await;
    let (app, mailer, publisher) = app_over(store.clone());
    let app = app.with_from_address("answers@northwind.example");
    let lookback = chrono::Duration::days(2);
    // Two contacts whose email failed: recorded, pending.
    mailer.fail.store(true, Ordering::SeqCst);
    for (review, reason) in [("R-1", "courtesy_refund"), ("R-2", "customer_support")] {
        let input = ContactInput {
            reason: reason.into(),
        };
        assert!(contact::contact(&app, &rep(), review, input).await.is_err());
    }
    mailer.fail.store(false, Ordering::SeqCst);
    // A third whose attempt died mid-send: its delivery claim and its lease are left.
    let input = ContactInput {
        reason: "customer_support".into(),
    };
    mailer.fail.store(true, Ordering::SeqCst);
    assert!(contact::contact(&app, &rep(), "R-3", input).await.is_err());
    mailer.fail.store(false, Ordering::SeqCst);
    let r3 = store
        .get_contact(&ReviewId::new("R-3"))
        .await
        .unwrap()
        .unwrap();
    let now = common::t(NOW);
    let long = chrono::Duration::days(contact::DELIVERY_RETENTION_DAYS);
    let lease = chrono::Duration::seconds(contact::DELIVERY_LEASE_SECONDS);
    let id = r3.id.as_str();
    let message_id = format!("contact-{id}");
    store
        .begin(contact::DELIVERY_SCOPE, id, &message_id, now, long, long)
        .await
        .unwrap();
    store
        .begin(contact::LEASE_SCOPE, id, "lease", now, lease, lease)
        .await
        .unwrap();

    // One pass: the two pending ones are sent, the one under a live lease is left.
    let done = contact::resume_pending(&app, lookback).await.unwrap();
    assert_eq!(
        (done.delivered, done.in_progress, done.failed),
        (2, 1, 0),
        "{done:?}"
    );
    assert_eq!(mailer.sent().len(), 2);
    // From the configured sender, with the brand as display name.
    for m in mailer.sent().iter() {
        assert_eq!(m.from.address, "answers@northwind.example");
        assert_eq!(m.from.name.as_deref(), Some("Northwind Outfitters"));
    }
    assert_eq!(
        publisher.calls.load(Ordering::SeqCst),
        1,
        "one courtesy refund"
    );

    // Once the dead attempt's lease has ended, concurrent passes send it exactly once.
    let later = at(&app, "2026-11-26T12:06:00Z");
    let passes = at_once(&later, 6, |app, _| async move {
        contact::resume_pending(&app, lookback).await.unwrap()
    })
    .await;
    for done in &passes {
        assert_eq!(done.failed, 0, "{done:?}");
    }
    assert_eq!(passes.iter().map(|d| d.delivered).sum::<usize>(), 1);
    let sent = mailer.sent();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].message_id, message_id, "the same message id");
    // Nothing is pending any more; a contact past the lookback is not read.
    let done = contact::resume_pending(&later, lookback).await.unwrap();
    assert_eq!((done.delivered, done.already_delivered), (0, 3));
    let far = at(&app, "2026-12-10T00:00:00Z");
    let done = contact::resume_pending(&far, lookback).await.unwrap();
    assert_eq!(done, contact::Resumed::default());
    assert_eq!(mailer.sent().len(), 3);
}

common::on_each_store!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    pending_contacts_are_found_and_resumed_on_the_embedded_store,
    pending_contacts_are_found_and_resumed_on_dynamodb,
    |store| pending_contacts_are_found_and_resumed(store).await
);

/// Issue 12, R-CC-6: a Review Posted whose customerId is not the order's buyer is
/// refused with the rule named, and nobody is emailed.
#[tokio::test]
async fn a_review_by_someone_other_than_the_buyer_is_refused_and_nobody_emailed() {
    let e = env().await;
    let p = e.refused("R-7001", &e.rep, "courtesy_refund").await;
    assert_eq!(fired(&p), vec!["R-CC-6.buyer"]);
    assert!(
        e.emails().is_empty(),
        "no email to the order's buyer nor to the reviewer"
    );
}

/// A contact email carries SES message tags (it has no unsubscribe link): its hard
/// bounce, as SES reports it with those tags, is counted for the brand and suppresses
/// the customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_contact_emails_bounce_is_counted_and_suppresses_through_its_tags() {
    use engage::domain::suppression::SuppressionReason;
    use engage::domain::{BrandId, CustomerId};
    use engage::jobs::ses_events::{self, SesDelivery};

    let (store, _dir) = common::embedded();
    seed_store(store.as_ref()).await;
    let (app, mailer, _) = app_over(store.clone());
    contact::contact(
        &app,
        &rep(),
        "R-2",
        ContactInput {
            reason: "customer_support".into(),
        },
    )
    .await
    .unwrap();
    let email = mailer.sent()[0].clone();
    let header = email
        .header(ses_events::HEADER_SES_MESSAGE_TAGS)
        .expect("the contact email carries SES message tags");
    let mime = String::from_utf8(engage::mail::build_mime(&email).unwrap()).unwrap();
    assert!(mime.contains(&format!(
        "{}: {header}",
        ses_events::HEADER_SES_MESSAGE_TAGS
    )));
    // SES turns the header into `mail.tags` and removes it; the other headers stay.
    let mut tags = serde_json::Map::new();
    for pair in header.split(", ") {
        let (name, value) = pair.split_once('=').unwrap();
        tags.insert(name.to_owned(), json!([value]));
    }
    let event = json!({"version": "0", "id": "ev-contact-bounce", "detail-type": "Email Bounced",
        "source": "aws.ses", "account": "123456789012", "time": NOW, "region": "us-east-1",
        "resources": [], "detail": {"eventType": "Bounce",
            "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": email.to}]},
            "mail": {"messageId": "0100-contact-bounce", "destination": [email.to],
                "headers": [{"name": "X-Engage-Contact", "value": email.header("X-Engage-Contact").unwrap()}],
                "tags": tags}}});
    let signer = common::local_signer();
    let policies = PolicySet::bundled();
    let outcome = ses_events::deliver(store.as_ref(), &policies, &signer, event, common::t(NOW))
        .await
        .unwrap();
    match outcome {
        SesDelivery::Applied {
            brand_id,
            suppressed,
            counted,
            counts,
            ..
        } => {
            assert_eq!(brand_id, "B1");
            assert!(
                suppressed && counted,
                "suppressed {suppressed}, counted {counted}"
            );
            assert_eq!(counts.bounced, 1, "{counts:?}");
        }
        other => panic!("the contact email's bounce was not applied: {other:?}"),
    }
    let sup = store
        .get_suppression(&BrandId::new("B1"), &CustomerId::new("c2"))
        .await
        .unwrap()
        .expect("the customer is suppressed");
    assert_eq!(sup.reason, SuppressionReason::Bounce);
}

/// Issue 12: without `from` the listing starts where R-CC-6 (orders within the
/// past 365 days, compared as marketplace dates) can still accept an order: local
/// midnight of the date 365 dates before today. At 04:00 PST on 2026-11-26, a
/// review of an order placed at 01:00 PST on 2025-11-26 (09:00 UTC, before
/// `now - 365 x 24 h`) is listed and eligible; one a date earlier is not listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_period_starts_at_the_first_date_the_order_rule_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (data, outbox) = (dir.path().join("data"), dir.path().join("outbox"));
    let ev = crate::server::marketplace_event;
    let mut events = vec![ev(
        "e-brand",
        "Brand Registered",
        json!({"brandId": "B1", "name": "Northwind", "sellerId": "S1",
            "marketplace": "US", "hasStorePage": true}),
    )];
    for (id, at) in [
        ("EDGE", "2025-11-26T09:00:00Z"),
        ("BEFORE", "2025-11-25T09:00:00Z"),
    ] {
        events.push(ev(
            &format!("e-o-{id}"),
            "Order Placed",
            json!({"orderId": format!("O-{id}"), "sellerId": "S1", "brandId": "B1",
                "asin": "B0ENGAGE01", "customerId": format!("c-{id}"),
                "relayEmail": format!("c-{id}@relay.example"), "locale": "en-US", "purchasedAt": at}),
        ));
        events.push(ev(
            &format!("e-r-{id}"),
            "Review Posted",
            json!({"reviewId": format!("R-{id}"), "brandId": "B1", "asin": "B0ENGAGE01",
                "orderId": format!("O-{id}"), "customerId": format!("c-{id}"), "rating": 1,
                "title": "t", "body": "b", "verifiedPurchase": true, "postedAt": at}),
        ));
    }
    crate::server::engage_event(&data, NOW, &events);
    let server = Server::start_in(&data, &outbox, &["--now", NOW, "--tick", "0"]);
    let bearer = token("S1", &["B1"], &["brand_representative"]);
    let list = server.get_json("/v1/reviews?brandId=B1", &bearer).await;
    assert_eq!(ids(&list), ["R-EDGE"], "{list}");
    assert_eq!(list["items"][0]["contact"]["eligible"], true, "{list}");
}

/// Policies decide: a rule appended to the contact policy's file, which no Rust code
/// knows, refuses a contact the shipped policy accepts (422 naming it, nobody emailed).
#[tokio::test]
async fn a_rule_added_to_the_contact_policy_file_takes_effect_without_rust() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"))
        .arg(&policies)
        .status()
        .unwrap();
    assert!(status.success());
    let file = policies.join("contact/2026-11-01.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!(
            "{text}\n[[rules]]\nid = \"R-CC-9.added\"\nseverity = \"error\"\n\
             condition = \"review.rating >= 1\"\nmessage = \"added by this test\"\n"
        ),
    )
    .unwrap();
    let e = env_with(&["--policies", policies.to_str().unwrap()]).await;
    let p = e.refused("R-1001", &e.rep, "customer_support").await;
    assert_eq!(fired(&p), vec!["R-CC-9.added"]);
    assert!(e.emails().is_empty());
}

/// Issue 13: a throttled mail port is the dependency's state, not a bug: the contact
/// route answers 503 (problem+json, worth a retry), never 500, and nobody is emailed.
/// The contact stays recorded and pending (one per review), so nothing is lost: with
/// the mail port back, the next `engage tick` sends it once, and the review answers as
/// contacted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_mail_port_answers_503_and_the_contact_is_sent_once_it_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let data = seed_world(dir.path());
    let outbox = dir.path().join("outbox");
    let rep = token("S1", &["B1", "B3"], &["brand_representative"]);
    let http = reqwest::Client::new();
    let contact = |server: &Server| {
        http.post(server.url("/v1/reviews/R-1001/contact"))
            .bearer_auth(&rep)
            .json(&json!({"reason": "courtesy_refund"}))
            .send()
    };

    // Every send refused as SES throttling refuses it.
    let throttled = Server::start_in_with_env(
        &data,
        &outbox,
        &["--now", NOW, "--tick", "0"],
        &[("ENGAGE_OUTBOX_TRANSIENT_FAILURES", "1")],
    );
    let resp = contact(&throttled).await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(status, 503, "{problem}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(problem["type"], "https://engage.dev/problems/unavailable");
    assert_eq!(problem["status"], 503);
    assert!(
        crate::server::outbox_emails(&outbox).is_empty(),
        "nobody emailed"
    );
    let published = data.join("published-events.ndjson");
    assert!(!published.exists(), "no refund requested without its email");
    drop(throttled);

    // The mail port is back: one pass sends the pending contact, once.
    let out = crate::server::engage_tick(&data, &outbox, NOW);
    assert!(out.contains("pending contacts: delivered 1,"), "{out}");
    let out = crate::server::engage_tick(&data, &outbox, NOW);
    assert!(out.contains("pending contacts: delivered 0,"), "{out}");
    // The pass sends the sample's buyer messages too: only contact emails count here.
    let contact_emails = || -> Vec<_> {
        crate::server::outbox_emails(&outbox)
            .into_iter()
            .filter(|(file, _)| file.starts_with("contact-"))
            .collect()
    };
    let emails = contact_emails();
    assert_eq!(emails.len(), 1);
    let id = emails[0].1.header_raw("X-Engage-Contact").unwrap().trim();
    assert_eq!(emails[0].0, format!("contact-{id}.eml"));
    let events = std::fs::read_to_string(&published).unwrap();
    assert_eq!(events.lines().count(), 1, "{events}");

    // The same request now meets the contact it made: one per review.
    let server = Server::start_in(&data, &outbox, &["--now", NOW, "--tick", "0"]);
    let resp = contact(&server).await.unwrap();
    assert_eq!(resp.status().as_u16(), 409);
    let list = server.get_json("/v1/reviews?brandId=B1", &rep).await;
    let item = item(&list, "R-1001");
    assert_eq!(item["contact"]["contactedAt"], NOW, "{item}");
    assert_eq!(contact_emails().len(), 1);
}
