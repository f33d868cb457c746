//! `unsubscribe-api`: the unsubscribe routes of `engage::api` on Lambda, over
//! DynamoDB. No authorizer: the HMAC-signed token in the path is the authority
//! (`ENGAGE_UNSUBSCRIBE_SECRET`, the same secret the senders sign with). Config,
//! clients and policies are built once, at cold start.

use std::sync::Arc;

use engage::api::{AppState, finish, lambda, unsubscribe_routes};
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
    config.require_secrets(&[Secret::Unsubscribe, Secret::Token])?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name.clone(),
    );
    let mut app = App::new(
        Arc::new(store),
        Arc::new(PolicySet::bundled()?),
        Arc::new(SystemClock),
    )?
    .with_unsubscribe_secret(config.unsubscribe_secret.as_bytes());
    if let Some(url) = &config.public_url {
        app = app.with_public_url(url);
    }
    // No route here reads a bearer token; the keys only complete the shared state.
    let keys = Arc::new(TokenKeys::from_secret(config.token_secret.as_bytes()));
    let routes = finish(
        unsubscribe_routes(),
        AppState { keys, app },
        config.max_body_bytes,
    );
    lambda::run(routes).await
}
