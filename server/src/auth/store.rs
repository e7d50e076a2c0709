//! Where the shared, short-lived security state lives: the database in the
//! embedded mode, Redis in scale-out mode. Either way it survives a restart.

use crate::{db::Db, redis_store::RedisStore};

#[derive(Clone)]
pub enum SharedStore {
    Database(Db),
    Redis(RedisStore),
}

/// The store could not answer. Callers fail closed: 503, never an unchecked token.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}
