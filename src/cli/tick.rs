//! `engage tick [--data DIR] [--outbox DIR] [--policies DIR] [--now INSTANT]
//! [--workers N] [--budget SECONDS]`: one pass of the scheduled jobs over the
//! embedded store (the send planner and its workers, then the buyer-message
//! sequences), emails written to the outbox; prints what it sent and skipped.
//! `engage serve --tick SECONDS` runs the same pass on a timer.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use engage::app::App;
use engage::bus::FilePublisher;
use engage::config::Config;
use engage::jobs::send::{self, Pacer, RunReport, SendOptions};
use engage::mail::{FlakyMailer, Mailer, OutboxMailer};

use super::StateArgs;

/// Arguments of `engage tick`.
#[derive(Debug, clap::Args)]
pub struct TickArgs {
    #[command(flatten)]
    state: StateArgs,
    /// Where emails are written as `.eml` files instead of SES.
    #[arg(long, default_value = ".engage/outbox")]
    outbox: PathBuf,
    /// How many local workers drain the send queue (default: the machine's cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: Option<u16>,
    /// Take no new wave after this many seconds of real time; the rest,
    /// checkpointed, is left to the next tick (the Lambda deadline, locally).
    #[arg(long, value_parser = parse_budget)]
    budget: Option<Duration>,
}

fn parse_budget(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0 && *v <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{s:?} is not a number of seconds from 0 to 86400"))
}

/// The outbox mailer, refusing `ENGAGE_OUTBOX_TRANSIENT_FAILURES` of the sends.
pub fn local_mailer(outbox: &std::path::Path, config: &Config) -> anyhow::Result<Arc<dyn Mailer>> {
    let outbox: Arc<dyn Mailer> = Arc::new(OutboxMailer::new(outbox)?);
    Ok(if config.outbox_transient_failures > 0.0 {
        Arc::new(FlakyMailer::new(outbox, config.outbox_transient_failures))
    } else {
        outbox
    })
}

/// The send options of a local pass: no deadline margin (the budget is the deadline).
fn local_options(config: &Config, workers: Option<u16>) -> SendOptions {
    let mut options = SendOptions::from_config(config);
    options.deadline_margin = Duration::ZERO;
    if let Some(n) = workers {
        options.workers = usize::from(n);
    }
    options
}

pub fn run(args: TickArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let app = args
        .state
        .app(config)?
        .with_mailer(local_mailer(&args.outbox, config)?)
        .with_publisher(Arc::new(FilePublisher::in_dir(&args.state.data)?));
    let options = local_options(config, args.workers);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let pacer = Pacer::new(options.rate_per_second);
        send::run_with_queue(&app, &options, &pacer, args.budget).await
    })?;
    print_report(&report);
    // Buyer-message sequences, after the send window.
    let seq_options = engage::jobs::sequences::SequenceOptions::from_config(config);
    let seq = runtime.block_on(engage::jobs::sequences::run(&app, &seq_options))?;
    print_sequences(&seq);
    // Contacts whose email a crashed or failed request left pending (the
    // deterministic message id makes a resend the same message).
    let contacts = runtime.block_on(engage::app::contact::resume_pending(
        &app,
        chrono::Duration::days(engage::app::contact::PENDING_CONTACT_DAYS),
    ))?;
    println!(
        "pending contacts: delivered {}, already delivered {}, in progress elsewhere {}, failed {}",
        contacts.delivered, contacts.already_delivered, contacts.in_progress, contacts.failed
    );
    println!("emails in {}", args.outbox.display());
    Ok(
        if report.has_errors() || seq.has_errors() || contacts.failed > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// Prints one line per campaign and the totals.
pub fn print_report(report: &RunReport) {
    for c in &report.campaigns {
        let k = &c.counters;
        let moved = if c.from == c.to {
            c.to.to_string()
        } else {
            format!("{} -> {}", c.from, c.to)
        };
        println!(
            "campaign {} {moved}: sent {}, skipped {} (frequency cap) {} (suppressed) {} (unfollowed), failed {}, pending {}{}",
            c.campaign_id,
            k.sent,
            k.skipped_frequency_cap,
            k.skipped_suppressed,
            k.skipped_unfollowed,
            k.failed,
            c.pending,
            c.note_text().map(|n| format!(" ({n})")).unwrap_or_default()
        );
    }
    let t = report.totals();
    println!(
        "send window: {} campaign(s), sent {}, skipped {} (frequency cap) {} (suppressed), failed {}",
        report.campaigns.len(),
        t.sent,
        t.skipped_frequency_cap,
        t.skipped_suppressed,
        t.failed
    );
}

/// Prints one line per buyer message sent, refused or failed, and the totals.
pub fn print_sequences(report: &engage::jobs::sequences::SequenceReport) {
    for (what, list) in [
        ("sent", &report.sent),
        ("refused", &report.refused),
        ("failed", &report.failed),
    ] {
        for m in list {
            println!(
                "message {}/{} {what}{}{}",
                m.order_id,
                m.message_type,
                m.locale
                    .as_deref()
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default(),
                if m.reasons.is_empty() {
                    String::new()
                } else {
                    format!(": {}", m.reasons.join("; "))
                }
            );
        }
    }
    println!(
        "sequences ({}): {} order(s), sent {}, refused {}, failed {}, held by another run {}",
        report.policy,
        report.orders,
        report.sent.len(),
        report.refused.len(),
        report.failed.len(),
        report.held
    );
}

/// Runs the send pass every `seconds` (0: never) in the background, with the
/// server's app (its store and clock) and the outbox mailer (with its simulated
/// throttling: the server's contact emails have none); one pacer for all passes, and a
/// pass never overlaps the previous one.
pub fn spawn_timer(app: App, outbox: PathBuf, seconds: u64, config: &Config) -> anyhow::Result<()> {
    if seconds == 0 {
        return Ok(());
    }
    let app = app.with_mailer(local_mailer(&outbox, config)?);
    let options = local_options(config, None);
    tokio::spawn(async move {
        let pacer = Pacer::new(options.rate_per_second);
        let mut interval = tokio::time::interval(Duration::from_secs(seconds));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            // A pass stops taking waves before the next one is due.
            let budget = Some(Duration::from_secs(seconds));
            match send::run_with_queue(&app, &options, &pacer, budget).await {
                Ok(report) => {
                    for c in &report.campaigns {
                        tracing::info!(campaign = %c.campaign_id, from = %c.from, to = %c.to, sent = c.counters.sent,
                            skipped_cap = c.counters.skipped_frequency_cap, skipped_suppressed = c.counters.skipped_suppressed,
                            failed = c.counters.failed, pending = c.pending, note = c.note_text().unwrap_or_default(), "send pass");
                    }
                }
                Err(e) => {
                    tracing::error!(error = %engage::jobs::events::error_chain(&e), "send pass failed")
                }
            }
        }
    });
    Ok(())
}
