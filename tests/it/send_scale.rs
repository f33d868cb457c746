//! Sending at scale: the planner and four concurrent workers on moto (DynamoDB,
//! SQS, SES v2) with transient SES failures and workers aborted mid-wave; and
//! `engage tick` black-box: budgets, kills, throttling, fairness, policies.

use crate::common;
use crate::send_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::send_support::{app, brand, campaign, create, follower, state, t};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engage::clock::Clock;
use engage::domain::campaign::CampaignStatus;
use engage::jobs::send::SendOptions;
use engage::jobs::send::aws::{Worker, plan};
use engage::mail::{FlakyMailer, MailError, Mailer, OutgoingEmail, SentMessage, SesMailer};
use engage::queue::{SendQueue, SqsQueue};
use engage::store::{DynamoStore, EmbeddedStore, EntityStore, Store};

const BIN: &str = env!("CARGO_BIN_EXE_engage");

/// These tests take the machine's cores (workers, `engage tick` processes, moto):
/// one at a time, so none is starved into its time limits by the others.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ------------------------------------------------------------------ moto

/// The business clock of the moto test: it moves with real time from a fixed start,
/// so leases pass as they would on AWS.
struct RunningClock {
    start: DateTime<Utc>,
    real: Instant,
}

impl Clock for RunningClock {
    fn now(&self) -> DateTime<Utc> {
        self.start + chrono::Duration::from_std(self.real.elapsed()).unwrap()
    }
}

/// Keeps who SES accepted a message for (the real SES client underneath).
struct Accepted {
    inner: SesMailer,
    to: Mutex<Vec<String>>,
}

#[async_trait]
impl Mailer for Accepted {
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError> {
        let sent = self.inner.send(email).await?;
        self.to.lock().unwrap().push(email.to.clone());
        Ok(sent)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn planner_and_four_workers_on_moto_email_everyone_once() {
    let _serial = SERIAL.lock().await;
    const FOLLOWERS: usize = 2_000;
    const WORKERS: usize = 4;
    let aws = common::aws();
    let requests = common::RequestCounter::default();
    let dynamo = requests.client().await;
    let table = format!("engage-scale-{}", uuid::Uuid::new_v4().simple());
    DynamoStore::create_table(&dynamo, &table).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(dynamo, table));
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("engage-send-{}", uuid::Uuid::new_v4().simple()))
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "1",
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let ses = common::ses_client().await;
    let sender = common::ses_sender(&ses).await;

    brand(&*store, "B1").await;
    {
        use futures::StreamExt;
        futures::stream::iter(0..FOLLOWERS)
            .map(|i| {
                let store = store.clone();
                async move { follower(&*store, "B1", &format!("m{i:04}"), false, false).await }
            })
            .buffer_unordered(8)
            .collect::<Vec<()>>()
            .await;
    }
    create(&*store, &campaign("c1", "B1", "2026-12-07")).await;
    let writes_before = requests.sum(&common::RequestCounter::WRITES);

    let clock = Arc::new(RunningClock {
        start: t("2026-12-07T09:00:00Z"),
        real: Instant::now(),
    });
    let app = app(store.clone(), clock.clone());
    let accepted = Arc::new(Accepted {
        inner: SesMailer::new(ses),
        to: Mutex::new(Vec::new()),
    });
    let mailer: Arc<dyn Mailer> = Arc::new(FlakyMailer::new(accepted.clone(), 0.05));
    let queue: Arc<dyn SendQueue> = Arc::new(SqsQueue::new(sqs.clone(), &queue_url));
    let options = SendOptions {
        from_address: sender,
        segment_followers: 250,
        // Longer than any wave takes on a busy moto: a lease that passes while its
        // worker is still sending lets another worker resend that wave.
        lease: Duration::from_secs(30),
        requeue_after: Some(Duration::from_secs(5)),
        deadline_margin: Duration::ZERO,
        ..SendOptions::default()
    };
    let worker = Arc::new(Worker::new(
        app.clone().with_mailer(mailer),
        queue.clone(),
        options.clone(),
    ));
    let aborts = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (sqs, url, worker, aborts, done) = (
                sqs.clone(),
                queue_url.clone(),
                worker.clone(),
                aborts.clone(),
                done.clone(),
            );
            tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed(w as u64 + 7);
                let mut slices = 0;
                while !done.load(Ordering::SeqCst) {
                    // moto serialises every request: under load a call may time out.
                    let got = match sqs
                        .receive_message()
                        .queue_url(&url)
                        .max_number_of_messages(1)
                        .wait_time_seconds(1)
                        .send()
                        .await
                    {
                        Ok(got) => got,
                        Err(e) => {
                            println!("worker {w}: receive failed: {e}");
                            continue;
                        }
                    };
                    for m in got.messages() {
                        let body = m.body().unwrap_or_default().to_owned();
                        // Slices of at most 60 s (the Lambda deadline, shortened: each
                        // slice costs a claim and a release write, which 15-minute
                        // invocations spread over ~50,000 recipients; on a loaded
                        // machine, where moto answers slowly, 20-s slices were so many
                        // that their claims, releases and lease renewals took the run
                        // to 1.11-1.13 writes per recipient); worker 0's first slice
                        // and worker 2's second are aborted at a random point, as
                        // killed invocations.
                        slices += 1;
                        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
                        let handled = worker.handle(std::slice::from_ref(&body), deadline);
                        let abort_after = Duration::from_millis(rng.u64(50..2_000));
                        if (w == 0 && slices == 1) || (w == 2 && slices == 2) {
                            match tokio::time::timeout(abort_after, handled).await {
                                Err(_) => {
                                    aborts.fetch_add(1, Ordering::SeqCst);
                                    continue; // not deleted: visible again, lease left behind
                                }
                                Ok(Err(e)) => {
                                    println!("worker {w}: slice failed: {e}");
                                    continue;
                                }
                                Ok(Ok(_)) => {}
                            }
                        } else if let Err(e) = handled.await {
                            // As on Lambda: the message is not deleted and comes back.
                            println!("worker {w}: slice failed: {e}");
                            continue;
                        }
                        if let Err(e) = sqs
                            .delete_message()
                            .queue_url(&url)
                            .receipt_handle(m.receipt_handle().unwrap())
                            .send()
                            .await
                        {
                            println!("worker {w}: delete failed: {e}");
                        }
                    }
                }
            })
        })
        .collect();

    let started = Instant::now();
    loop {
        // The planner, every second here (every minute on AWS): moves statuses and
        // re-queues segments nobody has touched for 10 s once their lease passed.
        if let Err(e) = plan(&app, &options, queue.as_ref()).await {
            println!("planner pass failed: {e}");
        }
        if state(&*store, "c1").await.0 == CampaignStatus::Sent {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "not finished: {:?}",
            state(&*store, "c1").await
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    done.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }

    let to = accepted.to.lock().unwrap().clone();
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &to {
        *per.entry(a.as_str()).or_default() += 1;
    }
    let twice: usize = per.values().map(|n| n - 1).sum();
    let aborts = aborts.load(Ordering::SeqCst);
    let (_, progress) = state(&*store, "c1").await;
    let plan = store
        .get_plan(&engage::domain::CampaignId::new("c1"))
        .await
        .unwrap()
        .unwrap();
    let writes = requests.sum(&common::RequestCounter::WRITES) - writes_before;
    println!(
        "moto: {FOLLOWERS} followers, {} segments, {WORKERS} workers, {aborts} aborts: {} accepted \
         by SES, {} distinct, {twice} sent twice; {writes} DynamoDB writes = {:.3} per recipient; \
         {:.1} s",
        plan.segments,
        to.len(),
        per.len(),
        writes as f64 / FOLLOWERS as f64,
        started.elapsed().as_secs_f64()
    );
    assert!(plan.segments >= 4, "enough segments for four workers");
    assert!(aborts >= 1, "a worker was aborted mid-slice");
    assert_eq!(per.len(), FOLLOWERS, "every follower emailed");
    assert!(
        twice <= aborts * options.wave,
        "{twice} duplicates for {aborts} aborts: more than one wave per abort"
    );
    assert_eq!(progress.counters.targeted, FOLLOWERS as u64);
    assert_eq!(
        progress.counters.sent, FOLLOWERS as u64,
        "each counted once"
    );
    assert_eq!(progress.counters.failed, 0);
    assert!(progress.retry.is_empty());
    assert!(
        (writes as f64) / (FOLLOWERS as f64) <= 1.10,
        "{writes} writes for {FOLLOWERS} recipients"
    );
}

// ------------------------------------------------------------------ engage tick

const NOW: &str = "2026-12-07T09:00:00Z";

async fn seed(data: &Path, campaigns: &[(&str, usize)]) {
    let store = EmbeddedStore::open(data).unwrap();
    brand(&store, "B1").await;
    for (c, n) in campaigns {
        // Each campaign its own brand, so the frequency cap does not tie them.
        let b = format!("B{c}");
        brand(&store, &b).await;
        for i in 0..*n {
            follower(&store, &b, &format!("{c}-{i:05}"), false, false).await;
        }
        create(&store, &campaign(c, &b, "2026-12-07")).await;
    }
}

struct Local {
    _dir: tempfile::TempDir,
    data: PathBuf,
    outbox: PathBuf,
}

impl Local {
    async fn new(campaigns: &[(&str, usize)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (data, outbox) = (dir.path().join("data"), dir.path().join("outbox"));
        seed(&data, campaigns).await;
        Self {
            _dir: dir,
            data,
            outbox,
        }
    }

    fn tick(&self, now: &str, extra: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(["tick", "--data"])
            .arg(&self.data)
            .arg("--outbox")
            .arg(&self.outbox)
            .args(["--now", now])
            .args(extra)
            .env_remove("ENGAGE_SEND_RATE")
            .env_remove("ENGAGE_PUBLIC_URL")
            .env_remove("ENGAGE_OUTBOX_TRANSIENT_FAILURES")
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn run(&self, cmd: &mut Command) -> Output {
        let out = cmd.output().unwrap();
        crate::server::succeeded("engage tick", &out);
        out
    }

    /// Recipients of every `.eml` of a campaign (file names are per recipient, so
    /// a resend rewrites the same file: duplicates are counted from the ledger).
    fn files(&self, campaign: &str) -> BTreeSet<String> {
        let prefix = format!("campaign-{campaign}-");
        std::fs::read_dir(&self.outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(&prefix) && n.ends_with(".eml"))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn state(&self, campaign: &str) -> (CampaignStatus, engage::domain::send::SendProgress) {
        let store = EmbeddedStore::open(&self.data).unwrap();
        state(&store, campaign).await
    }
}

/// The `sent` total a tick printed.
fn sent_of(out: &Output) -> u64 {
    send_support::sent_total(&String::from_utf8_lossy(&out.stdout))
}

fn later(minutes: i64) -> String {
    (t(NOW) + chrono::Duration::minutes(minutes)).to_rfc3339()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_ticks_reach_everyone_once_each_within_its_budget() {
    let _serial = SERIAL.lock().await;
    let local = Local::new(&[("big", 5_000)]).await;
    let mut total = 0;
    let mut ticks = 0;
    loop {
        ticks += 1;
        assert!(ticks <= 60, "not done after 60 ticks");
        let started = Instant::now();
        let out = local.run(&mut local.tick(&later(ticks), &["--budget", "1"]));
        let took = started.elapsed();
        total += sent_of(&out);
        println!(
            "tick {ticks}: sent {} in {:.2} s",
            sent_of(&out),
            took.as_secs_f64()
        );
        assert!(
            took < Duration::from_secs(8),
            "a --budget 1 tick took {took:?}"
        );
        if local.state("big").await.0 == CampaignStatus::Sent {
            break;
        }
    }
    assert!(ticks > 1, "the budget did not stop the first tick");
    assert_eq!(total, 5_000, "sent once each across {ticks} ticks");
    assert_eq!(local.files("big").len(), 5_000);
    assert_eq!(local.state("big").await.1.counters.sent, 5_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_campaign_is_not_held_behind_a_big_one() {
    let _serial = SERIAL.lock().await;
    let local = Local::new(&[("big", 5_000), ("small", 50)]).await;
    local.run(&mut local.tick(NOW, &["--budget", "1", "--workers", "2"]));
    assert_eq!(
        local.files("small").len(),
        50,
        "the small campaign reached everyone"
    );
    let (status, progress) = local.state("small").await;
    assert_eq!((status, progress.counters.sent), (CampaignStatus::Sent, 50));
    assert!(local.state("big").await.1.counters.sent < 5_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_the_sends_throttled_everyone_still_reached_once_none_failed() {
    let _serial = SERIAL.lock().await;
    let local = Local::new(&[("c1", 600)]).await;
    let mut total = 0;
    for i in 1..=20 {
        let out = local.run(
            local
                .tick(&later(i), &[])
                .env("ENGAGE_OUTBOX_TRANSIENT_FAILURES", "0.5"),
        );
        total += sent_of(&out);
        if local.state("c1").await.0 == CampaignStatus::Sent {
            break;
        }
    }
    let (status, progress) = local.state("c1").await;
    assert_eq!(status, CampaignStatus::Sent);
    assert_eq!(total, 600);
    assert_eq!(local.files("c1").len(), 600);
    assert_eq!(progress.counters.sent, 600);
    assert_eq!(progress.counters.failed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_tick_is_taken_over_by_a_later_tick() {
    let _serial = SERIAL.lock().await;
    let local = Local::new(&[("c1", 400)]).await;
    let child = local
        .tick(NOW, &["--workers", "1"])
        .env("ENGAGE_SEND_RATE", "100")
        .env("ENGAGE_SEND_RATE_HEADROOM", "0")
        .spawn()
        .unwrap();
    send_support::kill_after(child, 60, || local.files("c1").len());
    let at_kill = local.files("c1").len();
    let checkpointed = local.state("c1").await.1.counters.sent;
    assert!(at_kill < 400, "the kill came too late to prove anything");
    // Same business instant: the dead worker's lease still holds.
    let same = local.run(&mut local.tick(NOW, &[]));
    assert_eq!(
        sent_of(&same),
        0,
        "a lease is held until it passes on the business clock"
    );
    // Three minutes later (lease: 120 s) the segment is taken over.
    let mut resumed = 0;
    for i in 3..10 {
        resumed += sent_of(&local.run(&mut local.tick(&later(i), &[])));
        if local.state("c1").await.0 == CampaignStatus::Sent {
            break;
        }
    }
    let (status, progress) = local.state("c1").await;
    assert_eq!(status, CampaignStatus::Sent);
    assert_eq!(
        checkpointed + resumed,
        400,
        "exactly what was not checkpointed"
    );
    assert_eq!(local.files("c1").len(), 400, "nobody lost");
    assert_eq!(progress.counters.sent, 400);
    assert!(
        at_kill as u64 - checkpointed <= 25,
        "at most one wave sent twice"
    );
}

/// A copy of the shipped policies with one edit.
fn policies_with(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    common::policies_copy(|policy, text| if policy == "send" { edit(&text) } else { text })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_send_policy_decides_a_rule_added_to_a_copy_takes_effect() {
    let _serial = SERIAL.lock().await;
    // A recipient-level rule no Rust code knows: French-speaking followers are skipped.
    let policies = policies_with(|text| {
        format!(
            "{text}\n[[rules]]\nid = \"R-MSG-2.test_locale\"\nseverity = \"error\"\n\
             condition = \"recipient.locale == 'fr-CA'\"\nmessage = \"not to French speakers (test)\"\n"
        )
    });
    let local = Local::new(&[]).await;
    {
        let store = EmbeddedStore::open(&local.data).unwrap();
        brand(&store, "B1").await;
        for i in 0..6 {
            let mut f = send_support::follower_item("B1", &format!("u{i}"));
            f.locale = if i % 2 == 0 { "fr-CA" } else { "en-US" }.to_owned();
            store
                .upsert(&engage::store::Entity::Follower(f))
                .await
                .unwrap();
        }
        create(&store, &campaign("c1", "B1", "2026-12-07")).await;
    }
    let out = local.run(local.tick(NOW, &["--policies"]).arg(policies.path()));
    assert_eq!(sent_of(&out), 3);
    let p = local.state("c1").await.1;
    assert_eq!((p.counters.sent, p.counters.skipped_suppressed), (3, 3));

    // A campaign-level param: a 0-day window means the window is over at once.
    let closed = policies_with(|text| text.replace("send_window_days = 5", "send_window_days = 0"));
    let local = Local::new(&[("c2", 5)]).await;
    let out = local.run(local.tick(NOW, &["--policies"]).arg(closed.path()));
    assert_eq!(sent_of(&out), 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("R-MYCE-7.after"), "{stdout}");
}
