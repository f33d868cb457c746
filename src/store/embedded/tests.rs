//! What only a raw write can show: a transition patches the attributes it owns and
//! keeps every other one of the stored document, as DynamoDB's `UpdateItem` does,
//! so an attribute this build does not know (written by a newer one) survives it.

use rusqlite::params;
use serde_json::{Value, json};

use super::EmbeddedStore;
use crate::domain::CampaignId;
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::testing::at;
use crate::store::{CampaignStore, TransitionOutcome};

fn campaign() -> Campaign {
    serde_json::from_value(json!({
        "id": "c1",
        "brandId": "b1",
        "nickname": "nick",
        "primaryAsin": "B000000001",
        "lifestyleImage": {"url": "https://img.example/l.jpg", "width": 1200, "height": 800},
        "startDate": "2026-11-20",
        "subject": "New from a brand you follow",
        "sectionHeader": "Just launched",
        "logo": {"url": "https://img.example/logo.png", "width": 600, "height": 200,
                 "format": "png", "background": "transparent"},
        "headerStyle": "dark",
        "status": "IN_REVIEW",
        "policy": "campaign@2026-11-01",
        "sendWindow": {"start": "2026-11-20T08:00:00Z", "end": "2026-11-25T08:00:00Z"},
        "createdAt": "2026-11-01T10:00:00Z"
    }))
    .unwrap()
}

fn raw_doc(store: &EmbeddedStore, pk: &str) -> Value {
    let conn = store.conn.lock().unwrap();
    let doc: String = conn
        .query_row("SELECT doc FROM items WHERE pk = ?1", params![pk], |r| {
            r.get(0)
        })
        .unwrap();
    serde_json::from_str(&doc).unwrap()
}

#[tokio::test]
async fn transition_keeps_attributes_it_does_not_own() {
    let store = EmbeddedStore::open_in_memory().unwrap();
    let c = campaign();
    store.create_campaign(&c).await.unwrap();
    // A newer build's attribute, and an index key this one does not know of.
    store
        .conn
        .lock()
        .unwrap()
        .execute(
            "UPDATE items SET doc = json_set(doc, '$.reviewTicket', 'T-42', '$.gsi3pk', 'X') \
             WHERE pk = 'CAMPAIGN#c1'",
            [],
        )
        .unwrap();

    let moved = store
        .transition(
            &CampaignId::new("c1"),
            &[CampaignStatus::InReview],
            CampaignStatus::Approved,
            Some("ok"),
            at("2026-11-02T10:00:00Z"),
        )
        .await
        .unwrap();
    assert!(matches!(moved, TransitionOutcome::Moved(_)), "{moved:?}");

    let doc = raw_doc(&store, "CAMPAIGN#c1");
    assert_eq!(doc["reviewTicket"], "T-42", "{doc}");
    assert_eq!(doc["gsi3pk"], "X", "{doc}");
    assert_eq!(doc["status"], "APPROVED");
    assert_eq!(doc["statusReason"], "ok");
    assert_eq!(doc["gsi1sk"], "STATUS#APPROVED#CAMPAIGN#c1");
    assert_eq!(doc["nickname"], "nick");
}
