//! One-click unsubscribe (R-MAIL-1, R-MAIL-2): the link's token names the brand,
//! the customer and the kind of email ([`Scope`]); a genuine token suppresses the
//! customer for that brand at once, with no login, cookie or session.
//!
//! The suppression carries the link's scope (`scopes` of
//! [`Suppression`]): `campaign` or `message`. Either way the customer gets no more
//! campaigns (the follower's `suppressed` flag) and no more review requests from
//! the brand; service buyer messages (`return_received`) still go. Repeats are
//! idempotent ([`Suppression::combine`]: nothing new is written, the follower flag
//! is re-applied). A token that does not verify is "not found", never more.

use crate::domain::suppression::{Suppression, SuppressionReason, SuppressionScope};
use crate::store::UpsertOutcome;
use crate::unsubscribe::{Claims, Scope};

use super::{App, AppError};

/// Longest token accepted (a genuine one is about 120 characters).
const MAX_TOKEN_LEN: usize = 1024;

/// What an unsubscribe page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeView {
    /// The brand's display name (its id when the profile is unknown).
    pub brand_name: String,
    /// The kind of email the link was in.
    pub scope: Scope,
}

/// What a one-click unsubscribe did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribed {
    /// What the confirmation shows.
    pub view: UnsubscribeView,
    /// Whether this request changed the stored suppression (false for a repeat).
    pub changed: bool,
}

/// The suppression scope of a link scope.
pub fn suppression_scope(scope: Scope) -> SuppressionScope {
    match scope {
        Scope::Campaign => SuppressionScope::Campaign,
        Scope::Message => SuppressionScope::Message,
    }
}

fn verify(app: &App, token: &str) -> Result<Claims, AppError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(AppError::NotFound("unsubscribe link".to_owned()));
    }
    app.unsubscribe.verify(token).map_err(|e| {
        tracing::info!(error = %e, "unsubscribe token refused");
        AppError::NotFound("unsubscribe link".to_owned())
    })
}

async fn view(app: &App, claims: &Claims) -> Result<UnsubscribeView, AppError> {
    let brand = app.store.get_brand(&claims.brand_id).await?;
    Ok(UnsubscribeView {
        brand_name: brand.map_or_else(|| claims.brand_id.to_string(), |b| b.name),
        scope: claims.scope,
    })
}

/// `GET /v1/unsubscribe/{token}`: what the page shows. Changes nothing (mail
/// scanners fetch links).
pub async fn page(app: &App, token: &str) -> Result<UnsubscribeView, AppError> {
    let claims = verify(app, token)?;
    view(app, &claims).await
}

/// `POST /v1/unsubscribe/{token}`: suppresses the customer for the brand now.
pub async fn unsubscribe(app: &App, token: &str) -> Result<Unsubscribed, AppError> {
    let claims = verify(app, token)?;
    let now = app.clock.now();
    let new = Suppression::new(
        claims.brand_id.clone(),
        claims.customer_id.clone(),
        SuppressionReason::Unsubscribe,
        Some(suppression_scope(claims.scope)),
        now,
    );
    // The store folds it into the stored record under a condition (a bounce recorded
    // meanwhile stays) and sets the follower flag even when the record said it already.
    let changed = app.store.suppress(&new).await? == UpsertOutcome::Written;
    tracing::info!(brand = %claims.brand_id, scope = ?claims.scope, changed, "customer unsubscribed");
    Ok(Unsubscribed {
        view: view(app, &claims).await?,
        changed,
    })
}
