//! Facts of the `health` policy: the brand's negative review rates, complaint
//! rate and unanswered negative reviews.

use chrono::{DateTime, Utc};

use crate::app::health::UnansweredReview;
use crate::policy::{FactValue, Facts};

/// Facts of the `health` policy (rates over 30 and 90 days).
pub fn health_facts(
    now: DateTime<Utc>,
    negative_rate_30: f64,
    negative_rate_90: f64,
    complaint_rate: f64,
    unanswered: &[UnansweredReview],
) -> Facts {
    let inquiries = unanswered.iter().map(|u| {
        FactValue::map()
            .with("id", u.review_id.as_str())
            .with("receivedAt", u.posted_at)
    });
    Facts::new().with("now", now).with(
        "health",
        FactValue::map()
            .with("negativeRate30", negative_rate_30)
            .with("negativeRate90", negative_rate_90)
            .with("complaintRate", complaint_rate)
            .with("unansweredInquiries", FactValue::List(inquiries.collect())),
    )
}
