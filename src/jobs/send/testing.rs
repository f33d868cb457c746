//! Mailers for tests and benchmarks: one that drops every message and one
//! that keeps what it was given.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::mail::{MailError, Mailer, OutgoingEmail, SentMessage};

/// Accepts every message and keeps nothing (benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct NullMailer;

#[async_trait]
impl Mailer for NullMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError> {
        Ok(SentMessage {
            message_id: email.message_id.clone(),
            provider_id: String::new(),
        })
    }
}

/// Accepts every message (after validating it like a real adapter) and keeps it.
/// Clones keep into the same list: one goes into an [`crate::app::App`], another reads.
#[derive(Debug, Clone, Default)]
pub struct RecordingMailer {
    sent: Arc<Mutex<Vec<OutgoingEmail>>>,
}

impl RecordingMailer {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message accepted so far, in order.
    pub fn sent(&self) -> Vec<OutgoingEmail> {
        self.sent.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError> {
        email.validate()?;
        if let Ok(mut v) = self.sent.lock() {
            v.push(email.clone());
        }
        Ok(SentMessage {
            message_id: email.message_id.clone(),
            provider_id: format!("memory-{}", email.message_id),
        })
    }
}
