//! `engage tick` as a process: SIGKILLed mid-run then resumed, and three ticks
//! at once on one data folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::send_support::*;
use crate::server::succeeded;
use engage::store::{EmbeddedStore, Store};

const BIN: &str = env!("CARGO_BIN_EXE_engage");
const NOW: &str = "2026-12-07T08:00:00Z";

async fn seed(data: &Path, followers: usize) {
    let store = EmbeddedStore::open(data).unwrap();
    brand(&store, "B1").await;
    for i in 0..followers {
        follower(&store, "B1", &format!("k{i:03}"), false, false).await;
    }
    create(&store, &campaign("c1", "B1", "2026-12-07")).await;
}

/// A fresh folder (kept as long as the guard) with a data folder seeded with
/// `followers`, and an outbox.
async fn seeded(followers: usize) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (data, outbox) = (dir.path().join("data"), dir.path().join("outbox"));
    seed(&data, followers).await;
    (dir, data, outbox)
}

fn emails(outbox: &Path) -> Vec<String> {
    std::fs::read_dir(outbox)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".eml"))
                .collect()
        })
        .unwrap_or_default()
}

fn tick(data: &Path, outbox: &Path, rate: Option<&str>, lease: &str) -> Command {
    tick_at(data, outbox, rate, lease, NOW)
}

fn tick_at(data: &Path, outbox: &Path, rate: Option<&str>, lease: &str, now: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["tick", "--data"])
        .arg(data)
        .arg("--outbox")
        .arg(outbox)
        .args(["--now", now])
        .env("ENGAGE_SEND_LEASE_SECONDS", lease)
        .env("ENGAGE_PUBLIC_URL", "https://engage.example")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match rate {
        Some(r) => cmd.env("ENGAGE_SEND_RATE", r),
        None => cmd.env_remove("ENGAGE_SEND_RATE"),
    };
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_run_then_resume_loses_nobody() {
    const N: usize = 120;
    let (_dir, data, outbox) = seeded(N).await;

    // Slow pacing (40/s), so the kill lands mid-run.
    let child = tick(&data, &outbox, Some("40"), "1").spawn().unwrap();
    kill_after(child, 30, || emails(&outbox).len());
    let at_kill = emails(&outbox).len();
    let store = EmbeddedStore::open(&data).unwrap();
    let (status, progress) = state(&store, "c1").await;
    let checkpointed = progress.counters.sent;
    assert!(at_kill as u64 >= checkpointed);
    println!(
        "killed with {at_kill} emails written, {checkpointed} checkpointed, campaign {status}"
    );
    assert!(at_kill < N, "the kill came too late to prove anything");

    // The lease (1 s) passes on the business clock: a tick one minute later
    // resumes from the checkpoint (leases follow `--now`, CONTRACT.md).
    let out = tick_at(&data, &outbox, None, "1", "2026-12-07T08:01:00Z")
        .output()
        .unwrap();
    let stdout = succeeded("engage tick", &out);
    let resumed = sent_total(&stdout);
    let (status, progress) = state(&store, "c1").await;
    let files = emails(&outbox).len();
    // Emails accepted before the kill but after the last checkpoint are sent again on
    // resume (the outbox rewrites the same file; SES would deliver twice): the duplicate window.
    let resent = at_kill as u64 - checkpointed;
    assert_eq!(
        checkpointed + resumed,
        N as u64,
        "the resumed run sends exactly what was not checkpointed"
    );
    println!(
        "resumed: {resumed} sent by the second run; {files} distinct .eml files of {N}; \
         {resent} sent twice (accepted in the killed wave before its checkpoint; wave = 25)"
    );
    assert_eq!(status.to_string(), "SENT");
    assert_eq!(files, N, "nobody lost");
    assert_eq!(
        progress.counters.sent, N as u64,
        "each follower counted once"
    );
    assert!(resent <= 25, "at most one wave in flight is sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_ticks_at_once_send_each_follower_once() {
    const N: usize = 150;
    let (_dir, data, outbox) = seeded(N).await;
    let children: Vec<_> = (0..3)
        .map(|_| tick(&data, &outbox, Some("500"), "60").spawn().unwrap())
        .collect();
    let mut total = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = succeeded("engage tick", &out);
        let sent = sent_total(&stdout);
        println!("tick sent {sent}: {}", stdout.lines().next().unwrap_or(""));
        total += sent;
    }
    let store = EmbeddedStore::open(&data).unwrap();
    let (status, progress) = state(&store as &dyn Store, "c1").await;
    println!(
        "three ticks at once: {total} sends in all, {} .eml files, {N} followers",
        emails(&outbox).len()
    );
    assert_eq!(
        total, N as u64,
        "no follower sent twice across the three processes"
    );
    assert_eq!(emails(&outbox).len(), N);
    assert_eq!(progress.counters.sent, N as u64);
    assert_eq!(status.to_string(), "SENT");
}
