//! `sequences`: an EventBridge schedule -> one pass of `engage::jobs::sequences::run` over
//! DynamoDB and SES v2. Config, clients and policies are built once, at cold start.
//!
//! The pass's report is the function's result (and logged). A pass that cannot run (the
//! policies, a store listing) returns an error: the schedule's retry policy, then the
//! dead-letter queue, take it; per-message failures are in the report and retried by the
//! next scheduled pass. Environment beyond `Config`: `ENGAGE_SES_CONFIGURATION_SET`.

use std::sync::Arc;

use engage::app::App;
use engage::clock::SystemClock;
use engage::config::{Config, Secret};
use engage::jobs::sequences::{self, SequenceOptions, SequenceReport};
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
    let mut app = App::new(
        Arc::new(store),
        Arc::new(PolicySet::bundled()?),
        Arc::new(SystemClock),
    )?;
    if let Some(url) = &config.public_url {
        app = app.with_public_url(url);
    }
    let signer = TokenSigner::new(config.unsubscribe_secret.as_bytes());
    let options = SequenceOptions::from_config(&config);
    let (app, mailer, signer, options) = (&app, &mailer, &signer, &options);
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| async move {
        let report: SequenceReport = sequences::run(app, mailer, signer, &options.fresh_run()).await?;
        tracing::info!(policy = %report.policy, orders = report.orders, sent = report.sent.len(),
            refused = report.refused.len(), failed = report.failed.len(), held = report.held, "sequences pass");
        Ok::<SequenceReport, Error>(report)
    }))
    .await
}
