//! `sequences`: an EventBridge schedule -> one pass of `engage::jobs::sequences::run` over
//! DynamoDB and SES v2, then one pass of `engage::app::contact::resume_pending` (Contact
//! Customer emails a crashed or failed request left pending: each delivered once under its
//! lease, with the same message id). Config, clients and policies are built once, at cold
//! start. Pending contacts ride on this schedule rather than a function of their own: one
//! package less to build and deploy, and the same SES identity and table.
//!
//! The pass's report is the function's result (and logged). A pass that cannot run (the
//! policies, a store listing) returns an error: the schedule's retry policy, then the
//! dead-letter queue, take it; per-message and per-contact failures are in the report and
//! retried by the next scheduled pass. Environment beyond `Config`:
//! `ENGAGE_SES_CONFIGURATION_SET`, `ENGAGE_EVENT_BUS` (where a resumed courtesy refund
//! publishes `Courtesy Refund Requested`, `default` when unset).

use std::sync::Arc;

use engage::app::App;
use engage::app::contact::{PENDING_CONTACT_DAYS, resume_pending};
use engage::bus::EventBridgePublisher;
use engage::clock::SystemClock;
use engage::config::{Config, Secret};
use engage::jobs::sequences::{self, SequenceOptions, SequenceReport};
use engage::mail::SesMailer;
use engage::policy::PolicySet;
use engage::store::DynamoStore;
use engage::unsubscribe::TokenSigner;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .without_time()
        .init();
    let config = Config::from_env()?;
    // Never the public development secrets in a deployment.
    config.require_secrets(&[Secret::Unsubscribe])?;
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(SesMailer::retry_config())
        .load()
        .await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name.clone(),
    );
    let mut mailer = SesMailer::new(aws_sdk_sesv2::Client::new(&aws));
    if let Some(set) = config
        .ses_configuration_set
        .clone()
        .filter(|s| !s.is_empty())
    {
        mailer = mailer.with_configuration_set(set);
    }
    let mailer = Arc::new(mailer);
    let bus = std::env::var("ENGAGE_EVENT_BUS")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".into());
    let publisher = EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&aws), bus);
    let mut app = App::new(
        Arc::new(store),
        Arc::new(PolicySet::bundled()?),
        Arc::new(SystemClock),
    )?
    .with_mailer(mailer.clone())
    .with_publisher(Arc::new(publisher));
    if let Some(url) = &config.public_url {
        app = app.with_public_url(url);
    }
    if let Some(from) = &config.from_address {
        app = app.with_from_address(from);
    }
    let signer = TokenSigner::new(config.unsubscribe_secret.as_bytes());
    let options = SequenceOptions::from_config(&config);
    let (app, mailer, signer, options) = (&app, mailer.as_ref(), &signer, &options);
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| async move {
        let report: SequenceReport = sequences::run(app, mailer, signer, &options.fresh_run()).await?;
        tracing::info!(policy = %report.policy, orders = report.orders, sent = report.sent.len(),
            refused = report.refused.len(), failed = report.failed.len(), held = report.held, "sequences pass");
        let contacts = resume_pending(app, chrono::Duration::days(PENDING_CONTACT_DAYS)).await?;
        tracing::info!(delivered = contacts.delivered, already_delivered = contacts.already_delivered,
            in_progress = contacts.in_progress, failed = contacts.failed, "pending contacts pass");
        Ok::<Value, Error>(json!({
            "sequences": report,
            "pendingContacts": {
                "delivered": contacts.delivered,
                "alreadyDelivered": contacts.already_delivered,
                "inProgress": contacts.in_progress,
                "failed": contacts.failed,
            },
        }))
    }))
    .await
}
