//! The send queue port: one message per segment slice to run ([`SegmentRef`]).
//! On AWS an SQS queue feeds the `send-worker` function (batch size 1, a
//! concurrency bound); locally [`LocalQueue`] feeds `engage tick`'s workers.
//!
//! The queue only wakes workers: a segment's state lives in its store item,
//! so a lost, late or repeated message loses or repeats nothing (a worker that
//! finds its segment busy or finished drops the message, and the planner
//! re-queues a segment nobody has touched for a while).

pub mod local;
pub mod sqs;

use std::time::Duration;

use async_trait::async_trait;

pub use local::LocalQueue;
pub use sqs::SqsQueue;

use crate::domain::segment::SegmentRef;

/// Why messages could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue service failed or throttled: retrying later may help.
    #[error("send queue: {op} failed (transient)")]
    Transient {
        /// The operation.
        op: &'static str,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A request the queue refuses (configuration, permissions, a bad message).
    #[error("send queue: {op} failed")]
    Permanent {
        /// The operation.
        op: &'static str,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl QueueError {
    /// A failure of `op`, transient when retrying later may help.
    pub fn new(
        op: &'static str,
        transient: bool,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        let source = source.into();
        if transient {
            Self::Transient { op, source }
        } else {
            Self::Permanent { op, source }
        }
    }

    /// Whether retrying later may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}

/// Where segment slices wait for a worker.
#[async_trait]
pub trait SendQueue: Send + Sync {
    /// Queues one message per reference, delivered no earlier than `delay` from now.
    async fn enqueue(&self, refs: &[SegmentRef], delay: Duration) -> Result<(), QueueError>;
}

/// The references of several campaigns interleaved (first segment of each
/// campaign, then the second of each...), so that on a first-in first-out
/// queue a small campaign is not held behind a big one.
pub fn interleave(per_campaign: Vec<Vec<SegmentRef>>) -> Vec<SegmentRef> {
    let mut lists: Vec<std::vec::IntoIter<SegmentRef>> =
        per_campaign.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::new();
    loop {
        let before = out.len();
        for list in &mut lists {
            if let Some(r) = list.next() {
                out.push(r);
            }
        }
        if out.len() == before {
            return out;
        }
    }
}
