//! Jobs: one function per job, over the ports. The Lambda functions and the
//! `engage` commands call the same functions.

pub mod delivery;
mod error;
pub mod events;
pub mod metrics;
pub mod send;
pub mod sequences;
pub mod ses_events;
pub mod suspend;

pub use error::PassError;

/// `engage policy check`: every policy under `dir`, with the checks the jobs register for
/// the policies they read (the sequences' steps and templates).
pub fn check_policies(dir: &std::path::Path) -> crate::policy::CheckReport {
    crate::policy::check_dir_with(dir, &[sequences::definition::VERSION_CHECK])
}

/// The former name of [`send`]: one local pass of the planner and its workers.
pub use send as send_window;
