//! `engage event [--data DIR] [--now INSTANT] [--policies DIR] FILE or -`:
//! applies marketplace events to the embedded store through the same code as
//! the Lambda function, and SES feedback (envelopes whose `source` is
//! `aws.ses`: deliveries, bounces, complaints) through the `ses-events`
//! handler, so the complaint-rate rule (R-MAIL-3) can be exercised locally.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use engage::app::App;
use engage::config::Config;
use engage::jobs::events::{self, Applied, error_chain};
use engage::jobs::ses_events::{self, SesDelivery};
use serde_json::Value;

use super::StateArgs;

/// Arguments of `engage event`.
#[derive(Debug, clap::Args)]
pub struct EventArgs {
    #[command(flatten)]
    state: StateArgs,
    /// A file of events (one envelope, a JSON array, or one envelope per line), or `-` for stdin.
    input: PathBuf,
}

/// How one event ended, for the summary line.
enum Outcome {
    Applied(String),
    Stale(String),
    Failed(String),
}

pub fn run(args: EventArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let text = if args.input.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(&args.input)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.input.display()))?
    };
    let app = args.state.app(config)?;
    let received_at = app.clock.now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (mut written, mut stale, mut failed) = (0usize, 0usize, 0usize);
    runtime.block_on(async {
        for (n, item) in events::parse_input(&text).into_iter().enumerate() {
            let n = n + 1;
            let outcome = match item {
                Ok(value) if is_ses(&value) => ses(&app, value).await,
                Ok(value) => marketplace(&app, value, received_at).await,
                Err(e) => Outcome::Failed(error_chain(&e)),
            };
            match outcome {
                Outcome::Applied(line) => {
                    written += 1;
                    println!("{n:>4} applied {line}");
                }
                Outcome::Stale(line) => {
                    stale += 1;
                    println!("{n:>4} stale   {line}");
                }
                Outcome::Failed(why) => {
                    failed += 1;
                    println!("{n:>4} error   {why}");
                }
            }
        }
    });
    println!(
        "{} events: {written} applied, {stale} stale (already applied or older), {failed} failed",
        written + stale + failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Whether an envelope is SES feedback rather than a marketplace event.
fn is_ses(value: &Value) -> bool {
    value.get("source").and_then(Value::as_str) == Some(ses_events::SOURCE)
}

async fn marketplace(app: &App, value: Value, received_at: DateTime<Utc>) -> Outcome {
    let event = match events::parse(value) {
        Ok(e) => e,
        Err(e) => return Outcome::Failed(error_chain(&e)),
    };
    match events::apply_with(app.store.as_ref(), &app.policies, &event, received_at).await {
        Ok(applied) => {
            let line = format!("{} {} ({})", event.id, event.detail_type, applied.what());
            match &applied {
                Applied::PromotionEnded { written: true, .. } | Applied::Written { .. } => {
                    Outcome::Applied(line)
                }
                _ => Outcome::Stale(line),
            }
        }
        Err(e) => Outcome::Failed(error_chain(&e)),
    }
}

/// One SES event through the `ses-events` handler: a repeat is stale; an event
/// that is not engage's (or a transient bounce) is stale with its reason.
async fn ses(app: &App, value: Value) -> Outcome {
    match ses_events::handle_delivery(app, value).await {
        Ok(SesDelivery::Applied {
            id,
            event_type,
            brand_id,
            counted,
            counts,
            paused,
            ..
        }) => {
            let suspended = if paused.is_empty() {
                String::new()
            } else {
                format!(", suspended {}", paused.join(" "))
            };
            let line = format!(
                "{id} ses {event_type} (brand {brand_id}: {} delivered, {} complained{suspended})",
                counts.delivered, counts.complained
            );
            if counted {
                Outcome::Applied(line)
            } else {
                Outcome::Stale(line)
            }
        }
        Ok(SesDelivery::Ignored { id, reason }) => {
            Outcome::Stale(format!("{id} ses ignored: {reason}"))
        }
        Ok(SesDelivery::Rejected { id, reason }) => {
            Outcome::Failed(format!("{id} ses rejected: {reason}"))
        }
        Err(e) => Outcome::Failed(error_chain(&e)),
    }
}
