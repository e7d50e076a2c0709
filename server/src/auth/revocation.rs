//! The revocation list: the `jti` of every access token revoked before its
//! expiry, kept until that expiry.

use super::{
    store::{SharedStore, StoreError},
    validation_cache::ValidationCache,
};

#[derive(Clone)]
pub struct RevocationList {
    store: SharedStore,
    validation: ValidationCache,
}

impl RevocationList {
    pub fn new(store: SharedStore, validation: ValidationCache) -> Self {
        RevocationList { store, validation }
    }

    /// The Redis key that lists `jti`; `None` when the list is in the database.
    /// Validation reads it together with the generation of the validation cache.
    pub fn redis_key(&self, jti: &str) -> Option<String> {
        match &self.store {
            SharedStore::Redis(redis) => Some(redis.key(&format!("revoked:{jti}"))),
            SharedStore::Database(_) => None,
        }
    }

    pub async fn revoke(&self, jti: &str, expires_at: i64, now: i64) -> Result<(), StoreError> {
        match &self.store {
            SharedStore::Database(db) => {
                sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
                    .bind(jti)
                    .bind(expires_at)
                    .execute(&db.writer)
                    .await?;
            }
            SharedStore::Redis(redis) => {
                let ttl = (expires_at - now).max(1);
                let mut conn = redis.conn.clone();
                redis::cmd("SET")
                    .arg(self.redis_key(jti))
                    .arg(1)
                    .arg("EX")
                    .arg(ttl)
                    .query_async::<()>(&mut conn)
                    .await?;
            }
        }
        self.validation.invalidate().await;
        Ok(())
    }

    /// Drops entries whose tokens have expired (Redis expires its own).
    pub async fn delete_expired(&self, now: i64) -> Result<u64, StoreError> {
        match &self.store {
            SharedStore::Database(db) => Ok(sqlx::query(
                "DELETE FROM revoked_tokens WHERE expires_at <= $1",
            )
            .bind(now)
            .execute(&db.writer)
            .await?
            .rows_affected()),
            SharedStore::Redis(_) => Ok(0),
        }
    }
}
