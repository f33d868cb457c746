//! [`FeedbackStore`] on SQLite: the marker and the counter in one `BEGIN IMMEDIATE`
//! transaction.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::{EmbeddedStore, read, write};
use crate::domain::BrandId;
use crate::store::StoreError;
use crate::store::feedback::{
    FeedbackCounts, FeedbackKind, FeedbackOutcome, FeedbackRecord, FeedbackStore, MARKER_TTL_DAYS,
    MailEventRecord,
};
use crate::store::item::Item;
use crate::store::keys;

#[async_trait]
impl FeedbackStore for EmbeddedStore {
    async fn count_feedback(
        &self,
        brand: &BrandId,
        event_key: &str,
        kind: FeedbackKind,
        at: DateTime<Utc>,
    ) -> Result<FeedbackOutcome, StoreError> {
        let brand = brand.clone();
        let marker = Item::new(
            keys::mail_event(event_key),
            MailEventRecord {
                event_key: event_key.to_owned(),
                brand_id: brand.clone(),
                kind,
                counted_at: at,
            },
        )
        .expiring(at + Duration::days(MARKER_TTL_DAYS));
        self.tx("count_feedback", move |conn| {
            let k = keys::feedback(&brand);
            let current = read::<FeedbackRecord>(conn, "count_feedback", &k.pk, &k.sk)?
                .map(|i| i.body.counts)
                .unwrap_or_default();
            if read::<MailEventRecord>(conn, "count_feedback", &marker.pk, &marker.sk)?.is_some() {
                return Ok(FeedbackOutcome::Repeat(current));
            }
            let mut counts = current;
            match kind {
                FeedbackKind::Delivered => counts.delivered += 1,
                FeedbackKind::Complained => counts.complained += 1,
                FeedbackKind::Bounced => counts.bounced += 1,
            }
            write(conn, "count_feedback", &marker)?;
            let record = FeedbackRecord {
                brand_id: brand.clone(),
                counts,
                updated_at: Some(at),
            };
            write(conn, "count_feedback", &Item::new(k, record))?;
            Ok(FeedbackOutcome::Counted(counts))
        })
        .await
    }

    async fn feedback_counts(&self, brand: &BrandId) -> Result<FeedbackCounts, StoreError> {
        let k = keys::feedback(brand);
        let record: Option<FeedbackRecord> = self.get_doc("feedback_counts", k.pk, k.sk).await?;
        Ok(record.map(|r| r.counts).unwrap_or_default())
    }
}
