//! `sequences`: an EventBridge schedule -> one pass of [`crate::jobs::sequences::run`]
//! over DynamoDB and SES v2, then one pass of [`crate::app::contact::resume_pending`]
//! (Contact Customer emails a crashed or failed request left pending: each delivered
//! once under its lease, with the same message id). Pending contacts ride on this
//! schedule rather than a function of their own: one package less to build and deploy,
//! and the same SES identity and table.
//!
//! Returns the pass's report (also logged). A pass that cannot run (the policies, a
//! store listing) returns an error: the schedule's retry policy, then the dead-letter
//! queue, take it; per-message and per-contact failures are in the report and retried by
//! the next scheduled pass. Environment: [`crate::config::Config`], in particular
//! `ENGAGE_FROM_ADDRESS`, `ENGAGE_SES_CONFIGURATION_SET`, `ENGAGE_EVENT_BUS` (where a
//! resumed courtesy refund publishes `Courtesy Refund Requested`) and
//! `ENGAGE_PUBLIC_URL`; `ENGAGE_UNSUBSCRIBE_SECRET` must be set.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

use super::{ColdStart, Error};
use crate::app::App;
use crate::app::contact::{PENDING_CONTACT_DAYS, resume_pending};
use crate::bus::EventBridgePublisher;
use crate::config::Secret;
use crate::jobs::sequences::{self, SequenceOptions};

/// What it refuses to start without.
pub const SECRETS: &[Secret] = &[Secret::Unsubscribe];

/// Runs one pass per invocation until the runtime stops.
///
/// # Errors
/// The runtime failed.
pub async fn run(cold: ColdStart) -> Result<(), Error> {
    let (config, clients) = (&cold.config, &cold.clients);
    // Buyer messages and resumed contact emails through SES; a resumed courtesy refund
    // publishes on the bus.
    let app = &cold
        .app
        .with_mailer(Arc::new(clients.mailer(config)))
        .with_from_address(config.from_address.as_deref())
        .with_publisher(Arc::new(EventBridgePublisher::new(
            clients.eventbridge(),
            &config.event_bus,
        )));
    let options = &SequenceOptions::from_config(config);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| pass(app, options))).await
}

/// One scheduled pass: the due buyer messages, then the pending contacts.
async fn pass(app: &App, options: &SequenceOptions) -> Result<Value, Error> {
    let report = sequences::run(app, &options.fresh_run()).await?;
    tracing::info!(policy = %report.policy, orders = report.orders, sent = report.sent.len(),
        refused = report.refused.len(), failed = report.failed.len(), held = report.held, "sequences pass");
    let contacts = resume_pending(app, chrono::Duration::days(PENDING_CONTACT_DAYS)).await?;
    tracing::info!(
        delivered = contacts.delivered,
        already_delivered = contacts.already_delivered,
        in_progress = contacts.in_progress,
        failed = contacts.failed,
        "pending contacts pass"
    );
    Ok(json!({
        "sequences": report,
        "pendingContacts": {
            "delivered": contacts.delivered,
            "alreadyDelivered": contacts.already_delivered,
            "inProgress": contacts.in_progress,
            "failed": contacts.failed,
        },
    }))
}
