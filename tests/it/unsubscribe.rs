//! One-click unsubscribe through the real `engage serve` (R-MAIL-1, R-MAIL-2,
//! RFC 8058): no bearer token, POST answers 200 with no redirect and no cookie and
//! suppresses the customer for the brand at once (read back from the shared data
//! folder), repeats are 200, GET shows a page with a form and changes nothing,
//! forged or garbage tokens are 404 problem+json, and a link signed by one process
//! works in another that shares the secret.

use crate::server;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::server::Server;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use engage::config::Config;
use engage::domain::suppression::{SuppressionReason, SuppressionScope};
use engage::domain::{BrandId, CustomerId};
use engage::store::{EmbeddedStore, Entity, EntityStore};
use engage::unsubscribe::{Scope, TokenSigner};
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

const NOW: &str = "2026-11-26T12:00:00Z";

async fn seed(data: &Path) {
    let store = EmbeddedStore::open(data).unwrap();
    store
        .upsert(&Entity::Brand(
            serde_json::from_value(
                json!({"brandId": "B1", "name": "Acme & <Co>", "sellerId": "S1",
                "marketplace": "US", "hasStorePage": true, "updatedAt": "2026-11-01T00:00:00Z"}),
            )
            .unwrap(),
        ))
        .await
        .unwrap();
    for c in ["c1", "c2", "c3"] {
        store
            .upsert(&Entity::Follower(
                serde_json::from_value(json!({"brandId": "B1", "customerId": c,
                    "relayEmail": format!("{c}@relay.example"), "locale": "en-US",
                    "followedAt": "2026-11-02T00:00:00Z", "updatedAt": "2026-11-02T00:00:00Z"}))
                .unwrap(),
            ))
            .await
            .unwrap();
    }
}

/// The signer this (test) process would use: the secret from the environment, as
/// `engage serve` reads it.
fn signer() -> TokenSigner {
    TokenSigner::new(Config::from_env().unwrap().unsubscribe_secret.as_bytes())
}

fn token(customer: &str, scope: Scope) -> String {
    signer().token(
        &BrandId::new("B1"),
        &CustomerId::new(customer),
        scope,
        Utc::now(),
    )
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed(&data).await;
    Server::start_over(dir, &["--now", NOW])
}

async fn one_click(http: &reqwest::Client, url: &str) -> reqwest::Response {
    http.post(url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap()
}

fn assert_plain_200(resp: &reqwest::Response) {
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get(LOCATION).is_none(), "no redirect");
    assert!(resp.headers().get(SET_COOKIE).is_none(), "no cookie");
    let ct = resp.headers().get(CONTENT_TYPE).unwrap().to_str().unwrap();
    assert!(ct.starts_with("text/html"), "{ct}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_click_post_suppresses_at_once_and_is_idempotent() {
    let server = start().await;
    let http = http();
    let url = server.url(&format!("/v1/unsubscribe/{}", token("c1", Scope::Campaign)));

    let resp = one_click(&http, &url).await;
    assert_plain_200(&resp);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("Acme &amp; &lt;Co&gt;"),
        "brand named, escaped: {body}"
    );

    // At once: the store (shared data folder) already says so.
    let store = EmbeddedStore::open(&server.data).unwrap();
    let (b, c1) = (BrandId::new("B1"), CustomerId::new("c1"));
    let follower = store.get_follower(&b, &c1).await.unwrap().unwrap();
    assert!(follower.suppressed && !follower.reachable());
    let sup = store.get_suppression(&b, &c1).await.unwrap().unwrap();
    assert_eq!(sup.reason, SuppressionReason::Unsubscribe);
    assert_eq!(sup.scopes, vec![SuppressionScope::Campaign]);
    assert!(sup.opted_out_of_campaigns() && !sup.opted_out_of_messages());
    // Nobody else.
    let c2 = store
        .get_follower(&b, &CustomerId::new("c2"))
        .await
        .unwrap()
        .unwrap();
    assert!(c2.reachable());

    // Again, and with the page's empty-bodied form post: 200, nothing new.
    assert_plain_200(&one_click(&http, &url).await);
    let resp = http.post(&url).send().await.unwrap();
    assert_plain_200(&resp);
    assert_eq!(store.get_suppression(&b, &c1).await.unwrap().unwrap(), sup);

    // A buyer-message link of the same customer adds its scope (issue 7 tells them apart).
    let msg = server.url(&format!("/v1/unsubscribe/{}", token("c1", Scope::Message)));
    assert_plain_200(&one_click(&http, &msg).await);
    let sup = store.get_suppression(&b, &c1).await.unwrap().unwrap();
    assert_eq!(
        sup.scopes,
        vec![SuppressionScope::Campaign, SuppressionScope::Message]
    );
    assert!(sup.allows_service_messages(), "return_received still goes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_page_has_a_form_and_changes_nothing() {
    let server = start().await;
    let http = http();
    let url = server.url(&format!("/v1/unsubscribe/{}", token("c2", Scope::Message)));
    let resp = http.get(&url).send().await.unwrap();
    assert_plain_200(&resp);
    let body = resp.text().await.unwrap();
    assert!(body.contains("<form method=\"post\">"), "{body}");
    assert!(
        body.contains("name=\"List-Unsubscribe\" value=\"One-Click\""),
        "{body}"
    );
    assert!(body.contains("<button"), "{body}");
    assert!(body.contains("Acme &amp; &lt;Co&gt;"), "{body}");
    assert!(!body.contains("<Co>"), "never raw");

    let store = EmbeddedStore::open(&server.data).unwrap();
    let (b, c2) = (BrandId::new("B1"), CustomerId::new("c2"));
    assert!(
        store
            .get_follower(&b, &c2)
            .await
            .unwrap()
            .unwrap()
            .reachable(),
        "a GET (or a link scanner) unsubscribes nobody"
    );
    assert_eq!(store.get_suppression(&b, &c2).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_garbage_tokens_are_404_problems() {
    let server = start().await;
    let http = http();
    let genuine = token("c3", Scope::Campaign);
    let (payload, sig) = genuine.split_once('.').unwrap();
    let altered = URL_SAFE_NO_PAD.encode(
        String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap())
            .unwrap()
            .replace("c3", "c2"),
    );
    let other_key = TokenSigner::new(b"another secret").token(
        &BrandId::new("B1"),
        &CustomerId::new("c3"),
        Scope::Campaign,
        Utc::now(),
    );
    let long = "a".repeat(3000);
    for bad in [
        "preview".to_owned(),
        "nope".to_owned(),
        "a.b".to_owned(),
        format!("{altered}.{sig}"),
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
        other_key,
        long,
        "%E2%9C%93.%00".to_owned(),
        "%FF%FE".to_owned(),
    ] {
        let url = server.url(&format!("/v1/unsubscribe/{bad}"));
        for resp in [
            http.get(&url).send().await.unwrap(),
            one_click(&http, &url).await,
        ] {
            assert_eq!(resp.status(), 404, "{bad}");
            assert_eq!(
                resp.headers().get(CONTENT_TYPE).unwrap(),
                "application/problem+json",
                "{bad}"
            );
            let p: Value = resp.json().await.unwrap();
            assert_eq!(p["status"], 404);
            assert_eq!(p["detail"], "unknown or invalid unsubscribe link", "{bad}");
        }
    }
    // Nobody was suppressed by any of it.
    let store = EmbeddedStore::open(&server.data).unwrap();
    for c in ["c2", "c3"] {
        assert!(
            store
                .get_follower(&BrandId::new("B1"), &CustomerId::new(c))
                .await
                .unwrap()
                .unwrap()
                .reachable()
        );
    }
}

/// `engage serve` with `ENGAGE_UNSUBSCRIBE_SECRET` set, on port 0; killed on drop.
struct SecretServer(Child, String);

impl Drop for SecretServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve_with_secret(data: &Path, outbox: &Path, secret: &str) -> SecretServer {
    let mut child = Command::new(server::engage_bin())
        .args(["serve", "--addr", "127.0.0.1:0", "--now", NOW, "--data"])
        .arg(data)
        .arg("--outbox")
        .arg(outbox)
        .env("ENGAGE_UNSUBSCRIBE_SECRET", secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    SecretServer(child, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_signed_by_one_process_works_in_another_sharing_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed(&data).await;
    let http = http();
    let secret = "shared-deployment-secret";
    // Two servers over one data folder, the secret from the environment; the link is
    // signed here, in a third process, from the same configuration.
    let a = serve_with_secret(&data, &dir.path().join("outbox-a"), secret);
    let b = serve_with_secret(&data, &dir.path().join("outbox-b"), secret);
    let config =
        Config::from_lookup(|n| (n == "ENGAGE_UNSUBSCRIBE_SECRET").then(|| secret.to_owned()))
            .unwrap();
    let link = engage::unsubscribe::link(
        &a.1,
        &TokenSigner::new(config.unsubscribe_secret.as_bytes()).token(
            &BrandId::new("B1"),
            &CustomerId::new("c3"),
            Scope::Campaign,
            Utc::now(),
        ),
    );
    assert_plain_200(&one_click(&http, &link).await);
    // The same link through the other server: accepted, already done.
    let on_b = link.replace(&a.1, &b.1);
    assert_plain_200(&http.get(&on_b).send().await.unwrap());
    assert_plain_200(&one_click(&http, &on_b).await);
    let store = EmbeddedStore::open(&data).unwrap();
    assert!(
        store
            .get_follower(&BrandId::new("B1"), &CustomerId::new("c3"))
            .await
            .unwrap()
            .unwrap()
            .suppressed
    );

    // A link signed with the local default secret is not valid where the secret is set.
    let local = engage::unsubscribe::link(
        &a.1,
        &TokenSigner::new(engage::unsubscribe::LOCAL_UNSUBSCRIBE_SECRET.as_bytes()).token(
            &BrandId::new("B1"),
            &CustomerId::new("c2"),
            Scope::Campaign,
            Utc::now(),
        ),
    );
    assert_eq!(one_click(&http, &local).await.status(), 404);
    drop((a, b));
}

/// Without any setting, `engage serve` and another process agree on the local
/// default secret (what `engage tick` relies on to write links the server accepts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_secret_is_shared_without_configuration() {
    if std::env::var("ENGAGE_UNSUBSCRIBE_SECRET").is_ok_and(|s| !s.is_empty()) {
        return; // the environment chose a secret; the test above covers that case
    }
    let server = start().await;
    let t = TokenSigner::new(engage::unsubscribe::LOCAL_UNSUBSCRIBE_SECRET.as_bytes()).token(
        &BrandId::new("B1"),
        &CustomerId::new("c2"),
        Scope::Message,
        Utc::now(),
    );
    assert_plain_200(&one_click(&http(), &server.url(&format!("/v1/unsubscribe/{t}"))).await);
}
