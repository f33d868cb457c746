//! The AWS clients of one process.
//!
//! One shared configuration is loaded at cold start; each client is built from it by the
//! function module that uses it, and only there. A function that never builds, say, the
//! SQS client never references the SQS SDK, so the release build's LTO leaves that SDK
//! (its endpoint rules, serializers and operations) out of the function's binary.

use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::time::SystemTimeSource;
use aws_types::SdkConfig;

use crate::config::{AwsSettings, Config, ConfigError};
use crate::mail::SesMailer;

use super::https::Https;

/// The shared AWS configuration of one process (region, the function role's credentials,
/// the HTTP client), from which each function builds the clients it uses.
#[derive(Debug, Clone)]
pub struct AwsClients {
    config: SdkConfig,
}

impl AwsClients {
    /// The shared configuration of `settings`, built once; no client is built yet.
    ///
    /// Built here rather than by `aws-config`'s loader: Lambda gives a function its
    /// region and its role's credentials in the environment, and nothing else the
    /// loader looks for (profile files, SSO, web identity, the instance metadata
    /// service) exists there. The loader still linked every one of those providers,
    /// with an STS client of its own, into every function (about 0.4 MiB of `.text`,
    /// `cargo bloat`), and read the profile files at each cold start.
    ///
    /// # Errors
    /// No region or no credentials in `settings`.
    pub fn new(settings: &AwsSettings) -> Result<Self, ConfigError> {
        let aws = settings.require()?;
        let credentials = Credentials::new(
            aws.access_key_id,
            aws.secret_access_key,
            aws.session_token.map(str::to_owned),
            None,
            "Environment",
        );
        let mut config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(aws.region.to_owned()))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .http_client(Https::shared())
            .sleep_impl(TokioSleep::new())
            .time_source(SystemTimeSource::new())
            // The loader's defaults: standard retries, and its 3.1 s connect timeout.
            .retry_config(RetryConfig::standard())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_millis(3100))
                    .build(),
            );
        if let Some(url) = aws.endpoint_url {
            config = config.endpoint_url(url);
        }
        Ok(Self {
            config: config.build(),
        })
    }

    /// The shared configuration, for a client no function module builds (tests, tools).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    /// DynamoDB (the SDK's standard retries). Every function builds it once, for its store.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config)
    }

    /// SES v2, with [`SesMailer::retry_config`]: SES throttling wants longer back-offs
    /// than the other services, which keep the standard ones.
    pub fn ses(&self) -> aws_sdk_sesv2::Client {
        let ses = aws_sdk_sesv2::config::Builder::from(&self.config)
            .retry_config(SesMailer::retry_config())
            .build();
        aws_sdk_sesv2::Client::from_conf(ses)
    }

    /// SQS (the send queue).
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.config)
    }

    /// EventBridge (`crate::bus::EventBridgePublisher` on `ENGAGE_EVENT_BUS`).
    pub fn eventbridge(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.config)
    }

    /// The SES mailer over a new [`AwsClients::ses`] client, through
    /// `ENGAGE_SES_CONFIGURATION_SET` when set.
    pub fn mailer(&self, config: &Config) -> SesMailer {
        let mailer = SesMailer::new(self.ses());
        match &config.ses_configuration_set {
            Some(set) => mailer.with_configuration_set(set),
            None => mailer,
        }
    }
}

#[cfg(test)]
#[path = "clients_test.rs"]
mod tests;
