//! One local pass (`engage tick`, the timer of `engage serve`, tests): the
//! planner, then [`SendOptions::workers`] workers draining an in-memory queue
//! until it is empty or the budget is spent, then the planner again so that
//! campaigns the workers finished are marked `SENT` in the same pass.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::worker::{SliceEnd, run_slice};
use super::{Pacer, RunReport, SendError, SendOptions, planner};
use crate::app::App;
use crate::queue::{LocalQueue, SendQueue};

/// [`run_with_queue`] with a fresh pacer and no budget.
///
/// # Errors
/// As [`run_with_queue`].
pub async fn run(app: &App, options: &SendOptions) -> Result<RunReport, SendError> {
    let pacer = Pacer::new(options.rate_per_second);
    run_with_queue(app, options, &pacer, None).await
}

/// One pass; workers take no new wave once `budget` (real time) is spent and
/// leave what remains, checkpointed, to the next pass.
///
/// # Errors
/// The planner could not run (the store or the send policy failed);
/// per-campaign problems are notes of the report.
pub async fn run_with_queue(
    app: &App,
    options: &SendOptions,
    pacer: &Pacer,
    budget: Option<StdDuration>,
) -> Result<RunReport, SendError> {
    let deadline = budget.map(|b| Instant::now() + b);
    let queue = LocalQueue::new();
    let (report, _) = planner::plan(app, options, &queue).await?;
    let report = Mutex::new(report);
    let active = AtomicUsize::new(0);
    let workers = (0..options.workers.max(1)).map(|_| {
        let options = options.fresh_run();
        let (queue, report, active) = (&queue, &report, &active);
        async move {
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return;
                }
                // Counted as busy before looking, so no worker leaves while
                // another may still queue its segment again.
                active.fetch_add(1, Ordering::SeqCst);
                let Some(r) = queue.pop() else {
                    if active.fetch_sub(1, Ordering::SeqCst) == 1 {
                        return;
                    }
                    tokio::time::sleep(StdDuration::from_millis(5)).await;
                    continue;
                };
                let slice = run_slice(app, &options, pacer, &r, deadline).await;
                let mut requeue = None;
                {
                    let mut report = report.lock().await;
                    let from = report
                        .campaigns
                        .iter()
                        .find(|c| c.campaign_id == r.campaign_id)
                        .map_or(crate::domain::campaign::CampaignStatus::Sending, |c| c.from);
                    let run = report.campaign(&r.campaign_id, from);
                    match slice {
                        Ok(s) => {
                            run.counters.add(&s.counters);
                            if let Some(status) = s.status {
                                run.to = status;
                            }
                            match &s.end {
                                SliceEnd::Skipped(why) => {
                                    run.note(format!("segment {}: {why}", r.segment));
                                }
                                SliceEnd::Refused(v) => {
                                    let rules: Vec<&str> =
                                        v.iter().map(|v| v.rule.as_str()).collect();
                                    run.note(format!("stopped by {}", rules.join(", ")));
                                }
                                SliceEnd::LostLease => {
                                    run.note("another worker took a segment over");
                                }
                                SliceEnd::Stopped(status) => {
                                    let status =
                                        status.map_or("gone".to_owned(), |s| s.to_string());
                                    run.note(format!("stopped: the campaign is {status}"));
                                }
                                SliceEnd::Throttled(_) => {
                                    run.note("throttled: left for a later pass");
                                }
                                SliceEnd::Finished | SliceEnd::Deadline => {}
                            }
                            requeue = s.end.requeue();
                        }
                        Err(e) => {
                            run.note(super::Note::error(&e));
                        }
                    }
                }
                if let Some(delay) = requeue {
                    // A delayed message is left to a later pass; past the budget too.
                    let _ = queue.enqueue(std::slice::from_ref(&r), delay).await;
                }
                active.fetch_sub(1, Ordering::SeqCst);
            }
        }
    });
    futures::future::join_all(workers).await;

    let mut report = report.into_inner();
    // Campaigns the workers finished become SENT now; nothing is queued again.
    let (last, _) = planner::plan(app, options, &LocalQueue::new()).await?;
    for run in last.campaigns {
        let entry = report.campaign(&run.campaign_id, run.from);
        entry.to = run.to;
        entry.pending = run.pending;
        for n in run.notes {
            entry.note(n);
        }
    }
    Ok(report)
}
