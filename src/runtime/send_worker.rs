//! `send-worker`: the send queue's SQS messages (batch size 1) -> one slice of one
//! segment each ([`crate::jobs::send::aws::Worker`]) through SES v2, stopped before the
//! invocation's deadline; an unfinished segment is queued again.
//!
//! Returns nothing; a failed slice or re-queue returns an error, so the message is
//! received again (then the dead-letter queue). Environment: [`crate::config::Config`],
//! `ENGAGE_SEND_QUEUE_URL` required, `ENGAGE_SEND_RATE` and the `ENGAGE_SEND_*`
//! settings, `ENGAGE_FROM_ADDRESS`, `ENGAGE_SES_CONFIGURATION_SET`;
//! `ENGAGE_UNSUBSCRIBE_SECRET` must be set.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

use super::send_planner::send_queue;
use super::{ColdStart, Error};
use crate::clock::deadline_instant;
use crate::config::Secret;
use crate::jobs::send::{SendOptions, aws::Worker};

/// What it refuses to start without.
pub const SECRETS: &[Secret] = &[Secret::Unsubscribe];

/// Runs the slices of each invocation's messages until the runtime stops.
///
/// # Errors
/// `ENGAGE_SEND_QUEUE_URL` is not set, or the runtime failed.
pub async fn run(cold: ColdStart) -> Result<(), Error> {
    let queue = Arc::new(send_queue(&cold)?);
    let options = SendOptions::from_config(&cold.config);
    let app = cold
        .app
        .with_mailer(Arc::new(cold.clients.mailer(&cold.config)));
    let worker = &Worker::new(app, queue, options);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let records = event.payload.records.into_iter();
        let bodies: Vec<String> = records.filter_map(|r| r.body).collect();
        worker
            .handle(&bodies, deadline_instant(event.context.deadline))
            .await?;
        Ok::<(), Error>(())
    }))
    .await
}
