//! The revocation list of access tokens, and what validation remembers
//! about them.

use std::sync::Arc;

use super::validation_cache::ValidationCache;
use crate::store::{RevocationStore, StoreError};

#[derive(Clone)]
pub struct RevocationList {
    store: Arc<dyn RevocationStore>,
    validation: ValidationCache,
}

impl RevocationList {
    pub fn new(store: Arc<dyn RevocationStore>, validation: ValidationCache) -> Self {
        RevocationList { store, validation }
    }

    /// See [`RevocationStore::key_read_with_the_generation`].
    pub fn key_read_with_the_generation(&self, jti: &str) -> Option<String> {
        self.store.key_read_with_the_generation(jti)
    }

    /// Rejects the token `jti` from now until `expires_at`.
    pub async fn revoke(&self, jti: &str, expires_at: i64, now: i64) -> Result<(), StoreError> {
        self.store.revoke(jti, expires_at, now).await?;
        self.validation.invalidate().await;
        Ok(())
    }

    pub async fn delete_expired(&self, now: i64) -> Result<u64, StoreError> {
        self.store.delete_expired(now).await
    }
}
