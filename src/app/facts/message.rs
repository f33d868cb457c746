//! Facts of the `sequences` policy (is a step of an order due, cancelled,
//! closed?) and of the `message` policy (may this buyer message be sent?).

use chrono::{DateTime, Utc};

use crate::domain::order::Order;
use crate::domain::suppression::Suppression;
use crate::jobs::sequences::definition::{Step, language};
use crate::policy::{FactValue, Facts};
use crate::store::{MessageRecord, MessageStatus};

/// Facts of the `sequences` policy for one step of one order triggered at
/// `trigger_at`, its due and closing instants in the brand's zone `zone`
/// (policies/README.md).
pub fn step_facts(
    order: &Order,
    step: &Step,
    trigger_at: DateTime<Utc>,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Facts {
    let cancelled = step
        .unless
        .iter()
        .any(|t| t.at(order).is_some_and(|at| at <= now));
    Facts::at(now, zone).with(
        "step",
        FactValue::map()
            .with("type", step.message_type.as_str())
            .with("trigger", step.trigger.name())
            .with("enabled", step.enabled)
            .with("triggeredAt", trigger_at)
            .with("dueAt", step.due_at(trigger_at, zone))
            .with("closesAt", step.closes_at(trigger_at, zone))
            .with("cancelled", cancelled),
    )
}

/// Facts of the `message` policy for one step of one order (policies/README.md).
pub fn message_facts(
    order: &Order,
    step: &Step,
    locale: &str,
    due_at: DateTime<Utc>,
    zone: chrono_tz::Tz,
    suppression: Option<&Suppression>,
    existing: Option<&MessageRecord>,
) -> Facts {
    let opt = |t: Option<DateTime<Utc>>| t.map_or(FactValue::Null, FactValue::from);
    Facts::new()
        .with("zone", zone.name())
        .with(
            "message",
            FactValue::map()
                .with("type", step.message_type.as_str())
                .with("orderId", order.order_id.as_str())
                .with("language", language(locale))
                .with("dueAt", due_at),
        )
        .with(
            "order",
            FactValue::map()
                .with("id", order.order_id.as_str())
                .with("completedAt", order.purchased_at)
                .with("earliestDeliveryAt", opt(order.delivered_at))
                .with("latestDeliveryAt", opt(order.delivered_at)),
        )
        .with(
            "customer",
            FactValue::map()
                // Any suppression of the brand stops non-service messages
                // (domain::suppression); service ones go on unless bounced.
                .with("unsubscribed", suppression.is_some())
                .with("language", language(&order.locale)),
        )
        .with(
            "alreadySent",
            existing.is_some_and(|r| r.status == MessageStatus::Sent),
        )
}
