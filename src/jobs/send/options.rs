//! How sending runs: the mechanics (wave size, leases, segments, the rate
//! share), not the rules (those are the `send` policy's params).

use std::time::Duration;

use super::DEFAULT_FROM_ADDRESS;
use crate::config::Config;

/// How a planner pass and its workers send.
#[derive(Debug, Clone)]
pub struct SendOptions {
    /// The sender address; the display name is the brand's name.
    pub from_address: String,
    /// Messages per second for this process (its share of the account's SES
    /// rate); `None` sends as fast as the ports go.
    pub rate_per_second: Option<f64>,
    /// Followers read per page.
    pub page_size: usize,
    /// Recipients per wave: sent concurrently, then checkpointed.
    pub wave: usize,
    /// How long a worker's lease on a segment lasts (business clock), renewed by
    /// every checkpoint.
    pub lease: Duration,
    /// This worker's id (the lease owner).
    pub owner: String,
    /// Followers per segment the planner aims at.
    pub segment_followers: u64,
    /// Segments per campaign at most.
    pub max_segments: u32,
    /// Transient failures a segment keeps for retry at most; the walk takes no new
    /// follower while the list is full.
    pub retry_limit: usize,
    /// A worker takes no new wave when less than this (plus one wave's pacing)
    /// is left before its deadline.
    pub deadline_margin: Duration,
    /// The planner re-queues a free unfinished segment whose last message is older
    /// than this (`None`: every pass queues every free unfinished segment, as the
    /// local queue lives for one pass only).
    pub requeue_after: Option<Duration>,
    /// How long a throttled segment waits before it is taken again.
    pub throttle_delay: Duration,
    /// Local workers draining the queue in one pass.
    pub workers: usize,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            from_address: DEFAULT_FROM_ADDRESS.to_owned(),
            rate_per_second: None,
            page_size: 100,
            wave: 25,
            lease: Duration::from_secs(120),
            owner: new_owner(),
            segment_followers: 5_000,
            max_segments: 64,
            retry_limit: 100,
            deadline_margin: Duration::from_secs(20),
            requeue_after: None,
            throttle_delay: Duration::from_secs(60),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

fn new_owner() -> String {
    format!("worker-{}", uuid::Uuid::new_v4().simple())
}

impl SendOptions {
    /// The same options with a fresh worker id (each run its own lease owner).
    pub fn fresh_run(&self) -> Self {
        Self {
            owner: new_owner(),
            ..self.clone()
        }
    }

    /// Options from `config`: the sender, this process's share of the account
    /// rate (`ENGAGE_SEND_RATE x (1 - ENGAGE_SEND_RATE_HEADROOM) /
    /// ENGAGE_SEND_CONCURRENCY`), leases and segments; defaults elsewhere.
    pub fn from_config(config: &Config) -> Self {
        let s = &config.send;
        let d = Self::default();
        Self {
            from_address: config
                .from_address
                .clone()
                .unwrap_or_else(|| DEFAULT_FROM_ADDRESS.to_owned()),
            rate_per_second: config.send_rate.map(|rate| {
                rate * (1.0 - s.rate_headroom).max(0.0) / f64::from(s.concurrency.max(1))
            }),
            lease: s.lease.unwrap_or(d.lease),
            segment_followers: s.segment_followers.unwrap_or(d.segment_followers),
            max_segments: s.max_segments.unwrap_or(d.max_segments),
            deadline_margin: s.deadline_margin.unwrap_or(d.deadline_margin),
            requeue_after: s.requeue_after,
            ..d
        }
    }
}
