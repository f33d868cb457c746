//! The planner and the worker as the Lambda functions run them: the queue is
//! SQS, the deadline is the invocation's.

use std::sync::Arc;

use tokio::time::Instant;

use super::worker::{SliceReport, run_slice};
use super::{Pacer, RunReport, SendError, SendOptions, planner};
use crate::app::App;
use crate::domain::segment::SegmentRef;
use crate::queue::{QueueError, SendQueue};

/// What a worker invocation holds across invocations: built once at cold start.
pub struct Worker {
    app: App,
    queue: Arc<dyn SendQueue>,
    options: SendOptions,
    /// One pacer per process: this worker's share of the account's rate.
    pacer: Pacer,
}

impl Worker {
    /// A worker sending through the app's mailer and re-queueing on `queue`.
    pub fn new(app: App, queue: Arc<dyn SendQueue>, options: SendOptions) -> Self {
        let pacer = Pacer::new(options.rate_per_second);
        Self {
            app,
            queue,
            options,
            pacer,
        }
    }

    /// Runs one slice per message body (the batch size is 1), each stopped
    /// before `deadline`; a segment left unfinished is queued again (after its
    /// back-off when throttled).
    ///
    /// # Errors
    /// A body that is not a segment reference (the queue's redrive policy moves
    /// it to the dead-letter queue after a few receives), a slice that failed
    /// (store, policy, rendering: the message is received again later), or a
    /// re-queue that failed (likewise: the message stays on the queue).
    pub async fn handle(
        &self,
        bodies: &[String],
        deadline: Instant,
    ) -> Result<Vec<SliceReport>, SendError> {
        let mut out = Vec::with_capacity(bodies.len());
        for body in bodies {
            let r: SegmentRef = serde_json::from_str(body).map_err(|e| {
                SendError::Queue(QueueError::Permanent {
                    op: "read message",
                    source: Box::new(e),
                })
            })?;
            let options = self.options.fresh_run();
            let report = run_slice(&self.app, &options, &self.pacer, &r, Some(deadline)).await?;
            if let Some(delay) = report.end.requeue() {
                self.queue.enqueue(std::slice::from_ref(&r), delay).await?;
            }
            tracing::info!(campaign = %r.campaign_id, segment = r.segment, sent = report.counters.sent,
                skipped_cap = report.counters.skipped_frequency_cap, failed = report.counters.failed,
                pending = report.pending, end = ?report.end, "send slice");
            out.push(report);
        }
        Ok(out)
    }
}

/// One planner pass on AWS: statuses, segments, one SQS message per segment to work on.
///
/// # Errors
/// As [`planner::plan`].
pub async fn plan(
    app: &App,
    options: &SendOptions,
    queue: &dyn SendQueue,
) -> Result<RunReport, SendError> {
    let (report, queued) = planner::plan(app, options, queue).await?;
    tracing::info!(
        campaigns = report.campaigns.len(),
        queued = queued.len(),
        "send planner pass"
    );
    Ok(report)
}
