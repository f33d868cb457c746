//! The store contract: one suite, run unchanged against the embedded store (SQLite in
//! a temp dir) and DynamoDB (moto, a fresh table per test; `./tests/run` starts it).

use crate::common;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use engage::domain::brand::{Brand, Marketplace};
use engage::domain::campaign::CampaignStatus::{self, *};
use engage::domain::contact::{Contact, ContactReason};
use engage::domain::follower::{FollowChange, FollowKind};
use engage::domain::order::{Fulfilment, Order, OrderPlaced};
use engage::domain::promotion::{Promotion, PromotionState, PromotionType};
use engage::domain::review::Review;
use engage::domain::send::{SendOutcome, SendRecord};
use engage::domain::suppression::{Suppression, SuppressionReason, SuppressionScope};
use engage::domain::{
    BrandId, CampaignId, ContactId, CustomerId, OrderId, PromotionId, ReviewId, SellerId,
};
use engage::store::{
    CampaignStore, CapOutcome, ContactOutcome, CreateOutcome, Entity, EntityChange, FeedbackCounts,
    FeedbackKind, FeedbackOutcome, IdempotencyOutcome, LedgerOutcome, MessageClaim, MessageFinish,
    MessageRecord, MessageStatus, Store, StoreError, TransitionOutcome, UpsertOutcome,
};
use serde_json::json;

use crate::common::{campaign, follower, t};

/// How many tasks race in the concurrency tests.
const RACERS: usize = 8;

/// Upserts `entity`.
async fn upsert(s: &Arc<dyn Store>, entity: Entity) -> UpsertOutcome {
    s.upsert(&entity).await.unwrap()
}

/// Takes the week-long cap of (b1, `customer`) for `campaign` at 2026-11-20T08:00.
async fn take_week_cap(s: &dyn Store, customer: &str, campaign: String) -> CapOutcome {
    let (b, cu, c) = (
        BrandId::new("b1"),
        CustomerId::new(customer),
        CampaignId::new(campaign),
    );
    let (at, week) = (t("2026-11-20T08:00:00Z"), Duration::days(7));
    s.take_cap(&b, &cu, &c, at, week).await.unwrap()
}

mod contract {
    use super::*;
    use engage::store::UpsertOutcome::{Stale, Written};

    pub async fn campaign_create_get_list(s: Arc<dyn Store>) {
        let c1 = campaign("c1", "b1", t("2026-11-01T10:00:00Z"));
        let c2 = campaign("c2", "b1", t("2026-11-01T11:00:00Z"));
        let other = campaign("c3", "b2", t("2026-11-01T12:00:00Z"));
        assert_eq!(
            s.create_campaign(&c2).await.unwrap(),
            CreateOutcome::Created
        );
        assert_eq!(
            s.create_campaign(&c1).await.unwrap(),
            CreateOutcome::Created
        );
        assert_eq!(
            s.create_campaign(&other).await.unwrap(),
            CreateOutcome::Created
        );
        let mut changed = c1.clone();
        changed.nickname = "overwrite attempt".to_owned();
        assert_eq!(
            s.create_campaign(&changed).await.unwrap(),
            CreateOutcome::AlreadyExists
        );
        assert_eq!(s.get_campaign(&c1.id).await.unwrap(), Some(c1.clone()));
        assert_eq!(
            s.get_campaign(&CampaignId::new("nope")).await.unwrap(),
            None
        );

        let all = s.list_campaigns(&BrandId::new("b1"), None).await.unwrap();
        assert_eq!(
            all,
            vec![c1.clone(), c2.clone()],
            "oldest first, own brand only"
        );
        let in_review = s
            .list_campaigns(&BrandId::new("b1"), Some(InReview))
            .await
            .unwrap();
        assert_eq!(in_review.len(), 2);
        let approved = s
            .list_campaigns(&BrandId::new("b1"), Some(Approved))
            .await
            .unwrap();
        assert!(approved.is_empty());
        let live = s.list_live_campaigns(InReview).await.unwrap();
        assert_eq!(live.len(), 3, "every brand's live campaigns");
    }

    pub async fn campaign_transitions_follow_the_state_machine(s: Arc<dyn Store>) {
        let c = campaign("c1", "b1", t("2026-11-01T10:00:00Z"));
        s.create_campaign(&c).await.unwrap();
        let at = t("2026-11-02T10:00:00Z");

        // Off the state machine: refused before touching the store.
        let err = s
            .transition(&c.id, &[InReview], Sending, None, at)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::IllegalTransition { .. }), "{err}");
        assert!(!err.is_retryable());
        let err = s
            .transition(&c.id, &[Sent], Cancelled, None, at)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::IllegalTransition { .. }));
        let err = s
            .transition(&c.id, &[], Approved, None, at)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::IllegalTransition { .. }));

        // Along it.
        let TransitionOutcome::Moved(moved) = s
            .transition(&c.id, &[InReview], Approved, Some("looks good"), at)
            .await
            .unwrap()
        else {
            panic!("expected Moved")
        };
        assert_eq!(moved.status, Approved);
        assert_eq!(moved.status_reason.as_deref(), Some("looks good"));
        assert_eq!(moved.updated_at, Some(at));
        assert_eq!(s.get_campaign(&c.id).await.unwrap(), Some(moved));

        // Expected status no longer holds: typed conflict with the current status.
        assert_eq!(
            s.transition(&c.id, &[InReview], NotApproved, None, at)
                .await
                .unwrap(),
            TransitionOutcome::Conflict { current: Approved }
        );
        assert_eq!(
            s.transition(&CampaignId::new("nope"), &[InReview], Approved, None, at)
                .await
                .unwrap(),
            TransitionOutcome::NotFound
        );

        // Several expected statuses (cancel from wherever it is).
        assert!(matches!(
            s.transition(&c.id, &[Approved], Sending, None, at)
                .await
                .unwrap(),
            TransitionOutcome::Moved(_)
        ));
        assert_eq!(
            s.list_campaigns(&c.brand_id, Some(Sending))
                .await
                .unwrap()
                .len(),
            1,
            "the status index follows the status"
        );
        assert_eq!(s.list_live_campaigns(Sending).await.unwrap().len(), 1);
        assert!(s.list_live_campaigns(Approved).await.unwrap().is_empty());
        let TransitionOutcome::Moved(done) = s
            .transition(
                &c.id,
                &[InReview, Approved, Sending],
                Cancelled,
                Some("brand"),
                at,
            )
            .await
            .unwrap()
        else {
            panic!("expected Moved")
        };
        assert_eq!(done.status, Cancelled);
        assert!(
            s.list_live_campaigns(Sending).await.unwrap().is_empty(),
            "terminal leaves GSI2"
        );
        assert_eq!(
            s.list_campaigns(&c.brand_id, Some(Cancelled))
                .await
                .unwrap()
                .len(),
            1
        );
        // Terminal: nothing moves it (IN_REVIEW -> CANCELLED is an edge, but it is CANCELLED now).
        assert_eq!(
            s.transition(&c.id, &[InReview, Approved], Cancelled, None, at)
                .await
                .unwrap(),
            TransitionOutcome::Conflict { current: Cancelled }
        );
    }

    pub async fn cap_taken_held_capped_then_free_after_exactly_the_cap(s: Arc<dyn Store>) {
        let (b, cu) = (BrandId::new("b1"), CustomerId::new("cu1"));
        let (a, other) = (CampaignId::new("ca"), CampaignId::new("cb"));
        let week = Duration::days(7);
        let t0 = t("2026-11-20T08:00:00Z");
        assert_eq!(
            s.take_cap(&b, &cu, &a, t0, week).await.unwrap(),
            CapOutcome::Taken
        );
        // The same campaign retrying: held, and the cap is not extended.
        assert_eq!(
            s.take_cap(&b, &cu, &a, t0 + Duration::hours(1), week)
                .await
                .unwrap(),
            CapOutcome::AlreadyHeld
        );
        let just_before = t0 + week - Duration::seconds(1);
        assert_eq!(
            s.take_cap(&b, &cu, &other, just_before, week)
                .await
                .unwrap(),
            CapOutcome::Capped { until: t0 + week }
        );
        // Other brands and other customers are independent.
        assert_eq!(
            s.take_cap(&BrandId::new("b2"), &cu, &other, t0, week)
                .await
                .unwrap(),
            CapOutcome::Taken
        );
        assert_eq!(
            s.take_cap(&b, &CustomerId::new("cu2"), &other, t0, week)
                .await
                .unwrap(),
            CapOutcome::Taken
        );
        // Exactly 7 days later the cap is free (compared in the condition, not by TTL).
        assert_eq!(
            s.take_cap(&b, &cu, &other, t0 + week, week).await.unwrap(),
            CapOutcome::Taken
        );
        assert_eq!(
            s.take_cap(&b, &cu, &a, t0 + week, week).await.unwrap(),
            CapOutcome::Capped {
                until: t0 + week + week
            }
        );
        // The duration is the caller's (policy params), not a constant.
        let three = Duration::days(3);
        let b3 = BrandId::new("b3");
        assert_eq!(
            s.take_cap(&b3, &cu, &a, t0, three).await.unwrap(),
            CapOutcome::Taken
        );
        assert_eq!(
            s.take_cap(&b3, &cu, &other, t0 + three, three)
                .await
                .unwrap(),
            CapOutcome::Taken
        );
    }

    fn send_record(campaign: &str, customer: &str, outcome: SendOutcome) -> SendRecord {
        SendRecord {
            campaign_id: CampaignId::new(campaign),
            brand_id: BrandId::new("b1"),
            customer_id: CustomerId::new(customer),
            outcome,
            message_id: Some(format!("msg-{customer}")),
            at: t("2026-11-20T09:00:00Z"),
        }
    }

    pub async fn ledger_records_once(s: Arc<dyn Store>) {
        let first = send_record("c1", "cu1", SendOutcome::Sent);
        assert_eq!(
            s.record_send(&first).await.unwrap(),
            LedgerOutcome::Inserted
        );
        let again = send_record("c1", "cu1", SendOutcome::Failed);
        assert_eq!(
            s.record_send(&again).await.unwrap(),
            LedgerOutcome::AlreadyRecorded(first.clone())
        );
        assert_eq!(
            s.get_send(&first.campaign_id, &first.customer_id)
                .await
                .unwrap(),
            Some(first)
        );
        assert_eq!(
            s.record_send(&send_record("c2", "cu1", SendOutcome::SkippedFrequencyCap))
                .await
                .unwrap(),
            LedgerOutcome::Inserted
        );
        assert_eq!(
            s.get_send(&CampaignId::new("c1"), &CustomerId::new("cu9"))
                .await
                .unwrap(),
            None
        );
    }

    fn contact(id: &str, review: &str) -> Contact {
        Contact {
            id: ContactId::new(id),
            review_id: ReviewId::new(review),
            brand_id: BrandId::new("b1"),
            customer_id: CustomerId::new("cu1"),
            order_id: OrderId::new("o1"),
            reason: ContactReason::CourtesyRefund,
            sent_at: t("2026-11-20T09:00:00Z"),
            policy: "contact@2026-11-01".to_owned(),
        }
    }

    pub async fn contact_once_per_review(s: Arc<dyn Store>) {
        let first = contact("k1", "r1");
        assert_eq!(
            s.put_contact(&first).await.unwrap(),
            ContactOutcome::Inserted
        );
        let mut second = contact("k2", "r1");
        second.reason = ContactReason::CustomerSupport;
        assert_eq!(
            s.put_contact(&second).await.unwrap(),
            ContactOutcome::AlreadyContacted(first.clone())
        );
        assert_eq!(
            s.get_contact(&ReviewId::new("r1")).await.unwrap(),
            Some(first)
        );
        assert_eq!(
            s.put_contact(&contact("k3", "r2")).await.unwrap(),
            ContactOutcome::Inserted
        );
        assert_eq!(s.get_contact(&ReviewId::new("r9")).await.unwrap(), None);
    }

    pub async fn idempotency_new_in_progress_replay_mismatch(s: Arc<dyn Store>) {
        use IdempotencyOutcome::{InProgress, Mismatch, New, Replay};
        let at = t("2026-11-01T10:00:00Z");
        let day = Duration::days(1);
        let scope = "campaigns:seller-1";
        // A claim in `scope` kept a day, its lease `lease`, made `after` the first one.
        let begin = |key: &'static str, hash: &'static str, after: Duration, lease: Duration| {
            let s = Arc::clone(&s);
            async move {
                s.begin(scope, key, hash, at + after, lease, day)
                    .await
                    .unwrap()
            }
        };
        let zero = Duration::zero();
        assert_eq!(begin("k1", "h1", zero, day).await, New);
        assert_eq!(begin("k1", "h1", zero, day).await, InProgress);
        assert_eq!(begin("k1", "h2", zero, day).await, Mismatch);
        let response =
            json!({"status": 201, "body": {"id": "c1", "n": 1.5, "list": [1, "a", null]}});
        s.complete(scope, "k1", &response).await.unwrap();
        let hour = Duration::hours(1);
        assert_eq!(begin("k1", "h1", hour, day).await, Replay(response.clone()));
        assert_eq!(begin("k1", "h2", hour, day).await, Mismatch);
        // Another scope is another key space.
        let other = s.begin("campaigns:seller-2", "k1", "h2", at, day, day);
        assert_eq!(other.await.unwrap(), New);
        // Release drops an in-progress claim, never a completed one.
        assert_eq!(begin("k2", "h1", zero, day).await, New);
        s.release(scope, "k2").await.unwrap();
        assert_eq!(begin("k2", "h9", zero, day).await, New);
        s.release(scope, "k1").await.unwrap();
        assert_eq!(begin("k1", "h1", zero, day).await, Replay(response));
        // Past its retention the record counts as absent, whatever TTL did.
        assert_eq!(begin("k1", "h3", day, day).await, New);
        // A claim left in progress is taken over once its lease has passed (business
        // clock), not after the retention: its request died.
        let lease = Duration::seconds(60);
        assert_eq!(begin("k5", "h1", zero, lease).await, New);
        let just_before = Duration::seconds(59);
        assert_eq!(begin("k5", "h1", just_before, lease).await, InProgress);
        assert_eq!(begin("k5", "h1", lease, lease).await, New);
        // A completed record has no lease: replayed for the whole retention.
        s.complete(scope, "k5", &json!({"done": true}))
            .await
            .unwrap();
        let replay = Replay(json!({"done": true}));
        assert_eq!(begin("k5", "h1", Duration::hours(2), lease).await, replay);
        // Completing a key never claimed is an error, not a silent success.
        let err = s.complete(scope, "never", &json!({})).await.unwrap_err();
        assert!(matches!(err, StoreError::Missing { .. }), "{err}");
    }

    fn brand(name: &str, at: &str) -> Brand {
        Brand {
            brand_id: BrandId::new("b1"),
            name: name.to_owned(),
            seller_id: SellerId::new("s1"),
            marketplace: Marketplace::US,
            has_store_page: true,
            updated_at: t(at),
        }
    }

    pub async fn upsert_keeps_the_newest(s: Arc<dyn Store>) {
        let b = BrandId::new("b1");
        let v2 = brand("v2", "2026-11-02T00:00:00Z");
        let v1 = brand("v1", "2026-11-01T00:00:00Z");
        let v3 = brand("v3", "2026-11-03T00:00:00.000001Z");
        assert_eq!(upsert(&s, Entity::Brand(v2.clone())).await, Written);
        // Out of order: older event arrives late.
        assert_eq!(upsert(&s, Entity::Brand(v1)).await, Stale);
        // Repeated event.
        assert_eq!(upsert(&s, Entity::Brand(v2.clone())).await, Stale);
        assert_eq!(s.get_brand(&b).await.unwrap(), Some(v2));
        assert_eq!(upsert(&s, Entity::Brand(v3.clone())).await, Written);
        assert_eq!(s.get_brand(&b).await.unwrap(), Some(v3));

        // Promotions: newest wins, listed by brand and product.
        let mut p = Promotion {
            promotion_id: PromotionId::new("p1"),
            brand_id: b.clone(),
            asin: "B01".to_owned(),
            promotion_type: PromotionType::SevenDayDeal,
            starts_at: t("2026-11-19T08:00:00Z"),
            ends_at: t("2026-11-30T08:00:00Z"),
            created_at: t("2026-11-01T00:00:00Z"),
            state: PromotionState::Active,
            updated_at: t("2026-11-01T00:00:00Z"),
        };
        let mut cancelled = p.clone();
        cancelled.state = PromotionState::Canceled;
        cancelled.updated_at = t("2026-11-05T00:00:00Z");
        upsert(&s, Entity::Promotion(cancelled.clone())).await;
        assert_eq!(upsert(&s, Entity::Promotion(p.clone())).await, Stale);
        assert_eq!(
            s.get_promotion(&p.promotion_id).await.unwrap(),
            Some(cancelled)
        );
        p.promotion_id = PromotionId::new("p2");
        p.asin = "B02".to_owned();
        upsert(&s, Entity::Promotion(p.clone())).await;
        assert_eq!(s.list_promotions(&b, None).await.unwrap().len(), 2);
        assert_eq!(s.list_promotions(&b, Some("B02")).await.unwrap(), vec![p]);
        assert!(
            s.list_promotions(&BrandId::new("b2"), None)
                .await
                .unwrap()
                .is_empty()
        );

        // Orders and reviews, listed by brand within a period.
        for (i, day) in ["2026-10-01", "2026-10-15", "2026-11-01"]
            .iter()
            .enumerate()
        {
            let at = t(&format!("{day}T12:00:00Z"));
            let order = Order {
                order_id: OrderId::new(format!("o{i}")),
                placed: OrderPlaced {
                    seller_id: SellerId::new("s1"),
                    brand_id: b.clone(),
                    asin: "B01".to_owned(),
                    customer_id: CustomerId::new(format!("cu{i}")),
                    relay_email: format!("cu{i}@relay.example"),
                    locale: "fr-CA".to_owned(),
                    purchased_at: at,
                },
                fulfilment: Fulfilment {
                    delivered_at: Some(at + Duration::days(2)),
                    ..Fulfilment::default()
                },
                updated_at: at,
            };
            upsert(&s, Entity::Order(order.clone())).await;
            assert_eq!(s.get_order(&order.order_id).await.unwrap(), Some(order));
            let review = Review {
                review_id: ReviewId::new(format!("r{i}")),
                brand_id: b.clone(),
                asin: "B01".to_owned(),
                order_id: OrderId::new(format!("o{i}")),
                customer_id: CustomerId::new(format!("cu{i}")),
                rating: 2,
                title: "meh".to_owned(),
                body: "not great".to_owned(),
                verified_purchase: true,
                posted_at: at + Duration::days(5),
                updated_at: at + Duration::days(5),
            };
            upsert(&s, Entity::Review(review.clone())).await;
            assert_eq!(s.get_review(&review.review_id).await.unwrap(), Some(review));
        }
        let orders = s
            .list_orders(&b, t("2026-10-01T12:00:00Z"), t("2026-10-31T00:00:00Z"))
            .await
            .unwrap();
        let ids: Vec<_> = orders.iter().map(|o| o.order_id.as_str()).collect();
        assert_eq!(ids, vec!["o0", "o1"], "inclusive bounds, time order");
        let reviews = s
            .list_reviews(&b, t("2026-10-10T00:00:00Z"), t("2026-12-01T00:00:00Z"))
            .await
            .unwrap();
        let ids: Vec<_> = reviews.iter().map(|r| r.review_id.as_str()).collect();
        assert_eq!(ids, vec!["r1", "r2"]);
    }

    pub async fn follower_state_and_suppression_travel_with_the_item(s: Arc<dyn Store>) {
        let (b, cu) = (BrandId::new("b1"), CustomerId::new("cu1"));
        let f1 = follower("b1", "cu1", t("2026-10-01T00:00:00Z"));
        upsert(&s, Entity::Follower(f1.clone())).await;
        assert!(s.get_follower(&b, &cu).await.unwrap().unwrap().reachable());

        let sup = Suppression {
            brand_id: b.clone(),
            customer_id: cu.clone(),
            reason: SuppressionReason::Unsubscribe,
            scopes: vec![SuppressionScope::Message],
            updated_at: t("2026-10-05T00:00:00Z"),
        };
        assert_eq!(s.suppress(&sup).await.unwrap(), Written);
        assert_eq!(s.suppress(&sup).await.unwrap(), Stale);
        assert_eq!(s.get_suppression(&b, &cu).await.unwrap(), Some(sup));
        let got = s.get_follower(&b, &cu).await.unwrap().unwrap();
        assert!(got.suppressed && !got.reachable());

        // Unfollow (newer) then an old follow event replayed: still unfollowed.
        let mut unfollow = f1.clone();
        unfollow.unfollowed = true;
        unfollow.updated_at = t("2026-10-06T00:00:00Z");
        assert_eq!(upsert(&s, Entity::Follower(unfollow)).await, Written);
        assert_eq!(upsert(&s, Entity::Follower(f1.clone())).await, Stale);
        let got = s.get_follower(&b, &cu).await.unwrap().unwrap();
        assert!(got.unfollowed && got.suppressed);

        // A newer follow re-follows but keeps the suppression.
        let refollow = follower("b1", "cu1", t("2026-10-07T00:00:00Z"));
        assert_eq!(upsert(&s, Entity::Follower(refollow)).await, Written);
        let got = s.get_follower(&b, &cu).await.unwrap().unwrap();
        assert!(!got.unfollowed && got.suppressed, "{got:?}");

        // Suppressing someone who does not follow creates no follower.
        let stranger = CustomerId::new("cu-none");
        s.suppress(&Suppression {
            brand_id: b.clone(),
            customer_id: stranger.clone(),
            reason: SuppressionReason::Complaint,
            scopes: vec![],
            updated_at: t("2026-10-05T00:00:00Z"),
        })
        .await
        .unwrap();
        assert_eq!(s.get_follower(&b, &stranger).await.unwrap(), None);

        // ... and when that customer follows later, the follower starts suppressed.
        let change = EntityChange::Follow(FollowChange {
            brand_id: b.clone(),
            customer_id: stranger.clone(),
            kind: FollowKind::Followed {
                relay_email: "cu-none@relay.example".into(),
                locale: "en-US".into(),
                followed_at: t("2026-10-08T00:00:00Z"),
            },
        });
        assert_eq!(s.merge(&change).await.unwrap(), Written);
        let got = s.get_follower(&b, &stranger).await.unwrap().unwrap();
        assert!(got.suppressed && !got.reachable(), "{got:?}");
    }

    pub async fn feedback_counts_each_event_once(s: Arc<dyn Store>) {
        let (b, other) = (BrandId::new("b1"), BrandId::new("b2"));
        let at = t("2026-10-01T00:00:00Z");
        assert_eq!(
            s.feedback_counts(&b).await.unwrap(),
            FeedbackCounts::default()
        );
        let count = |brand: &BrandId, key: &'static str, kind: FeedbackKind| {
            let (s, brand) = (Arc::clone(&s), brand.clone());
            async move { s.count_feedback(&brand, key, kind, at).await.unwrap() }
        };
        let one = FeedbackCounts {
            delivered: 1,
            complained: 0,
            bounced: 0,
        };
        let first = count(&b, "m1#Delivery", FeedbackKind::Delivered).await;
        assert_eq!(first, FeedbackOutcome::Counted(one));
        let again = count(&b, "m1#Delivery", FeedbackKind::Delivered).await;
        assert_eq!(again, FeedbackOutcome::Repeat(one));
        count(&b, "m2#Delivery", FeedbackKind::Delivered).await;
        count(&b, "m1#Complaint", FeedbackKind::Complained).await;
        count(&b, "m3#Bounce", FeedbackKind::Bounced).await;
        let counts = s.feedback_counts(&b).await.unwrap();
        assert_eq!(
            counts,
            FeedbackCounts {
                delivered: 2,
                complained: 1,
                bounced: 1
            }
        );
        assert!((counts.complaint_rate() - 0.5).abs() < 1e-9);
        // Another brand has its own counters; the same key is already counted anywhere.
        assert_eq!(
            s.feedback_counts(&other).await.unwrap(),
            FeedbackCounts::default()
        );
        count(&other, "m9#Delivery", FeedbackKind::Delivered).await;
        assert_eq!(s.feedback_counts(&other).await.unwrap().delivered, 1);
        assert_eq!(s.feedback_counts(&b).await.unwrap().delivered, 2);
    }

    pub async fn race_count_feedback(s: Arc<dyn Store>) {
        let b = BrandId::new("b1");
        let at = t("2026-10-01T00:00:00Z");
        // 8 tasks count 5 distinct events, each event twice per task: 5 counted in all.
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (s, b) = (s.clone(), b.clone());
            tasks.push(tokio::spawn(async move {
                let mut counted = 0;
                for i in 0..5 {
                    for _ in 0..2 {
                        loop {
                            match s
                                .count_feedback(
                                    &b,
                                    &format!("m{i}#Delivery"),
                                    FeedbackKind::Delivered,
                                    at,
                                )
                                .await
                            {
                                Ok(FeedbackOutcome::Counted(_)) => {
                                    counted += 1;
                                    break;
                                }
                                Ok(FeedbackOutcome::Repeat(_)) => break,
                                Err(e) if e.is_retryable() => continue,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                }
                counted
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        assert_eq!(total, 5);
        assert_eq!(s.feedback_counts(&b).await.unwrap().delivered, 5);
    }

    pub async fn follower_paging_covers_everyone_exactly_once(s: Arc<dyn Store>) {
        let b = BrandId::new("b1");
        let at = t("2026-10-01T00:00:00Z");
        let total = 53;
        for i in 0..total {
            upsert(
                &s,
                Entity::Follower(follower("b1", &format!("cu{i:03}"), at)),
            )
            .await;
        }
        // Another brand's followers never show up.
        for i in 0..5 {
            upsert(&s, Entity::Follower(follower("b2", &format!("x{i}"), at))).await;
        }
        for limit in [1, 7, 53, 500] {
            let mut seen = Vec::new();
            let mut token: Option<String> = None;
            let mut pages = 0;
            loop {
                let page = s.list_followers(&b, token.as_deref(), limit).await.unwrap();
                assert!(page.items.len() <= limit);
                seen.extend(page.items.into_iter().map(|f| f.customer_id));
                pages += 1;
                assert!(pages <= total + 10, "paging does not terminate");
                match page.next {
                    Some(n) => token = Some(n),
                    None => break,
                }
            }
            let unique: HashSet<_> = seen.iter().cloned().collect();
            assert_eq!(seen.len(), total, "limit {limit}: everyone exactly once");
            assert_eq!(unique.len(), total);
            assert!(seen.iter().all(|c| c.as_str().starts_with("cu")));
        }
        let err = s.list_followers(&b, Some("garbage"), 10).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidPageToken(_)));
        assert!(
            s.list_followers(&BrandId::new("nobody"), None, 10)
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }

    /// Runs `RACERS` copies of `f` at once, each with its own handle on `s`, and
    /// returns their results.
    async fn race<T, F, Fut>(s: &Arc<dyn Store>, f: F) -> Vec<T>
    where
        T: Send + 'static,
        F: Fn(Arc<dyn Store>, usize) -> Fut,
        Fut: std::future::Future<Output = T> + Send + 'static,
    {
        let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
        let mut handles = Vec::new();
        for i in 0..RACERS {
            let fut = f(Arc::clone(s), i);
            let barrier = Arc::clone(&barrier);
            handles.push(tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }

    /// How many of `results` are `outcome`.
    fn how_many<T: PartialEq>(results: &[T], outcome: &T) -> usize {
        results.iter().filter(|r| *r == outcome).count()
    }

    /// Suppressions are merged, never overwritten: a bounce, a complaint and
    /// unsubscribes of both scopes racing for one (brand, customer), the unsubscribes
    /// stamped later than the bounce, end in one record with the bounce and every scope;
    /// a later-stamped unsubscribe arriving alone afterwards changes nothing.
    pub async fn race_suppress_never_loses_a_bounce(s: Arc<dyn Store>) {
        let (b, cu) = (BrandId::new("b1"), CustomerId::new("cu1"));
        upsert(
            &s,
            Entity::Follower(follower("b1", "cu1", t("2026-10-01T00:00:00Z"))),
        )
        .await;
        let at = t("2026-10-05T00:00:00Z");
        let results = race(&s, |s, i| {
            let (b, cu) = (b.clone(), cu.clone());
            async move {
                let (reason, scope) = match i {
                    0 => (SuppressionReason::Bounce, None),
                    1 => (SuppressionReason::Complaint, None),
                    i if i % 2 == 0 => (
                        SuppressionReason::Unsubscribe,
                        Some(SuppressionScope::Campaign),
                    ),
                    _ => (
                        SuppressionReason::Unsubscribe,
                        Some(SuppressionScope::Message),
                    ),
                };
                let when = at + Duration::seconds(i64::try_from(i).unwrap());
                s.suppress(&Suppression::new(b, cu, reason, scope, when))
                    .await
                    .unwrap()
            }
        })
        .await;
        assert!(results.contains(&Written));
        let got = s.get_suppression(&b, &cu).await.unwrap().unwrap();
        assert_eq!(got.reason, SuppressionReason::Bounce, "{got:?}");
        assert_eq!(
            got.scopes,
            vec![SuppressionScope::Campaign, SuppressionScope::Message]
        );
        assert!(s.get_follower(&b, &cu).await.unwrap().unwrap().suppressed);
        let late = Suppression::new(
            b.clone(),
            cu.clone(),
            SuppressionReason::Unsubscribe,
            Some(SuppressionScope::Campaign),
            at + Duration::days(30),
        );
        assert_eq!(s.suppress(&late).await.unwrap(), Stale);
        assert_eq!(s.get_suppression(&b, &cu).await.unwrap(), Some(got));
    }

    /// The send plan (first stored wins), segment writes conditional on `seq`,
    /// claims and leases on the business clock, checkpoints, the campaign's
    /// progress added up over its segments, follower ranges, batch cap takes.
    pub async fn send_segments_leases_ranges_and_batch_caps(s: Arc<dyn Store>) {
        use engage::domain::segment::{self, Segment, SendPlan};
        use engage::store::{
            CapTake, CheckpointOutcome, SegmentClaim, campaign_progress, checkpoint_segment,
            claim_segment,
        };
        let mut c = campaign("cs", "b1", t("2026-11-01T10:00:00Z"));
        c.status = Sending;
        s.create_campaign(&c).await.unwrap();
        let now = t("2026-12-01T00:00:00Z");
        let later = now + Duration::minutes(2);
        assert_eq!(s.get_plan(&c.id).await.unwrap(), None);
        let plan = SendPlan {
            campaign_id: c.id.clone(),
            brand_id: BrandId::new("b1"),
            segments: 3,
            estimated_followers: 64,
            created_at: now,
        };
        assert_eq!(s.create_plan(&plan).await.unwrap(), plan);
        let other = SendPlan {
            segments: 9,
            ..plan.clone()
        };
        assert_eq!(
            s.create_plan(&other).await.unwrap(),
            plan,
            "first plan wins"
        );
        assert_eq!(s.get_plan(&c.id).await.unwrap(), Some(plan.clone()));
        for i in 0..3 {
            assert!(s.put_segment(&Segment::new(&plan, i), None).await.unwrap());
        }
        assert!(!s.put_segment(&Segment::new(&plan, 1), None).await.unwrap());
        assert_eq!(s.list_segments(&c.id).await.unwrap().len(), 3);

        let claimed = match claim_segment(&*s, &c.id, 1, "w1", now, later)
            .await
            .unwrap()
        {
            SegmentClaim::Claimed(seg) => seg,
            other => panic!("{other:?}"),
        };
        assert_eq!(claimed.seq, 1);
        assert!(matches!(
            claim_segment(&*s, &c.id, 1, "w2", now, later)
                .await
                .unwrap(),
            SegmentClaim::Busy { .. }
        ));
        assert!(matches!(
            claim_segment(&*s, &c.id, 7, "w2", now, later)
                .await
                .unwrap(),
            SegmentClaim::NotFound
        ));
        let mut next = claimed.next();
        next.counters.sent = 3;
        next.after = Some(CustomerId::new("x"));
        next.retry = vec![CustomerId::new("r")];
        assert_eq!(
            checkpoint_segment(&*s, &next).await.unwrap(),
            CheckpointOutcome::Saved
        );
        // A repeat of the same checkpoint is Saved, a stale one is not.
        assert_eq!(
            checkpoint_segment(&*s, &next).await.unwrap(),
            CheckpointOutcome::Saved
        );
        let stale = Segment {
            walked: true,
            ..claimed.next()
        };
        assert_eq!(
            checkpoint_segment(&*s, &stale).await.unwrap(),
            CheckpointOutcome::LostLease
        );
        // Once the lease has passed on the business clock another worker takes it over.
        let taken = match claim_segment(&*s, &c.id, 1, "w2", later, later + Duration::minutes(2))
            .await
            .unwrap()
        {
            SegmentClaim::Claimed(seg) => seg,
            other => panic!("{other:?}"),
        };
        assert_eq!(taken.counters.sent, 3);
        assert_eq!(taken.after, Some(CustomerId::new("x")));
        assert_eq!(
            checkpoint_segment(&*s, &next.next()).await.unwrap(),
            CheckpointOutcome::LostLease,
            "the first worker lost the segment"
        );
        let (back, progress) = campaign_progress(&*s, &c.id).await.unwrap().unwrap();
        assert_eq!(back.status, Sending);
        assert_eq!(progress.counters.sent, 3);
        assert_eq!(progress.retry, vec![CustomerId::new("r")]);
        assert!(!progress.walked);
        // A checkpoint is conditional on the campaign still SENDING too.
        s.transition(
            &c.id,
            &[Sending],
            Suspended,
            Some("promotion canceled"),
            later,
        )
        .await
        .unwrap();
        assert_eq!(
            checkpoint_segment(&*s, &taken.next()).await.unwrap(),
            CheckpointOutcome::Stopped(Some(Suspended))
        );
        let mut done = taken.next();
        done.walked = true;
        done.retry.clear();
        assert!(engage::store::release_segment(&*s, &done).await.unwrap());
        assert!(matches!(
            claim_segment(&*s, &c.id, 1, "w3", later, later)
                .await
                .unwrap(),
            SegmentClaim::Finished(_)
        ));

        // Follower ranges: every follower of the brand in exactly one segment's ranges, paged.
        let at = t("2026-10-01T00:00:00Z");
        for i in 0..40 {
            upsert(
                &s,
                Entity::Follower(follower("b1", &format!("f{i:02}"), at)),
            )
            .await;
        }
        upsert(&s, Entity::Follower(follower("b2", "other", at))).await;
        let b = BrandId::new("b1");
        for of in [1, 3, 8] {
            let mut seen = Vec::new();
            for i in 0..of {
                for range in segment::ranges(i, of) {
                    let mut after: Option<CustomerId> = None;
                    loop {
                        let page = s
                            .list_follower_range(&b, range, after.as_ref(), 3)
                            .await
                            .unwrap();
                        assert!(page.items.len() <= 3);
                        after = page.items.last().map(|f| f.customer_id.clone());
                        seen.extend(page.items.into_iter().map(|f| f.customer_id));
                        if page.next.is_none() {
                            break;
                        }
                    }
                }
            }
            let unique: HashSet<_> = seen.iter().cloned().collect();
            assert_eq!(seen.len(), 40, "{of} segments: everyone exactly once");
            assert_eq!(unique.len(), 40);
        }
        let all = segment::ranges(0, 1);
        let mut counted = 0;
        for r in &all {
            counted += s.count_follower_range(&b, *r, 1000).await.unwrap();
        }
        assert_eq!(counted, 40);
        assert!(s.count_follower_range(&b, all[0], 2).await.unwrap() >= 2);

        // Batch cap takes: the same outcomes as one take at a time.
        let take = |cust: &str, camp: &str| CapTake {
            brand: BrandId::new("b1"),
            customer: CustomerId::new(cust),
            campaign: CampaignId::new(camp),
        };
        let week = Duration::days(7);
        let first = s
            .take_caps(&[take("x", "k1"), take("y", "k1")], now, week)
            .await;
        assert!(first.iter().all(|r| matches!(r, Ok(CapOutcome::Taken))));
        let second = s
            .take_caps(
                &[take("x", "k1"), take("y", "k2"), take("z", "k2")],
                now,
                week,
            )
            .await;
        assert!(matches!(second[0], Ok(CapOutcome::AlreadyHeld)));
        assert!(matches!(second[1], Ok(CapOutcome::Capped { .. })));
        assert!(matches!(second[2], Ok(CapOutcome::Taken)));
        let free = s.take_caps(&[take("y", "k2")], now + week, week).await;
        assert!(matches!(free[0], Ok(CapOutcome::Taken)));
    }

    pub async fn race_create_campaign(s: Arc<dyn Store>) {
        let results = race(&s, |s, i| async move {
            let mut c = campaign("c1", "b1", t("2026-11-01T10:00:00Z"));
            c.nickname = format!("racer {i}");
            s.create_campaign(&c).await.unwrap()
        })
        .await;
        let wins = how_many(&results, &CreateOutcome::Created);
        assert_eq!(wins, 1, "{results:?}");
    }

    pub async fn race_transition(s: Arc<dyn Store>) {
        let c = campaign("c1", "b1", t("2026-11-01T10:00:00Z"));
        s.create_campaign(&c).await.unwrap();
        // Half approve, half reject: exactly one decision lands.
        let results = race(&s, |s, i| async move {
            let to = if i % 2 == 0 { Approved } else { NotApproved };
            s.transition(
                &CampaignId::new("c1"),
                &[InReview],
                to,
                None,
                t("2026-11-02T00:00:00Z"),
            )
            .await
            .unwrap()
        })
        .await;
        let moved: Vec<CampaignStatus> = results
            .iter()
            .filter_map(|r| match r {
                TransitionOutcome::Moved(c) => Some(c.status),
                _ => None,
            })
            .collect();
        assert_eq!(moved.len(), 1, "{results:?}");
        let final_status = s.get_campaign(&c.id).await.unwrap().unwrap().status;
        assert_eq!(final_status, moved[0]);
        assert!(results.iter().all(|r| match r {
            TransitionOutcome::Moved(_) => true,
            TransitionOutcome::Conflict { current } => *current == final_status,
            TransitionOutcome::NotFound => false,
        }));
    }

    pub async fn race_take_cap(s: Arc<dyn Store>) {
        let results = race(&s, |s, i| async move {
            take_week_cap(&*s, "cu1", format!("c{i}")).await
        })
        .await;
        let taken = how_many(&results, &CapOutcome::Taken);
        assert_eq!(taken, 1, "{results:?}");
        assert!(
            results
                .iter()
                .all(|r| matches!(r, CapOutcome::Taken | CapOutcome::Capped { .. }))
        );
        // The same campaign racing with itself: one Taken, the rest AlreadyHeld.
        let results = race(&s, |s, _| async move {
            take_week_cap(&*s, "cu2", "same".to_owned()).await
        })
        .await;
        assert_eq!(how_many(&results, &CapOutcome::Taken), 1);
        assert_eq!(how_many(&results, &CapOutcome::AlreadyHeld), RACERS - 1);
    }

    pub async fn race_claim_segment(s: Arc<dyn Store>) {
        use engage::domain::segment::{Segment, SendPlan};
        use engage::store::{SegmentClaim, claim_segment};
        let now = t("2026-12-01T00:00:00Z");
        let plan = SendPlan {
            campaign_id: CampaignId::new("rc"),
            brand_id: BrandId::new("b1"),
            segments: 1,
            estimated_followers: 0,
            created_at: now,
        };
        s.put_segment(&Segment::new(&plan, 0), None).await.unwrap();
        let results = race(&s, |s, i| async move {
            claim_segment(
                &*s,
                &CampaignId::new("rc"),
                0,
                &format!("w{i}"),
                now,
                now + Duration::minutes(2),
            )
            .await
            .unwrap()
        })
        .await;
        let winners = results
            .iter()
            .filter(|r| matches!(r, SegmentClaim::Claimed(_)))
            .count();
        assert_eq!(winners, 1, "{results:?}");
    }

    pub async fn race_record_send(s: Arc<dyn Store>) {
        let results = race(&s, |s, i| async move {
            let mut r = send_record("c1", "cu1", SendOutcome::Sent);
            r.message_id = Some(format!("m{i}"));
            s.record_send(&r).await.unwrap()
        })
        .await;
        assert_eq!(how_many(&results, &LedgerOutcome::Inserted), 1);
    }

    fn message_record(
        order: &str,
        owner: &str,
        lease_until: chrono::DateTime<chrono::Utc>,
    ) -> engage::store::MessageRecord {
        engage::store::MessageRecord {
            order_id: OrderId::new(order),
            message_type: "review_request".into(),
            brand_id: Some(BrandId::new("b1")),
            customer_id: Some(CustomerId::new("cu1")),
            message_id: format!("msg-{order}-review_request"),
            status: engage::store::MessageStatus::Pending,
            owner: owner.into(),
            lease_until_micros: lease_until.timestamp_micros(),
            claimed_at: Some(t("2026-11-17T18:00:00Z")),
            due_at: None,
            triggered_at_micros: None,
            locale: Some("en-US".into()),
            policy: None,
            sent_at: None,
            provider_id: None,
            note: None,
        }
    }

    /// The buyer-message ledger (issue 7): one claim per (order, type); a live claim is
    /// held, an expired pending one is taken over, a finished one never again; a finish
    /// only by the owner of a pending claim.
    pub async fn message_ledger_claims_once(s: Arc<dyn Store>) {
        use engage::store::{MessageClaim, MessageFinish, MessageStatus};
        let now = t("2026-11-17T18:00:00Z");
        let a = message_record("o1", "run-a", now + Duration::minutes(5));
        assert_eq!(
            s.claim_message(&a, now).await.unwrap(),
            MessageClaim::Claimed
        );
        // Another run while the lease holds: held, the stored record returned.
        let b = message_record("o1", "run-b", now + Duration::minutes(6));
        assert_eq!(
            s.claim_message(&b, now).await.unwrap(),
            MessageClaim::Held(Box::new(a.clone()))
        );
        // Another type of the same order is independent.
        let mut other = message_record("o1", "run-b", now + Duration::minutes(5));
        other.message_type = "return_received".into();
        assert_eq!(
            s.claim_message(&other, now).await.unwrap(),
            MessageClaim::Claimed
        );
        // After the lease: run-b takes over; run-a can no longer finish.
        let later = now + Duration::minutes(5) + Duration::microseconds(1);
        assert_eq!(
            s.claim_message(&b, later).await.unwrap(),
            MessageClaim::Claimed
        );
        let mut done_a = a.clone();
        done_a.status = MessageStatus::Sent;
        assert_eq!(
            s.finish_message(&done_a).await.unwrap(),
            MessageFinish::Lost(Some(Box::new(b.clone())))
        );
        let mut done_b = b.clone();
        done_b.status = MessageStatus::Sent;
        done_b.sent_at = Some(later);
        done_b.provider_id = Some("ses-1".into());
        assert_eq!(
            s.finish_message(&done_b).await.unwrap(),
            MessageFinish::Finished
        );
        assert_eq!(
            s.get_message(&OrderId::new("o1"), "review_request")
                .await
                .unwrap(),
            Some(done_b.clone())
        );
        // Sent: never claimed again, whatever the lease says; nor finished again.
        let c = message_record("o1", "run-c", now);
        let far = now + Duration::days(365);
        assert_eq!(
            s.claim_message(&c, far).await.unwrap(),
            MessageClaim::Held(Box::new(done_b.clone()))
        );
        assert!(matches!(
            s.finish_message(&done_b).await.unwrap(),
            MessageFinish::Lost(_)
        ));
        assert_eq!(
            s.get_message(&OrderId::new("o2"), "review_request")
                .await
                .unwrap(),
            None
        );
    }

    /// Runs named `{run}-{i}` race to claim o1 at `at`: exactly one wins.
    async fn one_claim_wins(s: &Arc<dyn Store>, run: &'static str, at: DateTime<Utc>) {
        let results = race(s, |s, i| async move {
            let r = message_record("o1", &format!("{run}-{i}"), at + Duration::minutes(5));
            s.claim_message(&r, at).await.unwrap()
        })
        .await;
        let wins = how_many(&results, &MessageClaim::Claimed);
        assert_eq!(wins, 1, "{results:?}");
    }

    pub async fn race_claim_message(s: Arc<dyn Store>) {
        let now = t("2026-11-17T18:00:00Z");
        one_claim_wins(&s, "run", now).await;
        // And once the lease expired, racing takeovers: again exactly one.
        one_claim_wins(&s, "late", now + Duration::minutes(10)).await;
    }

    pub async fn race_put_contact(s: Arc<dyn Store>) {
        let results = race(&s, |s, i| async move {
            s.put_contact(&contact(&format!("k{i}"), "r1"))
                .await
                .unwrap()
        })
        .await;
        assert_eq!(how_many(&results, &ContactOutcome::Inserted), 1);
        let stored = s.get_contact(&ReviewId::new("r1")).await.unwrap().unwrap();
        assert!(results.iter().all(|r| match r {
            ContactOutcome::Inserted => true,
            ContactOutcome::AlreadyContacted(c) => *c == stored,
        }));
    }

    pub async fn race_idempotency_begin(s: Arc<dyn Store>) {
        let results = race(&s, |s, _| async move {
            s.begin(
                "scope",
                "k1",
                "h1",
                t("2026-11-01T00:00:00Z"),
                Duration::days(1),
                Duration::days(1),
            )
            .await
            .unwrap()
        })
        .await;
        assert_eq!(how_many(&results, &IdempotencyOutcome::New), 1);
        assert_eq!(
            how_many(&results, &IdempotencyOutcome::InProgress),
            RACERS - 1
        );
    }

    pub async fn race_upsert(s: Arc<dyn Store>) {
        // Every racer carries a different instant: whatever the order, the newest stays.
        let results = race(&s, |s, i| async move {
            let at = t("2026-11-01T00:00:00Z") + Duration::minutes(i as i64);
            upsert(&s, Entity::Follower(follower("b1", "cu1", at))).await
        })
        .await;
        assert!(results.contains(&Written));
        let newest = t("2026-11-01T00:00:00Z") + Duration::minutes(RACERS as i64 - 1);
        let got = s
            .get_follower(&BrandId::new("b1"), &CustomerId::new("cu1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.updated_at, newest);
        // Same instant from every racer: exactly one write.
        let results = race(&s, |s, _| async move {
            upsert(
                &s,
                Entity::Follower(follower("b1", "cu2", t("2026-11-01T00:00:00Z"))),
            )
            .await
        })
        .await;
        assert_eq!(how_many(&results, &Written), 1);
    }

    /// The review request of `order` made due by an event on November `day` at 18:00,
    /// due a week later.
    fn review_due(order: &str, day: u32) -> MessageRecord {
        let triggered = t(&format!("2026-11-{day:02}T18:00:00Z"));
        let due_at = triggered + Duration::days(7);
        MessageRecord::due(
            OrderId::new(order),
            "review_request",
            format!("msg-{order}-review_request"),
            triggered,
            due_at,
        )
    }

    /// Schedules `entry`: the store answers `outcome` and then holds `stored` for its
    /// (order, type).
    async fn schedule(
        s: &Arc<dyn Store>,
        entry: &MessageRecord,
        outcome: UpsertOutcome,
        stored: &MessageRecord,
    ) {
        assert_eq!(
            s.schedule_message(entry).await.unwrap(),
            outcome,
            "{entry:?}"
        );
        let got = s.get_message(&entry.order_id, &entry.message_type).await;
        assert_eq!(got.unwrap().as_ref(), Some(stored));
    }

    /// Due entries (the sequences due index): written once per (order, type); a
    /// repeat or an older trigger changes nothing, a newer one moves the entry; a
    /// claimed or sent entry is never touched; a refused one is re-armed only by a
    /// newer trigger; a claim takes a due entry.
    pub async fn due_entries_scheduled_once_and_moved_only_forward(s: Arc<dyn Store>) {
        let e1 = review_due("o1", 10);
        schedule(&s, &e1, Written, &e1).await;
        schedule(&s, &e1, Stale, &e1).await;
        schedule(&s, &review_due("o1", 9), Stale, &e1).await;
        let newer = review_due("o1", 11);
        schedule(&s, &newer, Written, &newer).await;
        // Another type of the same order is its own entry.
        let at = t("2026-11-12T09:00:00Z");
        let ret = MessageRecord::due(OrderId::new("o1"), "return_received", "m".into(), at, at);
        schedule(&s, &ret, Written, &ret).await;

        // Claimed (pending): a later trigger does not touch it; sent: neither.
        let now = t("2026-11-18T18:00:00Z");
        let mut claim = newer.clone();
        claim.status = MessageStatus::Pending;
        claim.owner = "run-a".into();
        claim.lease_until_micros = (now + Duration::minutes(5)).timestamp_micros();
        let claimed = s.claim_message(&claim, now).await.unwrap();
        assert_eq!(claimed, MessageClaim::Claimed);
        let later = review_due("o1", 12);
        schedule(&s, &later, Stale, &claim).await;
        let mut sent = claim.clone();
        sent.status = MessageStatus::Sent;
        sent.sent_at = Some(now);
        let finished = s.finish_message(&sent).await.unwrap();
        assert_eq!(finished, MessageFinish::Finished);
        schedule(&s, &later, Stale, &sent).await;

        // Refused (settled without a claim): a repeat leaves it, a newer trigger re-arms it.
        let e2 = review_due("o2", 10);
        schedule(&s, &e2, Written, &e2).await;
        let mut refused = e2.clone();
        refused.status = MessageStatus::Refused;
        refused.owner = "run-a".into();
        refused.note = Some("R-MSG-5.unsubscribed".into());
        let claimed = s.claim_message(&refused, now).await.unwrap();
        assert_eq!(claimed, MessageClaim::Claimed);
        schedule(&s, &e2, Stale, &refused).await;
        // Settled: no claim succeeds, whatever the lease says.
        let mut late_claim = claim.clone();
        late_claim.order_id = OrderId::new("o2");
        let a_year_on = now + Duration::days(365);
        let held = s.claim_message(&late_claim, a_year_on).await.unwrap();
        assert_eq!(held, MessageClaim::Held(Box::new(refused.clone())));
        let e2b = review_due("o2", 11);
        schedule(&s, &e2b, Written, &e2b).await;
    }

    /// The due index lists the open entries due from a day's start to `until`
    /// (inclusive), every shard, page by page, each once; later ones are not read;
    /// settled (sent, refused) entries leave it, claimed ones stay.
    pub async fn due_index_lists_only_what_is_due(s: Arc<dyn Store>) {
        let until = t("2026-11-20T12:00:00Z");
        let from_day = chrono::NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
        let mut expected: Vec<(chrono::DateTime<chrono::Utc>, String)> = Vec::new();
        for i in 0..40 {
            let order = format!("o{i:02}");
            // Every 2 hours from 11-17T14:00 on: the day before `from_day`, the three
            // days listed, and after `until` (11-20T12:00 itself included).
            let at = t("2026-11-17T14:00:00Z") + Duration::hours(2 * i);
            let entry = MessageRecord::due(
                OrderId::new(order.as_str()),
                "review_request",
                format!("msg-{order}"),
                at - Duration::days(7),
                at,
            );
            s.schedule_message(&entry).await.unwrap();
            if at >= t("2026-11-18T00:00:00Z") && at <= until {
                expected.push((at, order));
            }
        }
        assert!(expected.iter().any(|(at, _)| *at == until));
        let list = |limit: usize| {
            let s = Arc::clone(&s);
            async move {
                let mut out: Vec<MessageRecord> = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    let page = s
                        .list_due_messages(from_day, until, token.as_deref(), limit)
                        .await
                        .unwrap();
                    assert!(page.items.len() <= limit);
                    out.extend(page.items);
                    match page.next {
                        Some(n) => token = Some(n),
                        None => break,
                    }
                }
                out
            }
        };
        let ids = |v: &[MessageRecord]| {
            let mut ids: Vec<String> = v.iter().map(|r| r.order_id.0.clone()).collect();
            ids.sort();
            ids
        };
        let mut want: Vec<String> = expected.iter().map(|(_, o)| o.clone()).collect();
        want.sort();
        for limit in [1, 4, 100] {
            let listed = list(limit).await;
            assert_eq!(ids(&listed), want, "limit {limit}");
            let keys: Vec<(chrono::NaiveDate, u32, chrono::DateTime<chrono::Utc>)> = listed
                .iter()
                .map(|r| {
                    let at = r.due_at.unwrap();
                    (
                        at.date_naive(),
                        engage::store::keys::due_shard(&r.order_id),
                        at,
                    )
                })
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted, "(day, shard, due) order");
        }
        let shards: HashSet<u32> = want
            .iter()
            .map(|o| engage::store::keys::due_shard(&OrderId::new(o.as_str())))
            .collect();
        assert!(shards.len() > 1, "the entries span several shards");

        // o10 refused, o11 claimed then sent, o12 claimed (pending): only o12 stays.
        let listed = list(100).await;
        let entry = |o: &str| listed.iter().find(|r| r.order_id.0 == o).unwrap().clone();
        let now = until;
        let mut refused = entry("o10");
        refused.status = MessageStatus::Refused;
        assert_eq!(
            s.claim_message(&refused, now).await.unwrap(),
            MessageClaim::Claimed
        );
        for o in ["o11", "o12"] {
            let mut claim = entry(o);
            claim.status = MessageStatus::Pending;
            claim.owner = "run-a".into();
            claim.lease_until_micros = (now + Duration::minutes(5)).timestamp_micros();
            assert_eq!(
                s.claim_message(&claim, now).await.unwrap(),
                MessageClaim::Claimed
            );
            if o == "o11" {
                claim.status = MessageStatus::Sent;
                assert_eq!(
                    s.finish_message(&claim).await.unwrap(),
                    MessageFinish::Finished
                );
            }
        }
        let after = list(100).await;
        want.retain(|o| o != "o10" && o != "o11");
        assert_eq!(ids(&after), want);
        assert_eq!(
            after.iter().find(|r| r.order_id.0 == "o12").unwrap().status,
            MessageStatus::Pending
        );
        assert!(matches!(
            s.list_due_messages(from_day, until, Some("not a token"), 10)
                .await,
            Err(StoreError::InvalidPageToken(_))
        ));
    }
}

macro_rules! contract_suite {
    ($($name:ident),* $(,)?) => {
        /// The suite against SQLite in a temp dir.
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, _dir) = crate::common::embedded();
                    super::contract::$name(store).await;
                }
            )*
        }

        /// The suite against DynamoDB on moto, a fresh table per test.
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, _table) = crate::common::dynamo().await;
                    super::contract::$name(store).await;
                }
            )*
        }
    };
}

contract_suite!(
    campaign_create_get_list,
    campaign_transitions_follow_the_state_machine,
    cap_taken_held_capped_then_free_after_exactly_the_cap,
    ledger_records_once,
    contact_once_per_review,
    idempotency_new_in_progress_replay_mismatch,
    upsert_keeps_the_newest,
    follower_state_and_suppression_travel_with_the_item,
    follower_paging_covers_everyone_exactly_once,
    send_segments_leases_ranges_and_batch_caps,
    race_claim_segment,
    race_create_campaign,
    race_transition,
    race_take_cap,
    race_record_send,
    race_put_contact,
    race_idempotency_begin,
    race_upsert,
    race_suppress_never_loses_a_bounce,
    feedback_counts_each_event_once,
    race_count_feedback,
    message_ledger_claims_once,
    race_claim_message,
    due_entries_scheduled_once_and_moved_only_forward,
    due_index_lists_only_what_is_due,
);

/// The raw item a second client reads back (only the attributes this test checks).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCampaignItem {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    status: CampaignStatus,
    nickname: String,
}

/// Proves the DynamoDB run reached moto: a second, independently built client reads the
/// item the store wrote with a raw GetItem, deserialised with serde_dynamo.
#[tokio::test]
async fn dynamodb_writes_reach_moto_through_a_second_client() {
    let (store, table) = common::dynamo().await;
    let c = campaign("c-moto", "b-moto", t("2026-11-01T10:00:00Z"));
    store.create_campaign(&c).await.unwrap();
    store
        .transition(
            &c.id,
            &[InReview],
            Approved,
            None,
            t("2026-11-02T10:00:00Z"),
        )
        .await
        .unwrap();

    let other = common::dynamo_client().await;
    let out = other
        .get_item()
        .table_name(&table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("CAMPAIGN#c-moto".to_owned()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("CAMPAIGN".to_owned()),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let item: RawCampaignItem = serde_dynamo::from_item(out.item.expect("item on moto")).unwrap();
    assert_eq!(item.pk, "CAMPAIGN#c-moto");
    assert_eq!(item.sk, "CAMPAIGN");
    assert_eq!(item.gsi1pk, "BRAND#b-moto#CAMPAIGNS");
    assert_eq!(item.gsi1sk, "STATUS#APPROVED#CAMPAIGN#c-moto");
    assert_eq!(item.status, Approved);
    assert_eq!(item.nickname, c.nickname);

    // And the table is the one infra/table.json defines.
    let described = other.describe_table().table_name(&table).send().await;
    let desc = described.unwrap().table.unwrap();
    let def = engage::store::dynamodb::table_definition().unwrap();
    let mut indexes: Vec<String> = desc
        .global_secondary_indexes()
        .iter()
        .filter_map(|g| g.index_name().map(str::to_owned))
        .collect();
    indexes.sort();
    let mut expected: Vec<String> = def
        .global_secondary_indexes
        .iter()
        .map(|g| g.index_name.clone())
        .collect();
    expected.sort();
    assert_eq!(indexes, expected);
    let ttl = other
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await;
    let ttl = ttl.unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|t| t.attribute_name()),
        Some("expiresAt")
    );
}

/// The embedded store is shared by several processes through one folder: two stores
/// opened on the same folder see each other's writes, and conditions hold across them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_two_handles_on_one_folder_share_state_and_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let a: Arc<dyn Store> = Arc::new(engage::store::EmbeddedStore::open(dir.path()).unwrap());
    let b: Arc<dyn Store> = Arc::new(engage::store::EmbeddedStore::open(dir.path()).unwrap());
    assert!(dir.path().join("engage.db").exists());
    let mut handles = Vec::new();
    for (i, s) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        handles.push(tokio::spawn(async move {
            take_week_cap(&*s, "cu1", format!("c{i}")).await
        }));
    }
    let mut taken = 0;
    for h in handles {
        if h.await.unwrap() == CapOutcome::Taken {
            taken += 1;
        }
    }
    assert_eq!(taken, 1);
    let c = campaign("c1", "b1", t("2026-11-01T10:00:00Z"));
    a.create_campaign(&c).await.unwrap();
    assert_eq!(b.get_campaign(&c.id).await.unwrap(), Some(c));
}
