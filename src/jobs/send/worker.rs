//! One slice of one segment: claim it, send waves until it is done, the
//! deadline comes near, a campaign-level rule refuses or the rate throttles,
//! then hand it back (see the module docs of [`super`]).

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tokio::time::Instant;

use super::email::Template;
use super::rules::{RecipientMemo, SendRules, WaveFacts};
use super::{CampaignReads, Pacer, SendError, SendOptions};
use crate::app::App;
use crate::domain::CustomerId;
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::follower::Follower;
use crate::domain::promotion::Promotion;
use crate::domain::segment::{Segment, SegmentRef};
use crate::domain::send::SendCounters;
use crate::mail::MailError;
use crate::policy::Violation;
use crate::store::{
    CapOutcome, CapTake, CheckpointOutcome, SegmentClaim, StoreError, checkpoint_segment,
    claim_segment, release_segment,
};

/// How many times a checkpoint is tried before the slice gives up (a lost
/// checkpoint would send the wave again after a restart).
const CHECKPOINT_ATTEMPTS: u32 = 5;

/// Consecutive throttled waves after which the slice stops and re-queues late.
const THROTTLED_WAVES: u32 = 5;

/// A wave counts as throttled when at least this many sends were tried and every one
/// failed transiently (a few random failures are not a throttle).
const THROTTLE_SAMPLE: usize = 5;

/// How a slice ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SliceEnd {
    /// Every follower of the segment is handled.
    Finished,
    /// The deadline came near: checkpointed; queue it again at once.
    Deadline,
    /// The mail provider throttled every send: queue it again after the delay.
    Throttled(StdDuration),
    /// A campaign-level rule of the send policy refuses sending now (window over,
    /// status, promotion, complaint limit): not queued again by the worker.
    Refused(Vec<Violation>),
    /// Nothing to do: another worker holds it, or it is finished or unknown.
    Skipped(String),
    /// Another worker took the segment over (this one was too slow): stop.
    LostLease,
    /// The campaign left `SENDING` (suspended, cancelled): the rest is not sent.
    Stopped(Option<CampaignStatus>),
}

impl SliceEnd {
    /// How long to wait before queueing the segment again, if it should be.
    pub fn requeue(&self) -> Option<StdDuration> {
        match self {
            Self::Deadline => Some(StdDuration::ZERO),
            Self::Throttled(d) => Some(*d),
            _ => None,
        }
    }
}

/// What one slice did.
#[derive(Debug, Clone)]
pub struct SliceReport {
    /// The segment.
    pub segment: SegmentRef,
    /// What this slice counted.
    pub counters: SendCounters,
    /// Recipients waiting for a retry when it ended.
    pub pending: u64,
    /// How it ended.
    pub end: SliceEnd,
    /// The campaign's status as the slice last read it.
    pub status: Option<CampaignStatus>,
}

/// Runs one slice of the segment `r` for `options.owner`; no new wave is
/// started after `deadline` minus the margin (none: until it ends otherwise).
///
/// # Errors
/// A store, policy or rendering failure; the lease is handed back first
/// (best effort), so a later slice resumes from the last checkpoint.
pub async fn run_slice(
    app: &App,
    options: &SendOptions,
    pacer: &Pacer,
    r: &SegmentRef,
    deadline: Option<Instant>,
) -> Result<SliceReport, SendError> {
    let now = app.clock.now();
    let mut report = SliceReport {
        segment: r.clone(),
        counters: SendCounters::default(),
        pending: 0,
        end: SliceEnd::Finished,
        status: None,
    };
    let claim = claim_segment(
        app.store.as_ref(),
        &r.campaign_id,
        r.segment,
        &options.owner,
        now,
        now + lease(options),
    )
    .await?;
    let segment = match claim {
        SegmentClaim::Claimed(s) => s,
        SegmentClaim::Busy { owner, until } => {
            report.end = SliceEnd::Skipped(match owner {
                Some(o) => format!("another worker ({o}) holds it until {}", until.to_rfc3339()),
                None => "another worker is taking it".to_owned(),
            });
            return Ok(report);
        }
        SegmentClaim::Finished(s) => {
            report.pending = s.retry.len() as u64;
            report.end = SliceEnd::Skipped("finished".to_owned());
            return Ok(report);
        }
        SegmentClaim::NotFound => {
            report.end = SliceEnd::Skipped("no such segment".to_owned());
            return Ok(report);
        }
    };
    let mut slice = Slice {
        app,
        options,
        pacer,
        deadline,
        segment,
        buffer: Vec::new(),
        buffered_more: true,
        throttled: 0,
        last_wave: StdDuration::ZERO,
    };
    let result = slice.run(&mut report).await;
    // Hand the lease back so the next slice may start at once (it expires anyway).
    let mut released = slice.segment.next();
    released.lease_owner = None;
    released.lease_until = None;
    if let Some(delay) = report.end.requeue() {
        released.queued_at = Some(app.clock.now());
        // The throttled segment is not taken before its delay (a duplicate message
        // would otherwise take it at once).
        if !delay.is_zero() {
            released.lease_until = Some(app.clock.now() + chrono_of(delay));
        }
    }
    // A finished segment is never claimed again: its lease needs no release.
    if !matches!(
        report.end,
        SliceEnd::LostLease | SliceEnd::Finished | SliceEnd::Stopped(_)
    ) {
        let _ = release_segment(app.store.as_ref(), &released).await;
    }
    report.pending = slice.segment.retry.len() as u64;
    result.map(|()| report)
}

fn ended(outcome: CheckpointOutcome) -> SliceEnd {
    match outcome {
        CheckpointOutcome::Stopped(status) => SliceEnd::Stopped(status),
        CheckpointOutcome::Saved | CheckpointOutcome::LostLease => SliceEnd::LostLease,
    }
}

fn chrono_of(d: StdDuration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

fn lease(options: &SendOptions) -> Duration {
    chrono_of(options.lease)
}

struct Slice<'a> {
    app: &'a App,
    options: &'a SendOptions,
    pacer: &'a Pacer,
    deadline: Option<Instant>,
    /// The segment as this slice last stored it.
    segment: Segment,
    /// Followers read ahead in the current range, not handled yet.
    buffer: Vec<Follower>,
    /// Whether the range may hold more than the buffer.
    buffered_more: bool,
    /// Consecutive throttled waves.
    throttled: u32,
    /// How long the last wave took (real time).
    last_wave: StdDuration,
}

/// The campaign-level context of one slice.
struct Context {
    rules: SendRules,
    template: Template,
    promotion: Option<Promotion>,
    sender: crate::store::FeedbackCounts,
    zone: chrono_tz::Tz,
    headers: Vec<(String, String)>,
}

impl Slice<'_> {
    async fn run(&mut self, report: &mut SliceReport) -> Result<(), SendError> {
        let store = &self.app.store;
        let id = self.segment.campaign_id.clone();
        let Some(campaign) = store.get_campaign(&id).await? else {
            report.end = SliceEnd::Skipped("no such campaign".to_owned());
            return Ok(());
        };
        let ctx = self.context(&campaign).await?;
        let mut memo_at: Option<DateTime<Utc>> = None;
        let mut memo = RecipientMemo::default();
        loop {
            if self.segment.finished() {
                report.end = SliceEnd::Finished;
                return Ok(());
            }
            if self.near_deadline() {
                report.end = SliceEnd::Deadline;
                return Ok(());
            }
            let now = self.app.clock.now();
            // The status is re-checked by every checkpoint's condition: a
            // suspension or cancellation stops the slice within one wave.
            report.status = Some(campaign.status);
            let wave_facts = WaveFacts::new(
                now,
                ctx.zone,
                &campaign,
                ctx.promotion.as_ref(),
                &ctx.sender,
                &ctx.headers,
            );
            // The brand-level rules (R-MAIL-3: the complaint rate) suspend every
            // approved and sending campaign of the brand, this one included.
            let brand = ctx.rules.brand(now, &ctx.sender)?;
            if !brand.is_allowed() {
                crate::jobs::suspend::suspend_brand(
                    store.as_ref(),
                    &campaign.brand_id,
                    &brand.violations,
                    now,
                )
                .await?;
                report.end = SliceEnd::Refused(brand.violations);
                return Ok(());
            }
            let decision = ctx.rules.campaign(&wave_facts)?;
            if !decision.is_allowed() {
                report.end = SliceEnd::Refused(decision.violations);
                return Ok(());
            }
            if memo_at != Some(now) {
                memo = RecipientMemo::default();
                memo_at = Some(now);
            }
            if self.lease_short(now) {
                let mut renewed = self.segment.next();
                renewed.lease_until = Some(now + lease(self.options));
                let outcome = self.store_checkpoint(renewed).await?;
                if outcome != CheckpointOutcome::Saved {
                    report.end = ended(outcome);
                    return Ok(());
                }
            }
            let started = Instant::now();
            let wave = self.next_wave().await?;
            let outcome = self
                .send_wave(&ctx, &campaign, &wave_facts, &mut memo, wave, report)
                .await?;
            self.last_wave = started.elapsed();
            match outcome {
                WaveOutcome::Saved { throttled } => {
                    if throttled {
                        self.throttled += 1;
                        if self.throttled >= THROTTLED_WAVES {
                            report.end = SliceEnd::Throttled(self.options.throttle_delay);
                            return Ok(());
                        }
                        self.back_off().await;
                    } else {
                        self.throttled = 0;
                    }
                }
                WaveOutcome::Ended(outcome) => {
                    report.end = ended(outcome);
                    if let SliceEnd::Stopped(status) = report.end {
                        report.status = status;
                    }
                    return Ok(());
                }
            }
        }
    }

    /// The send policy, the rendered email, the promotion and the brand's
    /// complaint rate, read once per slice.
    async fn context(&self, campaign: &Campaign) -> Result<Context, SendError> {
        let store = &self.app.store;
        let now = self.app.clock.now();
        let rules = SendRules::in_force(&self.app.policies, now)?;
        let CampaignReads {
            promotion,
            sender,
            brand,
            zone,
        } = CampaignReads::read(store.as_ref(), campaign).await?;
        let template = Template::render(self.app, campaign, brand.as_ref(), promotion.as_ref())?;
        // The headers every email of the campaign carries (only the token differs).
        let sample = crate::domain::follower::Follower {
            brand_id: campaign.brand_id.clone(),
            customer_id: CustomerId::new("sample"),
            relay_email: "sample@relay.invalid".to_owned(),
            locale: String::new(),
            followed_at: now,
            unfollowed: false,
            suppressed: false,
            updated_at: now,
        };
        let email = template.email(self.app, self.options, &sample, now);
        // What the campaign itself makes unsendable is refused before any cap is taken.
        email
            .validate()
            .map_err(|e| SendError::App(crate::app::AppError::Mail(e)))?;
        Ok(Context {
            rules,
            template,
            promotion,
            sender,
            zone,
            headers: email.policy_headers(),
        })
    }

    fn near_deadline(&self) -> bool {
        let Some(deadline) = self.deadline else {
            return false;
        };
        // One wave's pacing must fit too.
        let wave_time = self
            .options
            .rate_per_second
            .filter(|r| *r > 0.0)
            .map_or(StdDuration::ZERO, |r| {
                StdDuration::from_secs_f64(self.options.wave as f64 / r)
            });
        Instant::now() + self.options.deadline_margin + wave_time >= deadline
    }

    /// Whether less than half the lease, or less than twice the last wave's
    /// duration, is left: renew before sending, so that no wave outlives the
    /// lease (another worker would take the segment over and send it again).
    fn lease_short(&self, now: DateTime<Utc>) -> bool {
        let wave = chrono_of(self.last_wave * 2);
        self.segment
            .lease_until
            .is_none_or(|until| until - now < (lease(self.options) / 2).max(wave))
    }

    async fn back_off(&self) {
        let step = 100u64 << self.throttled.min(6);
        let mut pause = StdDuration::from_millis(step).min(StdDuration::from_secs(5));
        if let Some(deadline) = self.deadline {
            pause = pause.min(deadline.saturating_duration_since(Instant::now()));
        }
        tokio::time::sleep(pause).await;
    }

    /// The next wave: pending retries first, then followers of the key range
    /// while the retry list has room.
    async fn next_wave(&mut self) -> Result<Wave, SendError> {
        let size = self.options.wave.max(1);
        let mut wave = Wave::default();
        let store = &self.app.store;
        for customer in self.segment.retry.iter().take(size) {
            wave.retried.push(customer.clone());
            match store.get_follower(&self.segment.brand_id, customer).await? {
                Some(f) => wave.retries.push(f),
                None => wave.gone.push(customer.clone()),
            }
        }
        // With an empty retry list there is always room, whatever the limit.
        let room = self
            .options
            .retry_limit
            .saturating_sub(self.segment.retry.len())
            .max(usize::from(self.segment.retry.is_empty()));
        let want = (size - wave.retried.len()).min(room);
        let ranges = self.segment.ranges();
        let mut range = self.segment.range;
        let mut after = self.segment.after.clone();
        while wave.fresh.len() < want && !self.segment.walked {
            if self.buffer.is_empty() && self.buffered_more {
                let Some(r) = ranges.get(range as usize) else {
                    break;
                };
                let page = store
                    .list_follower_range(
                        &self.segment.brand_id,
                        *r,
                        after.as_ref(),
                        self.options.page_size.max(want),
                    )
                    .await?;
                self.buffered_more = page.next.is_some();
                self.buffer = page.items;
                self.buffer.reverse();
            }
            match self.buffer.pop() {
                Some(f) => {
                    after = Some(f.customer_id.clone());
                    wave.fresh.push(f);
                }
                None => {
                    // This range is done: the next one, or the walk is over.
                    range += 1;
                    after = None;
                    self.buffered_more = true;
                    if range as usize >= ranges.len() {
                        wave.walked = true;
                        break;
                    }
                }
            }
        }
        // The last range read to its end: the walk is over with this wave (no
        // empty wave and checkpoint just to learn it).
        if !wave.walked
            && !self.segment.walked
            && self.buffer.is_empty()
            && !self.buffered_more
            && range as usize + 1 == ranges.len()
        {
            range += 1;
            after = None;
            self.buffered_more = true;
            wave.walked = true;
        }
        wave.position = (range, after);
        Ok(wave)
    }

    /// Recipient rules, caps, sends, one checkpoint.
    async fn send_wave(
        &mut self,
        ctx: &Context,
        campaign: &Campaign,
        facts: &WaveFacts,
        memo: &mut RecipientMemo,
        wave: Wave,
        report: &mut SliceReport,
    ) -> Result<WaveOutcome, SendError> {
        let now = self.app.clock.now();
        let mut delta = SendCounters::default();
        // Retried recipients already hold this campaign's cap (they are only
        // listed after a take and a transient failure): no second cap write.
        let mut candidates: Vec<&Follower> = Vec::new();
        let mut retried: Vec<&Follower> = Vec::new();
        for (f, fresh) in wave
            .fresh
            .iter()
            .map(|f| (f, true))
            .chain(wave.retries.iter().map(|f| (f, false)))
        {
            if fresh && !f.unfollowed {
                delta.targeted += 1;
            }
            let decision = ctx.rules.recipient(facts, f, memo)?;
            if decision.is_allowed() {
                if fresh {
                    candidates.push(f);
                } else {
                    retried.push(f);
                }
            } else if f.unfollowed && fresh {
                delta.skipped_unfollowed += 1;
            } else {
                delta.skipped_suppressed += 1;
            }
        }
        delta.skipped_suppressed += wave.gone.len() as u64;

        let takes: Vec<CapTake> = candidates
            .iter()
            .map(|f| CapTake {
                brand: campaign.brand_id.clone(),
                customer: f.customer_id.clone(),
                campaign: campaign.id.clone(),
            })
            .collect();
        let outcomes = if takes.is_empty() {
            Vec::new()
        } else {
            self.app
                .store
                .take_caps(&takes, now, ctx.rules.cap_from(now, ctx.zone))
                .await
        };
        let mut to_send: Vec<&Follower> = retried;
        for (f, outcome) in candidates.iter().zip(outcomes) {
            match outcome {
                // Nothing is sent and nothing stored: a later wave walks the same
                // followers again, and the caps this wave took answer AlreadyHeld.
                Err(e) => return Err(e.into()),
                Ok(CapOutcome::Capped { .. }) => delta.skipped_frequency_cap += 1,
                Ok(CapOutcome::Taken | CapOutcome::AlreadyHeld) => to_send.push(f),
            }
        }

        let (app, options, pacer) = (self.app, self.options, self.pacer);
        let fates = futures::future::join_all(to_send.iter().map(|f| async move {
            pacer.wait().await;
            let email = ctx.template.email(app, options, f, now);
            match app.mailer.send(&email).await {
                Ok(_) => Fate::Sent,
                Err(MailError::Transient { .. }) => Fate::Retry,
                Err(e) => {
                    tracing::warn!(campaign = %campaign.id, customer = %f.customer_id,
                        error = %crate::mail::redact_addresses(&e.to_string()), "campaign email refused");
                    Fate::Failed
                }
            }
        }))
        .await;
        let mut retry_now: Vec<CustomerId> = Vec::new();
        for (f, fate) in to_send.iter().zip(&fates) {
            match fate {
                Fate::Sent => delta.sent += 1,
                Fate::Failed => delta.failed += 1,
                Fate::Retry => retry_now.push(f.customer_id.clone()),
            }
        }
        let throttled = fates.len() >= THROTTLE_SAMPLE.min(self.options.wave.max(1))
            && retry_now.len() == fates.len();

        let mut next = self.segment.next();
        next.counters.add(&delta);
        next.retry.retain(|c| !wave.retried.contains(c));
        next.retry.extend(retry_now);
        (next.range, next.after) = wave.position;
        next.walked = next.walked || wave.walked;
        next.lease_until = Some(now + lease(self.options));
        match self.store_checkpoint(next).await? {
            CheckpointOutcome::Saved => {
                report.counters.add(&delta);
                Ok(WaveOutcome::Saved { throttled })
            }
            // The wave's sends happened: they are counted by the next worker's
            // re-walk only if the campaign resumes (its caps answer AlreadyHeld).
            other => Ok(WaveOutcome::Ended(other)),
        }
    }

    /// Stores `next` as the segment's state (retried on store failures).
    async fn store_checkpoint(&mut self, next: Segment) -> Result<CheckpointOutcome, StoreError> {
        let outcome = self.checkpoint(&next).await?;
        if outcome == CheckpointOutcome::Saved {
            self.segment = next;
        }
        Ok(outcome)
    }

    async fn checkpoint(&self, next: &Segment) -> Result<CheckpointOutcome, StoreError> {
        let mut attempt = 0;
        loop {
            match checkpoint_segment(self.app.store.as_ref(), next).await {
                Err(e) if attempt + 1 < CHECKPOINT_ATTEMPTS => {
                    tracing::warn!(campaign = %next.campaign_id, segment = next.index, error = %e, attempt,
                        "checkpoint failed, retrying");
                    tokio::time::sleep(StdDuration::from_millis(20 << attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// The followers of one wave.
#[derive(Default)]
struct Wave {
    /// New followers of the key range, in order.
    fresh: Vec<Follower>,
    /// Retried customers whose follower item was read.
    retries: Vec<Follower>,
    /// Every retried customer (leaves the retry list with this wave).
    retried: Vec<CustomerId>,
    /// Retried customers whose follower item is gone.
    gone: Vec<CustomerId>,
    /// The cursor after this wave: (range, last follower handled in it).
    position: (u32, Option<CustomerId>),
    /// The walk ended with this wave.
    walked: bool,
}

enum WaveOutcome {
    Saved { throttled: bool },
    Ended(CheckpointOutcome),
}

/// What happened to one recipient.
enum Fate {
    Sent,
    Failed,
    Retry,
}
