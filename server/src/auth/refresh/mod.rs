//! Refresh tokens: opaque, stored as SHA-256, grouped in families (one per
//! login, with an absolute expiry). Rotation claims the presented token with
//! one conditional UPDATE, whose trigger adds the successor and the audit
//! event in the same statement, so of N concurrent rotations exactly one
//! wins; the others, within the grace window, get the very same successor
//! back. The claim comes first and checks the family and user itself, so a
//! rotation that succeeds waits for one batch (the UPDATE, then one SELECT
//! of the claimed tokens' users); only a refused claim looks the token up,
//! to tell reuse from a repeat or an invalid token. Claims and look-ups are
//! batched: those waiting at one moment share one UPDATE, and one SELECT.

mod claims;
mod families;
mod lookups;
pub mod token;

use tokio::sync::oneshot;

use self::{
    claims::{claim_alone, claim_batch, Claim, Claimed},
    lookups::{find_alone, find_batch, Find, PresentedRow},
    token::{is_well_formed, new_token, seal, unseal},
};
pub use self::{
    families::{revoke_user_families_in, FamilyRow, Origin},
    token::token_hash,
};
use super::{
    client::ClientInfo, group_commit::GroupCommit, users::UserRow,
    validation_cache::ValidationCache, Clock,
};
use crate::{config::TokenSettings, db::Db, store::StoreError};

/// The most claims one UPDATE makes (5 bound values each).
const MAX_CLAIMS: usize = 64;

/// The most tokens one SELECT looks up.
const MAX_FINDS: usize = 64;

/// What presenting a refresh token led to.
pub enum Rotation {
    /// A new refresh token (or, in the grace window, the one already issued).
    Rotated {
        /// The family's user as stored now, read with the token.
        user: UserRow,
        family_id: String,
        token: String,
        /// Whether the rotation stored its audit event (a claim does; a
        /// repeat within the grace window does not).
        audited: bool,
    },
    /// An already-rotated token outside the grace window: the family is now revoked.
    ReuseDetected { user_id: i64, family_id: String },
    /// Unknown, malformed, expired or revoked, or its user is inactive.
    Invalid,
}

#[derive(Clone)]
pub struct RefreshTokens {
    db: Db,
    clock: Clock,
    validation: ValidationCache,
    finds: GroupCommit<Find>,
    claims: GroupCommit<Claim>,
    ttl: i64,
    grace: i64,
}

impl RefreshTokens {
    /// Starts the claims writer: call within the Tokio runtime.
    pub fn new(
        db: Db,
        clock: Clock,
        validation: ValidationCache,
        settings: &TokenSettings,
    ) -> Self {
        let (writer_db, writer_clock) = (db.clone(), clock.clone());
        let claims = GroupCommit::start(MAX_CLAIMS, move |batch| {
            claim_batch(writer_db.clone(), writer_clock.clone(), batch)
        });
        let finder_db = db.clone();
        let finds =
            GroupCommit::start(MAX_FINDS, move |batch| find_batch(finder_db.clone(), batch));
        RefreshTokens {
            db,
            clock,
            validation,
            finds,
            claims,
            ttl: settings.refresh_ttl.as_secs() as i64,
            grace: settings.reuse_grace.as_secs() as i64,
        }
    }

    async fn find(&self, hash: &str) -> Result<Option<PresentedRow>, sqlx::Error> {
        let (found, answer) = oneshot::channel();
        let find = Find {
            hash: hash.to_string(),
            found,
        };
        match self.finds.submit(find) {
            Ok(()) => answer.await.unwrap_or(Err(sqlx::Error::WorkerCrashed)),
            Err(find) => find_alone(&self.db, &find.hash).await,
        }
    }

    /// Rotates `presented`: see the module documentation.
    pub async fn rotate(
        &self,
        presented: &str,
        client: &ClientInfo,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        if !is_well_formed(presented) {
            return Ok(Rotation::Invalid);
        }
        let hash = token_hash(presented);
        let successor = new_token();
        let sealed = seal(presented, &successor);
        if let Some(claimed) = self
            .claim(&hash, token_hash(&successor), sealed, client)
            .await?
        {
            return Ok(Rotation::Rotated {
                user: claimed.user,
                family_id: claimed.family_id,
                token: successor,
                audited: true,
            });
        }

        // Refused: unknown, expired or revoked, its user inactive, or
        // already rotated (by another request a moment ago, or long ago).
        let Some(row) = self.find(&hash).await? else {
            return Ok(Rotation::Invalid);
        };
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Ok(Rotation::Invalid);
        }
        if !row.user.is_active {
            self.revoke_family(&row.family_id, "user inactive", now)
                .await?;
            return Ok(Rotation::Invalid);
        }
        if row.used_at.is_none() {
            // The family or user changed between the claim and the look-up.
            return Ok(Rotation::Invalid);
        }

        if let Some(token) = self.grace_successor(presented, &row, now).await? {
            return Ok(Rotation::Rotated {
                user: row.user,
                family_id: row.family_id,
                token,
                audited: false,
            });
        }
        self.revoke_family(&row.family_id, "reuse", now).await?;
        Ok(Rotation::ReuseDetected {
            user_id: row.user.id,
            family_id: row.family_id,
        })
    }

    /// Sets the successor of a token unless another claim did first, its
    /// family is revoked or expired, or its user is inactive; the token's
    /// family and user when this claim did.
    async fn claim(
        &self,
        hash: &str,
        successor_hash: String,
        sealed: Option<String>,
        client: &ClientInfo,
    ) -> Result<Option<Claimed>, sqlx::Error> {
        let (won, answer) = oneshot::channel();
        let claim = Claim {
            hash: hash.to_string(),
            successor_hash,
            sealed,
            client: client.clone(),
            won,
        };
        if let Err(claim) = self.claims.submit(claim) {
            // The writer has stopped (the runtime is shutting down).
            claim_alone(&self.db, self.clock.now(), claim).await;
        }
        answer.await.unwrap_or(Err(sqlx::Error::WorkerCrashed))
    }

    /// The successor of an already-rotated token, when it was rotated within
    /// the grace window and the successor has not been used itself.
    async fn grace_successor(
        &self,
        presented: &str,
        row: &PresentedRow,
        now: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        let (Some(used_at), Some(successor_hash), Some(sealed)) =
            (row.used_at, &row.successor_hash, &row.successor_sealed)
        else {
            return Ok(None);
        };
        if now - used_at > self.grace {
            return Ok(None);
        }
        let Some(successor) =
            unseal(presented, sealed).filter(|s| token_hash(s) == *successor_hash)
        else {
            return Ok(None);
        };
        let successor_used: Option<Option<i64>> =
            sqlx::query_scalar("SELECT used_at FROM refresh_tokens WHERE token_hash = $1")
                .bind(successor_hash)
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(matches!(successor_used, Some(None)).then_some(successor))
    }

    /// The grace window, in seconds.
    pub fn grace(&self) -> i64 {
        self.grace
    }
}

#[cfg(test)]
mod test_support {
    use super::token::{new_token, token_hash};
    pub(super) use super::{claims::*, families::Origin, RefreshTokens};
    pub use crate::{
        auth::{client::ClientInfo, validation_cache::ValidationCache, Clock},
        db::Db,
    };
    use tokio::sync::oneshot;

    pub type Won = oneshot::Receiver<Result<Option<Claimed>, sqlx::Error>>;

    pub fn claim_of(token: &str) -> (Claim, Won) {
        let (won, answer) = oneshot::channel();
        let claim = Claim {
            hash: token_hash(token),
            successor_hash: token_hash(&new_token()),
            sealed: None,
            client: ClientInfo::default(),
            won,
        };
        (claim, answer)
    }

    /// A SQLite file holding user 1, the refresh tokens on it, and their
    /// clock, set to time 10.
    pub async fn one_user_store() -> (tempfile::TempDir, Db, RefreshTokens, Clock) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/claims.db", dir.path().display()), 2)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO users (username, username_key, email, email_key, full_name, password_hash, created_at, updated_at) \
             VALUES ('u', 'u', 'u@example.com', 'u@example.com', 'U', 'x', 0, 0)",
        )
        .execute(&db.writer)
        .await
        .unwrap();
        let clock = Clock::system();
        clock.advance(10 - clock.now());
        let vars = [
            ("JWT_SECRET", "test-secret-test-secret-test-secret-0123"),
            ("REFRESH_TOKEN_TTL", "3600"),
            ("REFRESH_REUSE_GRACE", "5"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let settings = crate::config::Config::from_vars(&vars.into())
            .unwrap()
            .tokens;
        let refresh = RefreshTokens::new(
            db.clone(),
            clock.clone(),
            ValidationCache::new(&db, None, clock.clone()),
            &settings,
        );
        (dir, db, refresh, clock)
    }

    /// A new family of user 1 at time 0: its id and first token.
    pub async fn family_of_user_1(refresh: &RefreshTokens) -> (String, String) {
        let origin = Origin {
            ip: None,
            user_agent: None,
        };
        refresh.start_family(1, &origin, 0).await.unwrap()
    }

    /// The successor hash stored for `token` (read on the writer, which
    /// stays open when a test closes the readers).
    pub async fn stored_successor(db: &Db, token: &str) -> Option<String> {
        sqlx::query_scalar("SELECT successor_hash FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_one(&db.writer)
            .await
            .unwrap()
    }

    /// The family a claim won, or None when it lost.
    pub async fn family_won(won: Won) -> Option<String> {
        won.await.unwrap().unwrap().map(|claimed| {
            assert_eq!(claimed.user.username, "u", "the claim reads the user");
            claimed.family_id
        })
    }
}
