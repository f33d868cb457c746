//! How the two EventBridge consumers (marketplace events, SES events) answer a
//! delivery they could not apply.

use crate::jobs::events::error_chain;

/// Why one delivered event was not applied.
pub trait DeliveryError: std::error::Error {
    /// Whether delivering the same event again may succeed.
    fn is_retryable(&self) -> bool;
    /// The id of the event concerned (empty when unknown).
    fn event_id(&self) -> &str;
}

/// The answer to a delivery that failed with `e`. A failure a redelivery may fix (a
/// throttled or unavailable store) stays an `Err`, so Lambda's asynchronous retries and
/// then the dead-letter queue take over. Any other is logged and acknowledged as
/// `rejected(id, reason)`: retrying an event that can never succeed would only loop until
/// the retry budget is spent and bury real failures in the dead-letter queue.
pub fn answer<T, E: DeliveryError>(
    what: &str,
    e: E,
    rejected: impl FnOnce(String, String) -> T,
) -> Result<T, E> {
    let reason = error_chain(&e);
    if e.is_retryable() {
        tracing::warn!(event_id = e.event_id(), error = %reason, "{what} failed, will be retried");
        return Err(e);
    }
    tracing::error!(event_id = e.event_id(), error = %reason, "{what} rejected");
    Ok(rejected(e.event_id().to_owned(), reason))
}
