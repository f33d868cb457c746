//! `engage event [--data DIR] [--now INSTANT] FILE or -`: applies marketplace
//! events to the embedded store through the same code as the Lambda function.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use engage::jobs::events::{self, Applied, error_chain};
use engage::store::EmbeddedStore;

use super::StateArgs;

/// Arguments of `engage event`.
#[derive(Debug, clap::Args)]
pub struct EventArgs {
    #[command(flatten)]
    state: StateArgs,
    /// A file of events (one envelope, a JSON array, or one envelope per line), or `-` for stdin.
    input: PathBuf,
}

pub fn run(args: EventArgs) -> anyhow::Result<ExitCode> {
    let text = if args.input.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(&args.input)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.input.display()))?
    };
    let store = EmbeddedStore::open(&args.state.data)?;
    let received_at = args.state.now.unwrap_or_else(Utc::now);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (mut written, mut stale, mut failed) = (0usize, 0usize, 0usize);
    runtime.block_on(async {
        for (n, item) in events::parse_input(&text).into_iter().enumerate() {
            let n = n + 1;
            let result = match item {
                Ok(value) => match events::parse(value) {
                    Ok(event) => events::apply(&store, &event, received_at)
                        .await
                        .map(|a| (event, a)),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            match result {
                Ok((event, applied)) => {
                    let status = match &applied {
                        Applied::PromotionEnded { written: true, .. } | Applied::Written { .. } => {
                            written += 1;
                            "applied"
                        }
                        _ => {
                            stale += 1;
                            "stale"
                        }
                    };
                    println!(
                        "{n:>4} {status:<7} {} {} ({})",
                        event.id,
                        event.detail_type,
                        applied.what()
                    );
                }
                Err(e) => {
                    failed += 1;
                    println!("{n:>4} error   {}", error_chain(&e));
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
