//! The send queue on SQS: `SendMessageBatch` (ten per request), the segment
//! reference as JSON, `MessageGroupId` = the brand so that an SQS fair queue
//! keeps one brand's many segments from starving the others.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use super::{QueueError, SendQueue};
use crate::domain::segment::SegmentRef;

/// SQS allows at most 15 minutes of delivery delay.
const MAX_DELAY: Duration = Duration::from_secs(900);

/// Error codes worth retrying.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "RequestThrottled",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
];

/// One SQS queue.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    /// The queue at `url`.
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// Reads a message body the planner or a worker wrote.
    ///
    /// # Errors
    /// A body that is not a segment reference.
    pub fn parse(body: &str) -> Result<SegmentRef, serde_json::Error> {
        serde_json::from_str(body)
    }
}

/// An SQS failure, transient when SQS gave no answer (a timeout, a failed dispatch, an
/// unreadable response) or answered with one of [`RETRYABLE_CODES`].
fn sdk_error<E, R>(op: &'static str, err: SdkError<E, R>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let unanswered = matches!(
        err,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    );
    let transient = unanswered || err.code().is_some_and(|c| RETRYABLE_CODES.contains(&c));
    QueueError::new(op, transient, err)
}

#[async_trait]
impl SendQueue for SqsQueue {
    async fn enqueue(&self, refs: &[SegmentRef], delay: Duration) -> Result<(), QueueError> {
        let delay = i32::try_from(delay.min(MAX_DELAY).as_secs()).unwrap_or(0);
        for chunk in refs.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, r) in chunk.iter().enumerate() {
                let body = serde_json::to_string(r).map_err(|e| QueueError::Permanent {
                    op: "enqueue",
                    source: Box::new(e),
                })?;
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .delay_seconds(delay)
                    .message_group_id(r.brand_id.as_str())
                    .build()
                    .map_err(|e| QueueError::Permanent {
                        op: "enqueue",
                        source: Box::new(e),
                    })?;
                entries.push(entry);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error("enqueue", e))?;
            if let Some(failed) = out.failed().first() {
                let what = format!(
                    "{} of {} messages refused, first: {} {}",
                    out.failed().len(),
                    chunk.len(),
                    failed.code(),
                    failed.message().unwrap_or_default()
                );
                return Err(QueueError::new("enqueue", !failed.sender_fault(), what));
            }
        }
        Ok(())
    }
}
