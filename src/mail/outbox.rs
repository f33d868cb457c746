//! The local mail adapter: every message becomes `<dir>/<message id>.eml`.
//!
//! The file holds exactly the bytes [`build_mime`] builds (the bytes SES would get). It is
//! written to a temporary file in the same folder and renamed into place, so a reader never
//! sees half a message and a retry with the same message id replaces the file instead of
//! adding a second one.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{MailError, Mailer, OutgoingEmail, SentMessage, build_mime};

/// Writes messages as `.eml` files into one folder.
#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
}

impl OutboxMailer {
    /// An outbox over `dir`, created (with its parents) if missing.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, MailError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| {
            MailError::transient(
                format!("could not create the outbox folder {}", dir.display()),
                e,
            )
        })?;
        Ok(Self { dir })
    }

    /// The outbox folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the message with this id is (or would be) written.
    pub fn path_for(&self, message_id: &str) -> PathBuf {
        self.dir.join(format!("{message_id}.eml"))
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError> {
        let bytes = build_mime(email)?;
        let path = self.path_for(&email.message_id);
        let dir = self.dir.clone();
        let target = path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&dir, &target, &bytes))
            .await
            .map_err(|e| MailError::transient("the outbox writer did not finish", e))??;
        Ok(SentMessage {
            message_id: email.message_id.clone(),
            provider_id: path.display().to_string(),
        })
    }
}

/// Writes `bytes` to a unique temporary file in `dir`, syncs it, renames it onto `target`.
fn write_atomically(dir: &Path, target: &Path, bytes: &[u8]) -> Result<(), MailError> {
    use std::io::Write;

    let io = |what: &str, e: std::io::Error| {
        MailError::transient(format!("could not {what} {}", target.display()), e)
    };
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut file =
            std::fs::File::create(&tmp).map_err(|e| io("create a temporary file for", e))?;
        file.write_all(bytes).map_err(|e| io("write", e))?;
        file.sync_all().map_err(|e| io("sync", e))?;
        std::fs::rename(&tmp, target).map_err(|e| io("rename into place", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
