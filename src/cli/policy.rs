//! `engage policy check`: validates every policy file and runs its cases.

use std::path::PathBuf;
use std::process::ExitCode;

/// Policy subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Validates every policy file, compiles every rule, runs the cases and
    /// the invalid examples.
    Check {
        /// The policies folder.
        #[arg(default_value = "policies")]
        dir: PathBuf,
    },
}

pub fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Check { dir } => {
            let report = engage::jobs::check_policies(&dir);
            println!("{report}");
            Ok(report.exit_code())
        }
    }
}
