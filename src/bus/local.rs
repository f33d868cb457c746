//! The local event adapter: one JSON line per event, appended to a file.
//!
//! Each line is an EventBridge-like envelope
//! (`{"id", "source", "detail-type", "time", "detail"}`). Lines are written with one
//! `write` on a file opened in append mode, so several processes sharing a data folder
//! never interleave within a line.

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{BusError, Event, EventPublisher};

/// The file name of published events in the data folder.
pub const PUBLISHED_EVENTS_FILE: &str = "published-events.ndjson";

/// Appends events to `<dir>/published-events.ndjson`.
#[derive(Debug, Clone)]
pub struct FilePublisher {
    path: PathBuf,
}

impl FilePublisher {
    /// A publisher writing into the data folder `dir` (created if missing).
    pub fn in_dir(dir: impl AsRef<Path>) -> Result<Self, BusError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)
            .map_err(|e| BusError::transient(format!("could not create {}", dir.display()), e))?;
        Ok(Self {
            path: dir.join(PUBLISHED_EVENTS_FILE),
        })
    }

    /// The file events are appended to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every event in the file, oldest first (lines that are not events are skipped).
    pub fn read_all(&self) -> Result<Vec<Event>, BusError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(BusError::transient(
                    format!("could not read {}", self.path.display()),
                    e,
                ));
            }
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}

#[async_trait]
impl EventPublisher for FilePublisher {
    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        let mut line = serde_json::to_vec(event)
            .map_err(|e| BusError::permanent("unserialisable event", e))?;
        line.push(b'\n');
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| {
                    BusError::transient(format!("could not open {}", path.display()), e)
                })?;
            file.write_all(&line)
                .and_then(|()| file.sync_data())
                .map_err(|e| {
                    BusError::transient(format!("could not append to {}", path.display()), e)
                })
        })
        .await
        .map_err(|e| BusError::transient("the event writer did not finish", e))?
    }
}

#[cfg(test)]
#[path = "local_test.rs"]
mod tests;
