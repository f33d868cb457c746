//! The AWS settings Lambda puts in a function's environment.

use super::ConfigError;

/// Region, credentials and endpoint of the AWS clients, as Lambda sets them
/// (`AWS_REGION`, and the execution role's `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
/// and `AWS_SESSION_TOKEN`), plus the SDKs' own `AWS_ENDPOINT_URL` override (LocalStack,
/// moto). Optional here: only a function refuses to start without them
/// ([`AwsSettings::require`]); `engage serve` never reads them.
#[derive(Clone, Default)]
pub struct AwsSettings {
    /// `AWS_REGION` (else `AWS_DEFAULT_REGION`).
    pub region: Option<String>,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
    /// `AWS_SESSION_TOKEN`: set for a role's temporary credentials, as on Lambda.
    pub session_token: Option<String>,
    /// `AWS_ENDPOINT_URL`: every client's endpoint instead of the AWS one.
    pub endpoint_url: Option<String>,
}

/// What a function's clients are built from, every part present.
#[derive(Clone, Copy)]
pub struct RequiredAws<'a> {
    /// The region.
    pub region: &'a str,
    /// The access key id.
    pub access_key_id: &'a str,
    /// The secret access key.
    pub secret_access_key: &'a str,
    /// The session token, if any.
    pub session_token: Option<&'a str>,
    /// The endpoint override, if any.
    pub endpoint_url: Option<&'a str>,
}

impl std::fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials never reach a log line.
        f.debug_struct("AwsSettings")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("endpoint_url", &self.endpoint_url)
            .finish_non_exhaustive()
    }
}

impl AwsSettings {
    /// Reads the variables through `lookup`; empty ones count as unset.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Self {
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            access_key_id: var("AWS_ACCESS_KEY_ID"),
            secret_access_key: var("AWS_SECRET_ACCESS_KEY"),
            session_token: var("AWS_SESSION_TOKEN"),
            endpoint_url: var("AWS_ENDPOINT_URL"),
        }
    }

    /// Every part a client needs, or the first variable that is missing.
    ///
    /// # Errors
    /// No region, or no access key id or secret access key.
    pub fn require(&self) -> Result<RequiredAws<'_>, ConfigError> {
        let missing = |name: &'static str| ConfigError {
            name,
            reason: "it is not set: Lambda sets it for every function (the region, and the \
                     execution role's credentials)"
                .into(),
        };
        Ok(RequiredAws {
            region: self
                .region
                .as_deref()
                .ok_or_else(|| missing("AWS_REGION"))?,
            access_key_id: (self.access_key_id.as_deref())
                .ok_or_else(|| missing("AWS_ACCESS_KEY_ID"))?,
            secret_access_key: (self.secret_access_key.as_deref())
                .ok_or_else(|| missing("AWS_SECRET_ACCESS_KEY"))?,
            session_token: self.session_token.as_deref(),
            endpoint_url: self.endpoint_url.as_deref(),
        })
    }
}
