//! Mail, sent after the response and never lost: a change writes its mails
//! into the `outbox` table in its own transaction, and a worker in each
//! server process takes them up, one at a time under a lease, and sends
//! them through the relay (or into files). A failed send is retried with
//! backoff for a day and logged; a crash loses nothing, since a lease that
//! runs out puts the mail back.
//!
//! What a mail says is the auth domain's ([`Compose`]): the worker asks it
//! for each mail when it is sent, so a link's token exists only from then
//! and no secret ever waits in the outbox.

pub mod letters;
mod outbox;
mod transport;

use std::{path::PathBuf, sync::Arc, time::Duration};

use async_trait::async_trait;
use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    Message,
};
use tokio::time::MissedTickBehavior;

pub use self::{
    outbox::{MailKind, NewMail, Outbox, Pending, THROTTLE_SECS},
    transport::{SendError, Transport},
};
use crate::{
    auth::Clock,
    metrics::{MailOutcome, Metrics},
};

/// A mail ready to send.
pub struct Letter {
    pub to_name: String,
    pub to: String,
    pub words: letters::Words,
    /// The mail's link, logged when mails go to files in development.
    pub link: Option<String>,
    /// The stored hash of the link's token, deleted if the send fails.
    pub token_hash: Option<String>,
}

/// Writes the mails: what each says, for the account as it is when it is sent.
#[async_trait]
pub trait Compose: Send + Sync {
    /// The letter for `pending`, or `None` when it has nothing left to say
    /// (the address was verified, the account changed or went).
    async fn compose(&self, pending: &Pending, now: i64) -> Result<Option<Letter>, sqlx::Error>;

    /// The letter could not be sent: its link's token goes.
    async fn not_sent(&self, letter: &Letter);
}

/// How often each worker looks for mail that is due without being woken
/// (retries, and mail written by other processes).
const POLL_EVERY: Duration = Duration::from_secs(2);

/// How long after the first try a mail is given up.
const GIVE_UP_AFTER_SECS: i64 = 24 * 3600;

/// The wait before try `n + 1`, after `n` failed ones.
fn backoff_secs(failed: i64) -> i64 {
    const STEPS: [i64; 8] = [10, 30, 60, 120, 300, 600, 1200, 1800];
    STEPS
        .get((failed - 1).max(0) as usize)
        .copied()
        .unwrap_or(3600)
}

/// The outbox worker of this process.
pub struct Postman {
    pub outbox: Outbox,
    pub transport: Transport,
    pub composer: Arc<dyn Compose>,
    pub from: Mailbox,
    pub clock: Clock,
    pub metrics: Metrics,
    /// Log each file mail's link (development with no relay).
    pub log_links: bool,
}

impl Postman {
    /// Runs the worker until it is aborted or the runtime stops.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(POLL_EVERY);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = self.outbox.woken() => {}
                }
                self.deliver_due().await;
            }
        })
    }

    /// Sends every mail that is due, one at a time.
    pub async fn deliver_due(&self) {
        loop {
            let now = self.clock.now();
            // The lease outlasts a send that times out.
            let lease_until = now + 2 * transport::SEND_TIMEOUT.as_secs() as i64 + 30;
            match self.outbox.take_due(now, lease_until).await {
                Ok(Some(pending)) => self.deliver(pending).await,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the mail outbox");
                    return;
                }
            }
        }
    }

    async fn deliver(&self, pending: Pending) {
        let now = self.clock.now();
        let letter = match self.composer.compose(&pending, now).await {
            Ok(Some(letter)) => letter,
            Ok(None) => {
                self.metrics.mail(MailOutcome::Dropped);
                tracing::info!(
                    mail = pending.kind.as_str(),
                    user_id = pending.user_id,
                    "mail no longer needed"
                );
                return self.finish(&pending).await;
            }
            Err(e) => {
                return self
                    .failed(&pending, &format!("cannot write the mail: {e}"), false)
                    .await
            }
        };
        let message = match self.message(&letter) {
            Ok(message) => message,
            Err(e) => {
                self.composer.not_sent(&letter).await;
                return self.failed(&pending, &e, true).await;
            }
        };
        let name = format!("{}-{}-{}", now, pending.id, pending.kind.as_str());
        match self.transport.send(message, &name).await {
            Ok(file) => {
                self.metrics.mail(MailOutcome::Sent);
                match (&file, &letter.link) {
                    (Some(file), Some(link)) if self.log_links => tracing::info!(
                        mail = pending.kind.as_str(),
                        file = %file.display(),
                        link = %link,
                        "mail written to a file (no SMTP_URL); its link"
                    ),
                    (Some(file), _) => {
                        tracing::info!(mail = pending.kind.as_str(), file = %file.display(), "mail written to a file (no SMTP_URL)")
                    }
                    (None, _) => tracing::info!(
                        mail = pending.kind.as_str(),
                        user_id = pending.user_id,
                        "mail sent"
                    ),
                }
                self.finish(&pending).await;
            }
            Err(e) => {
                self.composer.not_sent(&letter).await;
                let permanent = matches!(e, SendError::Permanent(_));
                self.failed(&pending, &e.to_string(), permanent).await;
            }
        }
    }

    fn message(&self, letter: &Letter) -> Result<Message, String> {
        let to = letter
            .to
            .parse()
            .map(|address| Mailbox::new(Some(letter.to_name.clone()), address))
            .map_err(|e| format!("the address cannot receive mail: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(letter.words.subject.clone())
            .message_id(None)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(letter.words.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(letter.words.html.clone()),
                    ),
            )
            .map_err(|e| format!("cannot build the mail: {e}"))
    }

    async fn finish(&self, pending: &Pending) {
        if let Err(e) = self.outbox.done(pending.id).await {
            // The lease runs out and the mail is sent again: better twice than never.
            tracing::warn!(error = %e, mail = pending.kind.as_str(), "cannot take a sent mail out of the outbox");
        }
    }

    async fn failed(&self, pending: &Pending, error: &str, permanent: bool) {
        let now = self.clock.now();
        if permanent || now - pending.created_at >= GIVE_UP_AFTER_SECS {
            self.metrics.mail(MailOutcome::GivenUp);
            tracing::error!(
                mail = pending.kind.as_str(),
                user_id = pending.user_id,
                attempts = pending.attempts,
                error,
                "mail given up"
            );
            return self.finish(pending).await;
        }
        let retry_in = backoff_secs(pending.attempts);
        self.metrics.mail(MailOutcome::Retried);
        tracing::warn!(
            mail = pending.kind.as_str(),
            user_id = pending.user_id,
            attempts = pending.attempts,
            retry_in,
            error,
            "cannot send a mail; it will be tried again"
        );
        if let Err(e) = self
            .outbox
            .retry_at(pending.id, now + retry_in, error)
            .await
        {
            tracing::warn!(error = %e, "cannot put a mail back into the outbox; its lease will");
        }
    }
}

/// The directory of file mails.
pub fn files_dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("outbox")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_go_on_for_at_least_ten_minutes() {
        let waits: Vec<i64> = (1..=6).map(backoff_secs).collect();
        assert!(waits.windows(2).all(|w| w[0] < w[1]), "{waits:?}");
        assert!(waits.iter().sum::<i64>() >= 600, "{waits:?}");
        assert_eq!(backoff_secs(100), 3600);
    }
}
