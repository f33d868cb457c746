//! SES feedback through `engage::jobs::ses_events::handle_delivery` (the
//! `functions/ses-events` handler) with the EventBridge fixtures, on the embedded
//! store and on DynamoDB (moto): hard bounces and complaints suppress, transient
//! bounces do not, repeats change nothing, malformed events are acknowledged with a
//! reason, and a complaint rate over the send policy's threshold (with its minimum
//! volume) suspends the brand's SENDING campaigns, and only those.

use crate::common;

use std::path::Path;

use engage::domain::campaign::{Campaign, CampaignStatus};
use engage::domain::suppression::SuppressionReason;
use engage::domain::{BrandId, CampaignId, CustomerId};
use engage::jobs::ses_events::{SesDelivery, deliver};
use engage::policy::{PolicySet, SourceFile};
use engage::store::{Entity, FeedbackCounts, Store};
use serde_json::{Value, json};

use crate::common::t;

const NOW: &str = "2026-11-26T12:00:00Z";

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ses")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The bundled policies plus a later send version whose minimum volume is `min`.
fn policies_with_min(min: u64) -> PolicySet {
    let mut sources = common::bundled_sources(|_, text| text);
    let send = sources
        .iter()
        .find(|s| s.name == "send" && s.version == "2026-11-01")
        .unwrap();
    let text = send
        .text
        .replace("version = \"2026-11-01\"", "version = \"2026-11-02\"")
        .replace(
            "effective_from = 2026-11-01T00:00:00-07:00",
            "effective_from = 2026-11-02T00:00:00-08:00",
        )
        .replace(
            "complaint_min_deliveries = 1000",
            &format!("complaint_min_deliveries = {min}"),
        );
    assert!(text.contains(&format!("complaint_min_deliveries = {min}")));
    sources.push(SourceFile {
        file: "send/2026-11-02.toml".to_owned(),
        name: "send".to_owned(),
        version: "2026-11-02".to_owned(),
        text,
    });
    PolicySet::from_sources(sources).unwrap()
}

async fn seed(store: &dyn Store) {
    for c in ["c001", "c002", "c003", "c004"] {
        store
            .upsert(&Entity::Follower(common::follower(
                "B1",
                c,
                t("2026-11-01T00:00:00Z"),
            )))
            .await
            .unwrap();
    }
    let mut k1 = common::campaign("K1", "B1", t("2026-11-01T00:00:00Z"));
    k1.status = CampaignStatus::Sending;
    store.create_campaign(&k1).await.unwrap();
}

async fn handle(store: &dyn Store, policies: &PolicySet, payload: Value) -> SesDelivery {
    deliver(store, policies, &common::local_signer(), payload, t(NOW))
        .await
        .unwrap()
}

fn applied(d: &SesDelivery) -> (bool, bool, FeedbackCounts, Vec<String>) {
    match d {
        SesDelivery::Applied {
            suppressed,
            counted,
            counts,
            paused,
            ..
        } => (*suppressed, *counted, *counts, paused.clone()),
        other => panic!("not applied: {other:?}"),
    }
}

async fn suppressed(store: &dyn Store, customer: &str) -> Option<SuppressionReason> {
    let (b, c) = (BrandId::new("B1"), CustomerId::new(customer));
    let follower = store.get_follower(&b, &c).await.unwrap().unwrap();
    let sup = store.get_suppression(&b, &c).await.unwrap();
    assert_eq!(
        follower.suppressed,
        sup.is_some(),
        "{customer}: flag and record agree"
    );
    sup.map(|s| s.reason)
}

/// The stored campaign `id` (it must exist).
async fn stored_campaign(store: &dyn Store, id: &str) -> Campaign {
    store
        .get_campaign(&CampaignId::new(id))
        .await
        .unwrap()
        .unwrap()
}

async fn status(store: &dyn Store, id: &str) -> CampaignStatus {
    stored_campaign(store, id).await.status
}

/// Every fixture through the handler, each twice.
async fn fixtures_through_the_handler(store: &dyn Store) {
    let policies = PolicySet::bundled();
    seed(store).await;

    // Email Sent: not used.
    assert!(matches!(
        handle(store, &policies, fixture("send.json")).await,
        SesDelivery::Ignored { .. }
    ));

    // Delivery (tags): counted once.
    let d = handle(store, &policies, fixture("delivery.json")).await;
    let (sup, counted, counts, _) = applied(&d);
    assert!(!sup && counted);
    assert_eq!(counts.delivered, 1);
    let (_, counted, counts, _) =
        applied(&handle(store, &policies, fixture("delivery.json")).await);
    assert!(!counted, "a repeated delivery is not counted again");
    assert_eq!(counts.delivered, 1);
    assert_eq!(suppressed(store, "c001").await, None);

    // Permanent bounce (List-Unsubscribe token): suppressed at once, twice is the same.
    for _ in 0..2 {
        let (sup, _, counts, _) =
            applied(&handle(store, &policies, fixture("bounce-permanent.json")).await);
        assert!(sup);
        assert_eq!(counts.bounced, 1);
        assert_eq!(
            suppressed(store, "c002").await,
            Some(SuppressionReason::Bounce)
        );
    }

    // Transient bounce: ignored, nobody suppressed.
    match handle(store, &policies, fixture("bounce-transient.json")).await {
        SesDelivery::Ignored { reason, .. } => assert!(reason.contains("Transient"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(suppressed(store, "c003").await, None);

    // Complaint (tags): suppressed and counted once; one complaint on one delivery is
    // far under the minimum volume, so the sending campaign goes on.
    for round in 0..2 {
        let (sup, counted, counts, paused) =
            applied(&handle(store, &policies, fixture("complaint.json")).await);
        assert!(sup);
        assert_eq!(counted, round == 0);
        assert_eq!(counts.complained, 1);
        assert!(paused.is_empty());
        assert_eq!(
            suppressed(store, "c004").await,
            Some(SuppressionReason::Complaint)
        );
    }
    assert_eq!(status(store, "K1").await, CampaignStatus::Sending);

    // Malformed, another source, not an envelope: acknowledged with a reason, twice.
    for payload in [
        fixture("malformed.json"),
        json!({"id": "x1", "detail-type": "Email Bounced", "source": "marketplace", "detail": {}}),
        json!(42),
        json!({"id": "x2", "detail-type": "Email Bounced", "source": "aws.ses",
               "detail": {"eventType": "Bounce", "mail": {"messageId": "m"}}}),
    ] {
        for _ in 0..2 {
            match handle(store, &policies, payload.clone()).await {
                SesDelivery::Rejected { reason, .. } => assert!(!reason.is_empty()),
                other => panic!("{payload}: {other:?}"),
            }
        }
    }
    // An email that is not engage's (no tag, token or campaign header): ignored.
    let foreign = json!({"id": "x3", "detail-type": "Email Complaint Received", "source": "aws.ses",
        "detail": {"eventType": "Complaint", "mail": {"messageId": "m-foreign", "headers": [], "tags": {}},
                   "complaint": {"complainedRecipients": []}}});
    assert!(matches!(
        handle(store, &policies, foreign).await,
        SesDelivery::Ignored { .. }
    ));
}

fn event(kind: &str, message_id: &str, brand: &str, customer: &str) -> Value {
    let (detail_type, extra) = match kind {
        "Delivery" => (
            "Email Delivered",
            json!({"delivery": {"recipients": ["r@relay.example"]}}),
        ),
        "Complaint" => (
            "Email Complaint Received",
            json!({"complaint": {"complainedRecipients": [{"emailAddress": "r@relay.example"}]}}),
        ),
        _ => unreachable!(),
    };
    let mut detail = json!({"eventType": kind, "mail": {"messageId": message_id,
        "destination": ["r@relay.example"], "headers": [],
        "tags": {"engage-brand": [brand], "engage-customer": [customer]}}});
    detail
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"version": "0", "id": format!("ev-{message_id}-{kind}"), "detail-type": detail_type,
        "source": "aws.ses", "account": "123456789012", "time": "2026-11-26T11:00:00Z",
        "region": "us-east-1", "resources": [], "detail": detail})
}

async fn campaigns(store: &dyn Store) {
    for (id, brand, st) in [
        ("KS", "B9", CampaignStatus::Sending),
        ("KA", "B9", CampaignStatus::Approved),
        ("KO", "B8", CampaignStatus::Sending),
    ] {
        let mut c = common::campaign(id, brand, t("2026-11-01T00:00:00Z"));
        c.status = st;
        store.create_campaign(&c).await.unwrap();
    }
}

async fn deliveries(
    store: &dyn Store,
    policies: &PolicySet,
    brand: &str,
    from: usize,
    to: usize,
) -> Vec<String> {
    let mut paused = Vec::new();
    for i in from..to {
        let (_, counted, _, p) = applied(
            &handle(
                store,
                policies,
                event(
                    "Delivery",
                    &format!("{brand}-m{i}"),
                    brand,
                    &format!("cu{i}"),
                ),
            )
            .await,
        );
        assert!(counted);
        paused.extend(p);
    }
    paused
}

/// With a minimum volume of `min`: one complaint under the volume pauses nothing;
/// the delivery that reaches the volume (1/min is over the send policy's 0.3%
/// limit) suspends the brand's SENDING and APPROVED campaigns with the rule
/// named (issue 12: the send policy's R-MAIL-3.complaint_limit), not another brand's.
async fn rate_over_threshold_pauses_sending_campaigns(store: &dyn Store, min: usize) {
    let policies = policies_with_min(min as u64);
    campaigns(store).await;
    deliveries(store, &policies, "B8", 0, min + 5).await;
    assert!(
        deliveries(store, &policies, "B9", 0, min - 1)
            .await
            .is_empty()
    );
    let (_, _, counts, paused) =
        applied(&handle(store, &policies, event("Complaint", "B9-m0", "B9", "cu0")).await);
    assert_eq!((counts.delivered, counts.complained), (min as u64 - 1, 1));
    assert!(
        paused.is_empty(),
        "under the minimum volume nothing is paused"
    );
    assert_eq!(status(store, "KS").await, CampaignStatus::Sending);

    let mut paused = deliveries(store, &policies, "B9", min - 1, min).await;
    paused.sort();
    assert_eq!(paused, vec!["KA".to_owned(), "KS".to_owned()]);
    let ks = stored_campaign(store, "KS").await;
    assert_eq!(ks.status, CampaignStatus::Suspended);
    let reason = ks.status_reason.unwrap_or_default();
    assert!(
        reason.contains("R-MAIL-3.complaint_limit") && reason.contains("send@2026-11-02"),
        "{reason}"
    );
    assert_eq!(status(store, "KA").await, CampaignStatus::Suspended);
    assert_eq!(
        status(store, "KO").await,
        CampaignStatus::Sending,
        "another brand goes on"
    );

    // The repeated complaint changes nothing and pauses nothing more.
    let (_, counted, counts, paused) =
        applied(&handle(store, &policies, event("Complaint", "B9-m0", "B9", "cu0")).await);
    assert!(!counted && paused.is_empty());
    assert_eq!(counts.complained, 1);
}

common::on_each_store!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    fixtures_embedded,
    fixtures_through_the_lambda_handler_on_dynamodb,
    |store| fixtures_through_the_handler(store.as_ref()).await
);

common::on_each_store!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    complaint_rate_over_threshold_pauses_sending_campaigns_embedded,
    complaint_rate_over_threshold_pauses_sending_campaigns_on_dynamodb,
    |store| rate_over_threshold_pauses_sending_campaigns(store.as_ref(), 20).await
);

/// The bundled policy (R-MAIL-3.complaint_limit, 0.3% from 1000 deliveries): 2
/// complaints in 1000 deliveries (0.2%) pause nothing; the third (0.3%, at the
/// limit) suspends the brand's sending and approved campaigns.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bundled_threshold_is_strictly_over_one_in_a_thousand_embedded() {
    let (store, _dir) = common::embedded();
    let store = store.as_ref();
    let policies = PolicySet::bundled();
    campaigns(store).await;
    assert!(deliveries(store, &policies, "B9", 0, 1000).await.is_empty());
    let (_, _, counts, paused) =
        applied(&handle(store, &policies, event("Complaint", "B9-m1", "B9", "cu1")).await);
    assert_eq!((counts.delivered, counts.complained), (1000, 1));
    assert!(paused.is_empty());
    let (_, _, _, paused) =
        applied(&handle(store, &policies, event("Complaint", "B9-m2", "B9", "cu2")).await);
    assert!(paused.is_empty(), "0.2% is under the 0.3% limit");
    assert_eq!(status(store, "KS").await, CampaignStatus::Sending);
    let (_, _, _, mut paused) =
        applied(&handle(store, &policies, event("Complaint", "B9-m3", "B9", "cu3")).await);
    paused.sort();
    assert_eq!(paused, vec!["KA".to_owned(), "KS".to_owned()]);
    let reason = stored_campaign(store, "KS").await.status_reason.unwrap();
    assert!(
        reason.contains("R-MAIL-3.complaint_limit") && reason.contains("send@2026-11-01"),
        "{reason}"
    );
}

/// A delivery identified only by its `X-Engage-Campaign` header counts for the
/// campaign's brand.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn campaign_header_names_the_brand_embedded() {
    let (store, _dir) = common::embedded();
    let store = store.as_ref();
    seed(store).await;
    let policies = PolicySet::bundled();
    let payload = json!({"id": "h1", "detail-type": "Email Delivered", "source": "aws.ses",
        "detail": {"eventType": "Delivery", "mail": {"messageId": "m-h1",
            "headers": [{"name": "X-Engage-Campaign", "value": "K1"}], "tags": {}}}});
    let d = handle(store, &policies, payload).await;
    match d {
        SesDelivery::Applied {
            brand_id, counted, ..
        } => assert!(brand_id == "B1" && counted),
        other => panic!("{other:?}"),
    }
}

/// Black box (issue 12, R-MAIL-3.complaint_limit), through `engage event` (SES
/// feedback, source `aws.ses`) and `engage tick` with the bundled send policy
/// (0.3% from 1000 deliveries): 2 complaints in 1000 deliveries suspend nothing;
/// the third (0.3%, at the limit) suspends the brand's APPROVED campaign with the
/// rule named, not its campaign in review nor another brand's; a campaign
/// approved afterwards is suspended by the tick's planner instead of being sent,
/// while the other brand's campaign goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complaint_limit_suspends_through_engage_event_and_engage_tick() {
    use crate::send_support::{brand, campaign, create, follower};
    use engage::store::EmbeddedStore;
    let dir = tempfile::tempdir().unwrap();
    let (data, outbox) = (dir.path().join("data"), dir.path().join("outbox"));
    {
        let store = EmbeddedStore::open(&data).unwrap();
        for b in ["B9", "B8"] {
            brand(&store, b).await;
            for c in ["k1", "k2"] {
                follower(&store, b, &format!("{b}-{c}"), false, false).await;
            }
        }
        create(&store, &campaign("KA", "B9", "2026-12-07")).await;
        let mut review = campaign("KI", "B9", "2026-12-08");
        review.status = CampaignStatus::InReview;
        create(&store, &review).await;
        create(&store, &campaign("KO", "B8", "2026-12-07")).await;
    }
    let now = "2026-12-01T12:00:00Z";
    let mut feedback: Vec<Value> = (0..1000)
        .map(|i| event("Delivery", &format!("B9-m{i}"), "B9", &format!("cu{i}")))
        .collect();
    feedback.push(event("Complaint", "B9-m1", "B9", "cu1"));
    feedback.push(event("Complaint", "B9-m2", "B9", "cu2"));
    let out = crate::server::engage_event(&data, now, &feedback);
    assert!(out.contains("1002 applied"), "{out}");
    assert!(!out.contains("suspended"), "0.2% is under the limit: {out}");

    let out = crate::server::engage_event(&data, now, &[event("Complaint", "B9-m3", "B9", "cu3")]);
    assert!(
        out.contains("1000 delivered, 3 complained, suspended KA"),
        "{out}"
    );
    async fn status_of(data: &Path, id: &str) -> Campaign {
        stored_campaign(&EmbeddedStore::open(data).unwrap(), id).await
    }
    let ka = status_of(&data, "KA").await;
    assert_eq!(ka.status, CampaignStatus::Suspended);
    let reason = ka.status_reason.unwrap_or_default();
    assert!(
        reason.contains("R-MAIL-3.complaint_limit") && reason.contains("send@2026-11-01"),
        "{reason}"
    );
    assert_eq!(
        status_of(&data, "KI").await.status,
        CampaignStatus::InReview
    );
    assert_eq!(
        status_of(&data, "KO").await.status,
        CampaignStatus::Approved
    );

    // Approved after the feedback: the planner suspends it at its window.
    {
        let store = EmbeddedStore::open(&data).unwrap();
        create(&store, &campaign("KB", "B9", "2026-12-07")).await;
    }
    let out = crate::server::engage_tick(&data, &outbox, "2026-12-07T08:00:00Z");
    assert!(
        out.contains("campaign KB APPROVED -> SUSPENDED")
            && out.contains("R-MAIL-3.complaint_limit"),
        "{out}"
    );
    assert!(out.contains("campaign KO"), "{out}");
    let kb = status_of(&data, "KB").await;
    assert_eq!(kb.status, CampaignStatus::Suspended);
    assert!(
        kb.status_reason
            .unwrap_or_default()
            .contains("R-MAIL-3.complaint_limit")
    );
    let sent: Vec<String> = crate::server::outbox_emails(&outbox)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(sent.len(), 2, "B8's two followers only: {sent:?}\n{out}");
    assert!(sent.iter().all(|n| !n.contains("KB")), "{sent:?}");
}
