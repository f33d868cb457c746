//! `marketplace-events`: EventBridge -> `engage::jobs::events::handle_delivery` over DynamoDB.
//!
//! Config and clients are built once, at cold start. A transient store failure
//! returns an error (Lambda retries, then the dead-letter queue); a malformed or
//! unknown event is logged and acknowledged, never retried forever.

use engage::clock::{Clock, SystemClock};
use engage::config::Config;
use engage::jobs::events::{Delivery, handle_delivery};
use engage::store::DynamoStore;
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
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name);
    let store = &store;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<Delivery, Error>(handle_delivery(store, event.payload, SystemClock.now()).await?)
    }))
    .await
}
