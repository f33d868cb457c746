//! `engage serve`: every route of every function on one port, over the
//! embedded store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use engage::api::{AppState, router};
use engage::auth::TokenKeys;
use engage::bus::FilePublisher;
use engage::config::{Config, Secret};

use super::StateArgs;

/// Arguments of `engage serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    #[command(flatten)]
    state: StateArgs,
    /// Where emails are written as `.eml` files instead of SES.
    #[arg(long, default_value = ".engage/outbox")]
    outbox: PathBuf,
    /// Seconds between two passes of the scheduled jobs.
    #[arg(long, default_value_t = 60)]
    tick: u64,
}

pub fn run(args: ServeArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args, config))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs, config: &Config) -> anyhow::Result<()> {
    // Reachable from other hosts, a token signed with the public development key
    // would let anyone in.
    if !args.addr.ip().is_loopback() {
        config.require_secrets(&[Secret::Token]).map_err(|e| {
            anyhow::anyhow!(
                "engage serve --addr {}: not a loopback address, so {e}",
                args.addr
            )
        })?;
    }
    // Contact emails go to the `.eml` outbox; published events (Courtesy Refund Requested)
    // to `<data>/published-events.ndjson`.
    // The same local mailer as `engage tick`: ENGAGE_OUTBOX_TRANSIENT_FAILURES throttles
    // contact emails too, so a throttled mail port can be tried black-box.
    let app = args
        .state
        .app(config)?
        .with_mailer(super::tick::local_mailer(&args.outbox, config)?)
        .with_publisher(Arc::new(FilePublisher::in_dir(&args.state.data)?));
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let local = listener.local_addr()?;
    // The send window on a timer, with the server's store and clock (`--tick`, 0 disables it).
    super::tick::spawn_timer(app.clone(), args.outbox.clone(), args.tick, config)?;
    let state = AppState {
        keys: Arc::new(TokenKeys::from_secret(config.token_secret.as_bytes())),
        app,
    };
    let app = router(state, config.max_body_bytes);
    tracing::info!(addr = %local, data = %args.state.data.display(), "engage serve listening");
    // Printed on stdout too, so scripts that start the server on port 0 can find it.
    println!("listening on http://{local}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
