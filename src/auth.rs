//! Bearer tokens: the claims of CONTRACT.md, local HS256 signing and verification.
//!
//! On AWS the API Gateway JWT authorizer verifies tokens and the functions read
//! the claims it forwards; locally `engage serve` verifies the HS256 tokens that
//! `engage token` prints. Both sides agree on the key without any flag: a local
//! development key, overridable with `ENGAGE_TOKEN_SECRET`. Token expiry is
//! checked against the real clock, never the business clock (`--now`).

use std::collections::BTreeSet;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

mod hs256;

/// The signing key used when `ENGAGE_TOKEN_SECRET` is not set. Local only: on
/// AWS the API Gateway authorizer verifies tokens issued by the real issuer.
pub const LOCAL_DEVELOPMENT_SECRET: &str = "engage-local-development-key-not-for-production";

/// A caller's role, as carried in the `roles` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May submit and manage campaigns and contact reviewers for its brands.
    BrandRepresentative,
    /// May approve or reject campaigns.
    Moderator,
}

impl std::str::FromStr for Role {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "brand_representative" => Ok(Self::BrandRepresentative),
            "moderator" => Ok(Self::Moderator),
            other => Err(AuthError::UnknownRole(other.to_owned())),
        }
    }
}

/// The JWT claims engage reads (CONTRACT.md, "Identity").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// The selling account the user acts for.
    pub seller_id: String,
    /// The brands the user represents.
    #[serde(default)]
    pub brands: Vec<String>,
    /// The user's roles; unknown roles are ignored rather than rejected so a
    /// newer issuer does not lock callers out.
    #[serde(default, deserialize_with = "known_roles")]
    pub roles: Vec<Role>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
}

fn known_roles<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Role>, D::Error> {
    let raw: Vec<String> = Vec::deserialize(d)?;
    Ok(raw.iter().filter_map(|r| r.parse().ok()).collect())
}

/// Who is calling, once the token is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user (`sub`).
    pub user: String,
    /// The caller's selling account (`sellerId`).
    pub seller_id: String,
    /// The brands the caller represents.
    pub brands: BTreeSet<String>,
    /// The caller's roles.
    pub roles: BTreeSet<Role>,
}

impl Caller {
    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the caller represents `brand_id`. Anything else must look
    /// absent to the caller (a 404, never a 403).
    pub fn represents(&self, brand_id: &str) -> bool {
        self.brands.contains(brand_id)
    }
}

impl From<Claims> for Caller {
    fn from(c: Claims) -> Self {
        Self {
            user: c.sub,
            seller_id: c.seller_id,
            brands: c.brands.into_iter().collect(),
            roles: c.roles.into_iter().collect(),
        }
    }
}

impl Caller {
    /// The caller from the claims an API Gateway HTTP API JWT authorizer
    /// forwards (`requestContext.authorizer.jwt.claims`). The authorizer
    /// flattens every claim to a string: arrays arrive as `[a b]` (or as JSON
    /// text, depending on the issuer), so both forms are read.
    pub fn from_authorizer_claims(
        claims: &std::collections::HashMap<String, String>,
    ) -> Result<Self, AuthError> {
        let get = |k: &str| claims.get(k).map(String::as_str).unwrap_or_default();
        let sub = get("sub");
        if sub.is_empty() {
            return Err(AuthError::MissingClaim("sub"));
        }
        Ok(Self {
            user: sub.to_owned(),
            seller_id: get("sellerId").to_owned(),
            brands: claim_list(get("brands")).into_iter().collect(),
            roles: claim_list(get("roles"))
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect(),
        })
    }
}

/// Reads a list claim flattened to text: `["a","b"]`, `[a b]`, `[a, b]` or `a`.
fn claim_list(raw: &str) -> Vec<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Vec::new();
    }
    if let Ok(list) = serde_json::from_str::<Vec<String>>(raw) {
        return list;
    }
    raw.trim_start_matches('[')
        .trim_end_matches(']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|s| s.trim_matches('"'))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Why a token was refused or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// The token is malformed, badly signed or expired.
    #[error("invalid token: {0}")]
    Invalid(#[source] jsonwebtoken::errors::Error),
    /// A claim the caller cannot be identified without.
    #[error("the token has no {0} claim")]
    MissingClaim(&'static str),
    /// A role name engage does not know.
    #[error("unknown role {0:?}: expected brand_representative or moderator")]
    UnknownRole(String),
}

/// Signs and verifies local HS256 tokens with one shared secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Keys from a shared secret.
    pub fn from_secret(secret: &[u8]) -> Self {
        hs256::install();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs `claims`.
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(AuthError::Invalid)
    }

    /// Verifies a token (signature and expiry against the real clock).
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims.into())
            .map_err(AuthError::Invalid)
    }

    /// Verifies the value of an `Authorization` header.
    pub fn verify_header(&self, header: Option<&str>) -> Result<Caller, AuthError> {
        let value = header.ok_or(AuthError::Missing)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(AuthError::Missing)?;
        self.verify(token.trim())
    }
}

/// Claims for a new local token valid for `ttl` from the real clock's now.
pub fn new_claims(
    sub: &str,
    seller_id: &str,
    brands: Vec<String>,
    roles: Vec<Role>,
    ttl: chrono::Duration,
) -> Claims {
    let iat = chrono::Utc::now().timestamp();
    Claims {
        sub: sub.to_owned(),
        seller_id: seller_id.to_owned(),
        brands,
        roles,
        exp: iat + ttl.num_seconds(),
        iat,
    }
}

#[cfg(test)]
#[path = "auth_test.rs"]
mod tests;
