//! The Lambda functions, one module each, over DynamoDB and the other AWS services.
//!
//! | function | trigger | module |
//! | --- | --- | --- |
//! | `campaigns-api` | HTTP API (JWT authorizer) | [`campaigns_api`] |
//! | `contact-api` | HTTP API (JWT authorizer) | [`contact_api`] |
//! | `unsubscribe-api` | HTTP API (public, token in the path) | [`unsubscribe_api`] |
//! | `marketplace-events` | EventBridge (`source: marketplace`) | [`marketplace_events`] |
//! | `ses-events` | EventBridge (`source: aws.ses`) | [`ses_events`] |
//! | `send-planner` | EventBridge Scheduler, every minute | [`send_planner`] |
//! | `send-worker` | the send queue (SQS, batch size 1) | [`send_worker`] |
//! | `sequences` | EventBridge Scheduler | [`sequences`] |
//!
//! A function's `main.rs` is its cold start ([`ColdStart::load`] with the secrets its
//! module names; [`ColdStart::load_without_policies`] for the one function that
//! evaluates no policy) and the one router or job its module runs; everything else is
//! built here, once per process, outside the handler. Every function reads its
//! environment through [`Config::from_env`] only, loads `ENGAGE_POLICIES` when set (if
//! it evaluates policies), and refuses the public development secrets it would sign or
//! verify with.

pub mod campaigns_api;
mod clients;
pub mod contact_api;
mod http;
pub mod https;
pub mod marketplace_events;
pub mod send_planner;
pub mod send_worker;
pub mod sequences;
pub mod ses_events;
pub mod unsubscribe_api;

use std::sync::Arc;

pub use clients::AwsClients;

use crate::app::{App, AppError};
use crate::clock::SystemClock;
use crate::config::{Config, Secret};
use crate::policy::{PolicyError, PolicySet};
use crate::store::DynamoStore;

/// What a function returns when it cannot start or a handler fails (Lambda logs it; the
/// trigger's retry policy decides what happens next).
pub type Error = lambda_runtime::Error;

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
        None => Ok(PolicySet::bundled()),
    }
}

/// What a function builds once, before its first invocation.
pub struct ColdStart {
    /// The environment, read once.
    pub config: Config,
    /// The shared AWS configuration; the function's module builds the clients it uses
    /// beyond DynamoDB (SES, SQS, EventBridge) from it.
    pub clients: AwsClients,
    /// The app: DynamoDB, the policies, the real clock, the public URL and the
    /// unsubscribe secret; a module adds the mailer or the publisher it uses.
    pub app: App,
}

impl ColdStart {
    /// Logs, configuration (refusing to go on without `secrets`), the AWS configuration
    /// and the app over DynamoDB, with the policies of [`policies`].
    ///
    /// # Errors
    /// A variable that is invalid, a required secret that is missing or public, invalid
    /// policies or themes.
    pub async fn load(secrets: &[Secret]) -> Result<Self, Error> {
        Self::start(secrets, policies)
    }

    /// As [`Self::load`], for a function that evaluates no policy (`unsubscribe-api`):
    /// `ENGAGE_POLICIES` is not read and the bundled policies are never parsed, so the
    /// policy parser and the CEL interpreter stay out of its package.
    ///
    /// # Errors
    /// As [`Self::load`], but for policies.
    pub async fn load_without_policies(secrets: &[Secret]) -> Result<Self, Error> {
        Self::start(secrets, |_| Ok(PolicySet::bundled()))
    }

    fn start(
        secrets: &[Secret],
        policies: impl FnOnce(&Config) -> Result<PolicySet, PolicyError>,
    ) -> Result<Self, Error> {
        init_logs();
        let config = Config::from_env()?;
        // Never the public development secrets in a deployment.
        config.require_secrets(secrets)?;
        let clients = AwsClients::new(&config.aws)?;
        let policies = policies(&config)?;
        let app = aws_app(&config, &clients, policies)?;
        Ok(Self {
            config,
            clients,
            app,
        })
    }
}

/// The app every function starts from: DynamoDB, `policies`, the real clock, the
/// public URL and the unsubscribe secret; no mailer and no publisher.
///
/// # Errors
/// Invalid themes.
pub fn aws_app(
    config: &Config,
    clients: &AwsClients,
    policies: PolicySet,
) -> Result<App, AppError> {
    let store = DynamoStore::new(clients.dynamodb(), config.table_name.clone());
    let app = App::new(Arc::new(store), Arc::new(policies), Arc::new(SystemClock))?
        .with_unsubscribe_secret(config.unsubscribe_secret.as_bytes());
    Ok(match &config.public_url {
        Some(url) => app.with_public_url(url),
        None => app,
    })
}
