//! The planner: status moves, segments, queue messages (see the module docs
//! of [`super`]). Idempotent: concurrent or repeated passes agree, because the
//! plan is stored once (put-if-absent), segments are created if absent, and
//! every status move is conditional.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};

use super::rules::{SendRules, WaveFacts};
use super::{CampaignReads, RunReport, SendError, SendOptions};
use crate::app::App;
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::segment::{self, Segment, SegmentRef, SendPlan};
use crate::queue::{SendQueue, interleave};
use crate::store::{TransitionOutcome, progress_of};

/// One planner pass at the business clock's now: returns what it moved and
/// queued (`queued` lists the segment messages it sent).
///
/// # Errors
/// The store, the send policy or the queue failed before the pass could
/// start; per-campaign problems are notes of the report.
pub async fn plan(
    app: &App,
    options: &SendOptions,
    queue: &dyn SendQueue,
) -> Result<(RunReport, Vec<SegmentRef>), SendError> {
    let now = app.clock.now();
    let rules = SendRules::in_force(&app.policies, now)?;
    let store = &app.store;
    let mut report = RunReport::default();
    let mut moved: Vec<Campaign> = Vec::new();

    for status in [CampaignStatus::InReview, CampaignStatus::Approved] {
        for c in store.list_live_campaigns(status).await? {
            if now >= c.send_window.end {
                let reason = if status == CampaignStatus::InReview {
                    "the send window ended before the campaign was approved"
                } else {
                    "the send window ended before sending started"
                };
                if let TransitionOutcome::Moved(m) = store
                    .transition(&c.id, &[status], CampaignStatus::Expired, Some(reason), now)
                    .await?
                {
                    let run = report.campaign(&c.id, status);
                    run.to = m.status;
                    run.note(reason);
                }
            } else if status == CampaignStatus::Approved && now >= c.send_window.start {
                ensure_segments(app, options, &c, now).await?;
                if let TransitionOutcome::Moved(m) = store
                    .transition(
                        &c.id,
                        &[CampaignStatus::Approved],
                        CampaignStatus::Sending,
                        None,
                        now,
                    )
                    .await?
                {
                    report.campaign(&c.id, status).to = m.status;
                    moved.push(m);
                }
            }
        }
    }

    // The index is eventually consistent on DynamoDB: add what this pass just moved.
    let mut sending = store.list_live_campaigns(CampaignStatus::Sending).await?;
    for m in moved {
        if !sending.iter().any(|c| c.id == m.id) {
            sending.push(m);
        }
    }
    sending.sort_by(|a, b| (a.send_window.start, &a.id).cmp(&(b.send_window.start, &b.id)));

    let mut per_campaign = Vec::new();
    for c in &sending {
        match sending_campaign(app, options, &rules, c, now, &mut report).await {
            Ok(refs) => per_campaign.push(refs),
            Err(e) => {
                let run = report.campaign(&c.id, c.status);
                run.note(super::Note::error(&e));
            }
        }
    }
    let queued = interleave(per_campaign);
    if !queued.is_empty() {
        queue.enqueue(&queued, StdDuration::ZERO).await?;
        if options.requeue_after.is_some() {
            mark_queued(app, &queued, now).await;
        }
    }
    Ok((report, queued))
}

/// Cuts a campaign into segments once: the plan (the first stored wins), then
/// every segment it names, each created if absent.
async fn ensure_segments(
    app: &App,
    options: &SendOptions,
    c: &Campaign,
    now: DateTime<Utc>,
) -> Result<Vec<Segment>, SendError> {
    let store = &app.store;
    let mut segments = store.list_segments(&c.id).await?;
    // Every segment names how many there are: complete, nothing to do (the common case).
    if segments
        .first()
        .is_some_and(|s| segments.len() == s.of as usize)
    {
        return Ok(segments);
    }
    let plan = match store.get_plan(&c.id).await? {
        Some(p) => p,
        None => {
            let per_segment = options.segment_followers.max(1);
            let enough = u64::from(options.max_segments) * per_segment / segment::SAMPLE_SCALE + 1;
            let sampled = store
                .count_follower_range(&c.brand_id, segment::SAMPLE, enough)
                .await?;
            let estimated = sampled * segment::SAMPLE_SCALE;
            let plan = SendPlan {
                campaign_id: c.id.clone(),
                brand_id: c.brand_id.clone(),
                segments: segment::segment_count(estimated, per_segment, options.max_segments),
                estimated_followers: estimated,
                created_at: now,
            };
            store.create_plan(&plan).await?
        }
    };
    let mut created = false;
    for index in 0..plan.segments {
        if !segments.iter().any(|s| s.index == index) {
            let fresh = Segment::new(&plan, index);
            if store.put_segment(&fresh, None).await? {
                segments.push(fresh);
            } else {
                // A concurrent planner created it first: read theirs.
                created = true;
            }
        }
    }
    if created {
        segments = store.list_segments(&c.id).await?;
    }
    segments.sort_by_key(|s| s.index);
    Ok(segments)
}

/// A `SENDING` campaign: finish it, or say why it waits, or name the segments to queue.
async fn sending_campaign(
    app: &App,
    options: &SendOptions,
    rules: &SendRules,
    c: &Campaign,
    now: DateTime<Utc>,
    report: &mut RunReport,
) -> Result<Vec<SegmentRef>, SendError> {
    let store = &app.store;
    let segments = ensure_segments(app, options, c, now).await?;
    let progress = progress_of(&segments);
    let from = report
        .campaigns
        .iter()
        .find(|r| r.campaign_id == c.id)
        .map_or(c.status, |r| r.from);
    let window_over = now >= c.send_window.end;
    if progress.finished() || window_over {
        let unwalked = segments.iter().filter(|s| !s.walked).count() as u64;
        let reason = (!progress.finished()).then(|| {
            format!(
                "the send window ended with {} follower(s) waiting for a retry and {unwalked} segment(s) not walked",
                progress.pending()
            )
        });
        let run = report.campaign(&c.id, from);
        run.pending = progress.pending();
        match store
            .transition(
                &c.id,
                &[CampaignStatus::Sending],
                CampaignStatus::Sent,
                reason.as_deref(),
                now,
            )
            .await?
        {
            TransitionOutcome::Moved(m) => run.to = m.status,
            TransitionOutcome::Conflict { current } => run.to = current,
            TransitionOutcome::NotFound => run.note("not found"),
        }
        if let Some(r) = reason {
            run.note(r);
        }
        return Ok(Vec::new());
    }

    let CampaignReads {
        promotion,
        sender,
        zone,
        ..
    } = CampaignReads::read(store.as_ref(), c).await?;
    let brand_decision = rules.brand(now, &sender)?;
    if !brand_decision.is_allowed() {
        // R-MAIL-3: the brand's approved and sending campaigns are suspended.
        let moved = crate::jobs::suspend::suspend_brand(
            store.as_ref(),
            &c.brand_id,
            &brand_decision.violations,
            now,
        )
        .await?;
        let run = report.campaign(&c.id, from);
        run.to = moved
            .iter()
            .find(|s| s.campaign_id == c.id)
            .map_or(c.status, |s| s.to);
        run.note(format!(
            "suspended by the send policy: {}",
            crate::jobs::suspend::rule_reason(&brand_decision.violations)
        ));
        return Ok(Vec::new());
    }
    let facts = WaveFacts::new(now, zone, c, promotion.as_ref(), &sender, &[]);
    let decision = rules.planning(&facts)?;
    let run = report.campaign(&c.id, from);
    run.to = c.status;
    run.pending = progress.pending();
    if !decision.is_allowed() {
        let why: Vec<String> = decision
            .violations
            .iter()
            .map(|v| format!("{} ({})", v.rule, v.message))
            .collect();
        run.note(format!("held by the send policy: {}", why.join(", ")));
        return Ok(Vec::new());
    }
    let held: Vec<&Segment> = segments
        .iter()
        .filter(|s| !s.finished() && !s.free_at(now))
        .collect();
    if let Some(until) = held.iter().filter_map(|s| s.lease_until).max() {
        run.note(format!(
            "{} segment(s) held by another worker until {}",
            held.len(),
            until.to_rfc3339()
        ));
    }
    Ok(segments
        .iter()
        .filter(|s| !s.finished() && s.free_at(now))
        .filter(|s| match (options.requeue_after, s.queued_at) {
            (None, _) | (_, None) => true,
            (Some(after), Some(at)) => {
                now - at >= chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX)
            }
        })
        .map(Segment::reference)
        .collect())
}

/// Records when the re-queued segments were queued, on the segments still free:
/// a worker may have claimed one since it was queued, and writing over its claim
/// (even conditionally on the state just read) would move its `seq` under it,
/// fail its next checkpoint and have its last wave sent again after its lease.
async fn mark_queued(app: &App, refs: &[SegmentRef], now: DateTime<Utc>) {
    for r in refs {
        if let Ok(Some(s)) = app.store.get_segment(&r.campaign_id, r.segment).await {
            if s.finished() || !s.free_at(now) {
                continue;
            }
            let mut next = s.next();
            next.queued_at = Some(now);
            // Conditional on the free state read: a claim in between wins.
            let _ = app.store.put_segment(&next, Some(s.seq)).await;
        }
    }
}
