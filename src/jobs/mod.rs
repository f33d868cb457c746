//! Jobs: one function per job, over the ports. The Lambda functions and the
//! `engage` commands call the same functions.

pub mod events;
pub mod metrics;
pub mod send_window;
pub mod sequences;
pub mod ses_events;
pub mod suspend;
