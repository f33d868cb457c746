//! `engage token`: a local bearer token the local server accepts.

use std::process::ExitCode;

use engage::auth::{Role, TokenKeys, new_claims};

use engage::config::Config;

/// Arguments of `engage token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// The caller's selling account (`sellerId`).
    #[arg(long)]
    seller: String,
    /// A brand the caller represents (repeatable).
    #[arg(long = "brand", num_args = 1..)]
    brands: Vec<String>,
    /// A role: brand_representative or moderator (repeatable).
    #[arg(long = "role", num_args = 1..)]
    roles: Vec<Role>,
    /// The user (`sub`); defaults to the seller id.
    #[arg(long)]
    sub: Option<String>,
    /// Validity in hours, from now on the real clock.
    #[arg(long, default_value_t = 7 * 24)]
    hours: i64,
}

pub fn run(args: TokenArgs, config: &Config) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.hours > 0, "--hours must be positive");
    let sub = args.sub.unwrap_or_else(|| args.seller.clone());
    let claims = new_claims(
        &sub,
        &args.seller,
        args.brands,
        args.roles,
        chrono::Duration::hours(args.hours),
    );
    let token = TokenKeys::from_secret(config.token_secret.as_bytes()).sign(&claims)?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
