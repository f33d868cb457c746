//! Marketplace orders and their shipping, delivery and return events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BrandId, CustomerId, OrderId, SellerId};

/// A return received for an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnReceived {
    /// When the return arrived.
    pub received_at: DateTime<Utc>,
    /// Refunded amount, in the currency's minor or decimal form as the event gave it.
    pub refund_amount: String,
    /// ISO 4217 currency.
    pub currency: String,
}

/// An order and what happened to it since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The order.
    pub order_id: OrderId,
    /// Seller of record.
    pub seller_id: SellerId,
    /// Brand of the product.
    pub brand_id: BrandId,
    /// The product.
    pub asin: String,
    /// The buyer.
    pub customer_id: CustomerId,
    /// The buyer's relay address (R-MSG-4).
    pub relay_email: String,
    /// The buyer's locale.
    pub locale: String,
    /// When it was placed.
    pub purchased_at: DateTime<Utc>,
    /// When it shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<DateTime<Utc>>,
    /// Carrier, when shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// Tracking id, when shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// When it was delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// The return, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_received: Option<ReturnReceived>,
    /// Instant of the newest event folded into this state (newest wins).
    pub updated_at: DateTime<Utc>,
}
