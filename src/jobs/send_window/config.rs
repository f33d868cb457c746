//! [`SendOptions`] from the process configuration.

use std::time::Duration;

use super::{DEFAULT_FROM_ADDRESS, SendOptions};
use crate::config::Config;

impl SendOptions {
    /// Options from `config` (`ENGAGE_SEND_RATE`, `ENGAGE_FROM_ADDRESS`,
    /// `ENGAGE_SEND_LEASE_SECONDS`), defaults elsewhere.
    pub fn from_config(config: &Config) -> Self {
        let mut o = Self {
            rate_per_second: config.send_rate,
            from_address: config
                .from_address
                .clone()
                .unwrap_or_else(|| DEFAULT_FROM_ADDRESS.to_owned()),
            ..Self::default()
        };
        if let Some(s) = config.send_lease_seconds {
            o.lease = Duration::from_secs(s.max(1));
        }
        o
    }
}
