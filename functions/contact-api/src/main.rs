//! `contact-api`: the Contact Customer routes (and the brand health report) of `engage::api` on Lambda, over DynamoDB,
//! SES v2 (contact emails) and EventBridge (`Courtesy Refund Requested`). Config, clients
//! and policies are built once, at cold start.
//!
//! Environment beyond [`Config`]: `ENGAGE_EVENT_BUS` (the bus name or ARN, `default`
//! when unset) and `ENGAGE_SES_CONFIGURATION_SET` (optional: bounce and complaint events).

use std::sync::Arc;

use engage::api::{AppState, contact_routes, finish, health_routes, lambda};
use engage::app::App;
use engage::auth::TokenKeys;
use engage::bus::EventBridgePublisher;
use engage::clock::SystemClock;
use engage::config::{Config, Secret};
use engage::mail::SesMailer;
use engage::policy::PolicySet;
use engage::store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .without_time()
        .init();
    let config = Config::from_env()?;
    // Never the public development secrets in a deployment.
    config.require_secrets(&[Secret::Token, Secret::Unsubscribe])?;
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(SesMailer::retry_config())
        .load()
        .await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name.clone(),
    );
    let mut mailer = SesMailer::new(aws_sdk_sesv2::Client::new(&aws));
    if let Some(set) = std::env::var("ENGAGE_SES_CONFIGURATION_SET")
        .ok()
        .filter(|s| !s.is_empty())
    {
        mailer = mailer.with_configuration_set(set);
    }
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
    .with_mailer(Arc::new(mailer))
    .with_publisher(Arc::new(publisher));
    if let Some(url) = &config.public_url {
        app = app.with_public_url(url);
    }
    if let Some(from) = &config.from_address {
        app = app.with_from_address(from);
    }
    // The API Gateway authorizer verifies tokens; the keys only serve direct invocations.
    let keys = Arc::new(TokenKeys::from_secret(config.token_secret.as_bytes()));
    let routes = finish(
        contact_routes().merge(health_routes()),
        AppState { keys, app },
        config.max_body_bytes,
    );
    lambda::run(routes).await
}
