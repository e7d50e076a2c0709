//! Where the data lives: `DATABASE_URL`, and Redis for scale-out.

use super::vars::{bad, ConfigError, Vars};

#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// `sqlite:…` or `postgres://…` (`DATABASE_URL`).
    pub url: String,
    /// PostgreSQL connections per process (`DATABASE_MAX_CONNECTIONS`).
    pub max_connections: u32,
    /// Redis of the scale-out mode (`REDIS_URL`).
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several deployments (or tests) can share one Redis.
    pub redis_key_prefix: String,
}

impl DatabaseSettings {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let url = vars
            .get("DATABASE_URL")
            .unwrap_or("sqlite://data/auth.db")
            .to_string();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(bad(
                "DATABASE_URL",
                "must start with `sqlite:` or `postgres://`",
            ));
        }
        // More connections than the cores can serve only make them contend
        // (measured: docs/performance.md).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let max_connections =
            vars.positive("DATABASE_MAX_CONNECTIONS", &(2 * cores).to_string())?;
        let redis_url = vars.get("REDIS_URL").map(str::to_string);
        if let Some(url) = &redis_url {
            let schemes = ["redis://", "rediss://", "redis+unix://", "unix://"];
            if !schemes.iter().any(|s| url.starts_with(s)) {
                return Err(bad(
                    "REDIS_URL",
                    "must start with `redis://` or `rediss://`",
                ));
            }
        }
        Ok(DatabaseSettings {
            url,
            max_connections,
            redis_url,
            redis_key_prefix: vars.get("REDIS_KEY_PREFIX").unwrap_or("auth:").to_string(),
        })
    }
}
