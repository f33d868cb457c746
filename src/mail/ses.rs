//! The SES v2 adapter: `SendEmail` with raw content, the bytes of [`build_mime`].
//!
//! # Retries
//!
//! There is no retry loop here. The SDK's *standard* retry mode already retries throttling
//! errors (`TooManyRequestsException`, `LimitExceededException`, `Throttling`), 5xx answers,
//! timeouts and connection failures with exponential backoff and jitter. Configure it where
//! the client is built, once, at cold start:
//!
//! ```no_run
//! # fn f(sdk_config: &aws_types::SdkConfig) {
//! use engage::mail::SesMailer;
//!
//! let ses = aws_sdk_sesv2::config::Builder::from(sdk_config)
//!     .retry_config(SesMailer::retry_config())
//!     .build();
//! let mailer = SesMailer::new(aws_sdk_sesv2::Client::from_conf(ses))
//!     .with_configuration_set("engage-events");
//! # }
//! ```
//!
//! (`engage::runtime::AwsClients::mailer` is this, on a function's configuration.)
//!
//! What still fails after the SDK gave up is mapped to [`MailError::Transient`] (the caller
//! may try again on a later run) or [`MailError::Permanent`] (the recipient counts as failed,
//! never as sent).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

use super::{MailError, Mailer, OutgoingEmail, SentMessage, build_mime};

/// Attempts per `SendEmail` call (the first plus retries) in [`SesMailer::retry_config`].
pub const SES_MAX_ATTEMPTS: u32 = 5;

/// Error codes that mean "slow down / try again later" when the SDK did not model them.
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "LimitExceededException",
    "SendingPausedException",
    "RequestTimeout",
    "RequestTimeoutException",
    "ServiceUnavailable",
    "InternalFailure",
];

/// Sends through SES v2 with raw MIME content.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// An adapter over a client built once by the caller (see the module docs for retries).
    pub fn new(client: Client) -> Self {
        Self {
            client,
            configuration_set: None,
        }
    }

    /// Sends with this configuration set (bounce and complaint events, R-MAIL-3).
    pub fn with_configuration_set(mut self, name: impl Into<String>) -> Self {
        self.configuration_set = Some(name.into());
        self
    }

    /// The retry configuration to build the SES client with: standard mode (exponential
    /// backoff with jitter on throttling, 5xx and timeouts), [`SES_MAX_ATTEMPTS`] attempts,
    /// backoff from 200 ms up to 10 s.
    pub fn retry_config() -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(SES_MAX_ATTEMPTS)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(10))
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError> {
        let bytes = build_mime(email)?;
        let raw = RawMessage::builder()
            .data(Blob::new(bytes))
            .build()
            .map_err(|e| MailError::permanent("could not build the ses raw message", e))?;
        let output = self
            .client
            .send_email()
            .from_email_address(email.from.address.as_str())
            .destination(
                Destination::builder()
                    .to_addresses(email.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(classify)?;
        Ok(SentMessage {
            message_id: email.message_id.clone(),
            provider_id: output.message_id().unwrap_or_default().to_owned(),
        })
    }
}

/// Maps what the SDK returned (after its own retries) to transient or permanent.
pub fn classify<R>(err: SdkError<SendEmailError, R>) -> MailError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let message = match (err.code(), err.message()) {
        (Some(code), Some(text)) => format!("{code}: {text}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(&err).to_string(),
    };
    let transient = match &err {
        SdkError::ServiceError(ctx) => match ctx.err() {
            SendEmailError::TooManyRequestsException(_)
            | SendEmailError::LimitExceededException(_)
            | SendEmailError::SendingPausedException(_) => true,
            SendEmailError::MessageRejected(_)
            | SendEmailError::MailFromDomainNotVerifiedException(_)
            | SendEmailError::BadRequestException(_)
            | SendEmailError::AccountSuspendedException(_)
            | SendEmailError::NotFoundException(_) => false,
            other => other.code().is_some_and(|c| TRANSIENT_CODES.contains(&c)),
        },
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ConstructionFailure(_) => false,
        _ => true,
    } || server_status(&err).is_some_and(|s| s >= 500 || s == 429);
    if transient {
        MailError::transient(format!("ses send failed: {message}"), err)
    } else {
        MailError::permanent(format!("ses rejected the message: {message}"), err)
    }
}

/// The HTTP status of a service error, if the raw response is an HTTP response.
fn server_status<R: 'static>(err: &SdkError<SendEmailError, R>) -> Option<u16> {
    let raw = err.raw_response()?;
    let any: &dyn std::any::Any = raw;
    any.downcast_ref::<aws_sdk_sesv2::config::http::HttpResponse>()
        .map(|r| r.status().as_u16())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use aws_sdk_sesv2::error::ErrorMetadata;
    use aws_sdk_sesv2::types::error::{
        MailFromDomainNotVerifiedException, MessageRejected, TooManyRequestsException,
    };

    use super::*;

    fn service(e: SendEmailError) -> MailError {
        classify(SdkError::<SendEmailError, ()>::service_error(e, ()))
    }

    #[test]
    fn throttling_timeouts_and_server_errors_are_transient() {
        let e = service(SendEmailError::TooManyRequestsException(
            TooManyRequestsException::builder()
                .message("slow down")
                .build(),
        ));
        assert!(e.is_retryable(), "{e}");
        let e = service(SendEmailError::generic(
            ErrorMetadata::builder().code("Throttling").build(),
        ));
        assert!(e.is_retryable(), "{e}");
        let e = service(SendEmailError::generic(
            ErrorMetadata::builder().code("InternalFailure").build(),
        ));
        assert!(e.is_retryable(), "{e}");
        let e = classify(SdkError::<SendEmailError, ()>::timeout_error("timed out"));
        assert!(e.is_retryable(), "{e}");
    }

    #[test]
    fn rejections_are_permanent_and_keep_their_source() {
        let e = service(SendEmailError::MessageRejected(
            MessageRejected::builder()
                .message("address blacklisted")
                .build(),
        ));
        assert!(matches!(e, MailError::Permanent { .. }), "{e}");
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.to_string().contains("address blacklisted"), "{e}");
        let e = service(SendEmailError::MailFromDomainNotVerifiedException(
            MailFromDomainNotVerifiedException::builder().build(),
        ));
        assert!(matches!(e, MailError::Permanent { .. }), "{e}");
        let e = service(SendEmailError::generic(
            ErrorMetadata::builder().code("SomethingNew").build(),
        ));
        assert!(matches!(e, MailError::Permanent { .. }), "{e}");
    }
}
