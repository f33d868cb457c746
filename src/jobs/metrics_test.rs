//! Unit tests of `src/jobs/metrics.rs`.

use super::*;
use crate::domain::CampaignId;
use crate::domain::campaign::CampaignStatus;
use crate::domain::send::SendCounters;
use crate::jobs::send_window::CampaignRun;

#[test]
fn one_document_per_campaign_with_its_counts() {
    let report = RunReport {
        campaigns: vec![CampaignRun {
            campaign_id: CampaignId::new("c-1"),
            from: CampaignStatus::Approved,
            to: CampaignStatus::Sending,
            counters: SendCounters {
                targeted: 10,
                sent: 7,
                skipped_frequency_cap: 2,
                skipped_suppressed: 1,
                skipped_unfollowed: 0,
                failed: 0,
            },
            pending: 0,
            notes: Vec::new(),
        }],
    };
    let docs = send_window_emf(&report, "2026-12-07T08:00:00Z".parse().unwrap());
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(d["_aws"]["Timestamp"], 1_796_630_400_000_i64);
    assert_eq!(
        d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
        "campaignId"
    );
    let names: Vec<&str> = d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    // Every declared metric is a member of the document, as EMF requires.
    for n in &names {
        assert!(d[*n].is_u64(), "{n}");
    }
    assert_eq!(
        (d["sent"].as_u64(), d["skippedFrequencyCap"].as_u64()),
        (Some(7), Some(2))
    );
    assert!(!d.to_string().contains('@'), "no address in a metric line");
}
