//! `send-planner`: an EventBridge Scheduler invocation every minute -> one planner
//! pass ([`crate::jobs::send::aws::plan`]): status moves, segments, one SQS message per
//! segment to work on. The payload is not read.
//!
//! Returns the pass's totals. A pass that cannot run (the store, the send policy, the
//! queue) returns an error; the next minute's pass starts over. Environment:
//! [`crate::config::Config`], `ENGAGE_SEND_QUEUE_URL` required, the `ENGAGE_SEND_*`
//! settings; no secret (it sends no email).

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use super::{ColdStart, Error};
use crate::config::Secret;
use crate::jobs::send::{SendOptions, aws::plan};
use crate::queue::SqsQueue;

/// What it refuses to start without.
pub const SECRETS: &[Secret] = &[];

/// Runs one pass per invocation until the runtime stops.
///
/// # Errors
/// `ENGAGE_SEND_QUEUE_URL` is not set, or the runtime failed.
pub async fn run(cold: ColdStart) -> Result<(), Error> {
    let queue = &send_queue(&cold)?;
    let options = &SendOptions::from_config(&cold.config);
    let app = &cold.app;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        Ok::<_, Error>(plan(app, options, queue).await?.totals())
    }))
    .await
}

/// The send queue (`ENGAGE_SEND_QUEUE_URL`) the planner fills and the workers drain.
pub(super) fn send_queue(cold: &ColdStart) -> Result<SqsQueue, Error> {
    let url = cold.config.send.queue_url.as_deref();
    let url = url.ok_or("ENGAGE_SEND_QUEUE_URL is not set")?;
    Ok(SqsQueue::new(cold.clients.sqs(), url))
}
