//! The AWS SDK's HTTP client: HTTP/1.1 over rustls on *ring*, with the platform's root
//! certificates, plain `http://` endpoints too (the emulator of the tests, a local one).
//!
//! Not the SDK's own client (`aws-smithy-http-client`): it always builds HTTP/2 besides
//! HTTP/1.1, and h2 with hyper's HTTP/2 client were about 0.44 MiB of every function's
//! code (`nm`), more than any other part a function could do without. DynamoDB, SES v2,
//! SQS and EventBridge all answer HTTP/1.1, and their calls are small request/response
//! exchanges that HTTP/2's multiplexing does not speed up. What that client does on its
//! HTTP/1.1 path is done here the same way: hyper-util's pooled client, `TCP_NODELAY`,
//! the connect and read timeouts of the SDK's settings, and the same classification of
//! failures, so that the SDK's retry strategy retries a timeout, a refused or reset
//! connection, or a response cut short, and nothing else. Not done: HTTP proxies (`HTTPS_PROXY`); a function reaches
//! AWS through its VPC's endpoints or a NAT gateway, not a proxy.

use std::error::Error as StdError;
use std::io;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::ClientConfig;

/// The connect and read timeouts of one [`HttpConnectorSettings`].
type Timeouts = (Option<Duration>, Option<Duration>);

/// The SDK's HTTP client. One connection pool per distinct pair of timeouts, built on
/// first use and kept: the SDK asks for a connector on every attempt.
#[derive(Debug)]
pub struct Https {
    /// `None`: rustls on ring with the platform's roots, read when the first pool is built
    /// (from `SSL_CERT_FILE` when set). `Some`: exactly this TLS configuration.
    tls: Option<ClientConfig>,
    pools: Mutex<Vec<(Timeouts, SharedHttpConnector)>>,
}

impl Https {
    /// The client every function's SDK configuration uses.
    pub fn shared() -> SharedHttpClient {
        Self::over(None)
    }

    /// A client that trusts what `tls` trusts, and nothing of the platform's.
    pub fn with_tls(tls: ClientConfig) -> SharedHttpClient {
        Self::over(Some(tls))
    }

    fn over(tls: Option<ClientConfig>) -> SharedHttpClient {
        SharedHttpClient::new(Self {
            tls,
            pools: Mutex::default(),
        })
    }

    fn pool(&self, (connect, read): Timeouts) -> SharedHttpConnector {
        let tls = match &self.tls {
            Some(tls) => Ok(HttpsConnectorBuilder::new().with_tls_config(tls.clone())),
            None => HttpsConnectorBuilder::new()
                .with_provider_and_native_roots(rustls::crypto::ring::default_provider()),
        };
        let tls = match tls {
            Ok(tls) => tls,
            Err(error) => return SharedHttpConnector::new(NoRoots(error.to_string())),
        };
        let mut tcp = TcpConnector::new();
        // The TLS layer wraps it, so it must accept `https://` addresses too.
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(connect);
        let https = tls.https_or_http().enable_http1().wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            // Without a timer, idle pooled connections are never expired.
            .pool_timer(TokioTimer::new())
            .build(https);
        SharedHttpConnector::new(Pool {
            client,
            read_timeout: read,
        })
    }
}

impl HttpClient for Https {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let timeouts = (settings.connect_timeout(), settings.read_timeout());
        // A panic while holding the lock cannot leave the list half-written.
        let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, pool)) = pools.iter().find(|(key, _)| *key == timeouts) {
            return pool.clone();
        }
        let pool = self.pool(timeouts);
        pools.push((timeouts, pool.clone()));
        pool
    }
}

/// One connection pool and the read timeout of its settings.
#[derive(Debug, Clone)]
struct Pool {
    client: Client<HttpsConnector<TcpConnector>, SdkBody>,
    /// From the request's start to the response's head, as the SDK's own client counts it.
    read_timeout: Option<Duration>,
}

impl HttpConnector for Pool {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(error) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::user(error.into())));
            }
        };
        let response = self.client.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let response = match read_timeout {
                Some(limit) => match tokio::time::timeout(limit, response).await {
                    Ok(response) => response,
                    Err(elapsed) => return Err(ConnectorError::timeout(elapsed.into())),
                },
                None => response.await,
            };
            match response {
                Ok(response) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|error| ConnectorError::other(error.into(), None)),
                Err(error) => Err(classify(error)),
            }
        })
    }
}

/// What the SDK's retry strategy should make of a failed exchange: the classification of
/// the SDK's own client, for HTTP/1.1.
fn classify(error: hyper_util::client::legacy::Error) -> ConnectorError {
    let timed_out = chain(&error).any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
            || cause
                .downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_timeout)
    });
    if timed_out {
        return ConnectorError::timeout(error.into());
    }
    let hyper = chain(&error).find_map(|cause| cause.downcast_ref::<hyper::Error>());
    let io = chain(&error).any(|cause| cause.is::<io::Error>());
    match hyper {
        Some(hyper) if hyper.is_user() => ConnectorError::user(error.into()),
        Some(hyper) if hyper.is_closed() || hyper.is_canceled() || io => {
            ConnectorError::io(error.into())
        }
        Some(hyper) if hyper.is_incomplete_message() => {
            ConnectorError::other(error.into(), Some(ErrorKind::TransientError))
        }
        _ if error.is_connect() || io => ConnectorError::io(error.into()),
        _ => ConnectorError::other(error.into(), None),
    }
}

/// `error` and its sources, an `io::Error`'s payload included (its `source()` skips it).
fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&error| {
        match error.downcast_ref::<io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|payload| payload as &(dyn StdError + 'static)),
            None => error.source(),
        }
    })
}

/// The connector of a client that found no root certificate: every call fails, naming why.
#[derive(Debug)]
struct NoRoots(String);

impl HttpConnector for NoRoots {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        let error = format!("no TLS root certificates: {}", self.0);
        HttpConnectorFuture::ready(Err(ConnectorError::other(error.into(), None)))
    }
}

#[cfg(test)]
#[path = "https_test.rs"]
mod tests;
