//! Facts of the `contact` policy: the review, its order, the caller, the brand
//! and the reason (see `policies/README.md`).

use chrono::{DateTime, Utc};

use crate::app::campaigns::brand_zone;
use crate::auth::{Caller, Role};
use crate::domain::brand::Brand;
use crate::domain::order::Order;
use crate::domain::review::Review;
use crate::policy::{FactValue, Facts};

fn role_name(role: Role) -> &'static str {
    match role {
        Role::BrandRepresentative => "brand_representative",
        Role::Moderator => "moderator",
    }
}

/// Facts of the `contact` policy (see `policies/README.md`). The brand is registered when
/// a `Brand Registered` event was received; no marketplace event reports the selling
/// account's health yet, so a registered brand is taken to be in good standing.
pub fn contact_facts(
    review: &Review,
    order: Option<&Order>,
    brand: Option<&Brand>,
    caller: &Caller,
    reason: &str,
    already_contacted: bool,
    now: DateTime<Utc>,
) -> Facts {
    let review_fact = FactValue::map()
        .with("id", review.review_id.as_str())
        .with("rating", i64::from(review.rating))
        .with("verifiedPurchase", review.verified_purchase)
        .with("brandId", review.brand_id.as_str())
        .with("orderId", review.order_id.as_str())
        .with("customerId", review.customer_id.as_str());
    let order_fact = match order {
        None => FactValue::Null,
        Some(o) => FactValue::map()
            .with("id", o.order_id.as_str())
            .with("sellerId", o.seller_id.as_str())
            .with("customerId", o.customer_id.as_str())
            .with("purchasedAt", o.purchased_at),
    };
    let caller_fact = FactValue::map()
        .with("sellerId", caller.seller_id.as_str())
        .with(
            "roles",
            FactValue::list(caller.roles.iter().map(|r| role_name(*r))),
        )
        .with(
            "brands",
            FactValue::list(caller.brands.iter().map(String::as_str)),
        );
    let brand_fact = FactValue::map()
        .with("id", review.brand_id.as_str())
        .with("registered", brand.is_some())
        .with("goodStanding", brand.is_some());
    Facts::at(now, brand_zone(brand))
        .with("review", review_fact)
        .with("order", order_fact)
        .with("caller", caller_fact)
        .with("brand", brand_fact)
        .with("contact", FactValue::map().with("reason", reason))
        .with("alreadyContacted", already_contacted)
}
