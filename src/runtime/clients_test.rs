//! Unit tests of `src/runtime/clients.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// The moto server the integration tests use (`tests/run` sets it), plain `http://`; an
/// `https://` one works too when `SSL_CERT_FILE` names the CA that signed its certificate
/// (the platform's root store, as read by the HTTP client).
const ENDPOINT_VAR: &str = "ENGAGE_TEST_AWS_ENDPOINT";

/// A fixed region and credentials (none of the process's own), and `endpoint`.
fn settings(endpoint: Option<String>) -> AwsSettings {
    AwsSettings {
        region: Some("us-east-1".into()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        session_token: None,
        endpoint_url: endpoint,
    }
}

#[tokio::test]
async fn only_the_ses_client_has_the_ses_retries() {
    let clients = AwsClients::new(&settings(None)).unwrap();
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

/// Every client a function builds reaches its service through [`Https`] (rustls on
/// ring, HTTP/1.1; plain `http://` too): one call each to the endpoint of
/// `ENGAGE_TEST_AWS_ENDPOINT`, skipped without it.
#[tokio::test]
async fn every_client_answers_through_the_http_client() {
    let Ok(endpoint) = std::env::var(ENDPOINT_VAR) else {
        eprintln!("{ENDPOINT_VAR} not set: skipping the calls to the emulator");
        return;
    };
    let clients = AwsClients::new(&settings(Some(endpoint))).unwrap();
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

/// A function's region and credentials are the ones Lambda puts in its environment, the
/// session token included; without a region or a key it refuses to start, naming the
/// variable.
#[tokio::test]
async fn region_and_credentials_come_from_the_environment() {
    use aws_sdk_dynamodb::config::ProvideCredentials;
    let lambda = |name: &str| {
        let value = match name {
            "AWS_REGION" => "eu-west-3",
            "AWS_ACCESS_KEY_ID" => "ASIAROLE",
            "AWS_SECRET_ACCESS_KEY" => "role-secret",
            "AWS_SESSION_TOKEN" => "role-session",
            _ => return None,
        };
        Some(value.to_owned())
    };
    let config = Config::from_lookup(lambda).unwrap();
    let clients = AwsClients::new(&config.aws).unwrap();
    let dynamodb = clients.dynamodb();
    assert_eq!(dynamodb.config().region().unwrap().as_ref(), "eu-west-3");
    let provider = clients.config.credentials_provider().unwrap();
    let credentials = provider.provide_credentials().await.unwrap();
    assert_eq!(credentials.access_key_id(), "ASIAROLE");
    assert_eq!(credentials.secret_access_key(), "role-secret");
    assert_eq!(credentials.session_token(), Some("role-session"));
    assert!(!format!("{config:?}").contains("role-secret"));

    for missing in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        let config = Config::from_lookup(|name| lambda(name).filter(|_| name != missing));
        let error = AwsClients::new(&config.unwrap().aws).unwrap_err();
        assert_eq!(error.name, missing);
    }
}
