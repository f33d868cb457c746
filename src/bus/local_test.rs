//! Unit tests of `src/bus/local.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[tokio::test]
async fn events_are_appended_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = FilePublisher::in_dir(dir.path()).unwrap();
    assert!(p.read_all().unwrap().is_empty());
    let at = chrono::Utc::now();
    for (id, a) in [("e1", 1), ("e2", 2)] {
        p.publish(&Event::new(
            id,
            "X Happened",
            at,
            serde_json::json!({ "a": a }),
        ))
        .await
        .unwrap();
    }
    let all = p.read_all().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].id, "e2");
    assert_eq!(all[0].source, "engage");
    let text = std::fs::read_to_string(p.path()).unwrap();
    assert!(text.contains("\"detail-type\":\"X Happened\""));
}
