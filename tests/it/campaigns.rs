//! Campaign routes through the real `engage serve` over the embedded store:
//! every status code these routes return, tenant isolation, idempotency, the
//! calendar, eligible promotions and themes.

use std::path::Path;

use crate::common::fired;
use crate::server::{Server, token};
use engage::store::{EmbeddedStore, Entity, EntityStore};
use serde_json::{Value, json};

const NOW: &str = "2026-11-26T12:00:00Z";

async fn seed(data: &Path) {
    let store = EmbeddedStore::open(data).unwrap();
    let entities: Vec<Entity> = vec![
        Entity::Brand(
            serde_json::from_value(json!({"brandId": "B1", "name": "Acme", "sellerId": "S1",
            "marketplace": "US", "hasStorePage": true, "updatedAt": "2026-11-01T00:00:00Z"}))
            .unwrap(),
        ),
        Entity::Brand(
            serde_json::from_value(json!({"brandId": "B2", "name": "Other", "sellerId": "S2",
            "marketplace": "CA", "hasStorePage": true, "updatedAt": "2026-11-01T00:00:00Z"}))
            .unwrap(),
        ),
        Entity::Brand(
            serde_json::from_value(json!({"brandId": "B3", "name": "Lonely", "sellerId": "S1",
            "marketplace": "US", "hasStorePage": true, "updatedAt": "2026-11-01T00:00:00Z"}))
            .unwrap(),
        ),
    ];
    let mut entities = entities;
    for (brand, n) in [("B1", 3), ("B2", 2)] {
        for i in 0..n {
            entities.push(Entity::Follower(
                serde_json::from_value(json!({"brandId": brand,
                "customerId": format!("C{brand}{i}"), "relayEmail": format!("c{i}@relay.example"),
                "locale": "en-US", "followedAt": "2026-11-02T00:00:00Z",
                "updatedAt": "2026-11-02T00:00:00Z"}))
                .unwrap(),
            ));
        }
    }
    let promo = |id: &str, brand: &str, kind: &str, starts: &str, ends: &str, created: &str| {
        Entity::Promotion(
            serde_json::from_value(json!({"promotionId": id, "brandId": brand,
            "asin": "B0ENGAGE01", "type": kind, "startsAt": starts, "endsAt": ends,
            "createdAt": created, "updatedAt": created}))
            .unwrap(),
        )
    };
    entities.push(promo(
        "P-OK",
        "B1",
        "seven_day_deal",
        "2026-12-01T08:00:00Z",
        "2026-12-31T08:00:00Z",
        "2026-11-01T00:00:00Z",
    ));
    // Issue 12: a coupon from 2027-03-01 00:00 PST to 2027-03-16 00:30 PDT ends on
    // the 6th date after a 2027-03-10 start (7:30Z < 8:00Z + 144 h refused it).
    entities.push(promo(
        "P-DST",
        "B1",
        "coupon",
        "2027-03-01T08:00:00Z",
        "2027-03-16T07:30:00Z",
        "2026-11-01T00:00:00Z",
    ));
    entities.push(promo(
        "P-SHORT",
        "B1",
        "coupon",
        "2026-12-01T08:00:00Z",
        "2026-12-04T08:00:00Z",
        "2026-11-01T00:00:00Z",
    ));
    entities.push(promo(
        "P-LIGHTNING",
        "B1",
        "lightning_deal",
        "2026-12-01T08:00:00Z",
        "2026-12-31T08:00:00Z",
        "2026-11-01T00:00:00Z",
    ));
    entities.push(promo(
        "P-NEW",
        "B1",
        "coupon",
        "2026-12-01T08:00:00Z",
        "2026-12-31T08:00:00Z",
        "2026-11-26T00:00:00Z",
    ));
    entities.push(promo(
        "P-B2",
        "B2",
        "coupon",
        "2026-12-01T08:00:00Z",
        "2026-12-31T08:00:00Z",
        "2026-11-01T00:00:00Z",
    ));
    for e in &entities {
        store.upsert(e).await.unwrap();
    }
}

struct Env {
    server: Server,
    http: reqwest::Client,
    rep: String,
    other: String,
    moderator: String,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed(&data).await;
    let server = Server::start_over(dir, &["--now", NOW]);
    Env {
        server,
        http: reqwest::Client::new(),
        rep: token("S1", &["B1", "B3"], &["brand_representative"]),
        other: token("S2", &["B2"], &["brand_representative"]),
        moderator: token("M1", &[], &["moderator"]),
    }
}

fn valid() -> Value {
    json!({
        "brandId": "B1",
        "nickname": "December spotlight",
        "theme": "holiday_gift_guide",
        "primaryAsin": "B0ENGAGE01",
        "promotionId": "P-OK",
        "lifestyleImage": {"url": "https://img.example/life.jpg", "width": 1200, "height": 800},
        "complementaryAsins": ["B0ENGAGE02", "B0ENGAGE03"],
        "startDate": "2026-12-07",
        "subject": "Gifts they will love",
        "sectionHeader": "New from a brand you follow",
        "logo": {"url": "https://img.example/logo.png", "width": 600, "height": 150, "format": "png", "background": "transparent"},
        "headerStyle": "dark"
    })
}

impl Env {
    async fn get(&self, path: &str, tok: &str) -> (u16, String, Value) {
        self.server
            .send(reqwest::Method::GET, path, Some(tok), None)
            .await
    }
    async fn post(&self, path: &str, tok: &str, body: &Value) -> (u16, String, Value) {
        self.server.post(path, Some(tok), body.to_string()).await
    }
    /// The body of `GET path` as the brand representative, which must be a 200.
    async fn get_ok(&self, path: &str) -> Value {
        let (status, _, body) = self.get(path, &self.rep).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }
    /// The answer to `GET /v1/campaigns/{id}/preview` as the brand representative.
    async fn preview(&self, id: &str) -> reqwest::Response {
        self.http
            .get(self.server.url(&format!("/v1/campaigns/{id}/preview")))
            .bearer_auth(&self.rep)
            .send()
            .await
            .unwrap()
    }
    async fn submit(&self, body: &Value) -> Value {
        let (status, _, created) = self.post("/v1/campaigns", &self.rep, body).await;
        assert_eq!(status, 201, "{created}");
        created
    }
}

#[tokio::test]
async fn submit_get_list_and_the_send_window() {
    let e = env().await;
    let c = e.submit(&valid()).await;
    assert_eq!(c["status"], "IN_REVIEW");
    assert_eq!(c["policy"], "campaign@2026-11-01");
    assert_eq!(c["sendWindow"]["start"], "2026-12-07T08:00:00Z");
    assert_eq!(c["sendWindow"]["end"], "2026-12-12T08:00:00Z");
    assert_eq!(c["createdAt"], NOW);
    let id = c["id"].as_str().unwrap();

    let (status, ct, got) = e.get(&format!("/v1/campaigns/{id}"), &e.rep).await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    assert_eq!(got, c);

    let (status, _, list) = e
        .get("/v1/campaigns?brandId=B1&status=IN_REVIEW", &e.rep)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, _, list) = e
        .get("/v1/campaigns?brandId=B1&status=APPROVED", &e.rep)
        .await;
    assert!(list["items"].as_array().unwrap().is_empty());
    let (status, _, _) = e.get("/v1/campaigns?status=NOPE", &e.rep).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn every_violation_comes_at_once_with_rule_policy_and_field() {
    let e = env().await;
    let mut bad = valid();
    bad["complementaryAsins"] = json!([
        "B0ENGAGE02",
        "B0ENGAGE03",
        "B0ENGAGE04",
        "B0ENGAGE05",
        "B0ENGAGE06"
    ]);
    bad["subject"] = json!("Visit mybrand dot com today");
    bad["sectionHeader"] = json!("Write to deals@mybrand.com");
    bad["logo"]["width"] = json!(300);
    bad["startDate"] = json!("2026-11-29");
    bad["promotionId"] = json!("P-SHORT");

    let (status, _, v) = e.post("/v1/campaigns/validate", &e.rep, &bad).await;
    assert_eq!(status, 200);
    assert_eq!(v["valid"], false);
    assert_eq!(v["policy"], "campaign@2026-11-01");
    let ids = fired(&v);
    for rule in [
        "R-MYCE-6.count",
        "R-MYCE-9.aspect",
        "R-MYCE-13.lead",
        "R-MYCE-11.ends",
        "R-MYCE-11.starts",
    ] {
        assert!(ids.iter().any(|i| i == rule), "{rule} missing from {ids:?}");
    }
    let subject: Vec<&Value> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["field"] == "subject")
        .collect();
    assert!(
        !subject.is_empty(),
        "the content policy names the subject: {v}"
    );
    assert!(subject.iter().all(|x| x["policy"] == "content@2026-11-01"));
    assert!(
        v["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["field"] == "sectionHeader")
    );

    let (status, ct, p) = e.post("/v1/campaigns", &e.rep, &bad).await;
    assert_eq!((status, ct.as_str()), (422, "application/problem+json"));
    assert_eq!(p["policy"], "campaign@2026-11-01");
    assert_eq!(fired(&p), ids);
    let (_, _, list) = e.get("/v1/campaigns?brandId=B1", &e.rep).await;
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "nothing stored on 422"
    );
}

#[tokio::test]
async fn header_injection_and_a_brand_without_followers_are_refused() {
    let e = env().await;
    let mut bad = valid();
    bad["subject"] = json!("Hello\r\nBcc: everyone@example.com");
    bad["brandId"] = json!("B3");
    bad["promotionId"] = Value::Null;
    let (status, _, p) = e.post("/v1/campaigns", &e.rep, &bad).await;
    assert_eq!(status, 422, "{p}");
    let ids = fired(&p);
    assert!(ids.iter().any(|i| i.starts_with("R-MAIL-4")), "{ids:?}");
    assert!(ids.iter().any(|i| i == "R-MYCE-1.followers"), "{ids:?}");
}

#[tokio::test]
async fn malformed_bodies_are_400_and_oversized_413() {
    let e = env().await;
    let resp = e
        .http
        .post(e.server.url("/v1/campaigns"))
        .bearer_auth(&e.rep)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");

    let mut wrong = valid();
    wrong["startDate"] = json!(5);
    assert_eq!(e.post("/v1/campaigns", &e.rep, &wrong).await.0, 400);
    let mut unknown = valid();
    unknown["colour"] = json!("red");
    assert_eq!(e.post("/v1/campaigns", &e.rep, &unknown).await.0, 400);
    let mut huge = valid();
    huge["nickname"] = json!("x".repeat(70_000)); // over the 64 KiB limit, under socket buffers: the 413 is read, not a reset
    let (status, ct, _) = e.post("/v1/campaigns", &e.rep, &huge).await;
    assert_eq!((status, ct.as_str()), (413, "application/problem+json"));
    let (status, ct, _) = e
        .server
        .post("/v1/campaigns", None, valid().to_string())
        .await;
    assert_eq!((status, ct.as_str()), (401, "application/problem+json"));
}

#[tokio::test]
async fn idempotency_key_replays_and_refuses_another_body() {
    let e = env().await;
    let post = |body: Value, key: &'static str| {
        let req = e
            .http
            .post(e.server.url("/v1/campaigns"))
            .bearer_auth(&e.rep)
            .header("Idempotency-Key", key)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s1, first) = post(valid(), "k-1").await;
    let (s2, again) = post(valid(), "k-1").await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(first["id"], again["id"]);
    let mut other = valid();
    other["nickname"] = json!("another");
    let (s3, p) = post(other, "k-1").await;
    assert_eq!(s3, 422, "{p}");

    // Concurrent repeats of a new key create one campaign.
    let results = futures::future::join_all(vec![
        post(valid(), "k-2"),
        post(valid(), "k-2"),
        post(valid(), "k-2"),
        post(valid(), "k-2"),
    ])
    .await;
    let created: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert!(!created.is_empty());
    assert!(created.iter().all(|b| b["id"] == created[0]["id"]));
    assert!(
        results.iter().all(|(s, _)| *s == 201 || *s == 409),
        "{results:?}"
    );
    let (_, _, list) = e.get("/v1/campaigns?brandId=B1", &e.rep).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "one per key");
}

#[tokio::test]
async fn tenant_isolation_on_every_campaign_route() {
    let e = env().await;
    let c = e.submit(&valid()).await;
    let id = c["id"].as_str().unwrap();
    for path in [
        format!("/v1/campaigns/{id}"),
        "/v1/campaigns?brandId=B1".into(),
        "/v1/brands/B1/calendar".into(),
        "/v1/brands/B1/promotions".into(),
    ] {
        let (status, ct, _) = e.get(&path, &e.other).await;
        assert_eq!(
            (status, ct.as_str()),
            (404, "application/problem+json"),
            "{path}"
        );
    }
    let (status, _, _) = e
        .post(&format!("/v1/campaigns/{id}/cancel"), &e.other, &json!({}))
        .await;
    assert_eq!(status, 404);
    let mut theirs = valid();
    theirs["brandId"] = json!("B1");
    assert_eq!(e.post("/v1/campaigns", &e.other, &theirs).await.0, 404);
    assert_eq!(
        e.post("/v1/campaigns/validate", &e.other, &theirs).await.0,
        404
    );
    // Their own list does not show B1's campaign.
    let (_, _, list) = e.get("/v1/campaigns", &e.other).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    // Another brand's promotion is unknown to B1.
    let mut foreign = valid();
    foreign["promotionId"] = json!("P-B2");
    let (status, _, p) = e.post("/v1/campaigns", &e.rep, &foreign).await;
    assert_eq!(status, 422);
    assert!(fired(&p).contains(&"R-MYCE-11.promotion".to_owned()), "{p}");
}

#[tokio::test]
async fn moderation_roles_and_conflicts() {
    let e = env().await;
    let id = e.submit(&valid()).await["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/campaigns/{id}/moderation");
    let (status, ct, _) = e.post(&path, &e.rep, &json!({"decision": "approve"})).await;
    assert_eq!((status, ct.as_str()), (403, "application/problem+json"));
    assert_eq!(
        e.post(&path, &e.moderator, &json!({"decision": "maybe"}))
            .await
            .0,
        400
    );
    assert_eq!(
        e.post(&path, &e.moderator, &json!({"decision": "reject"}))
            .await
            .0,
        400
    );
    let (status, _, c) = e
        .post(&path, &e.moderator, &json!({"decision": "approve"}))
        .await;
    assert_eq!((status, c["status"].as_str()), (200, Some("APPROVED")));
    let (status, ct, _) = e
        .post(
            &path,
            &e.moderator,
            &json!({"decision": "reject", "reasons": ["late"]}),
        )
        .await;
    assert_eq!((status, ct.as_str()), (409, "application/problem+json"));
    assert_eq!(
        e.post(
            "/v1/campaigns/nope/moderation",
            &e.moderator,
            &json!({"decision": "approve"})
        )
        .await
        .0,
        404
    );

    let id2 = e.submit(&valid()).await["id"].as_str().unwrap().to_owned();
    let (status, _, c) = e
        .post(
            &format!("/v1/campaigns/{id2}/moderation"),
            &e.moderator,
            &json!({"decision": "reject", "reasons": ["logo is blurry"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["status"], "NOT_APPROVED");
    assert_eq!(c["statusReason"], "logo is blurry");
    // Submitting needs the brand representative role.
    let (status, _, _) = e.post("/v1/campaigns", &e.moderator, &valid()).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn cancel_then_conflict() {
    let e = env().await;
    let id = e.submit(&valid()).await["id"].as_str().unwrap().to_owned();
    let (status, _, c) = e
        .post(&format!("/v1/campaigns/{id}/cancel"), &e.rep, &json!({}))
        .await;
    assert_eq!((status, c["status"].as_str()), (200, Some("CANCELLED")));
    let (status, ct, _) = e
        .post(&format!("/v1/campaigns/{id}/cancel"), &e.rep, &json!({}))
        .await;
    assert_eq!((status, ct.as_str()), (409, "application/problem+json"));
    assert_eq!(
        e.post("/v1/campaigns/unknown/cancel", &e.rep, &json!({}))
            .await
            .0,
        404
    );
}

fn availability(cal: &Value, date: &str) -> (String, Vec<String>) {
    let day = cal["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == date)
        .unwrap();
    let reasons = day["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap().to_owned())
        .collect();
    (day["availability"].as_str().unwrap().to_owned(), reasons)
}

#[tokio::test]
async fn calendar_grey_green_yellow() {
    let e = env().await;
    let cal = e
        .get_ok("/v1/brands/B1/calendar?from=2026-11-26&to=2026-12-20")
        .await;
    assert_eq!(cal["policy"], "campaign@2026-11-01");
    assert_eq!(cal["days"].as_array().unwrap().len(), 25);
    // Less than 6 days away: grey.
    assert_eq!(
        availability(&cal, "2026-12-01"),
        ("unavailable".into(), vec!["R-MYCE-13.lead".into()])
    );
    assert_eq!(availability(&cal, "2026-12-02").0, "available");

    // Issue 12, R-MYCE-13: a campaign the brand created (still in review) starting
    // 12-07 makes every date less than the send policy's frequency cap (7 days)
    // before or after it yellow, the reason naming it; 7 days apart is green.
    let id = e.submit(&valid()).await["id"].as_str().unwrap().to_owned();
    for moderated in [false, true] {
        if moderated {
            e.post(
                &format!("/v1/campaigns/{id}/moderation"),
                &e.moderator,
                &json!({"decision": "approve"}),
            )
            .await;
        }
        let (_, _, cal) = e
            .get(
                "/v1/brands/B1/calendar?from=2026-11-26&to=2026-12-20",
                &e.rep,
            )
            .await;
        for date in ["2026-12-02", "2026-12-03", "2026-12-12", "2026-12-13"] {
            assert_eq!(
                availability(&cal, date),
                ("overlap".into(), vec!["R-MYCE-13.overlap".into()]),
                "{date}"
            );
        }
        assert_eq!(availability(&cal, "2026-12-14").0, "available");
        let day = cal["days"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["date"] == "2026-12-12")
            .unwrap();
        let message = day["reasons"][0]["message"].as_str().unwrap();
        assert!(message.contains("December spotlight"), "{message}");
    }

    // With a theme, dates outside the event are grey; with a promotion, dates it does not cover.
    let (_, _, cal) = e
        .get(
            "/v1/brands/B1/calendar?from=2026-12-02&to=2026-12-31&theme=holiday_gift_guide",
            &e.rep,
        )
        .await;
    assert_eq!(availability(&cal, "2026-12-24").0, "available");
    assert_eq!(
        availability(&cal, "2026-12-25"),
        ("unavailable".into(), vec!["R-MYCE-15.theme".into()])
    );
    let (_, _, cal) = e
        .get(
            "/v1/brands/B1/calendar?from=2026-12-02&to=2026-12-31&promotionId=P-OK",
            &e.rep,
        )
        .await;
    assert_eq!(availability(&cal, "2026-12-25").0, "available");
    let (state, reasons) = availability(&cal, "2026-12-26");
    assert_eq!(state, "unavailable");
    assert!(reasons.contains(&"R-MYCE-11.ends".into()), "{reasons:?}");

    for bad in [
        "from=2026-13-01",
        "from=2026-12-10&to=2026-12-01",
        "from=2026-01-01&to=2027-06-01",
        "theme=nope",
        "promotionId=P-B2",
    ] {
        let (status, ct, _) = e
            .get(&format!("/v1/brands/B1/calendar?{bad}"), &e.rep)
            .await;
        assert_eq!(
            (status, ct.as_str()),
            (400, "application/problem+json"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn eligible_promotions_each_with_its_reasons() {
    let e = env().await;
    let r = e
        .get_ok("/v1/brands/B1/promotions?asin=B0ENGAGE01&startDate=2026-12-07")
        .await;
    assert_eq!(r["policy"], "promotion@2026-11-01");
    let eligible = crate::common::sorted_field(&r, "eligible", "promotionId");
    assert_eq!(eligible, ["P-OK"]);
    let reasons = |id: &str| -> Vec<String> {
        r["ineligible"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["promotionId"] == id)
            .unwrap()["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(reasons("P-SHORT"), vec!["R-MYCE-11.ends"]);
    assert_eq!(reasons("P-LIGHTNING"), vec!["R-MYCE-11.type"]);
    assert_eq!(reasons("P-NEW"), vec!["R-MYCE-11.age"]);
    assert!(
        !r.to_string().contains("P-B2"),
        "another brand's promotion never shows"
    );

    // With Black Friday as theme, P-OK (from 12-01) no longer runs during the event.
    let (_, _, r) = e
        .get(
            "/v1/brands/B1/promotions?asin=B0ENGAGE01&startDate=2026-12-07&theme=black_friday",
            &e.rep,
        )
        .await;
    assert!(r["eligible"].as_array().unwrap().is_empty(), "{r}");
}

/// Every object key of a JSON value, nested ones included.
fn all_keys(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| std::iter::once(k.clone()).chain(all_keys(v)))
            .collect(),
        serde_json::Value::Array(items) => items.iter().flat_map(all_keys).collect(),
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn themes_are_listed_for_any_caller() {
    let e = env().await;
    let (status, _, t) = e.get("/v1/themes", &e.moderator).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    for id in [
        "black_friday",
        "cyber_monday",
        "holiday_gift_guide",
        "valentines_day",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    assert_eq!(t["items"][0]["start"], "2026-11-20");
    // The email's colours, in camelCase like every key of the API's JSON.
    let colors = &t["items"][0]["colors"];
    for key in ["primary", "accent", "headerDark", "headerLight"] {
        let colour = colors[key].as_str().unwrap_or_default();
        assert!(
            colour.len() == 7 && colour.starts_with('#'),
            "{key}: {colors}"
        );
    }
    assert!(
        all_keys(&t).iter().all(|k| !k.contains('_')),
        "a snake_case key: {t}"
    );
    let (status, _, _) = e
        .server
        .send(reqwest::Method::GET, "/v1/themes", None, None)
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn preview_is_the_rendered_email() {
    let e = env().await;
    let id = e.submit(&valid()).await["id"].as_str().unwrap().to_owned();
    let resp = e.preview(&id).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = resp.text().await.unwrap();
    assert!(html.contains("New from a brand you follow"));
    assert!(
        html.to_lowercase().contains("7-day deal"),
        "the promotion badge"
    );
    assert!(
        html.contains("#5c0a18"),
        "the holiday theme's dark header colour"
    );
    assert!(html.contains("https://img.example/life.jpg"));
    assert!(html.contains("B0ENGAGE03"));
    assert!(html.to_lowercase().contains("unsubscribe"));
    let (status, ct, _) = e
        .get(&format!("/v1/campaigns/{id}/preview"), &e.other)
        .await;
    assert_eq!((status, ct.as_str()), (404, "application/problem+json"));
}

#[tokio::test]
async fn dates_outside_2000_to_2100_are_400_naming_the_field() {
    let e = env().await;
    // A request that never answers fails here instead of hanging the suite.
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    let cases = [
        (
            "/v1/brands/B1/calendar?from=%2B262142-12-31&to=%2B262142-12-31",
            "from",
        ),
        ("/v1/brands/B1/calendar?from=2026-12-01&to=2101-01-01", "to"),
        ("/v1/brands/B1/calendar?from=1999-12-31", "from"),
        (
            "/v1/brands/B1/promotions?asin=B0ENGAGE01&startDate=2150-01-01",
            "startDate",
        ),
        ("/v1/reviews?brandId=B1&from=1999-12-31", "from"),
        ("/v1/reviews?brandId=B1&to=2101-01-01T00:00:00Z", "to"),
    ];
    for (path, field) in cases {
        let resp = http
            .get(e.server.url(path))
            .bearer_auth(&e.rep)
            .send()
            .await
            .unwrap_or_else(|err| panic!("{path}: {err}"));
        assert_eq!(resp.status(), 400, "{path}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let p: Value = resp.json().await.unwrap();
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(field), "{path}: {detail}");
        assert!(detail.contains("2000 to 2100"), "{path}: {detail}");
    }
    for start in ["2101-01-01", "1999-12-31", "+262142-12-31"] {
        let mut body = valid();
        body["startDate"] = json!(start);
        for route in ["/v1/campaigns", "/v1/campaigns/validate"] {
            let (status, ct, p) = e.post(route, &e.rep, &body).await;
            assert_eq!(
                (status, ct.as_str()),
                (400, "application/problem+json"),
                "{start}: {p}"
            );
            let detail = p["detail"].as_str().unwrap();
            assert!(detail.contains("startDate"), "{detail}");
            assert!(detail.contains("2000 to 2100"), "{detail}");
        }
    }
    // The last day of the bounds still answers, with every day of the span.
    let cal = e
        .get_ok("/v1/brands/B1/calendar?from=2100-12-30&to=2100-12-31")
        .await;
    assert_eq!(cal["days"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_idempotent_replay_is_authorized_first() {
    let e = env().await;
    let post = |tok: String| {
        let req = e
            .http
            .post(e.server.url("/v1/campaigns"))
            .bearer_auth(tok)
            .header("Idempotency-Key", "k-auth")
            .json(&valid());
        async move {
            let r = req.send().await.unwrap();
            let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
            (r.status().as_u16(), ct, r.json::<Value>().await.unwrap())
        }
    };
    let (status, _, first) = post(e.rep.clone()).await;
    assert_eq!(status, 201, "{first}");
    // The same selling account, the same key and body: a caller without the role,
    // or without the brand, never gets the stored answer.
    let no_role = token("S1", &["B1"], &["moderator"]);
    let (status, ct, p) = post(no_role).await;
    assert_eq!(
        (status, ct.as_str()),
        (403, "application/problem+json"),
        "{p}"
    );
    let other_brand = token("S1", &["B3"], &["brand_representative"]);
    let (status, ct, p) = post(other_brand).await;
    assert_eq!(
        (status, ct.as_str()),
        (404, "application/problem+json"),
        "{p}"
    );
    // The rightful caller still gets the replay.
    let (status, _, again) = post(e.rep.clone()).await;
    assert_eq!((status, again["id"].clone()), (201, first["id"].clone()));
}

#[tokio::test]
async fn every_campaign_the_policies_accept_renders() {
    let e = env().await;
    type Edit = fn(&mut Value);
    // (what, edit, rules that must fire; none = accepted)
    let cases: Vec<(&str, Edit, &[&str])> = vec![
        (
            "a space in the lifestyle image url",
            |c| c["lifestyleImage"]["url"] = json!("https://img.example/life style.jpg"),
            &["R-MYCE-5.url_syntax"],
        ),
        (
            "a tab in the logo url",
            |c| c["logo"]["url"] = json!("https://img.example/lo\tgo.png"),
            &["R-MYCE-9.url_syntax"],
        ),
        (
            "a logo of 0 x 0",
            |c| {
                c["logo"]["width"] = json!(0);
                c["logo"]["height"] = json!(0);
            },
            &["R-MYCE-9.size"],
        ),
        (
            "a vertical tab in the subject",
            |c| c["subject"] = json!("Gifts\u{000B}they will love"),
            &["R-MAIL-4.control_character"],
        ),
        (
            "an escape in the section header",
            |c| c["sectionHeader"] = json!("New\u{001B}from a brand you follow"),
            &["R-MAIL-4.control_character"],
        ),
        (
            "a bell in the nickname",
            |c| c["nickname"] = json!("December\u{0007}spotlight"),
            &["R-MYCE-10.control"],
        ),
        (
            "a C1 control in the subject",
            |c| c["subject"] = json!("Gifts\u{0085}they will love"),
            &["R-MAIL-4.control_character"],
        ),
        // Accepted, so they must render.
        ("the reference campaign", |_| {}, &[]),
        (
            "a tab in the subject (mail headers allow it)",
            |c| c["subject"] = json!("Gifts\tthey will love"),
            &[],
        ),
        (
            "non-ASCII, a query and a fragment in the urls",
            |c| {
                c["lifestyleImage"]["url"] = json!("https://img.example/été.jpg?w=1200&h=800#x");
                c["logo"]["url"] = json!("https://img.example/logo.png?v=\"2\"<>");
            },
            &[],
        ),
        (
            "a huge logo",
            |c| {
                c["logo"]["width"] = json!(u32::MAX);
                c["logo"]["height"] = json!(1);
            },
            &[],
        ),
    ];
    for (what, edit, expected) in cases {
        let mut body = valid();
        edit(&mut body);
        let (status, _, answer) = e.post("/v1/campaigns", &e.rep, &body).await;
        if expected.is_empty() {
            assert_eq!(status, 201, "{what}: {answer}");
            let id = answer["id"].as_str().unwrap();
            let resp = e.preview(id).await;
            assert_eq!(resp.status(), 200, "{what}: {}", resp.text().await.unwrap());
        } else {
            assert_eq!(status, 422, "{what}: {answer}");
            assert_eq!(fired(&answer), expected, "{what}");
        }
    }
}

/// Issue 12: "N days" are marketplace calendar days across a clock change: the
/// coupon ending 2027-03-16 00:30 PDT is eligible for a campaign starting 2027-03-10.
#[tokio::test]
async fn a_promotion_ending_on_the_sixth_date_across_the_march_clock_change_is_eligible() {
    let e = env().await;
    let r = e
        .get_ok("/v1/brands/B1/promotions?asin=B0ENGAGE01&startDate=2027-03-10")
        .await;
    let eligible = crate::common::sorted_field(&r, "eligible", "promotionId");
    assert_eq!(eligible, ["P-DST"], "{r}");
}

/// Issue 12, R-MSG-9: sentence boundaries are not web addresses; web-address parts are.
#[tokio::test]
async fn ordinary_sentences_pass_the_web_address_rule_and_address_parts_do_not() {
    let e = env().await;
    for subject in [
        "Holiday gifts. Shop early for the best picks",
        "Cadeaux de Noël. Store occultant, net et précis",
    ] {
        let mut body = valid();
        body["subject"] = json!(subject);
        let (status, _, v) = e.post("/v1/campaigns/validate", &e.rep, &body).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["valid"], true, "{subject}: {v}");
    }
    for subject in [
        "Gifts at acme.shop",
        "Gifts at acme dot com",
        "Gifts: www acme",
    ] {
        let mut body = valid();
        body["subject"] = json!(subject);
        let (_, _, v) = e.post("/v1/campaigns/validate", &e.rep, &body).await;
        let rules: Vec<&str> = v["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["rule"].as_str().unwrap())
            .collect();
        assert!(rules.contains(&"R-MSG-9.web_address"), "{subject}: {v}");
    }
}

/// A claimed `Idempotency-Key` whose request died (claimed, never completed nor
/// released) holds the key for its lease only, on the business clock: a repeat after
/// the lease takes the key over and creates the campaign (once), instead of meeting the
/// dead claim for the key's 24 hours of retention.
#[tokio::test]
async fn a_dead_idempotency_claim_expires_after_its_lease() {
    use engage::store::IdempotencyStore;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed(&data).await;
    {
        let store = EmbeddedStore::open(&data).unwrap();
        let claimed = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc()
            - chrono::Duration::seconds(engage::app::campaigns::IDEMPOTENCY_LEASE_SECONDS + 1);
        store
            .begin(
                "campaigns:S1",
                "k-dead",
                "the hash of a request that died",
                claimed,
                chrono::Duration::seconds(engage::app::campaigns::IDEMPOTENCY_LEASE_SECONDS),
                chrono::Duration::hours(engage::app::campaigns::IDEMPOTENCY_RETENTION_HOURS),
            )
            .await
            .unwrap();
    }
    let server = Server::start_over(dir, &["--now", NOW]);
    let rep = token("S1", &["B1"], &["brand_representative"]);
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = http
            .post(server.url("/v1/campaigns"))
            .bearer_auth(&rep)
            .header("Idempotency-Key", "k-dead")
            .json(&valid())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].clone());
    }
    assert_eq!(ids[0], ids[1], "the repeat replays the first");
}

/// Issue 13: a keyed submission the rules refuse is a decision like a creation: its
/// repeat replays the same 422 problem, body for body the one an unkeyed submission
/// answers (the use case stores the refusal, the api renders it).
#[tokio::test]
async fn a_keyed_refusal_replays_the_same_422_problem() {
    let e = env().await;
    let mut bad = valid();
    bad["subject"] = json!("Shop northwind dot com");
    let post = |key: Option<&'static str>| {
        let mut req = e
            .http
            .post(e.server.url("/v1/campaigns"))
            .bearer_auth(&e.rep)
            .json(&bad);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        async move {
            let r = req.send().await.unwrap();
            let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
            (r.status().as_u16(), ct, r.json::<Value>().await.unwrap())
        }
    };
    let first = post(Some("k-refused")).await;
    let again = post(Some("k-refused")).await;
    let unkeyed = post(None).await;
    assert_eq!(first.0, 422, "{}", first.2);
    assert_eq!(first.1, "application/problem+json");
    assert_eq!(
        first.2["type"],
        "https://engage.dev/problems/rules-violated"
    );
    assert_eq!(first.2["title"], "Unprocessable Entity");
    assert_eq!(first.2["status"], 422);
    assert!(fired(&first.2).contains(&"R-MSG-9.web_address".to_owned()));
    assert_eq!(again, first);
    assert_eq!(unkeyed, first);
}

/// Issue 13: replays stored before submissions were stored as typed outcomes (the
/// answer's `{status, body}`) still answer what they stored, for the keys' retention
/// after an upgrade.
#[tokio::test]
async fn replays_stored_as_status_and_body_still_answer_as_stored() {
    use engage::store::IdempotencyStore;
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed(&data).await;
    let mut bad = valid();
    bad["subject"] = json!("Shop northwind dot com");
    let campaign = serde_json::to_value(crate::common::campaign(
        "7a1d5c8e-0000-4000-8000-000000000001",
        "B1",
        crate::common::t(NOW),
    ))
    .unwrap();
    let problem = json!({"type": "https://engage.dev/problems/rules-violated",
        "title": "Unprocessable Entity", "status": 422, "detail": "the campaign breaks 1 rule(s) of campaign@2026-11-01",
        "policy": "campaign@2026-11-01",
        "violations": [{"rule": "R-MSG-9.web_address", "message": "no web address", "policy": "content@2026-11-01", "field": "subject"}]});
    {
        let store = EmbeddedStore::open(&data).unwrap();
        let hours = chrono::Duration::hours(engage::app::campaigns::IDEMPOTENCY_RETENTION_HOURS);
        for (key, input, stored) in [
            (
                "k-old-201",
                valid(),
                json!({"status": 201, "body": campaign}),
            ),
            (
                "k-old-422",
                bad.clone(),
                json!({"status": 422, "body": problem}),
            ),
        ] {
            // The request hash the use case computes: sha256 of the parsed body.
            let input: engage::app::campaigns::CampaignInput =
                serde_json::from_value(input).unwrap();
            let hash: String = sha2::Sha256::digest(serde_json::to_vec(&input).unwrap())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let at = crate::common::t(NOW) - chrono::Duration::hours(1);
            store
                .begin("campaigns:S1", key, &hash, at, hours, hours)
                .await
                .unwrap();
            store.complete("campaigns:S1", key, &stored).await.unwrap();
        }
    }
    let mut server = Server::start_in(&data, &dir.path().join("outbox"), &["--now", NOW]);
    server.keep(dir);
    let rep = token("S1", &["B1"], &["brand_representative"]);
    let http = reqwest::Client::new();
    for (key, body, status, expected) in [
        ("k-old-201", valid(), 201, &campaign),
        ("k-old-422", bad, 422, &problem),
    ] {
        let r = http
            .post(server.url("/v1/campaigns"))
            .bearer_auth(&rep)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{key}");
        assert_eq!(&r.json::<Value>().await.unwrap(), expected, "{key}");
    }
}
