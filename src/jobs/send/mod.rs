//! Sending campaigns (R-MYCE-7, 12, 14, 16, R-MAIL-1..4): a planner and
//! segment workers, the same code on AWS and locally.
//!
//! # Plan, then work
//! - The [`planner`] (the `send-planner` function every minute; the first step
//!   of `engage tick`) moves statuses: `IN_REVIEW`/`APPROVED` whose window ended
//!   -> `EXPIRED`; `APPROVED` whose window opened -> `SENDING`, after cutting the
//!   campaign into segments (`domain::segment`: equal key ranges of the brand's
//!   followers, as many as its size asks, [`SendOptions::segment_followers`] each,
//!   at most [`SendOptions::max_segments`]); `SENDING` with every segment finished,
//!   or whose window ended -> `SENT`. It queues one message per free unfinished
//!   segment ([`crate::queue`]), campaigns interleaved, so a small campaign is not
//!   held behind a big one.
//! - A [`worker`] (the `send-worker` function on the SQS queue; `--workers N`
//!   tasks locally) claims the segment named by a message (a lease on the business
//!   clock) and sends it wave after wave until it is done, the deadline comes
//!   near (the Lambda context's deadline, `--budget` locally: it checkpoints and
//!   re-queues the segment), the send policy's campaign-level rules refuse
//!   (window over, suspension, complaint limit), or the account's rate throttles
//!   it (it backs off and re-queues with a delay).
//!
//! # Per wave
//! 1. the campaign is re-read and the `send` policy's rules that read no
//!    per-recipient fact are evaluated ([`rules`]): a refusal stops the segment
//!    (a suspension or cancellation is seen within one wave);
//! 2. the wave is the segment's transient failures first, then the next
//!    followers of its key range (while the bounded retry list has room);
//! 3. the rules that read `recipient` decide per follower (unfollowed,
//!    suppressed, no relay address, any rule a policy file adds); the (brand,
//!    customer) cap is taken for every other one with one conditional write each,
//!    the duration being the policy's `frequency_cap_days`. The cap item names
//!    the campaign that took it: it is the ledger. A customer capped by another
//!    campaign is counted `skippedFrequencyCap` and, as the walk never goes back,
//!    never tried again in this campaign's window (R-MYCE-14);
//! 4. the emails are sent concurrently, paced to this process's share of the
//!    account's rate; transient failures (throttling) go to the retry list, never
//!    counted as sent;
//! 5. one conditional write of the segment item (its `seq`) stores the cursor,
//!    counters, retry list and the renewed lease.
//!
//! Writes per recipient: 1 cap write + 1/[`SendOptions::wave`] checkpoint + a
//! claim and a release per slice.
//!
//! # Crashes, timeouts, concurrent runs
//! A worker killed at any point leaves its lease; once the lease has passed on
//! the business clock another worker takes the segment over from its last
//! checkpoint (the planner re-queues segments nobody touched for
//! [`SendOptions::requeue_after`]). The followers of the interrupted wave are
//! walked again: their caps answer `AlreadyHeld` (this campaign took them) and
//! they are sent.
//!
//! **The duplicate window.** A message the mail provider accepted in the
//! interrupted wave, before its checkpoint was stored, is sent a second time on
//! resume: at most one wave ([`SendOptions::wave`]) per killed worker, the
//! window between `Mailer::send` returning and the checkpoint committing in
//! `worker::Slice::send_wave`. Errors are not crashes: a failed store or mail
//! call never produces a duplicate (the wave is abandoned before anything is
//! sent, or its failures are retried; the checkpoint itself is retried).

pub mod aws;
mod email;
mod local;
mod options;
mod pace;
pub mod planner;
pub mod rules;
mod testing;
pub mod worker;

use serde::Serialize;

pub use local::{run, run_with_queue};
pub use options::SendOptions;
pub use pace::Pacer;
pub use testing::{NullMailer, RecordingMailer};

use crate::domain::CampaignId;
use crate::domain::campaign::CampaignStatus;
use crate::domain::send::SendCounters;

/// The sender address used when none is configured (`ENGAGE_FROM_ADDRESS`).
pub const DEFAULT_FROM_ADDRESS: &str = "campaigns@engage.localhost";

/// Why a pass or a slice could not run (per-campaign outcomes are reported, not raised).
pub type SendError = crate::jobs::PassError;

/// What a pass and a slice read around a campaign, in this order: its promotion,
/// its brand's feedback counts, the brand, and the brand's zone.
struct CampaignReads {
    promotion: Option<crate::domain::promotion::Promotion>,
    sender: crate::store::FeedbackCounts,
    brand: Option<crate::domain::brand::Brand>,
    zone: chrono_tz::Tz,
}

impl CampaignReads {
    async fn read(
        store: &dyn crate::store::Store,
        c: &crate::domain::campaign::Campaign,
    ) -> Result<Self, SendError> {
        let promotion = match &c.promotion_id {
            Some(p) => store.get_promotion(p).await?,
            None => None,
        };
        let sender = store.feedback_counts(&c.brand_id).await?;
        let brand = store.get_brand(&c.brand_id).await?;
        let zone = crate::app::campaigns::brand_zone(brand.as_ref());
        Ok(Self {
            promotion,
            sender,
            brand,
            zone,
        })
    }
}

/// What happened to one campaign in one pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignRun {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Its status before the pass.
    pub from: CampaignStatus,
    /// Its status after the pass.
    pub to: CampaignStatus,
    /// What this pass counted (sent, skipped, failed).
    pub counters: SendCounters,
    /// Recipients waiting for a retry after this pass.
    pub pending: u64,
    /// Why the pass left the campaign before it was done, if it did; reported
    /// as one `note` string, `; `-joined.
    #[serde(
        rename = "note",
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "joined_notes"
    )]
    pub notes: Vec<Note>,
}

/// One thing a pass has to say about a campaign it left before it was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Held, throttled, stopped, taken over: the pass did what it could; a later
    /// pass goes on.
    Info(String),
    /// The pass failed on the campaign (the error's chain): a later pass resumes
    /// it, and the pass reports errors ([`RunReport::has_errors`]).
    Error(String),
}

impl Note {
    /// The note of an error, with its whole source chain.
    pub fn error(e: &dyn std::error::Error) -> Self {
        Self::Error(crate::jobs::events::error_chain(e))
    }

    /// Whether it reports an error.
    pub fn is_error(&self) -> bool {
        matches!(self, Self::Error(_))
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Info(text) => f.write_str(text),
            Self::Error(chain) => write!(f, "error: {chain}"),
        }
    }
}

impl From<String> for Note {
    fn from(text: String) -> Self {
        Self::Info(text)
    }
}

impl From<&str> for Note {
    fn from(text: &str) -> Self {
        Self::Info(text.to_owned())
    }
}

fn joined_notes<S: serde::Serializer>(notes: &[Note], s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&NotesText(notes))
}

/// Notes as one line, `; `-joined.
struct NotesText<'a>(&'a [Note]);

impl std::fmt::Display for NotesText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

impl CampaignRun {
    /// A campaign the pass looked at, nothing counted yet.
    pub fn new(id: CampaignId, from: CampaignStatus) -> Self {
        Self {
            campaign_id: id,
            from,
            to: from,
            counters: SendCounters::default(),
            pending: 0,
            notes: Vec::new(),
        }
    }

    /// Adds a note (one already said, word for word, is not repeated).
    pub fn note(&mut self, note: impl Into<Note>) {
        let note = note.into();
        let said = self
            .note_text()
            .is_some_and(|text| text.contains(&note.to_string()));
        if !said {
            self.notes.push(note);
        }
    }

    /// The notes as one line, `; `-joined, if there are any: what `engage tick`
    /// prints and the JSON report's `note`.
    pub fn note_text(&self) -> Option<String> {
        (!self.notes.is_empty()).then(|| NotesText(&self.notes).to_string())
    }

    /// Whether some note reports an error (a later pass resumes).
    pub fn has_errors(&self) -> bool {
        self.notes.iter().any(Note::is_error)
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// One entry per campaign the pass looked at and touched.
    pub campaigns: Vec<CampaignRun>,
}

impl RunReport {
    /// Everything this pass counted, over every campaign.
    pub fn totals(&self) -> SendCounters {
        let mut t = SendCounters::default();
        for c in &self.campaigns {
            t.add(&c.counters);
        }
        t
    }

    /// Whether some campaign was left with an error (a later pass resumes it).
    pub fn has_errors(&self) -> bool {
        self.campaigns.iter().any(CampaignRun::has_errors)
    }

    /// The entry of a campaign, created if missing.
    pub fn campaign(&mut self, id: &CampaignId, from: CampaignStatus) -> &mut CampaignRun {
        let i = match self.campaigns.iter().position(|c| &c.campaign_id == id) {
            Some(i) => i,
            None => {
                self.campaigns.push(CampaignRun::new(id.clone(), from));
                self.campaigns.len() - 1
            }
        };
        &mut self.campaigns[i]
    }
}

/// The message id of a campaign email: stable, so a retry is the same message.
pub fn message_id(campaign: &CampaignId, customer: &crate::domain::CustomerId) -> String {
    crate::mail::message_id(&["campaign", campaign.as_str(), customer.as_str()])
}
