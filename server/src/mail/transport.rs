//! How a mail leaves: through an SMTP relay, or (with no `SMTP_URL`) as an
//! `.eml` file in `DATA_DIR/outbox/`.

use std::{io::Write, os::unix::fs::OpenOptionsExt, path::PathBuf, time::Duration};

use lettre::{
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use crate::config::{SmtpRelay, SmtpSecurity};

/// The longest one send may take. lettre's own timeout bounds only the
/// connect; a relay that accepts and then stalls would hold the worker.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again (the relay is down, busy, or timed out).
    #[error("{0}")]
    Transient(String),
    /// Trying again will not help (the relay refused the address for good).
    #[error("{0}")]
    Permanent(String),
}

impl Transport {
    /// The relay of `smtp` (build within the Tokio runtime: the connection
    /// pool starts a task), or the directory of files.
    pub fn new(smtp: Option<&SmtpRelay>, files: PathBuf) -> Result<Self, String> {
        let Some(relay) = smtp else {
            return Ok(Transport::Files(files));
        };
        let tls = || {
            TlsParameters::new(relay.host.clone())
                .map_err(|e| format!("cannot set up TLS for {}: {e}", relay.host))
        };
        let tls = match relay.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::Opportunistic => Tls::Opportunistic(tls()?),
            SmtpSecurity::StartTlsRequired => Tls::Required(tls()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&relay.host)
            .port(relay.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(10)));
        if let Some(credentials) = &relay.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.user.clone(),
                String::from_utf8_lossy(credentials.password.expose()).into_owned(),
            ));
        }
        Ok(Transport::Smtp(builder.build()))
    }

    pub fn is_files(&self) -> bool {
        matches!(self, Transport::Files(_))
    }

    /// Sends `message`; for files, returns the file written.
    pub async fn send(&self, message: Message, name: &str) -> Result<Option<PathBuf>, SendError> {
        match self {
            Transport::Smtp(relay) => {
                match tokio::time::timeout(SEND_TIMEOUT, relay.send(message)).await {
                    Err(_) => Err(SendError::Transient(
                        "the relay did not answer in time".into(),
                    )),
                    Ok(Ok(_)) => Ok(None),
                    Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                    Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
                }
            }
            Transport::Files(dir) => {
                let dir = dir.clone();
                let name = name.to_string();
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || write_file(&dir, &name, &bytes))
                    .await
                    .map_err(|e| SendError::Transient(e.to_string()))?
                    .map(Some)
                    .map_err(|e| SendError::Transient(format!("cannot write the mail file: {e}")))
            }
        }
    }
}

/// Writes `name.eml` whole or not at all (a temporary file, then a rename),
/// readable by the owner only: it holds a live link.
fn write_file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{name}.eml"));
    let partial = dir.join(format!(".{name}.eml.partial"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}
