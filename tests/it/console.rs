//! The brand console (issue 15): its static files as `engage serve` serves them, and the
//! reach forecast `GET /v1/brands/{brandId}/reach` (counts by hand, the send policy's
//! cap at its boundary, every bad input a problem). The browser walk is tests/console.sh.

use std::sync::Arc;

use chrono::NaiveDate;
use engage::app::App;
use engage::app::reach::{self, PAGE};
use engage::auth::Caller;
use engage::domain::campaign::{CampaignStatus, SendWindow};
use engage::domain::suppression::{Suppression, SuppressionReason, SuppressionScope};
use engage::domain::{BrandId, CustomerId};
use engage::store::{Entity, Store};
use serde_json::Value;

use crate::common::{self, t};
use crate::server::{Server, content_type, token};

const NOW: &str = "2026-12-01T12:00:00Z";

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn rep() -> Caller {
    common::rep(&["B1"])
}

/// A campaign of `brand` opening at local midnight (Pacific, PST: 08:00Z) of `start`.
async fn campaign(s: &Arc<dyn Store>, id: &str, brand: &str, start: &str, status: CampaignStatus) {
    let mut c = common::campaign(id, brand, t("2026-11-20T00:00:00Z"));
    c.start_date = date(start);
    c.send_window = SendWindow {
        start: t(&format!("{start}T08:00:00Z")),
        end: t(&format!("{start}T08:00:00Z")) + chrono::Duration::days(5),
    };
    c.status = status;
    s.create_campaign(&c).await.unwrap();
}

/// Brand B1 with `n` followers (enough for several store pages), of whom c0 unfollowed,
/// c1 unsubscribed and c2 bounced; campaign A (approved) opens 2026-12-10; a cancelled
/// campaign and another brand's campaign on the same day must not count.
async fn sample(n: usize) -> (Arc<dyn Store>, tempfile::TempDir) {
    let (s, dir) = common::embedded();
    common::brand(&*s, "B1", "Northwind").await;
    for i in 0..n {
        let mut f = common::follower("B1", &format!("c{i}"), t("2026-11-01T00:00:00Z"));
        f.unfollowed = i == 0;
        s.upsert(&Entity::Follower(f)).await.unwrap();
    }
    for (customer, reason, scope) in [
        (
            "c1",
            SuppressionReason::Unsubscribe,
            Some(SuppressionScope::Campaign),
        ),
        ("c2", SuppressionReason::Bounce, None),
    ] {
        let sup = Suppression::new(
            BrandId::new("B1"),
            CustomerId::new(customer),
            reason,
            scope,
            t("2026-11-15T00:00:00Z"),
        );
        s.suppress(&sup).await.unwrap();
    }
    campaign(&s, "A", "B1", "2026-12-10", CampaignStatus::Approved).await;
    campaign(&s, "X", "B1", "2026-12-10", CampaignStatus::Cancelled).await;
    campaign(&s, "OTHER", "B2", "2026-12-10", CampaignStatus::Approved).await;
    (s, dir)
}

fn app(s: &Arc<dyn Store>) -> App {
    common::app(Arc::clone(s), t(NOW))
}

#[tokio::test]
async fn reach_counts_each_follower_once_over_several_pages() {
    let n = 2 * PAGE + 7;
    let (s, _d) = sample(n).await;
    let app = app(&s);
    let followers = (n - 1) as u64;

    // Opens two days after A: A's cap (7 days, the send policy's) holds.
    let r = reach::reach(&app, &rep(), "B1", date("2026-12-12"))
        .await
        .unwrap();
    assert_eq!(r.followers, followers, "c0 unfollowed is not a follower");
    assert_eq!((r.unsubscribed, r.suppressed), (1, 1));
    assert_eq!(r.capped_by_other_campaigns, followers - 2);
    assert_eq!(r.reachable, 0);
    assert_eq!(r.policy, "send@2026-11-01");
    let ids: Vec<&str> = r.capping_campaigns.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["A"],
        "cancelled and other brands' campaigns do not cap"
    );
    assert_eq!(r.capping_campaigns[0].cap_until, t("2026-12-17T08:00:00Z"));

    // Seven dates after A: the cap is over at local midnight, as the send path's.
    let r = reach::reach(&app, &rep(), "B1", date("2026-12-17"))
        .await
        .unwrap();
    assert_eq!(r.capped_by_other_campaigns, 0);
    assert_eq!(r.reachable, followers - 2);
    let r = reach::reach(&app, &rep(), "B1", date("2026-12-16"))
        .await
        .unwrap();
    assert_eq!(r.reachable, 0);

    // Opening before A: this campaign takes the cap first and loses nobody.
    let r = reach::reach(&app, &rep(), "B1", date("2026-12-08"))
        .await
        .unwrap();
    assert_eq!(
        (r.reachable, r.capped_by_other_campaigns),
        (followers - 2, 0)
    );
    assert_eq!(
        r.followers,
        r.reachable + r.unsubscribed + r.suppressed + r.capped_by_other_campaigns
    );
}

#[tokio::test]
async fn a_sent_campaign_caps_until_its_cap_ends() {
    let (s, _d) = sample(5).await;
    campaign(&s, "S", "B1", "2026-11-27", CampaignStatus::Sent).await;
    let app = app(&s);
    let r = reach::reach(&app, &rep(), "B1", date("2026-12-03"))
        .await
        .unwrap();
    assert_eq!(r.capped_by_other_campaigns, 2);
    assert_eq!(r.capping_campaigns[0].id.as_str(), "S");
    let r = reach::reach(&app, &rep(), "B1", date("2026-12-04"))
        .await
        .unwrap();
    assert_eq!(r.reachable, 2);
}

#[tokio::test]
async fn serve_gives_the_console_at_the_root_with_a_strict_policy() {
    let server = Server::start(&[]);
    let http = reqwest::Client::new();
    for (path, kind) in [
        ("/", "text/html"),
        ("/index.html", "text/html"),
        ("/app.js", "text/javascript"),
        ("/style.css", "text/css"),
    ] {
        let r = http.get(server.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(content_type(&r).starts_with(kind), "{path}: {r:?}");
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self';",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let body = r.text().await.unwrap();
        assert!(!body.is_empty());
    }
    // The page loads only its own files: no inline script a policy would have to allow.
    let page = http.get(server.url("/")).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="app.js" defer></script>"#));
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("onclick=") && !html.contains("style=\""));

    // The API is unchanged: an unknown path is still a problem.
    let r = http.get(server.url("/nothing")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(content_type(&r), "application/problem+json");
}

#[tokio::test]
async fn the_reach_route_answers_problems_for_bad_input() {
    let server = Server::start(&[]);
    let http = reqwest::Client::new();
    let rep = token("S1", &["B1"], &["brand_representative"]);
    let moderator = token("OPS", &["B1"], &["moderator"]);
    let get = |path: &str, bearer: Option<&str>| {
        let mut req = http.get(server.url(path));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        req.send()
    };
    let r = get("/v1/brands/B1/reach?startDate=2026-12-07", Some(&rep))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    for field in [
        "followers",
        "reachable",
        "unsubscribed",
        "suppressed",
        "cappedByOtherCampaigns",
    ] {
        assert_eq!(body[field], 0, "{field}: {body}");
    }
    for (path, bearer, status) in [
        ("/v1/brands/B1/reach", Some(&rep), 400),
        ("/v1/brands/B1/reach?startDate=", Some(&rep), 400),
        ("/v1/brands/B1/reach?startDate=2026-13-01", Some(&rep), 400),
        ("/v1/brands/B1/reach?startDate=1999-12-31", Some(&rep), 400),
        (
            "/v1/brands/B1/reach?startDate=x&startDate=y",
            Some(&rep),
            400,
        ),
        ("/v1/brands/B2/reach?startDate=2026-12-07", Some(&rep), 404),
        (
            "/v1/brands/B1/reach?startDate=2026-12-07",
            Some(&moderator),
            403,
        ),
        ("/v1/brands/B1/reach?startDate=2026-12-07", None, 401),
    ] {
        let r = get(path, bearer.map(String::as_str)).await.unwrap();
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(content_type(&r), "application/problem+json", "{path}");
    }
}

#[test]
fn cloudfront_sends_the_same_policy_as_engage_serve() {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/infra/template.yaml"))
            .unwrap();
    let line = template
        .lines()
        .find(|l| l.trim_start().starts_with("ContentSecurityPolicy: \""))
        .expect("the console's response headers policy");
    let value = line.trim().trim_start_matches("ContentSecurityPolicy: ");
    assert_eq!(value.trim_matches('"'), engage::api::console::CSP);
}
