//! Unit tests of `src/runtime/clients.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_config::Region;
use aws_config::retry::RetryConfig;
use aws_sdk_dynamodb::config::Credentials;

use super::*;

/// The moto server the integration tests use (`tests/run` sets it), plain `http://`; an
/// `https://` one works too when `SSL_CERT_FILE` names the CA that signed its certificate
/// (the platform's root store, as read by the HTTP client).
const ENDPOINT_VAR: &str = "ENGAGE_TEST_AWS_ENDPOINT";

/// [`loader`] with a fixed region and credentials (none of the process's own).
fn test_loader() -> ConfigLoader {
    loader()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
}

#[tokio::test]
async fn only_the_ses_client_has_the_ses_retries() {
    let clients = AwsClients::from_loader(test_loader()).await;
    let ses = clients.ses();
    assert_eq!(
        ses.config().retry_config(),
        Some(&SesMailer::retry_config())
    );
    let standard = Some(RetryConfig::standard());
    assert_eq!(
        clients.dynamodb().config().retry_config(),
        standard.as_ref()
    );
    assert_eq!(clients.sqs().config().retry_config(), standard.as_ref());
    assert_eq!(
        clients.eventbridge().config().retry_config(),
        standard.as_ref()
    );
}

/// Every client a function builds reaches its service through [`https_client`] (rustls on
/// ring; plain `http://` too): one call each to the endpoint of `ENGAGE_TEST_AWS_ENDPOINT`,
/// skipped without it.
#[tokio::test]
async fn every_client_answers_through_the_http_client() {
    let Ok(endpoint) = std::env::var(ENDPOINT_VAR) else {
        eprintln!("{ENDPOINT_VAR} not set: skipping the calls to the emulator");
        return;
    };
    let clients = AwsClients::from_loader(test_loader().endpoint_url(endpoint)).await;
    clients.dynamodb().list_tables().send().await.unwrap();
    clients.sqs().list_queues().send().await.unwrap();
    let identity = clients.ses().create_email_identity();
    let identity = identity.email_identity("clients-test@example.test");
    identity.send().await.unwrap();
    clients
        .eventbridge()
        .list_event_buses()
        .send()
        .await
        .unwrap();
}

/// A function's credentials are the ones Lambda puts in its environment (the test
/// command sets `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`); skipped without them.
#[tokio::test]
async fn credentials_come_from_the_environment() {
    use aws_sdk_dynamodb::config::ProvideCredentials;
    let (Ok(id), Ok(secret)) = (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) else {
        eprintln!("no credentials in the environment: skipping");
        return;
    };
    let clients = AwsClients::load().await;
    let provider = clients.config.credentials_provider().unwrap();
    let credentials = provider.provide_credentials().await.unwrap();
    assert_eq!(credentials.access_key_id(), id);
    assert_eq!(credentials.secret_access_key(), secret);
}
