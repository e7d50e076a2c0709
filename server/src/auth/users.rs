//! The users table.

use app::{
    api::{Role, User},
    rules::NewAccount,
};

use crate::db::Db;

/// The case-insensitive key of a username or email (Unicode-aware, the same on every backend).
pub fn login_key(s: &str) -> String {
    s.trim().to_lowercase()
}

#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub password_hash: String,
    pub role: String,
    pub is_active: i64,
}

impl UserRow {
    pub fn to_api(&self) -> User {
        User {
            id: self.id,
            username: self.username.clone(),
            email: self.email.clone(),
            full_name: self.full_name.clone(),
            // The CHECK constraint allows only the two names.
            role: Role::parse(&self.role).unwrap_or(Role::User),
            is_active: self.is_active != 0,
        }
    }
}

/// The columns of [`UserRow`], as a literal so queries stay `&'static str`.
/// `is_active` is BOOLEAN in PostgreSQL and 0/1 in SQLite: read it as 0/1.
macro_rules! user_columns {
    () => {
        "id, username, email, full_name, password_hash, role, CASE WHEN is_active THEN 1 ELSE 0 END AS is_active"
    };
}

pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// By username or email, case-insensitively.
pub async fn find_by_login(db: &Db, key: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE username_key = $1 OR email_key = $1"
    ))
    .bind(key)
    .fetch_optional(&db.pool)
    .await
}

/// Which of the username and email are taken already.
pub async fn taken(db: &Db, account: &NewAccount) -> Result<(bool, bool), sqlx::Error> {
    let username_key = login_key(account.username.as_str());
    let email_key = login_key(account.email.as_str());
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT username_key, email_key FROM users WHERE username_key = $1 OR email_key = $2",
    )
    .bind(&username_key)
    .bind(&email_key)
    .fetch_all(&db.pool)
    .await?;
    Ok((
        rows.iter().any(|(u, _)| *u == username_key),
        rows.iter().any(|(_, e)| *e == email_key),
    ))
}

/// Inserts a User-role account. A unique violation means a concurrent duplicate.
pub async fn insert(
    db: &Db,
    account: &NewAccount,
    password_hash: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (username, username_key, email, email_key, full_name, password_hash, role, is_active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'User', TRUE, $7, $7) RETURNING id",
    )
    .bind(account.username.as_str())
    .bind(login_key(account.username.as_str()))
    .bind(account.email.as_str())
    .bind(login_key(account.email.as_str()))
    .bind(account.full_name.as_str())
    .bind(password_hash)
    .bind(now)
    .fetch_one(&db.pool)
    .await
}

pub async fn set_password_hash(
    db: &Db,
    id: i64,
    password_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await
        .map(|_| ())
}

pub async fn set_active(db: &Db, id: i64, active: bool, now: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("UPDATE users SET is_active = $1, updated_at = $2 WHERE id = $3")
        .bind(active)
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await
        .map(|r| r.rows_affected() == 1)
}
