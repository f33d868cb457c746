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
    /// What Order Placed said.
    #[serde(flatten)]
    pub placed: OrderPlaced,
    /// What happened to it since.
    #[serde(flatten)]
    pub fulfilment: Fulfilment,
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
    /// The buyer's relay address (R-MSG-4).
    pub relay_email: String,
    /// The buyer's locale.
    pub locale: String,
    /// When it was placed.
    pub purchased_at: DateTime<Utc>,
}

/// What happened to an order after it was placed: its shipment, delivery and
/// return, each as the newest report of it said.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fulfilment {
    /// When it shipped.
    pub shipped_at: Option<DateTime<Utc>>,
    /// Carrier, when shipped.
    pub carrier: Option<String>,
    /// Tracking id, when shipped.
    pub tracking_id: Option<String>,
    /// When the carrier expects to deliver, when Order Shipped says (seed 002:
    /// the shipment confirmation gives the expected delivery date).
    pub expected_delivery_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The return, if any.
    pub return_received: Option<ReturnReceived>,
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
/// placed part is optional here. Serialises like [`Order`] once placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRecord {
    /// The order.
    pub order_id: OrderId,
    /// What Order Placed said, once it arrived.
    #[serde(flatten)]
    pub placed: Option<OrderPlaced>,
    /// What happened to it since.
    #[serde(flatten)]
    pub fulfilment: Fulfilment,
    /// The newest instant of any part.
    pub updated_at: DateTime<Utc>,
}

impl OrderRecord {
    /// An empty record (nothing known yet; `updatedAt` rises with each part merged).
    pub fn new(order_id: OrderId) -> Self {
        Self {
            order_id,
            placed: None,
            fulfilment: Fulfilment::default(),
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
        let f = &mut self.fulfilment;
        let at = match &change.kind {
            OrderChangeKind::Placed(p) => {
                if !newer(p.purchased_at, self.placed.as_ref().map(|o| o.purchased_at)) {
                    return false;
                }
                self.placed = Some(p.clone());
                p.purchased_at
            }
            OrderChangeKind::Shipped {
                shipped_at,
                carrier,
                tracking_id,
                expected_delivery_at,
            } => {
                if !newer(*shipped_at, f.shipped_at) {
                    return false;
                }
                f.shipped_at = Some(*shipped_at);
                f.carrier = Some(carrier.clone());
                f.tracking_id = Some(tracking_id.clone());
                f.expected_delivery_at = *expected_delivery_at;
                *shipped_at
            }
            OrderChangeKind::Delivered { delivered_at } => {
                if !newer(*delivered_at, f.delivered_at) {
                    return false;
                }
                f.delivered_at = Some(*delivered_at);
                *delivered_at
            }
            OrderChangeKind::ReturnReceived(r) => {
                let old = f.return_received.as_ref().map(|o| o.received_at);
                if !newer(r.received_at, old) {
                    return false;
                }
                f.return_received = Some(r.clone());
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
            placed: self.placed.clone()?,
            fulfilment: self.fulfilment.clone(),
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
        assert_eq!(
            forward.fulfilment.delivered_at,
            Some(at("2026-11-04T00:00:00Z"))
        );
        assert_eq!(forward.updated_at, at("2026-11-04T00:00:00Z"));
        assert!(forward.order().is_some());
        let mut partial = OrderRecord::new(OrderId::new("o1"));
        assert!(partial.apply(&changes()[2]));
        assert_eq!(partial.order(), None, "not an order before Order Placed");
    }
}
