//! Unit tests of `src/runtime/https.rs`: the SDK's calls over it, against local servers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::client::result::{DispatchFailure, SdkError};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

const CA: &[u8] = include_bytes!("../../tests/fixtures/tls/ca.pem");
const CERT: &[u8] = include_bytes!("../../tests/fixtures/tls/localhost.pem");
const KEY: &[u8] = include_bytes!("../../tests/fixtures/tls/localhost.key");

/// What DynamoDB answers to `ListTables` on an account without tables.
const LIST_TABLES: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
     content-length: 17\r\n\r\n{\"TableNames\":[]}";

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration that trusts the test CA only.
fn trusting_the_test_ca() -> ClientConfig {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(CA).unwrap())
        .unwrap();
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// A DynamoDB client on `endpoint` through `http`, without retries unless told (most tests
/// make one attempt and look at how it ended).
fn dynamodb(
    http: SharedHttpClient,
    endpoint: &str,
    timeouts: TimeoutConfig,
) -> aws_sdk_dynamodb::Client {
    dynamodb_retrying(http, endpoint, timeouts, RetryConfig::disabled())
}

fn dynamodb_retrying(
    http: SharedHttpClient,
    endpoint: &str,
    timeouts: TimeoutConfig,
    retries: RetryConfig,
) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .http_client(http)
        .endpoint_url(endpoint)
        .retry_config(retries)
        .timeout_config(timeouts)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A listener on a free local port, and the port.
async fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// A TLS acceptor with the test certificate for `localhost`, offering `alpn`.
fn acceptor(alpn: Vec<Vec<u8>>) -> tokio_rustls::TlsAcceptor {
    let cert = CertificateDer::from_pem_slice(CERT).unwrap();
    let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    config.alpn_protocols = alpn;
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// One `ListTables` through `http` to `endpoint`, which must fail before any answer: how.
async fn failed_call(
    http: SharedHttpClient,
    endpoint: &str,
    timeouts: TimeoutConfig,
) -> DispatchFailure {
    let error = dynamodb(http, endpoint, timeouts)
        .list_tables()
        .send()
        .await
        .unwrap_err();
    match error {
        SdkError::DispatchFailure(failure) => failure,
        other => panic!("not a dispatch failure: {other:?}"),
    }
}

fn read_timeout(limit: Duration) -> TimeoutConfig {
    TimeoutConfig::builder().read_timeout(limit).build()
}

/// One TLS connection on `listener`, HTTP/2 offered first: answers one request with
/// `answer` and returns the protocol the client agreed to and the request's head.
async fn serve_one_tls(listener: TcpListener, answer: &'static str) -> (Option<Vec<u8>>, String) {
    let acceptor = acceptor(vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    let (tcp, _) = listener.accept().await.unwrap();
    let mut tls = acceptor.accept(tcp).await.unwrap();
    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let head = read_request(&mut tls).await;
    tls.write_all(answer.as_bytes()).await.unwrap();
    tls.flush().await.unwrap();
    (alpn, head)
}

/// Reads one request (head and `content-length` body) and returns its head.
async fn read_request(stream: &mut (impl AsyncReadExt + Unpin)) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.unwrap();
        assert_ne!(read, 0, "the client closed before its request ended");
        received.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_owned();
            let length = head
                .lines()
                .find_map(|line| {
                    let line = line.to_ascii_lowercase();
                    let value = line.strip_prefix("content-length:")?;
                    Some(value.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return head;
            }
        }
    }
}

#[tokio::test]
async fn https_endpoints_answer_over_http_1_1_with_a_verified_certificate() {
    let (listener, port) = listen().await;
    let server = tokio::spawn(serve_one_tls(listener, LIST_TABLES));
    let client = dynamodb(
        Https::with_tls(trusting_the_test_ca()),
        &format!("https://localhost:{port}"),
        read_timeout(Duration::from_secs(10)),
    );
    let tables = client.list_tables().send().await.unwrap();
    assert_eq!(tables.table_names(), &[] as &[String]);
    let (alpn, head) = server.await.unwrap();
    // The server prefers HTTP/2: the client never agrees to it (it offers no ALPN).
    assert_ne!(alpn.as_deref(), Some(&b"h2"[..]));
    assert!(head.starts_with("POST / HTTP/1.1"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("x-amz-target: dynamodb_20120810.listtables"),
        "{head}"
    );
}

#[tokio::test]
async fn a_certificate_the_roots_do_not_vouch_for_is_refused() {
    let (listener, port) = listen().await;
    // The server's handshake fails when the client aborts it.
    let _server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let _ = acceptor(Vec::new()).accept(tcp).await;
    });
    // An empty root store: the test CA is not among them, as it is among no platform's.
    let nobody = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(RootCertStore::empty())
        .with_no_client_auth();
    let failure = failed_call(
        Https::with_tls(nobody),
        &format!("https://localhost:{port}"),
        read_timeout(Duration::from_secs(10)),
    )
    .await;
    let text = format!("{:?}", failure.as_connector_error());
    assert!(text.contains("UnknownIssuer"), "{text}");
}

/// A server that accepts and never answers: the read timeout ends the call as a timeout,
/// which the SDK's standard retry strategy retries.
#[tokio::test]
async fn no_answer_within_the_read_timeout_is_a_timeout() {
    let (listener, port) = listen().await;
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        read_request(&mut tcp).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let endpoint = format!("http://127.0.0.1:{port}");
    let failure = failed_call(
        Https::shared(),
        &endpoint,
        read_timeout(Duration::from_millis(300)),
    )
    .await;
    assert!(failure.is_timeout(), "{failure:?}");
    server.abort();
}

/// Nothing listening: an I/O failure, which the SDK's standard retry strategy retries.
#[tokio::test]
async fn a_refused_connection_is_an_io_failure() {
    let port = listen().await.1;
    let endpoint = format!("http://127.0.0.1:{port}");
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .build();
    let failure = failed_call(Https::shared(), &endpoint, timeouts).await;
    assert!(failure.is_io(), "{failure:?}");
}

/// A connection closed after the request, before any answer: transient too (the request
/// may be retried: every engage write is conditional).
#[tokio::test]
async fn a_connection_closed_before_the_answer_is_transient() {
    let (listener, port) = listen().await;
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        read_request(&mut tcp).await;
        drop(tcp);
    });
    let endpoint = format!("http://127.0.0.1:{port}");
    let failure = failed_call(
        Https::shared(),
        &endpoint,
        read_timeout(Duration::from_secs(10)),
    )
    .await;
    let transient = failure.is_io() || failure.as_other() == Some(ErrorKind::TransientError);
    assert!(transient, "{failure:?}");
    server.await.unwrap();
}

/// With the standard retry strategy (the functions' configuration), a connection dropped
/// before the answer is retried on a new connection and the call succeeds.
#[tokio::test]
async fn the_sdk_retries_a_dropped_connection_through_the_client() {
    let (listener, port) = listen().await;
    let server = tokio::spawn(async move {
        let (mut first, _) = listener.accept().await.unwrap();
        read_request(&mut first).await;
        drop(first);
        let (mut second, _) = listener.accept().await.unwrap();
        read_request(&mut second).await;
        second.write_all(LIST_TABLES.as_bytes()).await.unwrap();
        second.flush().await.unwrap();
    });
    let client = dynamodb_retrying(
        Https::shared(),
        &format!("http://127.0.0.1:{port}"),
        read_timeout(Duration::from_secs(10)),
        RetryConfig::standard(),
    );
    let tables = client.list_tables().send().await.unwrap();
    assert_eq!(tables.table_names(), &[] as &[String]);
    server.await.unwrap();
}
