//! The send-window job (issue 4; R-MYCE-7, 12, 14, R-MAIL-1..4): one pass over
//! the due campaigns, the same function for `engage tick`, the timer of
//! `engage serve` and `functions/send-window`.
//!
//! # Lifecycle
//! - `IN_REVIEW` (or `APPROVED`) whose window has ended -> `EXPIRED`;
//! - `APPROVED` whose window has opened (local midnight of the start date in the
//!   marketplace's zone: the campaign's `sendWindow.start`) -> `SENDING`;
//! - `SENDING`: followers are walked and sent to until every one is handled
//!   (then `SENT`) or the window ends (then `SENT`, with the number not reached
//!   as the status reason). `CANCELLED` and `SUSPENDED` campaigns are never
//!   sent: every transition and every checkpoint is conditional on the status.
//!
//! # Per recipient: one write
//! Followers come page by page ([`SendOptions::page_size`]); each page is cut into
//! waves ([`SendOptions::wave`]). Per wave:
//! 1. unfollowed, suppressed and address-less followers are passed by (their
//!    state travels with the follower item: no read per recipient);
//! 2. the (brand, customer) cap is taken for every other follower of the wave,
//!    one conditional write each ([`SendStore::take_caps`]), comparing
//!    `nextAllowedAt <= now` in the condition, with `frequency_cap_days` from the
//!    `send` policy in force. The cap item names the campaign that took it: it
//!    is the ledger. A customer capped by another campaign is counted
//!    `skippedFrequencyCap` and, as the walk never goes back, never tried again
//!    in this campaign's window (R-MYCE-14);
//! 3. the wave's emails are sent concurrently, paced to
//!    [`SendOptions::rate_per_second`];
//! 4. one conditional checkpoint on the campaign item stores the position (the
//!    page token right after the wave), the counters and the customers whose
//!    send failed transiently (retried first by the next run), on the condition
//!    that the campaign is still `SENDING`, this run holds the lease and the
//!    checkpoint sequence is the one it read. That condition is also the status
//!    re-read between batches: a suspension or a cancellation stops the run at
//!    the end of the wave in flight (at most one wave after it committed).
//!
//! Writes per recipient: 1 cap write + 1/`wave` checkpoint (1.04 with the default
//! wave of 25, less when followers are skipped). Reads: 1 follower query per
//! `page_size` recipients + a few per campaign and run.
//!
//! # Runs killed at any point, concurrent runs
//! A run takes a lease on the campaign ([`SendStore::claim_send`]): a second run
//! finds it busy and leaves it alone. A run killed at any point resumes from the
//! last checkpoint once the lease has expired ([`SendOptions::lease`], wall clock).
//! The followers of the interrupted wave are walked again: their caps answer
//! `AlreadyHeld` (this campaign took them) and they are sent.
//!
//! **The duplicate window.** A message SES accepted in the interrupted wave,
//! before its checkpoint was stored, is sent a second time on resume. That is at
//! most the messages in flight at the crash: one wave ([`SendOptions::wave`], 25 by
//! default) per campaign being sent; it is the window between
//! `Mailer::send` returning and `checkpoint_send` committing, in
//! [`run`] -> `send_wave`. Errors are not crashes: a failed store or mail call
//! (after the SDK's own retries) never produces a duplicate, because the wave
//! stops before the failed recipient, the checkpoint is retried, and transient
//! mail failures go to the retry list (never counted as sent).

mod config;
mod pace;
mod testing;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

pub use pace::Pacer;
pub use testing::{NullMailer, RecordingMailer};

use crate::app::{App, AppError, campaign_email};
use crate::clock::{Clock, SystemClock};
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::follower::Follower;
use crate::domain::send::{SendCounters, SendProgress};
use crate::domain::{CampaignId, CustomerId};
use crate::mail::{MailError, Mailbox, Mailer, OutgoingEmail, RenderedEmail};
use crate::policy::PolicyError;
use crate::store::{
    CapOutcome, CapTake, CheckpointOutcome, ClaimOutcome, StoreError, TransitionOutcome,
    follower_token_after,
};
use crate::unsubscribe::{self, Scope, TokenSigner};

/// The sender address used when none is configured (`ENGAGE_FROM_ADDRESS`).
pub const DEFAULT_FROM_ADDRESS: &str = "campaigns@engage.localhost";

/// Stands for the unsubscribe link in the template rendered once per campaign
/// and run; replaced per recipient (it renders unchanged: no character the
/// templates escape).
const LINK_PLACEHOLDER: &str = "https://engage.invalid/v1/unsubscribe/engage-link-placeholder";

/// How many times a checkpoint is tried before the run gives up on the campaign.
const CHECKPOINT_ATTEMPTS: u32 = 5;

/// How one run sends.
#[derive(Clone)]
pub struct SendOptions {
    /// The sender address; the display name is the brand's name.
    pub from_address: String,
    /// Messages per second (the SES quota); `None` sends as fast as the ports go.
    pub rate_per_second: Option<f64>,
    /// Followers read per page.
    pub page_size: usize,
    /// Recipients per wave: sent concurrently, then checkpointed.
    pub wave: usize,
    /// How long a run's lease on a campaign lasts (renewed by every checkpoint).
    pub lease: StdDuration,
    /// This run's id (the lease owner).
    pub owner: String,
    /// The clock of leases: the real one (a `--now` business clock never moves).
    pub lease_clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SendOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendOptions")
            .field("from_address", &self.from_address)
            .field("rate_per_second", &self.rate_per_second)
            .field("page_size", &self.page_size)
            .field("wave", &self.wave)
            .field("lease", &self.lease)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            from_address: DEFAULT_FROM_ADDRESS.to_owned(),
            rate_per_second: None,
            page_size: 100,
            wave: 25,
            lease: StdDuration::from_secs(120),
            owner: format!("run-{}", uuid::Uuid::new_v4().simple()),
            lease_clock: Arc::new(SystemClock),
        }
    }
}

impl SendOptions {
    /// The same options with a fresh run id (each run its own lease owner).
    pub fn fresh_run(&self) -> Self {
        Self {
            owner: format!("run-{}", uuid::Uuid::new_v4().simple()),
            ..self.clone()
        }
    }
}

/// Why a run could not start (per-campaign failures are reported, not raised).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The store failed.
    #[error("send window: store failed")]
    Store(#[from] StoreError),
    /// The `send` policy in force could not be read.
    #[error("send window: policy failed")]
    Policy(#[from] PolicyError),
    /// The email could not be built.
    #[error("send window: cannot build the email")]
    App(#[from] AppError),
}

impl SendError {
    /// Whether running again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Store(e) => e.is_retryable(),
            Self::App(e) => e.is_retryable(),
            Self::Policy(_) => false,
        }
    }
}

/// What happened to one campaign in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignRun {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Its status before the run.
    pub from: CampaignStatus,
    /// Its status after the run.
    pub to: CampaignStatus,
    /// What this run counted (sent, skipped, failed).
    pub counters: SendCounters,
    /// Recipients waiting for a retry after this run.
    pub pending: u64,
    /// Why the run left the campaign before it was done, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// One entry per campaign the run looked at and touched.
    pub campaigns: Vec<CampaignRun>,
}

impl RunReport {
    /// Everything this run counted, over every campaign.
    pub fn totals(&self) -> SendCounters {
        let mut t = SendCounters::default();
        for c in &self.campaigns {
            t.add(&c.counters);
        }
        t
    }

    /// Whether some campaign was left with an error (a rerun will resume it).
    pub fn has_errors(&self) -> bool {
        self.campaigns
            .iter()
            .any(|c| c.note.as_deref().is_some_and(|n| n.starts_with("error")))
    }
}

/// One pass of the send window over every due campaign (see the module docs).
pub async fn run(
    app: &App,
    mailer: &dyn Mailer,
    signer: &TokenSigner,
    options: &SendOptions,
) -> Result<RunReport, SendError> {
    let pacer = Pacer::new(options.rate_per_second);
    run_paced(app, mailer, signer, options, &pacer).await
}

/// [`run`] with a pacer shared across runs (the timer of `engage serve`).
pub async fn run_paced(
    app: &App,
    mailer: &dyn Mailer,
    signer: &TokenSigner,
    options: &SendOptions,
    pacer: &Pacer,
) -> Result<RunReport, SendError> {
    let now = app.clock.now();
    let policy = app.policies.in_force("send", now)?;
    let cap = policy.param_days("frequency_cap_days")?;
    let mut report = RunReport::default();
    let store = &app.store;

    for c in store.list_live_campaigns(CampaignStatus::InReview).await? {
        if now >= c.send_window.end {
            let reason = "the send window ended before the campaign was approved";
            if let TransitionOutcome::Moved(m) = store
                .transition(
                    &c.id,
                    &[CampaignStatus::InReview],
                    CampaignStatus::Expired,
                    Some(reason),
                    now,
                )
                .await?
            {
                report.campaigns.push(moved(&c, m.status, reason));
            }
        }
    }

    let mut sending: Vec<Campaign> = Vec::new();
    let mut started: Vec<CampaignId> = Vec::new();
    for c in store.list_live_campaigns(CampaignStatus::Approved).await? {
        if now >= c.send_window.end {
            let reason = "the send window ended before sending started";
            if let TransitionOutcome::Moved(m) = store
                .transition(
                    &c.id,
                    &[CampaignStatus::Approved],
                    CampaignStatus::Expired,
                    Some(reason),
                    now,
                )
                .await?
            {
                report.campaigns.push(moved(&c, m.status, reason));
            }
        } else if now >= c.send_window.start
            && let TransitionOutcome::Moved(m) = store
                .transition(
                    &c.id,
                    &[CampaignStatus::Approved],
                    CampaignStatus::Sending,
                    None,
                    now,
                )
                .await?
        {
            started.push(m.id.clone());
            sending.push(m);
        }
    }
    // The index is eventually consistent on DynamoDB: add what this run just moved.
    for c in store.list_live_campaigns(CampaignStatus::Sending).await? {
        if !sending.iter().any(|s| s.id == c.id) {
            sending.push(c);
        }
    }
    sending.sort_by(|a, b| (a.send_window.start, &a.id).cmp(&(b.send_window.start, &b.id)));

    let ctx = Ctx {
        app,
        mailer,
        signer,
        options,
        pacer,
        cap,
    };
    for c in sending {
        let from = if started.contains(&c.id) {
            CampaignStatus::Approved
        } else {
            c.status
        };
        let run = ctx.send_campaign(&c.id, from).await;
        report.campaigns.push(run);
    }
    Ok(report)
}

fn moved(c: &Campaign, to: CampaignStatus, note: &str) -> CampaignRun {
    CampaignRun {
        campaign_id: c.id.clone(),
        from: c.status,
        to,
        counters: SendCounters::default(),
        pending: 0,
        note: Some(note.to_owned()),
    }
}

struct Ctx<'a> {
    app: &'a App,
    mailer: &'a dyn Mailer,
    signer: &'a TokenSigner,
    options: &'a SendOptions,
    pacer: &'a Pacer,
    cap: Duration,
}

/// What a campaign's emails share within one run.
struct Template {
    campaign: Campaign,
    brand_name: String,
    rendered: RenderedEmail,
    /// Base of unsubscribe links: https in production (RFC 8058), the local server's own address locally.
    link_base: String,
}

/// How a wave ended.
enum WaveEnd {
    /// Checkpointed; go on.
    Saved,
    /// Stop this campaign for this run, with a note.
    Stop(CampaignStatus, String),
}

/// What happened to one recipient.
enum Fate {
    Sent,
    Failed,
    Retry,
}

impl Ctx<'_> {
    fn lease_until(&self) -> DateTime<Utc> {
        let lease = Duration::from_std(self.options.lease).unwrap_or(Duration::minutes(2));
        self.options.lease_clock.now() + lease
    }

    async fn send_campaign(&self, id: &CampaignId, from: CampaignStatus) -> CampaignRun {
        let mut run = CampaignRun {
            campaign_id: id.clone(),
            from,
            to: CampaignStatus::Sending,
            counters: SendCounters::default(),
            pending: 0,
            note: None,
        };
        match self.send_claimed(id, &mut run).await {
            Ok(()) => {}
            Err(e) => run.note = Some(format!("error: {}", crate::jobs::events::error_chain(&e))),
        }
        run
    }

    async fn send_claimed(&self, id: &CampaignId, run: &mut CampaignRun) -> Result<(), SendError> {
        let store = &self.app.store;
        let lease_now = self.options.lease_clock.now();
        let (campaign, mut progress) = match store
            .claim_send(id, &self.options.owner, lease_now, self.lease_until())
            .await?
        {
            ClaimOutcome::Claimed { campaign, progress } => (campaign, progress),
            ClaimOutcome::Busy { owner, until } => {
                run.note = Some(format!(
                    "another run ({owner}) is sending it until {}",
                    until.to_rfc3339()
                ));
                return Ok(());
            }
            ClaimOutcome::NotSending { status } => {
                run.to = status;
                return Ok(());
            }
            ClaimOutcome::NotFound => {
                run.note = Some("not found".to_owned());
                return Ok(());
            }
        };
        let result = self.walk(&campaign, &mut progress, run).await;
        if result.is_err() {
            // Hand the lease back so the next run resumes at once (best effort: it expires anyway).
            let mut released = progress.clone();
            released.seq += 1;
            let _ = store
                .checkpoint_send(
                    id,
                    &self.options.owner,
                    &released,
                    self.options.lease_clock.now(),
                )
                .await;
        }
        result
    }

    /// Sends a claimed campaign from its checkpoint `progress`.
    async fn walk(
        &self,
        campaign: &Campaign,
        progress: &mut SendProgress,
        run: &mut CampaignRun,
    ) -> Result<(), SendError> {
        let store = &self.app.store;
        let id = &campaign.id;
        let template = self.template(campaign).await?;

        // Customers left pending by an earlier run first.
        if !progress.retry.is_empty() && self.app.clock.now() < campaign.send_window.end {
            let mut followers = Vec::new();
            let mut gone = Vec::new();
            for customer in &progress.retry {
                match store.get_follower(&campaign.brand_id, customer).await? {
                    Some(f) => followers.push(f),
                    None => gone.push(customer.clone()),
                }
            }
            if let WaveEnd::Stop(status, note) = self
                .send_wave(&template, progress, &followers, None, Some(gone), run)
                .await?
            {
                run.to = status;
                run.note = Some(note);
                return Ok(());
            }
        }

        while !progress.walked {
            if self.app.clock.now() >= campaign.send_window.end {
                break;
            }
            let page = store
                .list_followers(
                    &campaign.brand_id,
                    progress.after.as_deref(),
                    self.options.page_size,
                )
                .await?;
            if page.items.is_empty() {
                let next = Resume {
                    after: page.next.clone(),
                    walked: page.next.is_none(),
                };
                if let WaveEnd::Stop(status, note) = self
                    .send_wave(&template, progress, &[], Some(next), None, run)
                    .await?
                {
                    run.to = status;
                    run.note = Some(note);
                    return Ok(());
                }
                continue;
            }
            let waves: Vec<&[Follower]> = page.items.chunks(self.options.wave.max(1)).collect();
            let last = waves.len() - 1;
            for (i, wave) in waves.into_iter().enumerate() {
                if self.app.clock.now() >= campaign.send_window.end {
                    break;
                }
                let resume = if i == last {
                    Resume {
                        after: page.next.clone(),
                        walked: page.next.is_none(),
                    }
                } else {
                    let after = wave.last().map(|f| follower_token_after(&f.customer_id));
                    Resume {
                        after,
                        walked: false,
                    }
                };
                if let WaveEnd::Stop(status, note) = self
                    .send_wave(&template, progress, wave, Some(resume), None, run)
                    .await?
                {
                    run.to = status;
                    run.note = Some(note);
                    return Ok(());
                }
            }
        }

        run.pending = progress.pending();
        let now = self.app.clock.now();
        let window_over = now >= campaign.send_window.end;
        if progress.finished() || window_over {
            let reason = (!progress.finished()).then(|| {
                format!(
                    "the send window ended with {} follower(s) not reached",
                    progress.pending() + u64::from(!progress.walked)
                )
            });
            match store
                .transition(
                    id,
                    &[CampaignStatus::Sending],
                    CampaignStatus::Sent,
                    reason.as_deref(),
                    now,
                )
                .await?
            {
                TransitionOutcome::Moved(c) => run.to = c.status,
                TransitionOutcome::Conflict { current } => run.to = current,
                TransitionOutcome::NotFound => run.note = Some("not found".to_owned()),
            }
        } else {
            // Retries pending: hand the lease back so the next run may take them at once.
            let mut released = progress.clone();
            released.seq += 1;
            if let Ok(CheckpointOutcome::Saved) = store
                .checkpoint_send(
                    id,
                    &self.options.owner,
                    &released,
                    self.options.lease_clock.now(),
                )
                .await
            {
                *progress = released;
            }
            run.pending = progress.pending();
            run.note = Some(format!(
                "{} recipient(s) left for a retry",
                progress.pending()
            ));
        }
        Ok(())
    }

    /// The campaign's email, rendered once per run with a placeholder link.
    async fn template(&self, campaign: &Campaign) -> Result<Template, SendError> {
        let store = &self.app.store;
        let brand = store.get_brand(&campaign.brand_id).await?;
        let promotion = match &campaign.promotion_id {
            Some(p) => store.get_promotion(p).await?,
            None => None,
        };
        let view = campaign_email::view(
            self.app,
            campaign,
            brand.as_ref(),
            promotion.as_ref(),
            LINK_PLACEHOLDER.to_owned(),
            false,
        );
        let rendered = campaign_email::render(self.app, &view)?;
        // Public deployments set an https ENGAGE_PUBLIC_URL; locally the
        // server's own http address works (the mail port allows loopback only).
        let link_base = self.app.public_url.clone();
        Ok(Template {
            campaign: campaign.clone(),
            brand_name: brand.map_or_else(|| campaign.brand_id.to_string(), |b| b.name),
            rendered,
            link_base,
        })
    }

    fn email(&self, t: &Template, f: &Follower, now: DateTime<Utc>) -> OutgoingEmail {
        let token = self
            .signer
            .token(&f.brand_id, &f.customer_id, Scope::Campaign, now);
        let link = unsubscribe::link(&t.link_base, &token);
        let content = RenderedEmail {
            subject: t.rendered.subject.clone(),
            html: t.rendered.html.replace(LINK_PLACEHOLDER, &link),
            text: t.rendered.text.replace(LINK_PLACEHOLDER, &link),
        };
        OutgoingEmail::new(
            message_id(&t.campaign.id, &f.customer_id),
            Mailbox::new(t.brand_name.clone(), self.options.from_address.clone()),
            f.relay_email.clone(),
            content,
            now,
        )
        .with_campaign(t.campaign.id.as_str())
        .with_list_unsubscribe(link)
    }

    /// One wave: pass by, take caps, send, checkpoint. `resume` is where the walk
    /// continues after the wave (`None`: a retry wave, the position stays);
    /// `gone` are retried customers whose follower item vanished.
    async fn send_wave(
        &self,
        t: &Template,
        progress: &mut SendProgress,
        wave: &[Follower],
        resume: Option<Resume>,
        gone: Option<Vec<CustomerId>>,
        run: &mut CampaignRun,
    ) -> Result<WaveEnd, SendError> {
        let retrying = resume.is_none();
        let now = self.app.clock.now();
        let campaign = &t.campaign;
        let candidates: Vec<(usize, &Follower)> = wave
            .iter()
            .enumerate()
            .filter(|(_, f)| f.reachable())
            .collect();
        let takes: Vec<CapTake> = candidates
            .iter()
            .map(|(_, f)| CapTake {
                brand: campaign.brand_id.clone(),
                customer: f.customer_id.clone(),
                campaign: campaign.id.clone(),
            })
            .collect();
        let outcomes = if takes.is_empty() {
            Vec::new()
        } else {
            self.app.store.take_caps(&takes, now, self.cap).await
        };
        // The wave is cut before the first follower whose take failed.
        let mut cut = wave.len();
        let mut failure: Option<StoreError> = None;
        let mut to_send: Vec<&Follower> = Vec::new();
        let mut delta = SendCounters::default();
        for ((i, f), outcome) in candidates.iter().zip(outcomes) {
            match outcome {
                Err(e) => {
                    cut = *i;
                    failure = Some(e);
                    break;
                }
                Ok(CapOutcome::Capped { .. }) => delta.skipped_frequency_cap += 1,
                Ok(CapOutcome::Taken | CapOutcome::AlreadyHeld) => to_send.push(f),
            }
        }
        for f in &wave[..cut] {
            if f.unfollowed {
                if retrying {
                    delta.skipped_suppressed += 1;
                } else {
                    delta.skipped_unfollowed += 1;
                }
            } else {
                if !retrying {
                    delta.targeted += 1;
                }
                if !f.reachable() {
                    delta.skipped_suppressed += 1;
                }
            }
        }
        let gone = gone.unwrap_or_default();
        delta.skipped_suppressed += gone.len() as u64;

        let fates = futures::future::join_all(to_send.iter().map(|f| async move {
            self.pacer.wait().await;
            let email = self.email(t, f, now);
            match self.mailer.send(&email).await {
                Ok(_) => Fate::Sent,
                Err(MailError::Transient { .. }) => Fate::Retry,
                Err(e) => {
                    tracing::warn!(campaign = %campaign.id, customer = %f.customer_id, error = %crate::mail::redact_addresses(&e.to_string()), "campaign email refused");
                    Fate::Failed
                }
            }
        }))
        .await;
        let mut retry_now: Vec<CustomerId> = Vec::new();
        for (f, fate) in to_send.iter().zip(fates) {
            match fate {
                Fate::Sent => delta.sent += 1,
                Fate::Failed => delta.failed += 1,
                Fate::Retry => retry_now.push(f.customer_id.clone()),
            }
        }

        let mut next = progress.clone();
        next.seq += 1;
        next.counters.add(&delta);
        if retrying {
            // Handled retries leave the list; those not reached (after the cut) stay.
            let handled: Vec<&CustomerId> = wave[..cut]
                .iter()
                .map(|f| &f.customer_id)
                .chain(gone.iter())
                .collect();
            next.retry.retain(|c| !handled.contains(&c));
        } else if let Some(r) = &resume {
            if cut == wave.len() {
                next.after.clone_from(&r.after);
                next.walked = r.walked;
            } else if cut > 0 {
                next.after = Some(follower_token_after(&wave[cut - 1].customer_id));
            }
        }
        next.retry.extend(retry_now);
        let changed = next.counters != progress.counters
            || next.after != progress.after
            || next.walked != progress.walked
            || next.retry != progress.retry;
        if changed {
            match self.checkpoint(&campaign.id, &next).await? {
                CheckpointOutcome::Saved => {
                    *progress = next;
                    run.counters.add(&delta);
                }
                CheckpointOutcome::Stopped { status } => {
                    return Ok(WaveEnd::Stop(
                        status,
                        format!("stopped: the campaign is {status}"),
                    ));
                }
                CheckpointOutcome::LostLease => {
                    return Ok(WaveEnd::Stop(
                        CampaignStatus::Sending,
                        "stopped: another run took the lease".to_owned(),
                    ));
                }
                CheckpointOutcome::NotFound => {
                    return Ok(WaveEnd::Stop(
                        CampaignStatus::Sending,
                        "not found".to_owned(),
                    ));
                }
            }
        }
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(WaveEnd::Saved),
        }
    }

    /// The checkpoint, retried on transient failures (a lost checkpoint would
    /// send the wave again after a restart).
    async fn checkpoint(
        &self,
        id: &CampaignId,
        next: &SendProgress,
    ) -> Result<CheckpointOutcome, StoreError> {
        let mut attempt = 0;
        loop {
            match self
                .app
                .store
                .checkpoint_send(id, &self.options.owner, next, self.lease_until())
                .await
            {
                Err(e) if attempt + 1 < CHECKPOINT_ATTEMPTS => {
                    tracing::warn!(campaign = %id, error = %e, attempt, "checkpoint failed, retrying");
                    tokio::time::sleep(StdDuration::from_millis(20 << attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// Where the walk goes on after a wave.
struct Resume {
    after: Option<String>,
    walked: bool,
}

/// The message id of a campaign email: stable, so a retry is the same message.
pub fn message_id(campaign: &CampaignId, customer: &CustomerId) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut id = format!(
        "campaign-{}-{}",
        clean(campaign.as_str()),
        clean(customer.as_str())
    );
    id.truncate(200);
    id
}
