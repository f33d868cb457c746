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
    /// Refunded amount, a decimal as the event gave it: from a JSON string as
    /// written, from a JSON number in its exact decimal form (see [`decimal_amount`]).
    #[serde(deserialize_with = "decimal_amount")]
    pub refund_amount: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// When the refund was issued, when the event says (optional; else the
    /// refund is taken as issued when the return arrived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_at: Option<DateTime<Utc>>,
}

/// The most significant digits a JSON number keeps exactly: the JSON reader holds
/// numbers as binary floats, whose shortest decimal form is the written one up to
/// this many digits.
pub const EXACT_DIGITS: usize = 15;

/// Reads an amount given as a decimal string (`"24.99"`, kept as written) or a
/// JSON number (`24.99`, kept as the decimal it was written as). A number with
/// more significant digits than [`EXACT_DIGITS`] cannot be known exactly and is
/// refused rather than rounded.
pub fn decimal_amount<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Amount;
    impl serde::de::Visitor<'_> for Amount {
        type Value = String;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a decimal amount, as a string or a number")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
            // Display writes the shortest decimal that reads back as the same
            // float: the written decimal whenever it had few enough digits.
            let text = v.to_string();
            let digits = text
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>();
            let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
            if !v.is_finite() || significant > EXACT_DIGITS {
                return Err(E::custom(format!(
                    "the amount {v} has more than {EXACT_DIGITS} significant digits: send it as a string"
                )));
            }
            Ok(text)
        }
    }
    d.deserialize_any(Amount)
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
    /// When the carrier expects to deliver, when Order Shipped says (seed 002:
    /// the shipment confirmation gives the expected delivery date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_delivery_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// The return, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_received: Option<ReturnReceived>,
    /// Instant of the newest event folded into this state (newest wins).
    pub updated_at: DateTime<Utc>,
}

/// What Order Placed says about an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPlaced {
    /// Seller of record.
    pub seller_id: SellerId,
    /// Brand of the product.
    pub brand_id: BrandId,
    /// The product.
    pub asin: String,
    /// The buyer.
    pub customer_id: CustomerId,
    /// The buyer's relay address.
    pub relay_email: String,
    /// The buyer's locale.
    pub locale: String,
    /// When it was placed.
    pub purchased_at: DateTime<Utc>,
}

/// One part of an order an event reports.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderChangeKind {
    /// Order Placed.
    Placed(OrderPlaced),
    /// Order Shipped.
    Shipped {
        /// When it shipped.
        shipped_at: DateTime<Utc>,
        /// Carrier.
        carrier: String,
        /// Tracking id.
        tracking_id: String,
        /// When the carrier expects to deliver (optional in the event).
        expected_delivery_at: Option<DateTime<Utc>>,
    },
    /// Order Delivered.
    Delivered {
        /// When it was delivered.
        delivered_at: DateTime<Utc>,
    },
    /// Return Received.
    ReturnReceived(ReturnReceived),
}

/// A change to one order, merged into its stored record by [`OrderRecord::apply`].
#[derive(Debug, Clone, PartialEq)]
pub struct OrderChange {
    /// The order.
    pub order_id: OrderId,
    /// The part it reports.
    pub kind: OrderChangeKind,
}

/// The stored state of an order, also before its Order Placed event arrived: the
/// placed fields are optional here. Serialises like [`Order`] once placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRecord {
    /// The order.
    pub order_id: OrderId,
    /// Seller of record (from Order Placed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_id: Option<SellerId>,
    /// Brand (from Order Placed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<BrandId>,
    /// Product (from Order Placed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asin: Option<String>,
    /// Buyer (from Order Placed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// Buyer's relay address (from Order Placed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_email: Option<String>,
    /// Buyer's locale (from Order Placed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// When it was placed (from Order Placed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchased_at: Option<DateTime<Utc>>,
    /// When it shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<DateTime<Utc>>,
    /// Carrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// Tracking id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// Expected delivery, when Order Shipped gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_delivery_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// The return, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_received: Option<ReturnReceived>,
    /// The newest instant of any part.
    pub updated_at: DateTime<Utc>,
}

impl OrderRecord {
    /// An empty record (nothing known yet; `updatedAt` rises with each part merged).
    pub fn new(order_id: OrderId) -> Self {
        Self {
            order_id,
            seller_id: None,
            brand_id: None,
            asin: None,
            customer_id: None,
            relay_email: None,
            locale: None,
            purchased_at: None,
            shipped_at: None,
            carrier: None,
            tracking_id: None,
            expected_delivery_at: None,
            delivered_at: None,
            return_received: None,
            updated_at: DateTime::<Utc>::MIN_UTC,
        }
    }

    /// Merges a change; returns whether the record changed.
    ///
    /// Each part (placed, shipped, delivered, return) carries its own instant and
    /// keeps the newest report of that part; parts never overwrite one another.
    /// So the merge is commutative and idempotent: any arrival order of the same
    /// events (Delivered before Placed, duplicates) ends in the same record.
    /// Two different reports of one part at the same instant keep the first seen.
    pub fn apply(&mut self, change: &OrderChange) -> bool {
        fn newer(new: DateTime<Utc>, old: Option<DateTime<Utc>>) -> bool {
            old.is_none_or(|old| new > old)
        }
        let at = match &change.kind {
            OrderChangeKind::Placed(p) => {
                if !newer(p.purchased_at, self.purchased_at) {
                    return false;
                }
                self.seller_id = Some(p.seller_id.clone());
                self.brand_id = Some(p.brand_id.clone());
                self.asin = Some(p.asin.clone());
                self.customer_id = Some(p.customer_id.clone());
                self.relay_email = Some(p.relay_email.clone());
                self.locale = Some(p.locale.clone());
                self.purchased_at = Some(p.purchased_at);
                p.purchased_at
            }
            OrderChangeKind::Shipped {
                shipped_at,
                carrier,
                tracking_id,
                expected_delivery_at,
            } => {
                if !newer(*shipped_at, self.shipped_at) {
                    return false;
                }
                self.shipped_at = Some(*shipped_at);
                self.carrier = Some(carrier.clone());
                self.tracking_id = Some(tracking_id.clone());
                self.expected_delivery_at = *expected_delivery_at;
                *shipped_at
            }
            OrderChangeKind::Delivered { delivered_at } => {
                if !newer(*delivered_at, self.delivered_at) {
                    return false;
                }
                self.delivered_at = Some(*delivered_at);
                *delivered_at
            }
            OrderChangeKind::ReturnReceived(r) => {
                let old = self.return_received.as_ref().map(|o| o.received_at);
                if !newer(r.received_at, old) {
                    return false;
                }
                self.return_received = Some(r.clone());
                r.received_at
            }
        };
        self.updated_at = self.updated_at.max(at);
        true
    }

    /// The order, once Order Placed is known.
    pub fn order(&self) -> Option<Order> {
        Some(Order {
            order_id: self.order_id.clone(),
            seller_id: self.seller_id.clone()?,
            brand_id: self.brand_id.clone()?,
            asin: self.asin.clone()?,
            customer_id: self.customer_id.clone()?,
            relay_email: self.relay_email.clone()?,
            locale: self.locale.clone()?,
            purchased_at: self.purchased_at?,
            shipped_at: self.shipped_at,
            carrier: self.carrier.clone(),
            tracking_id: self.tracking_id.clone(),
            expected_delivery_at: self.expected_delivery_at,
            delivered_at: self.delivered_at,
            return_received: self.return_received.clone(),
            updated_at: self.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::at;

    fn changes() -> Vec<OrderChange> {
        let id = OrderId::new("o1");
        let kinds = vec![
            OrderChangeKind::Placed(OrderPlaced {
                seller_id: SellerId::new("s1"),
                brand_id: BrandId::new("b1"),
                asin: "B0X".into(),
                customer_id: CustomerId::new("c1"),
                relay_email: "c1@relay.example".into(),
                locale: "en-US".into(),
                purchased_at: at("2026-11-01T00:00:00Z"),
            }),
            OrderChangeKind::Shipped {
                shipped_at: at("2026-11-02T00:00:00Z"),
                carrier: "UPS".into(),
                tracking_id: "1".into(),
                expected_delivery_at: None,
            },
            OrderChangeKind::Delivered {
                delivered_at: at("2026-11-03T00:00:00Z"),
            },
            OrderChangeKind::Delivered {
                delivered_at: at("2026-11-04T00:00:00Z"),
            },
        ];
        kinds
            .into_iter()
            .map(|kind| OrderChange {
                order_id: id.clone(),
                kind,
            })
            .collect()
    }

    #[test]
    fn any_order_with_repeats_gives_the_same_record() {
        let mut forward = OrderRecord::new(OrderId::new("o1"));
        for c in changes() {
            assert!(forward.apply(&c));
        }
        let mut backward = OrderRecord::new(OrderId::new("o1"));
        for c in changes().iter().rev().chain(changes().iter()) {
            backward.apply(c);
        }
        assert_eq!(forward, backward);
        assert_eq!(forward.delivered_at, Some(at("2026-11-04T00:00:00Z")));
        assert_eq!(forward.updated_at, at("2026-11-04T00:00:00Z"));
        assert!(forward.order().is_some());
        let mut partial = OrderRecord::new(OrderId::new("o1"));
        assert!(partial.apply(&changes()[2]));
        assert_eq!(partial.order(), None, "not an order before Order Placed");
    }
}
