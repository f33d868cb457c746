//! Fault injection: a store and a mailer that fail their k-th call, the job rerun
//! until done: 0 duplicates, 0 lost, 0 cap breaches, on the embedded store (every
//! call; every write also failing after it executed) and on DynamoDB (moto: each
//! call in each distinct context, writes before and after). A proptest over random
//! schedules proves the 7-day cap. The DynamoDB requests per recipient are
//! counted against moto.

use crate::common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::send_support::*;
use chrono::Duration;
use engage::clock::Clock;
use engage::domain::campaign::CampaignStatus;
use engage::jobs::send_window::{self, SendOptions};
use engage::store::{DynamoStore, EmbeddedStore, Store};
use proptest::prelude::*;

const TIMES: [&str; 3] = [
    "2026-12-07T08:00:00Z",
    "2026-12-09T08:00:00Z",
    "2026-12-15T09:00:00Z",
];

fn options() -> SendOptions {
    SendOptions {
        page_size: 5,
        wave: 3,
        lease: std::time::Duration::from_millis(150),
        ..SendOptions::default()
    }
}

/// B1: 10 followers (one unfollowed, one suppressed); B2: 4. c1 (B1, Dec 7),
/// c2 (B1, Dec 9: everyone capped by c1), c3 (B2, Dec 7), c4 (B1, Dec 15: free again).
async fn seed(store: &dyn Store) {
    brand(store, "B1").await;
    brand(store, "B2").await;
    for i in 0..10 {
        follower(store, "B1", &format!("a{i}"), i == 3, i == 7).await;
    }
    for i in 0..4 {
        follower(store, "B2", &format!("a{i}"), false, false).await;
    }
    create(store, &campaign("c1", "B1", "2026-12-07")).await;
    create(store, &campaign("c2", "B1", "2026-12-09")).await;
    create(store, &campaign("c3", "B2", "2026-12-07")).await;
    create(store, &campaign("c4", "B1", "2026-12-15")).await;
}

fn expected() -> BTreeMap<String, BTreeSet<String>> {
    let b1: BTreeSet<String> = (0..10)
        .filter(|i| *i != 3 && *i != 7)
        .map(|i| format!("a{i}@relay.example"))
        .collect();
    let b2: BTreeSet<String> = (0..4).map(|i| format!("a{i}@relay.example")).collect();
    BTreeMap::from([
        ("c1".to_owned(), b1.clone()),
        ("c3".to_owned(), b2),
        ("c4".to_owned(), b1),
    ])
}

fn brand_of(c: &str) -> String {
    if c == "c3" { "B2".into() } else { "B1".into() }
}

/// Runs the scenario through `store` (wrapped to fail call `store_k`) and a mailer
/// failing call `mail_k`, rerunning each tick until it is done. Returns the mails and
/// the number of store calls made.
async fn scenario(
    base: Arc<dyn Store>,
    store_k: usize,
    after: bool,
    mail_k: usize,
) -> (Vec<Mail>, Vec<&'static str>) {
    let faulty = Arc::new(FaultStore::new(base.clone(), store_k, after));
    let store: Arc<dyn Store> = faulty.clone();
    let mailer = FaultMailer::failing(mail_k);
    let clock = ManualClock::new(t(TIMES[0]));
    let app = app(store.clone(), clock.clone()).with_mailer(Arc::new(mailer.clone()));
    for at in TIMES {
        clock.set(t(at));
        for attempt in 0.. {
            assert!(attempt < 20, "tick at {at} never finished");
            match send_window::run(&app, &options().fresh_run()).await {
                Err(_) => continue,
                Ok(r)
                    if r.campaigns
                        .iter()
                        .all(|c| c.notes.is_empty() || c.to != CampaignStatus::Sending) =>
                {
                    break;
                }
                Ok(r) => {
                    // A lease left by a failed run passes on the business clock.
                    if r.campaigns
                        .iter()
                        .any(|c| c.note_text().is_some_and(|n| n.contains("another worker")))
                    {
                        clock.set(clock.now() + Duration::from_std(options().lease).unwrap());
                    }
                }
            }
        }
    }
    for c in ["c1", "c2", "c3", "c4"] {
        assert_eq!(
            state(&*base, c).await.0,
            CampaignStatus::Sent,
            "{c} (store k={store_k}, mail k={mail_k})"
        );
    }
    let trace = faulty.trace.lock().unwrap().clone();
    (mailer.mails(), trace)
}

fn verify(mails: &[Mail], what: &str) {
    let got = check_mails(mails, brand_of, Duration::days(7));
    assert_eq!(got, expected(), "lost or extra recipients ({what})");
}

/// The (call, after) fault points of a fault-free trace: every write before and
/// after it executes, every read before (after is the same for a read). With
/// `every_call` false, only the first call of each distinct (previous operation,
/// operation) pair: later ticks and waves repeat the same sequence of calls, and
/// moto takes ~25 ms a call.
fn fault_points(trace: &[&'static str], every_call: bool) -> Vec<(usize, bool)> {
    let mut seen = BTreeSet::new();
    let mut points = Vec::new();
    for (i, op) in trace.iter().enumerate() {
        let k = i + 1;
        let previous = if i == 0 { "" } else { trace[i - 1] };
        if !seen.insert((previous, *op)) && !every_call {
            continue;
        }
        points.push((k, false));
        if STORE_WRITES.contains(op) {
            points.push((k, true));
        }
    }
    points
}

async fn every_fault(
    make: impl Fn() -> futures::future::BoxFuture<'static, Arc<dyn Store>>,
    label: &str,
    every_call: bool,
) {
    let (mails, trace) = scenario(make().await, 0, false, 0).await;
    verify(&mails, "no fault");
    let mail_calls = mails.len();
    let points = fault_points(&trace, every_call);
    let mut runs = 0;
    for &(k, after) in &points {
        let (mails, _) = scenario(make().await, k, after, 0).await;
        verify(
            &mails,
            &format!(
                "{label}: store call {k} ({}) fails (after={after})",
                trace[k - 1]
            ),
        );
        runs += 1;
    }
    // A failed send is retried by the worker whatever the store: on moto the
    // first, a middle and the last send stand for the others.
    let mail_points: Vec<usize> = if every_call {
        (1..=mail_calls).collect()
    } else {
        vec![1, mail_calls.div_ceil(2), mail_calls]
    };
    for k in mail_points {
        let (mails, _) = scenario(make().await, 0, false, k).await;
        verify(&mails, &format!("{label}: mail call {k} fails"));
        runs += 1;
    }
    let writes = trace.iter().filter(|op| STORE_WRITES.contains(op)).count();
    println!(
        "{label}: {} store calls ({writes} writes) and {mail_calls} mail calls per fault-free \
         scenario; {runs} faulty scenarios, each: 0 duplicates, 0 lost, 0 cap breaches",
        trace.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_store_and_mail_fault_embedded() {
    every_fault(
        || {
            seeded(Box::pin(async {
                Arc::new(EmbeddedStore::open_in_memory().unwrap()) as Arc<dyn Store>
            }))
        },
        "embedded",
        true,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_store_and_mail_fault_dynamodb() {
    // Seeded once; each scenario starts from a copy of that table.
    let (seeded_store, seeded_table) = common::dynamo().await;
    seed(&*seeded_store).await;
    every_fault(
        || {
            let source = seeded_table.clone();
            Box::pin(async move { common::dynamo_copy(&source).await.0 as Arc<dyn Store> })
        },
        "dynamodb (moto)",
        false,
    )
    .await;
}

/// Seeds the store a builder makes.
fn seeded(
    make: futures::future::BoxFuture<'static, Arc<dyn Store>>,
) -> futures::future::BoxFuture<'static, Arc<dyn Store>> {
    Box::pin(async move {
        let s = make.await;
        seed(&*s).await;
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    /// Random schedules: brands, campaigns on random start dates, random follower
    /// sets, ticks every 6 hours for a month. No customer ever gets two emails of
    /// one brand less than 7 days apart, and none twice from one campaign; every
    /// follower of a brand with a campaign gets one.
    #[test]
    fn the_cap_holds_for_random_schedules(
        campaigns in proptest::collection::vec((0u8..3, 0u32..20), 1..8),
        followers in proptest::collection::vec((0u8..3, 0u8..8), 1..20),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open_in_memory().unwrap());
            for b in 0..3 {
                brand(&*store, &format!("B{b}")).await;
            }
            for (b, c) in &followers {
                follower(&*store, &format!("B{b}"), &format!("u{c}"), false, false).await;
            }
            let mut brand_of_campaign = HashMap::new();
            for (i, (b, day)) in campaigns.iter().enumerate() {
                let start = chrono::NaiveDate::from_ymd_opt(2026, 12, 1 + day).unwrap();
                let c = campaign(&format!("c{i}"), &format!("B{b}"), &start.to_string());
                brand_of_campaign.insert(format!("c{i}"), format!("B{b}"));
                create(&*store, &c).await;
            }
            let clock = ManualClock::new(t("2026-12-01T00:00:00Z"));
            let mailer = FaultMailer::default();
            let app = app(store.clone(), clock.clone()).with_mailer(Arc::new(mailer.clone()));
            let mut at = t("2026-12-01T00:00:00Z");
            while at < t("2027-01-01T00:00:00Z") {
                clock.set(at);
                send_window::run(&app, &options().fresh_run()).await.unwrap();
                at += Duration::hours(6);
            }
            let brand_of = Mutex::new(brand_of_campaign.clone());
            let sent = check_mails(&mailer.mails(), |c| brand_of.lock().unwrap()[c].clone(), Duration::days(7));
            // A run that sent nothing would keep every cap: each follower of a brand
            // with a campaign hears from that brand (its first campaign finds no one
            // capped), and no one else hears from it.
            let reached: BTreeSet<(String, String)> = sent
                .iter()
                .flat_map(|(c, to)| to.iter().map(|to| (brand_of_campaign[c].clone(), to.clone())))
                .collect();
            let expected: BTreeSet<(String, String)> = followers
                .iter()
                .filter(|(b, _)| campaigns.iter().any(|(cb, _)| cb == b))
                .map(|(b, c)| (format!("B{b}"), format!("u{c}@relay.example")))
                .collect();
            assert_eq!(reached, expected, "followers reached, by brand");
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_requests_per_recipient() {
    const N: usize = 500;
    let (seeded, table) = common::dynamo().await;
    brand(&*seeded, "B1").await;
    for i in 0..N {
        follower(&*seeded, "B1", &format!("r{i:04}"), false, false).await;
    }
    create(&*seeded, &campaign("c1", "B1", "2026-12-07")).await;

    let counter = common::RequestCounter::default();
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(counter.client().await, table));
    let clock = ManualClock::new(t("2026-12-07T08:00:00Z"));
    let mailer = FaultMailer::default();
    let app = app(store.clone(), clock).with_mailer(Arc::new(mailer.clone()));
    let opts = SendOptions::default();
    let report = send_window::run(&app, &opts).await.unwrap();
    assert_eq!(report.campaigns[0].to, CampaignStatus::Sent);
    assert_eq!(mailer.mails().len(), N);

    let counts = counter.counts();
    let writes = counter.sum(&common::RequestCounter::WRITES);
    let reads = counter.sum(&common::RequestCounter::READS);
    #[allow(
        clippy::cast_precision_loss,
        reason = "counts of a few thousand requests are exact in an f64"
    )]
    let (w, r, m) = (
        writes as f64 / N as f64,
        reads as f64 / N as f64,
        mailer.mails().len() as f64 / N as f64,
    );
    println!(
        "dynamodb per recipient over {N} (page {}, wave {}): {w:.3} writes, {r:.3} reads, {m:.2} mail calls; requests {counts:?}",
        opts.page_size, opts.wave
    );
    assert!(w <= 1.05, "{w} writes per recipient");
    assert!(r <= 0.05, "{r} reads per recipient");
    assert!((m - 1.0).abs() < f64::EPSILON);
}
