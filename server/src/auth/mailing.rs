//! The mails of the account lifecycle, written when the outbox worker sends
//! them: for the account as it is then, in its language, with a link whose
//! token is made at that moment.

use async_trait::async_trait;

use super::{
    mail_tokens::{self, Purpose},
    users::{self, login_key},
    AuthService,
};
use crate::mail::{
    letters::{self, About},
    Compose, Letter, MailKind, Pending,
};

#[async_trait]
impl Compose for AuthService {
    async fn compose(&self, pending: &Pending, now: i64) -> Result<Option<Letter>, sqlx::Error> {
        let me = &self.0;
        // Mails waiting for an account that went were deleted with it; one
        // taken up meanwhile finds nobody.
        let Some(row) = users::find_by_id(&me.db, pending.user_id).await? else {
            return Ok(None);
        };
        let to_current = login_key(&row.email) == login_key(&pending.address);
        let link = match pending.kind {
            MailKind::VerifyEmail => {
                // Verified meanwhile: nothing to ask.
                if to_current && row.email_verified {
                    return Ok(None);
                }
                Some((Purpose::Verify, "/verify-email", me.mail.verify_ttl))
            }
            MailKind::PasswordReset => {
                // The link would reset an account that is no longer there
                // for this address.
                if !to_current || !row.is_active {
                    return Ok(None);
                }
                Some((Purpose::Reset, "/reset-password", me.mail.reset_ttl))
            }
            MailKind::PasswordChanged | MailKind::EmailChangeRequested => None,
        };
        let (link, token_hash, valid_hours) = match link {
            Some((purpose, path, ttl)) => {
                let ttl = ttl.as_secs() as i64;
                let issued =
                    mail_tokens::issue(&me.db, row.id, purpose, &pending.address, ttl, now).await?;
                let link = format!("{}{path}?token={}", me.mail.public_url, issued.token);
                (Some(link), Some(issued.hash), (ttl as u64).div_ceil(3600))
            }
            None => (None, None, 0),
        };
        let words = letters::write(&About {
            kind: pending.kind,
            locale: row.locale,
            name: &row.full_name,
            link: link.as_deref(),
            valid_hours,
            new_address: pending.detail.as_deref(),
        });
        Ok(Some(Letter {
            to_name: row.full_name.clone(),
            to: pending.address.clone(),
            words,
            link,
            token_hash,
        }))
    }

    async fn not_sent(&self, letter: &Letter) {
        if let Some(hash) = &letter.token_hash {
            if let Err(e) = mail_tokens::delete(&self.0.db, hash).await {
                // It dies with its TTL, and nobody holds it.
                tracing::warn!(error = %e, "cannot delete the token of an unsent mail");
            }
        }
    }
}
