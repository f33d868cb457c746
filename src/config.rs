//! Configuration read once from the environment at start (cold start on
//! Lambda, process start locally). CLI flags override what they name.

use std::path::PathBuf;
use std::time::Duration;

use crate::auth::LOCAL_DEVELOPMENT_SECRET;

mod aws;

pub use aws::{AwsSettings, RequiredAws};

/// The bus `ENGAGE_EVENT_BUS` names when unset: the account's default bus.
pub const DEFAULT_EVENT_BUS: &str = "default";

/// Settings every entry point shares.
#[derive(Debug, Clone)]
pub struct Config {
    /// HS256 secret of local bearer tokens (`ENGAGE_TOKEN_SECRET`).
    pub token_secret: String,
    /// HMAC secret of unsubscribe links (`ENGAGE_UNSUBSCRIBE_SECRET`).
    pub unsubscribe_secret: String,
    /// DynamoDB table name (`ENGAGE_TABLE`), for the AWS adapters.
    pub table_name: String,
    /// Policy folder to load instead of the bundled policies (`ENGAGE_POLICIES`).
    pub policies_dir: Option<PathBuf>,
    /// Largest accepted request body in bytes (`ENGAGE_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// The public base URL links in emails point to (`ENGAGE_PUBLIC_URL`);
    /// locally the server's own address.
    pub public_url: Option<String>,
    /// Campaign emails per second, the SES sending quota (`ENGAGE_SEND_RATE`); unpaced when absent.
    pub send_rate: Option<f64>,
    /// Sender address of campaign emails (`ENGAGE_FROM_ADDRESS`).
    pub from_address: Option<String>,
    /// SES configuration set for bounce and complaint events (`ENGAGE_SES_CONFIGURATION_SET`).
    pub ses_configuration_set: Option<String>,
    /// The EventBridge bus events are published to, a name or an ARN (`ENGAGE_EVENT_BUS`;
    /// the account's `default` bus when unset).
    pub event_bus: String,
    /// How sending is cut and shared (`ENGAGE_SEND_*`).
    pub send: SendSettings,
    /// Fraction of local outbox sends refused as transient failures, as SES
    /// throttling does (`ENGAGE_OUTBOX_TRANSIENT_FAILURES`, 0 to 1).
    pub outbox_transient_failures: f64,
    /// Region, credentials and endpoint of the AWS clients (`AWS_*`).
    pub aws: AwsSettings,
}

/// The mechanics of sending, read once with the rest of [`Config`].
#[derive(Debug, Clone, Default)]
pub struct SendSettings {
    /// The send queue of the planner and workers on AWS (`ENGAGE_SEND_QUEUE_URL`).
    pub queue_url: Option<String>,
    /// How many workers share `send_rate` (`ENGAGE_SEND_CONCURRENCY`, the worker
    /// function's maximum concurrency; 1 when absent).
    pub concurrency: u32,
    /// The share of `send_rate` left to sequences and contact emails
    /// (`ENGAGE_SEND_RATE_HEADROOM`, 0 to 1; 0.1 when absent).
    pub rate_headroom: f64,
    /// A worker's lease on a segment (`ENGAGE_SEND_LEASE_SECONDS`).
    pub lease: Option<Duration>,
    /// Followers per segment the planner aims at (`ENGAGE_SEND_SEGMENT_FOLLOWERS`).
    pub segment_followers: Option<u64>,
    /// Segments per campaign at most (`ENGAGE_SEND_MAX_SEGMENTS`).
    pub max_segments: Option<u32>,
    /// Time kept before the Lambda deadline (`ENGAGE_SEND_DEADLINE_MARGIN_SECONDS`).
    pub deadline_margin: Option<Duration>,
    /// The planner re-queues a segment whose last message is older than this
    /// (`ENGAGE_SEND_REQUEUE_SECONDS`; 900 when a queue URL is set).
    pub requeue_after: Option<Duration>,
}

/// Parses an optional variable with `parse`, naming it in the error.
fn parsed<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    parse: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Option<T>, ConfigError> {
    match lookup(name).filter(|s| !s.trim().is_empty()) {
        None => Ok(None),
        Some(v) => parse(v.trim()).map(Some).ok_or_else(|| ConfigError {
            name,
            reason: format!("{v:?} is not {expected}"),
        }),
    }
}

impl SendSettings {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let seconds = |v: &str| {
            v.parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
        };
        let queue_url = lookup("ENGAGE_SEND_QUEUE_URL").filter(|s| !s.is_empty());
        let requeue_after = parsed(
            lookup,
            "ENGAGE_SEND_REQUEUE_SECONDS",
            seconds,
            "a number of seconds",
        )?
        .or_else(|| queue_url.is_some().then(|| Duration::from_secs(900)));
        Ok(Self {
            concurrency: parsed(
                lookup,
                "ENGAGE_SEND_CONCURRENCY",
                |v| v.parse::<u32>().ok().filter(|n| *n > 0),
                "a positive whole number",
            )?
            .unwrap_or(1),
            rate_headroom: parsed(
                lookup,
                "ENGAGE_SEND_RATE_HEADROOM",
                |v| v.parse::<f64>().ok().filter(|f| (0.0..1.0).contains(f)),
                "a fraction from 0 to 1 (excluded)",
            )?
            .unwrap_or(0.1),
            lease: parsed(
                lookup,
                "ENGAGE_SEND_LEASE_SECONDS",
                seconds,
                "a number of seconds",
            )?,
            segment_followers: parsed(
                lookup,
                "ENGAGE_SEND_SEGMENT_FOLLOWERS",
                |v| v.parse::<u64>().ok().filter(|n| *n > 0),
                "a positive whole number",
            )?,
            max_segments: parsed(
                lookup,
                "ENGAGE_SEND_MAX_SEGMENTS",
                |v| v.parse::<u32>().ok().filter(|n| *n > 0),
                "a positive whole number",
            )?,
            deadline_margin: parsed(
                lookup,
                "ENGAGE_SEND_DEADLINE_MARGIN_SECONDS",
                seconds,
                "a number of seconds",
            )?,
            requeue_after,
            queue_url,
        })
    }
}

/// A setting that is present but unusable.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name} is invalid: {reason}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// Why it was refused.
    pub reason: String,
}

impl Config {
    /// Reads the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let max_body_bytes = match lookup("ENGAGE_MAX_BODY_BYTES") {
            None => 64 * 1024,
            Some(v) => v
                .parse()
                .map_err(|e: std::num::ParseIntError| ConfigError {
                    name: "ENGAGE_MAX_BODY_BYTES",
                    reason: e.to_string(),
                })?,
        };
        Ok(Self {
            token_secret: lookup("ENGAGE_TOKEN_SECRET")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| LOCAL_DEVELOPMENT_SECRET.to_owned()),
            unsubscribe_secret: lookup("ENGAGE_UNSUBSCRIBE_SECRET")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| crate::unsubscribe::LOCAL_UNSUBSCRIBE_SECRET.to_owned()),
            table_name: lookup("ENGAGE_TABLE").unwrap_or_else(|| "engage".to_owned()),
            policies_dir: lookup("ENGAGE_POLICIES").map(PathBuf::from),
            max_body_bytes,
            public_url: lookup("ENGAGE_PUBLIC_URL").filter(|s| !s.is_empty()),
            send_rate: match lookup("ENGAGE_SEND_RATE").filter(|s| !s.is_empty()) {
                None => None,
                Some(v) => Some(
                    v.parse::<f64>()
                        .ok()
                        .filter(|r| r.is_finite() && *r > 0.0)
                        .ok_or_else(|| ConfigError {
                            name: "ENGAGE_SEND_RATE",
                            reason: format!("{v:?} is not a positive number"),
                        })?,
                ),
            },
            from_address: lookup("ENGAGE_FROM_ADDRESS").filter(|s| !s.is_empty()),
            ses_configuration_set: lookup("ENGAGE_SES_CONFIGURATION_SET").filter(|s| !s.is_empty()),
            event_bus: lookup("ENGAGE_EVENT_BUS")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| DEFAULT_EVENT_BUS.to_owned()),
            send: SendSettings::from_lookup(&lookup)?,
            outbox_transient_failures: parsed(
                &lookup,
                "ENGAGE_OUTBOX_TRANSIENT_FAILURES",
                |v| v.parse::<f64>().ok().filter(|f| (0.0..=1.0).contains(f)),
                "a fraction from 0 to 1",
            )?
            .unwrap_or(0.0),
            aws: AwsSettings::from_lookup(&lookup),
        })
    }
}

/// A secret some entry points cannot run without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// `ENGAGE_TOKEN_SECRET`: signs and verifies bearer tokens.
    Token,
    /// `ENGAGE_UNSUBSCRIBE_SECRET`: signs and verifies unsubscribe links.
    Unsubscribe,
}

impl Secret {
    /// The environment variable holding it.
    pub fn variable(self) -> &'static str {
        match self {
            Self::Token => "ENGAGE_TOKEN_SECRET",
            Self::Unsubscribe => "ENGAGE_UNSUBSCRIBE_SECRET",
        }
    }
}

impl Config {
    /// Refuses to go on while any of `needed` is missing or is the public development
    /// secret (which anyone can read in this repository): what a deployed function or a
    /// server reachable from other hosts calls at start, instead of quietly signing with
    /// a known key.
    pub fn require_secrets(&self, needed: &[Secret]) -> Result<(), ConfigError> {
        for &secret in needed {
            let (value, public) = match secret {
                Secret::Token => (&self.token_secret, LOCAL_DEVELOPMENT_SECRET),
                Secret::Unsubscribe => (
                    &self.unsubscribe_secret,
                    crate::unsubscribe::LOCAL_UNSUBSCRIBE_SECRET,
                ),
            };
            if value.is_empty() || value == public {
                return Err(ConfigError {
                    name: secret.variable(),
                    reason: "it must be set to a secret of this deployment (without it the \
                             public development secret would sign)"
                        .into(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "config_test.rs"]
mod tests;
