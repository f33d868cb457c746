//! Argument parsing and dispatch of the `engage` subcommands (CONTRACT.md, "CLI").

mod demo;
mod event;
mod policy;
mod serve;
mod tick;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use engage::app::{App, LOCAL_PUBLIC_URL};
use engage::clock::{Clock, FixedClock, SystemClock};
use engage::config::Config;
use engage::policy::PolicySet;
use engage::store::EmbeddedStore;

/// engage: follower campaigns, review contacts and buyer messages for brand owners.
#[derive(Debug, Parser)]
#[command(name = "engage", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every route on one port over the embedded store.
    Serve(serve::ServeArgs),
    /// Prints a local bearer token.
    Token(token::TokenArgs),
    /// Applies marketplace events (and SES feedback, source aws.ses) from a file or stdin.
    Event(event::EventArgs),
    /// One pass of the scheduled jobs (the send window) over the embedded store.
    Tick(tick::TickArgs),
    /// Seeds the sample brand, followers, promotions and reviews and walks them through everything.
    Demo(demo::DemoArgs),
    /// Policy tools.
    Policy {
        #[command(subcommand)]
        command: policy::PolicyCommand,
    },
}

/// Options shared by the commands that touch local state.
#[derive(Debug, Clone, clap::Args)]
pub struct StateArgs {
    /// The embedded store's folder.
    #[arg(long, default_value = ".engage/data")]
    pub data: PathBuf,
    /// Fixes the business clock (rules, windows, stored instants), RFC 3339.
    #[arg(long, value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,
    /// A policy folder to load instead of the bundled policies (and `ENGAGE_POLICIES`).
    #[arg(long)]
    pub policies: Option<PathBuf>,
}

impl StateArgs {
    /// The app of a local command over the embedded store: the policies of `--policies`,
    /// else of the configuration; the `--now` clock; the configuration's public URL,
    /// unsubscribe secret and sender. No mailer, no publisher.
    pub fn app(&self, config: &Config) -> anyhow::Result<App> {
        let clock: Arc<dyn Clock> = match self.now {
            Some(now) => Arc::new(FixedClock(now)),
            None => Arc::new(SystemClock),
        };
        let policies = match &self.policies {
            Some(dir) => PolicySet::load_dir(dir)?,
            None => engage::runtime::policies(config)?,
        };
        let store = EmbeddedStore::open(&self.data)?;
        Ok(App::new(Arc::new(store), Arc::new(policies), clock)?
            .with_public_url(config.public_url.as_deref().unwrap_or(LOCAL_PUBLIC_URL))
            .with_unsubscribe_secret(config.unsubscribe_secret.as_bytes())
            .with_from_address(config.from_address.as_deref()))
    }
}

fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("{s:?} is not an RFC 3339 instant: {e}"))
}

/// JSON logs on stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .try_init();
}

/// Runs one subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = engage::config::Config::from_env()?;
    match cli.command {
        Command::Serve(args) => serve::run(args, &config),
        Command::Token(args) => token::run(args, &config),
        Command::Event(args) => event::run(args, &config),
        Command::Tick(args) => tick::run(args, &config),
        Command::Demo(args) => demo::run(args, &config),
        Command::Policy { command } => policy::run(command),
    }
}
