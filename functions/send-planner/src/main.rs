//! `send-planner`: an EventBridge Scheduler invocation every minute -> one
//! planner pass (`engage::jobs::send::aws::plan`): status moves, segments, one
//! SQS message per segment to work on. The payload is not read.

use engage::config::Config;
use engage::jobs::send::{SendOptions, aws::plan};
use engage::queue::SqsQueue;
use engage::runtime::{AwsClients, aws_app, init_logs};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logs();
    let config = Config::from_env()?;
    let clients = AwsClients::load().await;
    let app = &aws_app(&config, &clients)?;
    let queue_url = config
        .send
        .queue_url
        .clone()
        .ok_or("ENGAGE_SEND_QUEUE_URL is not set")?;
    let queue = &SqsQueue::new(clients.sqs.clone(), queue_url);
    let options = &SendOptions::from_config(&config);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        Ok::<_, Error>(plan(app, options, queue).await?.totals())
    }))
    .await
}
