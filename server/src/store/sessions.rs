//! The records of the browser sessions (tower-sessions): JSON, by session
//! id, until they expire.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};

use super::{RedisStore, StoreError};
use crate::db::Db;

/// One backend of [`SessionRecords`]: each record as JSON under its id.
#[async_trait]
pub trait SessionRecordStore: Send + Sync + std::fmt::Debug {
    /// Stores `json` under `id` unless the id is taken; false when taken.
    async fn insert_new(&self, id: &str, json: &str, expires_at: i64) -> Result<bool, StoreError>;
    async fn save(&self, id: &str, json: &str, expires_at: i64) -> Result<(), StoreError>;
    /// The record of `id`, unless it has expired.
    async fn load(&self, id: &str) -> Result<Option<String>, StoreError>;
    async fn delete(&self, id: &str) -> Result<(), StoreError>;
    /// Deletes expired records; returns how many.
    async fn delete_expired(&self, now: i64) -> Result<u64, StoreError>;
}

/// The session store of tower-sessions, on the backend chosen at start-up.
#[derive(Clone, Debug)]
pub struct SessionRecords(Arc<dyn SessionRecordStore>);

impl SessionRecords {
    pub fn new(store: impl SessionRecordStore + 'static) -> Self {
        SessionRecords(Arc::new(store))
    }

    /// Deletes expired sessions (Redis expires its own); returns how many.
    pub async fn delete_expired(&self, now: i64) -> Result<u64, StoreError> {
        self.0.delete_expired(now).await
    }
}

fn backend(e: StoreError) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn encode(record: &Record) -> session_store::Result<(String, String, i64)> {
    let json =
        serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    Ok((
        record.id.to_string(),
        json,
        record.expiry_date.unix_timestamp(),
    ))
}

#[async_trait]
impl SessionStore for SessionRecords {
    /// A new session never takes over a stored one: on the (128-bit,
    /// astronomically unlikely) collision of ids, it draws another id.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let (id, json, expires_at) = encode(record)?;
            if self
                .0
                .insert_new(&id, &json, expires_at)
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (id, json, expires_at) = encode(record)?;
        self.0.save(&id, &json, expires_at).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let json = self.0.load(&id.to_string()).await.map_err(backend)?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| session_store::Error::Decode(e.to_string()))
        })
        .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(&id.to_string()).await.map_err(backend)
    }
}

/// The `browser_sessions` table.
#[derive(Debug)]
pub struct InDatabase(pub Db);

#[async_trait]
impl SessionRecordStore for InDatabase {
    async fn insert_new(&self, id: &str, json: &str, expires_at: i64) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO browser_sessions (id, record, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(json)
        .bind(expires_at)
        .execute(&self.0.writer)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn save(&self, id: &str, json: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO browser_sessions (id, record, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at",
        )
        .bind(id)
        .bind(json)
        .bind(expires_at)
        .execute(&self.0.writer)
        .await?;
        Ok(())
    }

    async fn load(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT record FROM browser_sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(OffsetDateTime::now_utc().unix_timestamp())
        .fetch_optional(&self.0.pool)
        .await?)
    }

    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM browser_sessions WHERE id = $1")
            .bind(id)
            .execute(&self.0.writer)
            .await?;
        Ok(())
    }

    async fn delete_expired(&self, now: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM browser_sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(&self.0.writer)
                .await?
                .rows_affected(),
        )
    }
}

/// One key per session, `session:<id>`, expiring with it.
#[derive(Debug)]
pub struct InRedis(pub RedisStore);

impl InRedis {
    fn key(&self, id: &str) -> String {
        self.0.key(&format!("session:{id}"))
    }
}

#[async_trait]
impl SessionRecordStore for InRedis {
    async fn insert_new(&self, id: &str, json: &str, expires_at: i64) -> Result<bool, StoreError> {
        let mut conn = self.0.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(id))
            .arg(json)
            .arg("EXAT")
            .arg(expires_at)
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }

    async fn save(&self, id: &str, json: &str, expires_at: i64) -> Result<(), StoreError> {
        let mut conn = self.0.conn.clone();
        redis::cmd("SET")
            .arg(self.key(id))
            .arg(json)
            .arg("EXAT")
            .arg(expires_at)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn load(&self, id: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.0.conn.clone();
        Ok(redis::cmd("GET")
            .arg(self.key(id))
            .query_async(&mut conn)
            .await?)
    }

    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        let mut conn = self.0.conn.clone();
        redis::cmd("DEL")
            .arg(self.key(id))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Redis expires its own keys.
    async fn delete_expired(&self, _now: i64) -> Result<u64, StoreError> {
        Ok(0)
    }
}
