//! The families of refresh tokens, one per login: starting, listing and
//! ending them, and deleting what has expired.

use super::{
    token::{new_token, token_hash},
    RefreshTokens,
};
use crate::store::StoreError;

/// A login session as the sessions list shows it.
#[derive(sqlx::FromRow)]
pub struct FamilyRow {
    pub id: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Where a new family comes from, for the audit log and the sessions list.
pub struct Origin<'a> {
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

impl RefreshTokens {
    /// Starts a family for a new login; returns its id and first token.
    pub async fn start_family(
        &self,
        user_id: i64,
        origin: &Origin<'_>,
        now: i64,
    ) -> Result<(String, String), sqlx::Error> {
        let family_id = uuid::Uuid::new_v4().to_string();
        let token = new_token();
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO refresh_families (id, user_id, created_at, last_used_at, expires_at, ip, user_agent) \
             VALUES ($1, $2, $3, $3, $4, $5, $6)",
        )
        .bind(&family_id)
        .bind(user_id)
        .bind(now)
        .bind(now + self.ttl)
        .bind(origin.ip)
        .bind(origin.user_agent)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash(&token))
        .bind(&family_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((family_id, token))
    }

    /// Revokes a family; true when it was active.
    pub async fn revoke_family(
        &self,
        family_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let revoked = sqlx::query("UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(reason)
            .bind(family_id)
            .execute(&self.db.writer)
            .await?
            .rows_affected()
            == 1;
        if revoked {
            self.validation.invalidate().await;
        }
        Ok(revoked)
    }

    /// Revokes every active family of a user, except `keep`; returns how many.
    pub async fn revoke_user_families(
        &self,
        user_id: i64,
        reason: &str,
        keep: Option<&str>,
        now: i64,
    ) -> Result<u64, StoreError> {
        let mut conn = self.db.writer.acquire().await?;
        let revoked = revoke_user_families_in(&mut conn, user_id, reason, keep, now).await?;
        drop(conn);
        if revoked > 0 {
            self.validation.invalidate().await;
        }
        Ok(revoked)
    }

    /// A user's families that are neither revoked nor expired, newest first.
    pub async fn active_families(
        &self,
        user_id: i64,
        now: i64,
    ) -> Result<Vec<FamilyRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, created_at, last_used_at, ip, user_agent FROM refresh_families \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.db.pool)
        .await
    }

    /// The family and owner of a token, if it exists.
    pub async fn owner_of(&self, presented: &str) -> Result<Option<(String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT f.id, f.user_id FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.token_hash = $1",
        )
        .bind(token_hash(presented))
        .fetch_optional(&self.db.pool)
        .await
    }

    /// True when the family exists, is not revoked and has not expired.
    pub async fn is_active(&self, family_id: &str, now: i64) -> Result<bool, sqlx::Error> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM refresh_families WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2")
                .bind(family_id)
                .bind(now)
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(found.is_some())
    }

    /// Deletes expired families (their tokens go with them); returns how many.
    pub async fn delete_expired(&self, now: i64) -> Result<u64, sqlx::Error> {
        sqlx::query("DELETE FROM refresh_families WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.db.writer)
            .await
            .map(|r| r.rows_affected())
    }

    /// Forgets the sealed successors whose grace window has passed: after
    /// it no repeat gets the successor, and a database dump must not let an
    /// old token walk the chain to the live one. Returns how many.
    pub async fn forget_expired_seals(&self, now: i64) -> Result<u64, sqlx::Error> {
        sqlx::query(
            "UPDATE refresh_tokens SET successor_sealed = NULL \
             WHERE successor_sealed IS NOT NULL AND used_at < $1",
        )
        .bind(now - self.grace)
        .execute(&self.db.writer)
        .await
        .map(|r| r.rows_affected())
    }

    /// How many tokens a family holds (for tests and diagnostics).
    pub async fn family_size(&self, family_id: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM refresh_tokens WHERE family_id = $1")
            .bind(family_id)
            .fetch_one(&self.db.pool)
            .await
    }
}

/// Revokes every active family of a user, except `keep`, within the caller's
/// transaction (the change that ends them commits with them); returns how
/// many. The caller moves the validation generation once it commits.
pub async fn revoke_user_families_in(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    reason: &str,
    keep: Option<&str>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 \
         WHERE user_id = $3 AND revoked_at IS NULL AND ($4 IS NULL OR id <> $4)",
    )
    .bind(now)
    .bind(reason)
    .bind(user_id)
    .bind(keep)
    .execute(conn)
    .await?
    .rows_affected())
}
