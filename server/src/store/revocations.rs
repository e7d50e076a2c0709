//! The revocation list: the `jti` of every access token revoked before its
//! expiry, kept until that expiry.

use async_trait::async_trait;

use super::{RedisStore, StoreError};
use crate::db::Db;

#[async_trait]
pub trait RevocationStore: Send + Sync {
    /// Lists `jti` until `expires_at`.
    async fn revoke(&self, jti: &str, expires_at: i64, now: i64) -> Result<(), StoreError>;

    /// The Redis key that lists `jti`, which validation reads in the same
    /// command as the validation generation; `None` when the database holds
    /// the list, and validation's own query reads it.
    fn key_read_with_the_generation(&self, jti: &str) -> Option<String>;

    /// Drops entries whose tokens have expired; returns how many.
    async fn delete_expired(&self, now: i64) -> Result<u64, StoreError>;
}

/// The `revoked_tokens` table.
pub struct InDatabase(pub Db);

#[async_trait]
impl RevocationStore for InDatabase {
    async fn revoke(&self, jti: &str, expires_at: i64, _now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(expires_at)
        .execute(&self.0.writer)
        .await?;
        Ok(())
    }

    fn key_read_with_the_generation(&self, _jti: &str) -> Option<String> {
        None
    }

    async fn delete_expired(&self, now: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM revoked_tokens WHERE expires_at <= $1")
                .bind(now)
                .execute(&self.0.writer)
                .await?
                .rows_affected(),
        )
    }
}

/// One key per revoked token, expiring with it: `revoked:<jti>`.
pub struct InRedis(pub RedisStore);

impl InRedis {
    fn key(&self, jti: &str) -> String {
        self.0.key(&format!("revoked:{jti}"))
    }
}

#[async_trait]
impl RevocationStore for InRedis {
    async fn revoke(&self, jti: &str, expires_at: i64, now: i64) -> Result<(), StoreError> {
        let mut conn = self.0.conn.clone();
        redis::cmd("SET")
            .arg(self.key(jti))
            .arg(1)
            .arg("EX")
            .arg((expires_at - now).max(1))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    fn key_read_with_the_generation(&self, jti: &str) -> Option<String> {
        Some(self.key(jti))
    }

    /// Redis expires its own keys.
    async fn delete_expired(&self, _now: i64) -> Result<u64, StoreError> {
        Ok(0)
    }
}
