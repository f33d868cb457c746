//! `ses-events`: EventBridge (SES configuration set event destination, `source:
//! aws.ses`) -> `engage::jobs::ses_events::handle_delivery` over DynamoDB.
//!
//! Config, clients, policies and the unsubscribe signer (which reads the brand and
//! customer out of an email's `List-Unsubscribe` header) are built once, at cold
//! start. A transient store failure returns an error (Lambda retries, then the
//! dead-letter queue); a malformed event is logged and acknowledged.

use engage::clock::{Clock, SystemClock};
use engage::config::{Config, Secret};
use engage::jobs::ses_events::{SesDelivery, handle_delivery};
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
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name.clone(),
    );
    let policies = PolicySet::bundled()?;
    let signer = TokenSigner::new(config.unsubscribe_secret.as_bytes());
    let (store, policies, signer) = (&store, &policies, &signer);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<SesDelivery, Error>(
            handle_delivery(store, policies, signer, event.payload, SystemClock.now()).await?,
        )
    }))
    .await
}
