//! `send-worker`: the send queue's SQS messages (batch size 1) -> one slice of
//! one segment each (`engage::jobs::send::aws::Worker`), stopped before the
//! invocation's deadline; an unfinished segment is queued again.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use engage::config::{Config, Secret};
use engage::jobs::send::{SendOptions, aws::Worker};
use engage::queue::SqsQueue;
use engage::runtime::{AwsClients, aws_app, init_logs};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logs();
    let config = Config::from_env()?;
    config.require_secrets(&[Secret::Unsubscribe])?;
    let clients = AwsClients::load().await;
    let app = aws_app(&config, &clients)?;
    let queue_url = config
        .send
        .queue_url
        .clone()
        .ok_or("ENGAGE_SEND_QUEUE_URL is not set")?;
    let queue = Arc::new(SqsQueue::new(clients.sqs.clone(), queue_url));
    let worker = &Worker::new(
        app,
        Arc::new(clients.mailer(&config)),
        queue,
        SendOptions::from_config(&config),
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let bodies: Vec<String> = event
            .payload
            .records
            .into_iter()
            .filter_map(|r| r.body)
            .collect();
        let deadline = engage::clock::deadline_instant(event.context.deadline);
        worker.handle(&bodies, deadline).await?;
        Ok::<(), Error>(())
    }))
    .await
}
