//! Issue 13, typed errors end to end: the cause of a failure on our side decides
//! 503 (worth a retry) or 500, and keeps its source; a send pass's notes say by
//! their type, not their wording, whether it failed.

use engage::api::problem::Problem;
use engage::app::{AppError, Invariant};
use engage::bus::BusError;
use engage::domain::CampaignId;
use engage::domain::campaign::CampaignStatus;
use engage::jobs::send::{CampaignRun, Note, RunReport};
use engage::mail::MailError;
use engage::store::StoreError;
use serde_json::json;

fn status(e: AppError) -> u16 {
    Problem::from(e).status
}

#[test]
fn the_cause_decides_503_or_500() {
    let io = || std::io::Error::other("boom");
    // Each adapter's failure worth a retry (503) next to the ones that are not (500).
    let cases = [
        (
            AppError::Mail(MailError::transient(
                "throttled",
                "TooManyRequestsException",
            )),
            503,
        ),
        (
            AppError::Mail(MailError::permanent("rejected", "MessageRejected")),
            500,
        ),
        (
            AppError::Mail(MailError::invalid_header(
                "subject",
                "contains a line break",
            )),
            500,
        ),
        (
            AppError::Bus(BusError::transient("could not append", io())),
            503,
        ),
        (AppError::Bus(BusError::permanent("no bus", io())), 500),
        (
            AppError::Store(StoreError::Transient {
                op: "get",
                source: io().into(),
            }),
            503,
        ),
        (
            AppError::Store(StoreError::Permanent {
                op: "get",
                source: io().into(),
            }),
            500,
        ),
        (
            AppError::Invariant(Invariant::CampaignIdCollision(CampaignId::new("c1"))),
            500,
        ),
        (
            AppError::json_read("the stored submission")(
                serde_json::from_str::<u8>("x").unwrap_err(),
            ),
            500,
        ),
    ];
    for (e, expected) in cases {
        let what = format!("{e:?}");
        assert_eq!(e.is_retryable(), expected == 503, "{what}");
        assert_eq!(status(e), expected, "{what}");
    }
}

#[test]
fn the_chain_keeps_every_source_and_no_address() {
    let e = AppError::Mail(MailError::transient(
        "ses send failed",
        "Throttling: rate exceeded for c1@relay.example",
    ));
    assert_eq!(
        e.chain(),
        "mail failed: transient mail failure: ses send failed: Throttling: rate exceeded for <address>"
    );
    let e = AppError::Bus(BusError::transient(
        "could not append to events.ndjson",
        std::io::Error::other("disk full"),
    ));
    assert!(
        e.chain()
            .ends_with("could not append to events.ndjson: disk full")
    );
}

#[test]
fn a_run_reports_errors_by_the_type_of_its_notes() {
    let mut run = CampaignRun::new(CampaignId::new("c1"), CampaignStatus::Sending);
    run.note("throttled: left for a later pass");
    run.note("throttled: left for a later pass");
    let mut report = RunReport {
        campaigns: vec![run],
    };
    // An info note whose wording starts with "error" is still no error.
    report.campaigns[0].note("error budget reached");
    assert!(!report.has_errors());
    assert_eq!(
        serde_json::to_value(&report).unwrap()["campaigns"][0]["note"],
        json!("throttled: left for a later pass; error budget reached")
    );

    let failure = std::io::Error::other("store down");
    report.campaigns[0].note(Note::error(&failure));
    assert!(report.has_errors());
    assert_eq!(
        report.campaigns[0].note_text().unwrap(),
        "throttled: left for a later pass; error budget reached; error: store down"
    );
    let quiet = CampaignRun::new(CampaignId::new("c2"), CampaignStatus::Approved);
    assert!(serde_json::to_value(&quiet).unwrap().get("note").is_none());
}
