//! The `engage` command line: the local server and the operator tools.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logs();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("engage: {e:#}");
            ExitCode::FAILURE
        }
    }
}
