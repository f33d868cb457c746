//! The send pipeline's throughput.
//!
//! - `send_window/embedded_in_memory_null_mailer`: recipients per second through
//!   one local pass (planner, one worker, the send policy evaluated per wave and
//!   per follower state) over the embedded store in memory with a no-op mailer, on
//!   one core. Everything done per recipient is measured: follower pages, the
//!   recipient rules, cap takes (one conditional write each, one SQLite
//!   transaction per wave), the unsubscribe token (HMAC), the email (rendered once
//!   per slice, link put in per recipient), the mail call and the per-wave
//!   checkpoint.
//! - `send_window/cap_write_floor`: the store's conditional cap writes alone for
//!   the same recipients (waves of 25): the floor the pipeline is reported against.
//! - `send_workers/latency_40ms/N`: N local workers over a campaign cut into 8
//!   segments, each send taking 40 ms (an SES round trip): how throughput scales
//!   with workers.
//!
//! The DynamoDB request counts per recipient are measured against moto by
//! `tests/it/send_faults.rs` and `tests/it/send_scale.rs`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    reason = "criterion_group! makes undocumented pub fns; a broken setup panics"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engage::app::App;
use engage::clock::FixedClock;
use engage::domain::brand::{Brand, Marketplace};
use engage::domain::campaign::{
    Campaign, CampaignStatus, HeaderStyle, Image, Logo, LogoBackground, LogoFormat,
};
use engage::domain::follower::{FollowChange, FollowKind};
use engage::domain::schedule::{send_window, zone};
use engage::domain::{BrandId, CampaignId, CustomerId, SellerId};
use engage::jobs::send_window::{self, NullMailer, SendOptions};
use engage::mail::{MailError, Mailer, OutgoingEmail, SentMessage};
use engage::policy::PolicySet;
use engage::store::CapTake;
use engage::store::{CampaignStore, EmbeddedStore, Entity, EntityStore, Store};

const RECIPIENTS: usize = 5_000;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn campaign(id: &str) -> Campaign {
    let date = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    Campaign {
        id: CampaignId::new(id),
        brand_id: BrandId::new("B1"),
        purpose: Some("featured_product".into()),
        nickname: "bench".into(),
        theme: None,
        primary_asin: "B000000001".into(),
        promotion_id: None,
        lifestyle_image: Image {
            url: "https://img.example/l.jpg".into(),
            width: 1200,
            height: 800,
        },
        complementary_asins: vec!["B000000002".into()],
        start_date: date,
        subject: "New from a brand you follow".into(),
        section_header: "Just launched".into(),
        logo: Logo {
            url: "https://img.example/logo.png".into(),
            width: 600,
            height: 200,
            format: LogoFormat::Png,
            background: LogoBackground::Transparent,
        },
        header_style: HeaderStyle::Dark,
        status: CampaignStatus::Approved,
        status_reason: None,
        policy: "campaign@2026-11-01".into(),
        warnings: vec![],
        send_window: send_window(date, zone(Marketplace::US), 5),
        created_at: at("2026-11-01T00:00:00Z"),
        updated_at: None,
    }
}

/// A store with a brand of `RECIPIENTS` followers and one approved campaign.
async fn seeded() -> Arc<dyn Store> {
    seeded_with(RECIPIENTS).await
}

/// A store with a brand of `n` followers and one approved campaign.
async fn seeded_with(n: usize) -> Arc<dyn Store> {
    let store = EmbeddedStore::open_in_memory().unwrap();
    let t0 = at("2026-10-01T00:00:00Z");
    store
        .upsert(&Entity::Brand(Brand {
            brand_id: BrandId::new("B1"),
            name: "Brand".into(),
            seller_id: SellerId::new("S1"),
            marketplace: Marketplace::US,
            has_store_page: true,
            updated_at: t0,
        }))
        .await
        .unwrap();
    for i in 0..n {
        // Each follower as its Brand Followed event makes it.
        let customer = format!("c{i:06}");
        let followed = FollowChange {
            brand_id: BrandId::new("B1"),
            kind: FollowKind::Followed {
                relay_email: format!("{customer}@relay.example"),
                locale: "en-US".into(),
                followed_at: t0,
            },
            customer_id: CustomerId::new(customer),
        };
        let f = followed.apply(None).unwrap();
        store.upsert(&Entity::Follower(f)).await.unwrap();
    }
    store.create_campaign(&campaign("c1")).await.unwrap();
    Arc::new(store)
}

/// How long one local send pass takes over a fresh store of `followers` (the seeding
/// not timed), the campaign's window just open; every follower must be sent.
fn timed_run(
    rt: &tokio::runtime::Runtime,
    policies: &Arc<PolicySet>,
    followers: usize,
    mailer: Arc<dyn Mailer>,
    options: &SendOptions,
) -> Duration {
    let store = rt.block_on(seeded_with(followers));
    let app = App::new(
        store,
        policies.clone(),
        Arc::new(FixedClock(at("2026-12-07T08:00:00Z"))),
    )
    .unwrap()
    .with_public_url("https://engage.example")
    .with_mailer(mailer);
    let start = Instant::now();
    let report = rt.block_on(send_window::run(&app, options)).unwrap();
    let took = start.elapsed();
    assert_eq!(report.totals().sent, followers as u64);
    took
}

fn pipeline(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let policies = Arc::new(PolicySet::bundled());
    let mut group = c.benchmark_group("send_window");
    group.throughput(Throughput::Elements(RECIPIENTS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("embedded_in_memory_null_mailer", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let options = SendOptions {
                    page_size: 500,
                    wave: 25,
                    ..SendOptions::default()
                };
                total += timed_run(&rt, &policies, RECIPIENTS, Arc::new(NullMailer), &options);
            }
            total
        });
    });
    group.bench_function("cap_write_floor", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let store = rt.block_on(seeded());
                let now = at("2026-12-07T08:00:00Z");
                let takes: Vec<CapTake> = (0..RECIPIENTS)
                    .map(|i| CapTake {
                        brand: BrandId::new("B1"),
                        customer: CustomerId::new(format!("c{i:06}")),
                        campaign: CampaignId::new("c1"),
                    })
                    .collect();
                let start = Instant::now();
                for wave in takes.chunks(25) {
                    let out = rt.block_on(store.take_caps(wave, now, chrono::Duration::days(7)));
                    assert!(out.iter().all(Result::is_ok));
                }
                total += start.elapsed();
            }
            total
        });
    });
    group.finish();
}

/// Accepts every message after a fixed latency (an SES round trip).
struct LatencyMailer(Duration);

#[async_trait::async_trait]
impl Mailer for LatencyMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError> {
        tokio::time::sleep(self.0).await;
        NullMailer.send(email).await
    }
}

fn workers(c: &mut Criterion) {
    const FOLLOWERS: usize = 1_000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let policies = Arc::new(PolicySet::bundled());
    let mailer = Arc::new(LatencyMailer(Duration::from_millis(40)));
    let mut group = c.benchmark_group("send_workers");
    group.throughput(Throughput::Elements(FOLLOWERS as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    for n in [1usize, 2, 4, 8] {
        group.bench_function(format!("latency_40ms/{n}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let options = SendOptions {
                        workers: n,
                        segment_followers: (FOLLOWERS / 8) as u64,
                        ..SendOptions::default()
                    };
                    total += timed_run(&rt, &policies, FOLLOWERS, mailer.clone(), &options);
                }
                total
            });
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline, workers);
criterion_main!(benches);
