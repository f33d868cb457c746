//! The AWS clients of one process.
//!
//! One shared configuration is loaded at cold start; each client is built from it by the
//! function module that uses it, and only there. A function that never builds, say, the
//! SQS client never references the SQS SDK, so the release build's LTO leaves that SDK
//! (its endpoint rules, serializers and operations) out of the function's binary.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, Connector};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::config::Config;
use crate::mail::SesMailer;

/// The shared AWS configuration of one process (region, the function role's credentials,
/// the HTTP client), from which each function builds the clients it uses.
#[derive(Debug, Clone)]
pub struct AwsClients {
    config: SdkConfig,
}

impl AwsClients {
    /// Loads the shared configuration once (the default region chain, credentials from
    /// the environment: see [`loader`]); no client is built yet.
    pub async fn load() -> Self {
        Self::from_loader(loader()).await
    }

    /// Loads the shared configuration from `loader` (see [`loader`]).
    async fn from_loader(loader: ConfigLoader) -> Self {
        Self {
            config: loader.load().await,
        }
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

/// The default configuration loader with [`https_client`] as its HTTP client, and
/// credentials read from the environment.
///
/// Lambda hands every function its role's credentials in the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and no other
/// provider of the default chain answers there; but the default chain builds all of them
/// at cold start, the web-identity one with its own STS client, HTTP connector and root
/// store (about a tenth of a cold start's CPU, measured with `perf`).
fn loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
}

/// The SDK's default HTTP client (hyper 1, rustls, the platform's root certificates,
/// proxies from the environment, plain `http://` endpoints too) with rustls on *ring*
/// rather than the SDK's default aws-lc: aws-lc-sys alone is about a megabyte of every
/// function's binary, and ring offers the same TLS 1.2/1.3 suites AWS endpoints use.
///
/// The same connector function as `aws-smithy-runtime`'s `default_https_client`, which
/// cannot be used: it is built only with the SDK's `default-https-client` feature, the one
/// that links aws-lc.
fn https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = Connector::builder();
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build()
    })
}

#[cfg(test)]
#[path = "clients_test.rs"]
mod tests;
