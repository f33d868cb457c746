//! The send-window job end to end over the embedded store: the window opens at
//! Pacific midnight, everyone is reached, the 7-day cap across overlapping
//! campaigns, other brands independent, skips, expiry, cancellation,
//! suspension and the performance use case.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::send_support::*;
use chrono::Duration;
use engage::app::AppError;
use engage::auth::{Caller, Role};
use engage::domain::CampaignId;
use engage::domain::PromotionId;
use engage::domain::campaign::CampaignStatus::{self, *};
use engage::jobs::send_window::{self, SendOptions};
use engage::store::{EmbeddedStore, Store};

fn options() -> SendOptions {
    SendOptions {
        page_size: 7,
        wave: 3,
        ..SendOptions::default()
    }
}

fn mem() -> Arc<dyn Store> {
    Arc::new(EmbeddedStore::open_in_memory().unwrap())
}

/// A fresh store with brand B1 and its subscribed followers `customers`.
async fn b1_followed_by<C: AsRef<str>>(customers: impl IntoIterator<Item = C>) -> Arc<dyn Store> {
    let store = mem();
    brand(&*store, "B1").await;
    for c in customers {
        follower(&*store, "B1", c.as_ref(), false, false).await;
    }
    store
}

/// Cancels campaign `id`, in `from`, at `at`, as its brand does.
async fn cancel(store: &dyn Store, id: &str, from: CampaignStatus, at: &str) {
    let reason = Some("cancelled by the brand");
    store
        .transition(&CampaignId::new(id), &[from], Cancelled, reason, t(at))
        .await
        .unwrap();
}

async fn tick(
    store: &Arc<dyn Store>,
    clock: &Arc<ManualClock>,
    mailer: &FaultMailer,
    at: &str,
) -> send_window::RunReport {
    clock.set(t(at));
    let app = app(store.clone(), clock.clone()).with_mailer(Arc::new(mailer.clone()));
    send_window::run(&app, &options().fresh_run())
        .await
        .unwrap()
}

fn to_set(mails: &[Mail], campaign: &str) -> BTreeSet<String> {
    mails
        .iter()
        .filter(|m| m.campaign == campaign)
        .map(|m| m.to.clone())
        .collect()
}

fn relays(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|c| format!("{c}@relay.example")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_before_pacific_midnight_then_everyone_and_sent() {
    let store = b1_followed_by((0..20).map(|i| format!("u{i:02}"))).await;
    create(&*store, &campaign("c1", "B1", "2026-12-07")).await;
    let clock = ManualClock::new(t("2026-12-01T00:00:00Z"));
    let mailer = FaultMailer::default();

    tick(&store, &clock, &mailer, "2026-12-07T07:59:59Z").await;
    assert!(mailer.mails().is_empty(), "nothing before the window opens");
    assert_eq!(state(&*store, "c1").await.0, Approved);

    let report = tick(&store, &clock, &mailer, "2026-12-07T08:00:00Z").await;
    assert_eq!(report.campaigns[0].from, Approved);
    assert_eq!(report.campaigns[0].to, Sent);
    let mails = mailer.mails();
    assert_eq!(mails.len(), 20);
    assert!(mails.iter().all(|m| m.date == t("2026-12-07T08:00:00Z")));
    let (status, p) = state(&*store, "c1").await;
    assert_eq!(status, Sent);
    assert_eq!(
        (p.counters.targeted, p.counters.sent, p.pending()),
        (20, 20, 0)
    );

    // A later tick sends nothing more.
    tick(&store, &clock, &mailer, "2026-12-08T08:00:00Z").await;
    assert_eq!(mailer.mails().len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_campaigns_reach_each_customer_once_other_brands_independent() {
    let store = mem();
    brand(&*store, "B1").await;
    brand(&*store, "B2").await;
    let ids = ["u1", "u2", "u3", "u4", "u5", "u6"];
    for c in ids {
        follower(&*store, "B1", c, false, false).await;
        follower(&*store, "B2", c, false, false).await;
    }
    follower(&*store, "B1", "gone", true, false).await;
    follower(&*store, "B1", "unsub", false, true).await;
    create(&*store, &campaign("c1", "B1", "2026-12-07")).await;
    create(&*store, &campaign("c2", "B1", "2026-12-09")).await; // overlaps c1's window
    create(&*store, &campaign("c3", "B2", "2026-12-08")).await; // another brand
    create(&*store, &campaign("c4", "B1", "2026-12-14")).await; // cap free again after 7 days
    let clock = ManualClock::new(t("2026-12-01T00:00:00Z"));
    let mailer = FaultMailer::default();
    for at in [
        "2026-12-07T08:00:00Z",
        "2026-12-08T08:00:00Z",
        "2026-12-09T08:00:00Z",
        "2026-12-14T08:00:00Z",
        "2026-12-20T08:00:00Z",
    ] {
        tick(&store, &clock, &mailer, at).await;
    }
    let mails = mailer.mails();
    let brand_of = |c: &str| {
        if c == "c3" {
            "B2".to_owned()
        } else {
            "B1".to_owned()
        }
    };
    check_mails(&mails, brand_of, Duration::days(7));
    assert_eq!(to_set(&mails, "c1"), relays(&ids));
    assert!(to_set(&mails, "c2").is_empty(), "capped by c1 for 7 days");
    assert_eq!(
        to_set(&mails, "c3"),
        relays(&ids),
        "another brand is independent"
    );
    assert_eq!(
        to_set(&mails, "c4"),
        relays(&ids),
        "7 days later the cap is free"
    );
    assert!(
        !mails
            .iter()
            .any(|m| m.to.starts_with("gone") || m.to.starts_with("unsub"))
    );

    let (s1, p1) = state(&*store, "c1").await;
    assert_eq!(s1, Sent);
    assert_eq!(p1.counters.targeted, 7);
    assert_eq!(p1.counters.sent, 6);
    assert_eq!(p1.counters.skipped_suppressed, 1);
    assert_eq!(p1.counters.skipped_unfollowed, 1);
    let (s2, p2) = state(&*store, "c2").await;
    assert_eq!(s2, Sent);
    assert_eq!(p2.counters.skipped_frequency_cap, 6);
    assert_eq!(p2.counters.sent, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_cancelled_and_window_end() {
    let store = b1_followed_by(["u1", "u2"]).await;
    let mut in_review = campaign("review", "B1", "2026-12-07");
    in_review.status = InReview;
    create(&*store, &in_review).await;
    create(&*store, &campaign("late", "B1", "2026-12-07")).await; // approved, never ticked in its window
    create(&*store, &campaign("cancel", "B1", "2026-12-07")).await;
    cancel(&*store, "cancel", Approved, "2026-12-01T00:00:00Z").await;
    let clock = ManualClock::new(t("2026-12-01T00:00:00Z"));
    let mailer = FaultMailer::default();

    // Still inside the window: the unapproved one waits.
    tick(&store, &clock, &mailer, "2026-12-06T00:00:00Z").await;
    assert_eq!(state(&*store, "review").await.0, InReview);
    // The window (Dec 7 08:00Z + 5 days) is over.
    tick(&store, &clock, &mailer, "2026-12-12T08:00:00Z").await;
    assert_eq!(state(&*store, "review").await.0, Expired);
    assert_eq!(state(&*store, "late").await.0, Expired);
    assert_eq!(state(&*store, "cancel").await.0, Cancelled);
    assert!(mailer.mails().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_while_sending_stops_within_one_wave() {
    let store = b1_followed_by((0..60).map(|i| format!("u{i:02}"))).await;
    create(&*store, &campaign("c1", "B1", "2026-12-07")).await;
    let clock = ManualClock::new(t("2026-12-07T09:00:00Z"));
    let mailer = Arc::new(FaultMailer::default());
    let app = app(store.clone(), clock.clone()).with_mailer(mailer.clone());
    let opts = SendOptions {
        page_size: 20,
        wave: 5,
        rate_per_second: Some(100.0),
        ..SendOptions::default()
    };
    let job = {
        let (app, opts) = (app.clone(), opts.clone());
        tokio::spawn(async move { send_window::run(&app, &opts).await.unwrap() })
    };
    while mailer.calls() < 12 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    cancel(&*store, "c1", Sending, "2026-12-07T09:00:00Z").await;
    let at_cancel = mailer.mails().len();
    let report = job.await.unwrap();
    let total = mailer.mails().len();
    println!(
        "cancel while sending: {at_cancel} sent when the cancellation committed, {total} in all (wave 5)"
    );
    assert!(
        total - at_cancel <= opts.wave,
        "{} sent after the cancellation",
        total - at_cancel
    );
    assert!(total < 60);
    assert_eq!(report.campaigns[0].to, Cancelled);
    assert_eq!(state(&*store, "c1").await.0, Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_canceled_suspends_unfinished_campaigns_of_the_brand() {
    let store = mem();
    brand(&*store, "B1").await;
    let with_promo = |id: &str, status: CampaignStatus| {
        let mut c = campaign(id, "B1", "2026-12-07");
        c.promotion_id = Some(PromotionId::new("P1"));
        c.status = status;
        c
    };
    create(&*store, &with_promo("review", InReview)).await;
    create(&*store, &with_promo("approved", Approved)).await;
    create(&*store, &with_promo("done", Sent)).await;
    create(&*store, &campaign("other", "B1", "2026-12-07")).await;
    let event = serde_json::json!({
        "id": "e1", "detail-type": "Promotion Canceled", "source": "marketplace",
        "time": "2026-12-02T00:00:00Z", "detail": {"promotionId": "P1", "brandId": "B1"}
    });
    engage::jobs::events::handle(&*store, event.clone(), t("2026-12-02T00:00:00Z"))
        .await
        .unwrap();
    engage::jobs::events::handle(&*store, event, t("2026-12-02T00:00:00Z"))
        .await
        .unwrap(); // redelivery
    let c = store
        .get_campaign(&CampaignId::new("approved"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, Suspended);
    assert!(c.status_reason.unwrap().contains("P1"));
    assert_eq!(state(&*store, "review").await.0, Suspended);
    assert_eq!(state(&*store, "done").await.0, Sent);
    assert_eq!(state(&*store, "other").await.0, Approved);

    // A suspended campaign is never sent.
    follower(&*store, "B1", "u1", false, false).await;
    let clock = ManualClock::new(t("2026-12-07T08:00:00Z"));
    let mailer = FaultMailer::default();
    tick(&store, &clock, &mailer, "2026-12-07T08:00:00Z").await;
    assert_eq!(to_set(&mailer.mails(), "approved"), BTreeSet::new());
    assert_eq!(to_set(&mailer.mails(), "other").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_mail_failures_are_retried_permanent_ones_fail() {
    let store = b1_followed_by(["u1", "u2", "u3"]).await;
    create(&*store, &campaign("c1", "B1", "2026-12-07")).await;
    let clock = ManualClock::new(t("2026-12-07T08:00:00Z"));
    let mailer = FaultMailer::failing(2);
    // The transient failure is retried within the pass, in the wave after it
    // (the scale issue: retried in waves under the lease, never counted as sent).
    let r = tick(&store, &clock, &mailer, "2026-12-07T08:00:00Z").await;
    assert_eq!(r.campaigns[0].pending, 0);
    assert_eq!(mailer.calls(), 4);
    tick(&store, &clock, &mailer, "2026-12-07T09:00:00Z").await;
    let (status, p) = state(&*store, "c1").await;
    assert_eq!((status, p.counters.sent, p.pending()), (Sent, 3, 0));
    assert_eq!(mailer.mails().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn performance_is_tenant_isolated() {
    let store = b1_followed_by(["u1", "u2"]).await;
    follower(&*store, "B1", "u3", false, true).await;
    create(&*store, &campaign("c1", "B1", "2026-12-07")).await;
    let clock = ManualClock::new(t("2026-12-07T08:00:00Z"));
    tick(
        &store,
        &clock,
        &FaultMailer::default(),
        "2026-12-07T08:00:00Z",
    )
    .await;
    let app = app(store.clone(), clock.clone());
    let caller = |brand: &str, roles: &[Role]| Caller {
        user: "u".into(),
        seller_id: "S1".into(),
        brands: [brand.to_owned()].into_iter().collect(),
        roles: roles.iter().copied().collect(),
    };
    let p = engage::app::performance::get(&app, &caller("B1", &[Role::BrandRepresentative]), "c1")
        .await
        .unwrap();
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["targeted"], 3);
    assert_eq!(json["sent"], 2);
    assert_eq!(json["skippedSuppressed"], 1);
    assert_eq!(json["skippedFrequencyCap"], 0);
    assert_eq!(json["failed"], 0);
    assert_eq!(json["pending"], 0);
    let other =
        engage::app::performance::get(&app, &caller("B2", &[Role::BrandRepresentative]), "c1")
            .await;
    assert!(matches!(other, Err(AppError::NotFound(_))));
    let no_role = engage::app::performance::get(&app, &caller("B1", &[]), "c1").await;
    assert!(matches!(no_role, Err(AppError::Forbidden(_))));
}
