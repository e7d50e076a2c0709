//! The browser session (tower-sessions). Login, register and refresh also
//! remember the user and the refresh family in an HttpOnly cookie session;
//! revoke ends it. Page requests use it so the server renders the signed-in
//! page, and a signed-out visitor of a private page is redirected before any
//! HTML is sent.

use app::session::{requires_sign_in, SessionUser, BROWSER_SESSION_HEADER};
use async_trait::async_trait;
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::{
    cookie::SameSite,
    session::{Id, Record},
    session_store, Expiry, Session, SessionManagerLayer, SessionStore,
};

use super::forms;
use crate::{auth::SignedIn, db::Db, redis_store::RedisStore, state::AppState};

const KEY: &str = "auth";

/// What the session remembers.
#[derive(Serialize, Deserialize)]
struct BrowserSession {
    user_id: i64,
    family_id: String,
}

/// Where session records live: the database, or Redis when configured.
#[derive(Clone, Debug)]
pub enum SessionRecords {
    Database(Db),
    Redis(RedisStore),
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

impl SessionRecords {
    /// Where the sessions of this server live: Redis when configured.
    pub fn of(state: &AppState) -> Self {
        match &state.redis {
            Some(redis) => SessionRecords::Redis(redis.clone()),
            None => SessionRecords::Database(state.db.clone()),
        }
    }

    /// Deletes expired sessions (Redis expires its own); returns how many.
    pub async fn delete_expired(&self, now: i64) -> Result<u64, sqlx::Error> {
        match self {
            SessionRecords::Database(db) => {
                sqlx::query("DELETE FROM browser_sessions WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&db.writer)
                    .await
                    .map(|r| r.rows_affected())
            }
            SessionRecords::Redis(_) => Ok(0),
        }
    }

    /// Stores `record` under its id unless that id is taken; false when taken.
    async fn insert_new(&self, record: &Record) -> session_store::Result<bool> {
        let json = serde_json::to_string(record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expires_at = record.expiry_date.unix_timestamp();
        let id = record.id.to_string();
        match self {
            SessionRecords::Database(db) => Ok(sqlx::query(
                "INSERT INTO browser_sessions (id, record, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(json)
            .bind(expires_at)
            .execute(&db.writer)
            .await
            .map_err(backend)?
            .rows_affected()
                == 1),
            SessionRecords::Redis(redis) => {
                let mut conn = redis.conn.clone();
                let set: Option<String> = redis::cmd("SET")
                    .arg(redis.key(&format!("session:{id}")))
                    .arg(json)
                    .arg("EXAT")
                    .arg(expires_at)
                    .arg("NX")
                    .query_async(&mut conn)
                    .await
                    .map_err(backend)?;
                Ok(set.is_some())
            }
        }
    }
}

#[async_trait]
impl SessionStore for SessionRecords {
    /// A new session never takes over a stored one: on the (128-bit,
    /// astronomically unlikely) collision of ids, it draws another id.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.insert_new(record).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let json = serde_json::to_string(record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expires_at = record.expiry_date.unix_timestamp();
        let id = record.id.to_string();
        match self {
            SessionRecords::Database(db) => {
                sqlx::query(
                    "INSERT INTO browser_sessions (id, record, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at",
                )
                .bind(id)
                .bind(json)
                .bind(expires_at)
                .execute(&db.writer)
                .await
                .map_err(backend)?;
            }
            SessionRecords::Redis(redis) => {
                let mut conn = redis.conn.clone();
                redis::cmd("SET")
                    .arg(redis.key(&format!("session:{id}")))
                    .arg(json)
                    .arg("EXAT")
                    .arg(expires_at)
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(backend)?;
            }
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let json: Option<String> = match self {
            SessionRecords::Database(db) => sqlx::query_scalar(
                "SELECT record FROM browser_sessions WHERE id = $1 AND expires_at > $2",
            )
            .bind(id.to_string())
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .fetch_optional(&db.pool)
            .await
            .map_err(backend)?,
            SessionRecords::Redis(redis) => {
                let mut conn = redis.conn.clone();
                redis::cmd("GET")
                    .arg(redis.key(&format!("session:{id}")))
                    .query_async(&mut conn)
                    .await
                    .map_err(backend)?
            }
        };
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| session_store::Error::Decode(e.to_string()))
        })
        .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            SessionRecords::Database(db) => {
                sqlx::query("DELETE FROM browser_sessions WHERE id = $1")
                    .bind(id.to_string())
                    .execute(&db.writer)
                    .await
                    .map_err(backend)?;
            }
            SessionRecords::Redis(redis) => {
                let mut conn = redis.conn.clone();
                redis::cmd("DEL")
                    .arg(redis.key(&format!("session:{id}")))
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(backend)?;
            }
        }
        Ok(())
    }
}

/// Cookies are `Secure` in production (behind a proxy that terminates TLS)
/// and whenever the server speaks TLS itself.
pub fn cookies_are_secure(config: &crate::config::Config) -> bool {
    config.is_production() || config.tls.is_some()
}

/// The session cookie's name. A secure cookie (production, or the server
/// speaks TLS) takes the `__Host-` prefix: browsers then refuse it from an
/// insecure origin or a sibling domain, so nobody can plant one.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-auth_session"
    } else {
        "auth_session"
    }
}

/// The session layer: HttpOnly, SameSite=Lax, Secure in production or over
/// TLS, living as long as a refresh family may (a session is started at a
/// sign-in and never extended: its family ends that long after the sign-in
/// however often it is refreshed).
pub fn layer(state: &AppState) -> SessionManagerLayer<SessionRecords> {
    let records = SessionRecords::of(state);
    let lifetime = time::Duration::seconds(state.config.refresh_token_ttl.as_secs() as i64);
    let secure = cookies_are_secure(&state.config);
    SessionManagerLayer::new(records)
        .with_name(cookie_name(secure))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(lifetime))
}

/// Whether a sign-in asks for a browser session: the app's request wrapper
/// says so with [`BROWSER_SESSION_HEADER`], and the app's forms always do.
/// An API client, which would never send the cookie back, gets none, so it
/// grows no table.
pub fn wants_browser_session(headers: &HeaderMap) -> bool {
    headers.contains_key(BROWSER_SESSION_HEADER)
}

/// After a sign-in in the app: a new session id (no fixation) for this
/// family, stored now. A store that fails is the handler's to answer (in the
/// envelope): left to the session layer, it would replace the response with
/// an empty 500 after the family was made.
pub async fn start(
    session: &Session,
    signed_in: &SignedIn,
) -> Result<(), tower_sessions::session::Error> {
    let data = BrowserSession {
        user_id: signed_in.response.user.id,
        family_id: signed_in.family_id.clone(),
    };
    session.cycle_id().await?;
    session.insert(KEY, data).await?;
    session.save().await
}

pub async fn forget(session: &Session) {
    // A request without a session (an API client) has nothing to end.
    if session.id().is_none() {
        return;
    }
    if let Err(e) = session.flush().await {
        tracing::warn!(error = %e, "cannot end the browser session");
    }
}

/// For page requests: finds the signed-in user (the session's refresh family
/// must still be active), and redirects signed-out visitors of private pages.
pub async fn page_session(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || path.starts_with("/pkg/") || path.contains('.') {
        return next.run(req).await;
    }
    let user = signed_in_user(&state, &session).await;
    if user.is_none() && requires_sign_in(path) {
        let target = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or(path);
        let next: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    let personal = user.is_some();
    if let Some(user) = &user {
        if let Some(handoff) = forms::take_handoff(&state, req.headers(), user.id) {
            req.extensions_mut().insert(handoff);
        }
    }
    let handed_off = forms::carries_handoff(&state, req.headers());
    req.extensions_mut().insert(SessionUser(user));
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if handed_off {
        forms::clear_handoff(&state, headers);
    }
    // A page is rendered for its session: no shared cache may keep it, and
    // one that embeds a signed-in user is kept by no cache at all.
    headers.append(header::VARY, HeaderValue::from_static("cookie"));
    if personal {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    response
}

async fn signed_in_user(state: &AppState, session: &Session) -> Option<app::api::User> {
    let data: BrowserSession = session.get(KEY).await.ok().flatten()?;
    let now = state.auth.clock().now();
    let active = state
        .auth
        .refresh_tokens()
        .is_active(&data.family_id, now)
        .await
        .unwrap_or(false);
    let user = if active {
        state
            .auth
            .user(data.user_id)
            .await
            .ok()
            .flatten()
            .filter(|u| u.is_active)
    } else {
        None
    };
    if user.is_none() {
        forget(session).await;
    }
    user
}
