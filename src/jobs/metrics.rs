//! CloudWatch embedded metric format (EMF): one JSON log line per campaign a
//! send-window pass touched, which CloudWatch turns into the metrics `sent`,
//! `skippedFrequencyCap`, `skippedSuppressed` and `failed` per campaign without
//! a PutMetricData call. The line carries ids and counts only, never an address.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::send_window::RunReport;

/// The CloudWatch namespace of engage's metrics.
pub const NAMESPACE: &str = "engage";

/// One EMF document per campaign of `report`, stamped `at`.
pub fn send_window_emf(report: &RunReport, at: DateTime<Utc>) -> Vec<Value> {
    report
        .campaigns
        .iter()
        .map(|c| {
            let k = &c.counters;
            json!({
                "_aws": {
                    "Timestamp": at.timestamp_millis(),
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": [["campaignId"]],
                        "Metrics": [
                            {"Name": "sent", "Unit": "Count"},
                            {"Name": "skippedFrequencyCap", "Unit": "Count"},
                            {"Name": "skippedSuppressed", "Unit": "Count"},
                            {"Name": "failed", "Unit": "Count"},
                        ],
                    }],
                },
                "campaignId": c.campaign_id.as_str(),
                "status": c.to.as_str(),
                "sent": k.sent,
                "skippedFrequencyCap": k.skipped_frequency_cap,
                "skippedSuppressed": k.skipped_suppressed,
                "failed": k.failed,
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "metrics_test.rs"]
mod tests;
