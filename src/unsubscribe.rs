//! Unsubscribe tokens (R-MAIL-1): who unsubscribes from which brand, signed
//! with HMAC-SHA256 so a link cannot be forged or altered, and checked in
//! constant time. The token is the whole secret a one-click POST carries (no
//! cookie, no session), so it names the brand and the customer itself.
//!
//! Format: `base64url(json payload) "." base64url(hmac(secret, payload))`.
//! Tokens do not expire: an unsubscribe link must keep working for as long as
//! the email may be read (Gmail asks that it work for at least 60 days).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::domain::{BrandId, CustomerId};

/// The secret used when `ENGAGE_UNSUBSCRIBE_SECRET` is not set (local only).
pub const LOCAL_UNSUBSCRIBE_SECRET: &str = "engage-local-unsubscribe-key-not-for-production";

/// What an email's unsubscribe link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// A follower campaign of the brand (MYCE).
    Campaign,
    /// Automated buyer messages of the brand (review requests and the like).
    Message,
}

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The brand the customer leaves.
    #[serde(rename = "b")]
    pub brand_id: BrandId,
    /// The customer.
    #[serde(rename = "c")]
    pub customer_id: CustomerId,
    /// What the link was in.
    #[serde(rename = "s")]
    pub scope: Scope,
    /// When the link was made (seconds since the epoch).
    #[serde(rename = "i")]
    pub issued_at: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not two base64url parts, or not our payload.
    #[error("malformed unsubscribe token")]
    Malformed,
    /// The signature does not match.
    #[error("unsubscribe token signature does not match")]
    BadSignature,
}

/// Signs and verifies unsubscribe tokens.
#[derive(Clone)]
pub struct TokenSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(..)")
    }
}

impl TokenSigner {
    /// A signer over `secret`.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: secret.to_vec(),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable_mac())
    }

    /// A token for `claims`.
    pub fn sign(&self, claims: &Claims) -> String {
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut mac = self.mac();
        mac.update(&payload);
        let sig = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(sig)
        )
    }

    /// A token for (brand, customer, scope) issued at `at`.
    pub fn token(
        &self,
        brand: &BrandId,
        customer: &CustomerId,
        scope: Scope,
        at: DateTime<Utc>,
    ) -> String {
        self.sign(&Claims {
            brand_id: brand.clone(),
            customer_id: customer.clone(),
            scope,
            issued_at: at.timestamp(),
        })
    }

    /// The claims of a genuine token (signature compared in constant time).
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let (payload, sig) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&sig)
            .map_err(|_| TokenError::BadSignature)?;
        serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)
    }
}

#[cold]
fn unreachable_mac() -> Hmac<Sha256> {
    // `new_from_slice` never fails for HMAC (any key length is valid); this
    // infallible constructor only keeps library code free of panics.
    <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default())
}

/// The https link of a token: `{public_url}/v1/unsubscribe/{token}`.
pub fn link(public_url: &str, token: &str) -> String {
    format!(
        "{}/v1/unsubscribe/{token}",
        public_url.trim_end_matches('/')
    )
}

#[cfg(test)]
#[path = "unsubscribe_test.rs"]
mod tests;
