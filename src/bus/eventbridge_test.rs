//! Unit tests of `src/bus/eventbridge.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn the_detail_carries_the_event_id() {
    let e = Event::new(
        "c-1",
        "Courtesy Refund Requested",
        chrono::Utc::now(),
        serde_json::json!({"contactId": "c-1"}),
    );
    let d: serde_json::Value = serde_json::from_str(&detail_json(&e).unwrap()).unwrap();
    assert_eq!(d["eventId"], "c-1");
    assert_eq!(d["contactId"], "c-1");
}
