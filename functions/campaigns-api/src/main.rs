//! `campaigns-api`: the campaign routes of `engage::api` on Lambda, over
//! DynamoDB. Config, clients and policies are built once, at cold start.

use std::sync::Arc;

use engage::api::{AppState, campaign_routes, finish, lambda};
use engage::app::App;
use engage::auth::TokenKeys;
use engage::clock::SystemClock;
use engage::config::{Config, Secret};
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
    config.require_secrets(&[Secret::Token])?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name.clone(),
    );
    let mut app = App::new(
        Arc::new(store),
        Arc::new(PolicySet::bundled()?),
        Arc::new(SystemClock),
    )?;
    if let Some(url) = &config.public_url {
        app = app.with_public_url(url);
    }
    // The API Gateway authorizer verifies tokens; the keys only serve direct invocations.
    let keys = Arc::new(TokenKeys::from_secret(config.token_secret.as_bytes()));
    let routes = finish(
        campaign_routes(),
        AppState { keys, app },
        config.max_body_bytes,
    );
    lambda::run(routes).await
}
