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

    /// True when the list is a database table (and can be joined into a query).
    pub fn in_database(&self) -> bool {
        matches!(self.store, SharedStore::Database(_))
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
                    .arg(redis.key(&format!("revoked:{jti}")))
                    .arg(1)
                    .arg("EX")
                    .arg(ttl)
                    .query_async::<()>(&mut conn)
                    .await?;
            }
        }
        self.validation.invalidate().await
    }

    pub async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        match &self.store {
            SharedStore::Database(db) => {
                let found: Option<String> =
                    sqlx::query_scalar("SELECT jti FROM revoked_tokens WHERE jti = $1")
                        .bind(jti)
                        .fetch_optional(&db.pool)
                        .await?;
                Ok(found.is_some())
            }
            SharedStore::Redis(redis) => {
                let mut conn = redis.conn.clone();
                Ok(redis::cmd("EXISTS")
                    .arg(redis.key(&format!("revoked:{jti}")))
                    .query_async::<bool>(&mut conn)
                    .await?)
            }
        }
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
