//! The local send queue of `engage tick` and `engage serve`: in memory, for
//! one pass. What a pass leaves (a delayed re-queue, a segment whose lease is
//! held by a crashed process) is found again by the next pass's planner, which
//! re-queues every unfinished segment that is free: the segment items in the
//! embedded store are the durable part.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::{QueueError, SendQueue};
use crate::domain::segment::SegmentRef;

/// A first-in first-out queue of segment references, without duplicates.
#[derive(Debug, Default)]
pub struct LocalQueue {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    ready: VecDeque<SegmentRef>,
    queued: HashSet<SegmentRef>,
    /// Delayed messages: left to the next pass.
    deferred: usize,
}

impl LocalQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next reference, if any.
    pub fn pop(&self) -> Option<SegmentRef> {
        let mut s = self.state.lock().ok()?;
        let r = s.ready.pop_front()?;
        s.queued.remove(&r);
        Some(r)
    }

    /// How many delayed messages were left to the next pass.
    pub fn deferred(&self) -> usize {
        self.state.lock().map(|s| s.deferred).unwrap_or(0)
    }
}

#[async_trait]
impl SendQueue for LocalQueue {
    async fn enqueue(&self, refs: &[SegmentRef], delay: Duration) -> Result<(), QueueError> {
        let mut s = self.state.lock().map_err(|_| QueueError::Permanent {
            op: "enqueue",
            source: "local queue mutex poisoned".into(),
        })?;
        for r in refs {
            if !delay.is_zero() {
                s.deferred += 1;
            } else if s.queued.insert(r.clone()) {
                s.ready.push_back(r.clone());
            }
        }
        Ok(())
    }
}
