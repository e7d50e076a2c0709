//! The database seam: one pool type for SQLite and PostgreSQL, chosen by
//! `DATABASE_URL` at run time. Queries use `$1`-style placeholders, which
//! both backends accept, and bind every value (never string-built SQL).

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
    AnyPool, ConnectOptions, Executor,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The pools, and which backend is behind them.
#[derive(Clone, Debug)]
pub struct Db {
    /// For reads.
    pub pool: AnyPool,
    /// For writes and write transactions. On SQLite a pool of one connection:
    /// writers wait their turn here, in order, instead of sleeping in
    /// SQLite's busy handler (which backs off up to 100 ms at a time) while
    /// another connection holds the write lock. On PostgreSQL, `pool` itself.
    pub writer: AnyPool,
    pub backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create the directory of the SQLite database: {0}")]
    CreateDir(std::io::Error),
    #[error("cannot connect to the database: {0}")]
    Connect(sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects (creating a SQLite file and its directory when missing) and
    /// applies the migrations of the backend. `pg_connections` sizes the
    /// PostgreSQL pool; SQLite has eight readers and one writer.
    pub async fn connect(url: &str, pg_connections: u32) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let url = match backend {
            Backend::Sqlite => sqlite_url(url).map_err(DbError::CreateDir)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(DbError::Connect)?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
        // sqlx pings a connection when it goes back to the pool, and by
        // default again when it is taken out: a second round trip (or, on
        // SQLite, a second hand-off to the connection's thread) for every
        // query. The release ping is enough to drop a broken connection; after
        // a PostgreSQL restart each idle connection fails one query at most.
        let pool_options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            .test_before_acquire(false);
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                let pool = sqlite_pool(pool_options.clone(), 8, options.clone()).await?;
                // An in-memory database exists once per connection: no second pool.
                let writer = if url.contains("mode=memory") || url.contains(":memory:") {
                    pool.clone()
                } else {
                    sqlite_pool(pool_options, 1, options).await?
                };
                (pool, writer)
            }
            Backend::Postgres => {
                let pool = pool_options
                    .max_connections(pg_connections)
                    .connect_with(options)
                    .await
                    .map_err(DbError::Connect)?;
                (pool.clone(), pool)
            }
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&writer).await.map_err(DbError::Migrate)?;
        Ok(Db {
            pool,
            writer,
            backend,
        })
    }

    /// A write transaction. SQLite's takes the write lock up front
    /// (IMMEDIATE): a deferred one that reads and then writes can fail with
    /// "database is locked" instead of waiting its turn.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

async fn sqlite_pool(
    pool_options: AnyPoolOptions,
    connections: u32,
    options: AnyConnectOptions,
) -> Result<AnyPool, DbError> {
    pool_options
        .max_connections(connections)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL lets readers run beside the one writer; the busy
                // timeout makes a writer of another process wait instead of
                // failing. The committing writer copies the WAL back into the
                // database every `wal_autocheckpoint` pages, and every write
                // waits meanwhile: 250 pages instead of SQLite's 1000 makes
                // those pauses a quarter as long, which the refresh tail
                // shows (docs/performance.md).
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = 250;",
                )
                .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

/// Makes sure a file database can be created: its directory exists and the
/// URL asks for create-if-missing.
fn sqlite_url(url: &str) -> std::io::Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty() || path == ":memory:" || query.contains("mode=memory");
    if !in_memory {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)?;
        }
    }
    Ok(if query.contains("mode=") {
        url.to_string()
    } else if query.is_empty() {
        format!("{url}?mode=rwc")
    } else {
        format!("{url}&mode=rwc")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_ask_for_create_if_missing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sub/auth.db", dir.path().display());
        assert_eq!(sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.path().join("sub").is_dir());
        assert_eq!(
            sqlite_url("sqlite::memory:").unwrap(),
            "sqlite::memory:?mode=rwc"
        );
        assert_eq!(
            sqlite_url("sqlite://x.db?mode=ro").unwrap(),
            "sqlite://x.db?mode=ro"
        );
    }
}
