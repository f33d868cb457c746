//! Local fault injection (`ENGAGE_OUTBOX_TRANSIENT_FAILURES=F`): a mailer that
//! refuses a fraction of sends with a transient error, as SES throttling does,
//! so throttling can be tried black-box against the local outbox.

use std::sync::Arc;

use async_trait::async_trait;

use super::{MailError, Mailer, OutgoingEmail, SentMessage};

/// Refuses each send with probability `fraction` (transiently), else passes it on.
#[derive(Clone)]
pub struct FlakyMailer {
    inner: Arc<dyn Mailer>,
    fraction: f64,
}

impl std::fmt::Debug for FlakyMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlakyMailer")
            .field("fraction", &self.fraction)
            .finish_non_exhaustive()
    }
}

impl FlakyMailer {
    /// `inner`, refusing `fraction` (clamped to 0..=1) of the sends.
    pub fn new(inner: Arc<dyn Mailer>, fraction: f64) -> Self {
        Self {
            inner,
            fraction: if fraction.is_finite() {
                fraction.clamp(0.0, 1.0)
            } else {
                0.0
            },
        }
    }
}

#[async_trait]
impl Mailer for FlakyMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError> {
        if self.fraction > 0.0 && fastrand::f64() < self.fraction {
            return Err(MailError::Transient {
                message: format!(
                    "{}: refused by ENGAGE_OUTBOX_TRANSIENT_FAILURES (simulated throttling)",
                    email.message_id
                ),
                source: None,
            });
        }
        self.inner.send(email).await
    }
}
