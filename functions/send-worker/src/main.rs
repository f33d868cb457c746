//! `send-window`: an EventBridge Scheduler (or scheduled-event) invocation ->
//! `engage::jobs::send_window::run` over DynamoDB and SES v2.
//!
//! Config and clients are built once, at cold start: `Config::from_env()`
//! (`ENGAGE_TABLE`, `ENGAGE_PUBLIC_URL`, `ENGAGE_UNSUBSCRIBE_SECRET`,
//! `ENGAGE_SEND_RATE`, `ENGAGE_FROM_ADDRESS`, `ENGAGE_SES_CONFIGURATION_SET`,
//! `ENGAGE_SEND_LEASE_SECONDS`). The payload is not read: every invocation is
//! one pass. A failure to start the pass (store unavailable) is an error, so
//! the scheduler's retry policy applies; per-campaign problems are in the
//! returned report and logs, and the next pass resumes from the checkpoints.

use std::sync::Arc;

use engage::app::App;
use engage::clock::SystemClock;
use engage::config::Config;
use engage::jobs::send_window::{self, Pacer, RunReport, SendOptions};
use engage::mail::SesMailer;
use engage::policy::PolicySet;
use engage::store::DynamoStore;
use engage::unsubscribe::TokenSigner;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .without_time()
        .init();
    let config = Config::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name.clone(),
    );
    let ses_config = aws_sdk_sesv2::config::Builder::from(&aws)
        .retry_config(SesMailer::retry_config())
        .build();
    let mut mailer = SesMailer::new(aws_sdk_sesv2::Client::from_conf(ses_config));
    if let Some(set) = &config.ses_configuration_set {
        mailer = mailer.with_configuration_set(set);
    }
    let policies = match &config.policies_dir {
        Some(dir) => PolicySet::load_dir(dir)?,
        None => PolicySet::bundled()?,
    };
    let mut app = App::new(Arc::new(store), Arc::new(policies), Arc::new(SystemClock))?;
    if let Some(url) = &config.public_url {
        app = app.with_public_url(url);
    }
    let signer = TokenSigner::new(config.unsubscribe_secret.as_bytes());
    let options = SendOptions::from_config(&config);
    let pacer = Pacer::new(options.rate_per_second);
    let (app, mailer, signer, options, pacer) = (&app, &mailer, &signer, &options, &pacer);
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| async move {
        let run = options.fresh_run();
        let report: RunReport = send_window::run_paced(app, mailer, signer, &run, pacer).await?;
        // CloudWatch embedded metric format: sent, skipped and failed per campaign.
        for doc in engage::jobs::metrics::send_window_emf(&report, chrono::Utc::now()) {
            println!("{doc}");
        }
        let totals = report.totals();
        tracing::info!(
            campaigns = report.campaigns.len(),
            sent = totals.sent,
            failed = totals.failed,
            "send window pass"
        );
        Ok::<RunReport, Error>(report)
    }))
    .await
}
