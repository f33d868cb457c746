//! The AWS clients of one process.

use crate::config::Config;
use crate::mail::SesMailer;

/// The AWS clients of one process, built once from the default credential chain.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// DynamoDB (the SDK's standard retries).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SES v2, with [`SesMailer::retry_config`]: SES throttling wants longer back-offs
    /// than the other services, which keep the standard ones.
    pub ses: aws_sdk_sesv2::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// EventBridge (`crate::bus::EventBridgePublisher` on `ENGAGE_EVENT_BUS`).
    pub eventbridge: aws_sdk_eventbridge::Client,
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
            eventbridge: aws_sdk_eventbridge::Client::new(&aws),
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
