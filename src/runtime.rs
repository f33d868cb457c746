//! What every Lambda function builds once, at cold start: JSON logs, the AWS
//! clients (the SES retry policy on the SES client only), the policies (the
//! bundled ones, or `ENGAGE_POLICIES`), and the [`App`] over DynamoDB and SES.

use std::sync::Arc;

use crate::app::{App, AppError};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::mail::SesMailer;
use crate::policy::{PolicyError, PolicySet};
use crate::store::DynamoStore;

/// JSON logs without timestamps (CloudWatch adds them).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .without_time()
        .try_init();
}

/// The policies a process evaluates: `ENGAGE_POLICIES` when set, else the bundled copy.
///
/// # Errors
/// An invalid policy file.
pub fn policies(config: &Config) -> Result<PolicySet, PolicyError> {
    match &config.policies_dir {
        Some(dir) => PolicySet::load_dir(dir),
        None => PolicySet::bundled(),
    }
}

/// The AWS clients of one process, built once from the default credential chain.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// DynamoDB (the SDK's standard retries).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SES v2, with [`SesMailer::retry_config`].
    pub ses: aws_sdk_sesv2::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
}

impl AwsClients {
    /// Loads the shared configuration once and builds every client from it.
    pub async fn load() -> Self {
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let ses = aws_sdk_sesv2::config::Builder::from(&aws)
            .retry_config(SesMailer::retry_config())
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&aws),
            ses: aws_sdk_sesv2::Client::from_conf(ses),
            sqs: aws_sdk_sqs::Client::new(&aws),
        }
    }

    /// The SES mailer, through `ENGAGE_SES_CONFIGURATION_SET` when set.
    pub fn mailer(&self, config: &Config) -> SesMailer {
        let mailer = SesMailer::new(self.ses.clone());
        match &config.ses_configuration_set {
            Some(set) => mailer.with_configuration_set(set),
            None => mailer,
        }
    }
}

/// The app of a Lambda function: DynamoDB, the policies, the real clock, the
/// public URL, the unsubscribe secret and the SES mailer.
///
/// # Errors
/// Invalid policies or templates.
pub fn aws_app(config: &Config, clients: &AwsClients) -> Result<App, AppError> {
    let store = DynamoStore::new(clients.dynamodb.clone(), config.table_name.clone());
    let policies = policies(config)?;
    let mut app = App::new(Arc::new(store), Arc::new(policies), Arc::new(SystemClock))?
        .with_unsubscribe_secret(config.unsubscribe_secret.as_bytes())
        .with_mailer(Arc::new(clients.mailer(config)));
    if let Some(url) = &config.public_url {
        app = app.with_public_url(url);
    }
    if let Some(from) = &config.from_address {
        app = app.with_from_address(from);
    }
    Ok(app)
}
