//! The Redis connection of scale-out mode, shared by all server processes.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// A self-reconnecting Redis connection whose every command has a short
/// deadline, so an unreachable Redis turns into an error quickly instead of a hang.
#[derive(Clone)]
pub struct RedisStore {
    pub conn: ConnectionManager,
    /// Prepended to every key.
    pub prefix: String,
}

impl RedisStore {
    /// Connects lazily: the server starts while Redis is down and recovers
    /// when it comes back.
    pub fn connect(url: &str, prefix: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(RedisStore {
            conn,
            prefix: prefix.to_string(),
        })
    }

    pub fn key(&self, parts: &str) -> String {
        format!("{}{}", self.prefix, parts)
    }

    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}
