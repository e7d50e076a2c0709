//! The users table.

use app::{
    api::{Locale, Role, User},
    rules::NewAccount,
};

use crate::db::{Backend, Db};

/// The case-insensitive key of a username or email (Unicode-aware, the same on every backend).
pub fn login_key(s: &str) -> String {
    s.trim().to_lowercase()
}

#[derive(Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub password_hash: String,
    pub role: String,
    pub is_active: bool,
    pub email_verified: bool,
    pub locale: Locale,
}

/// Read by hand: sqlx's Any driver decodes no SQLite BOOLEAN, so the
/// queries select `is_active` as 0 or 1 ([`user_columns!`]).
impl sqlx::FromRow<'_, sqlx::any::AnyRow> for UserRow {
    fn from_row(row: &sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(UserRow {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            email: row.try_get("email")?,
            full_name: row.try_get("full_name")?,
            password_hash: row.try_get("password_hash")?,
            role: row.try_get("role")?,
            is_active: row.try_get::<i64, _>("is_active")? != 0,
            email_verified: row.try_get::<i64, _>("email_verified")? != 0,
            // The CHECK constraint allows only the three tags.
            locale: Locale::parse(row.try_get("locale")?).unwrap_or_default(),
        })
    }
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
            is_active: self.is_active,
        }
    }
}

/// The columns of [`UserRow`], as a literal so queries stay `&'static str`.
/// `is_active` is BOOLEAN in PostgreSQL and 0/1 in SQLite: read it as 0/1.
macro_rules! user_columns {
    () => {
        "id, username, email, full_name, password_hash, role, CASE WHEN is_active THEN 1 ELSE 0 END AS is_active, \
         CASE WHEN email_verified_at IS NULL THEN 0 ELSE 1 END AS email_verified, locale"
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

/// What an account starts with besides its registration.
pub struct NewRow<'a> {
    pub account: &'a NewAccount,
    pub password_hash: &'a str,
    pub role: Role,
    pub locale: Locale,
    /// When the address counts as verified from the start (an operator made the account).
    pub verified_at: Option<i64>,
}

/// Inserts an account within `tx`. A unique violation means a concurrent
/// duplicate.
pub async fn insert_in(tx: &mut WriteTx, row: NewRow<'_>, now: i64) -> Result<i64, sqlx::Error> {
    let account = row.account;
    sqlx::query_scalar(
        "INSERT INTO users (username, username_key, email, email_key, full_name, password_hash, role, is_active, \
         created_at, updated_at, email_verified_at, locale) \
         VALUES ($1, $2, $3, $4, $5, $6, $8, TRUE, $7, $7, $9, $10) RETURNING id",
    )
    .bind(account.username.as_str())
    .bind(login_key(account.username.as_str()))
    .bind(account.email.as_str())
    .bind(login_key(account.email.as_str()))
    .bind(account.full_name.as_str())
    .bind(row.password_hash)
    .bind(now)
    .bind(row.role.as_str())
    .bind(row.verified_at)
    .bind(row.locale.as_str())
    .fetch_one(&mut **tx)
    .await
}

/// When the account was created.
pub async fn created_at(db: &Db, id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT created_at FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

/// Changes the full name and the language, each when given.
pub async fn update_profile(
    db: &Db,
    id: i64,
    full_name: Option<&str>,
    locale: Option<Locale>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE users SET full_name = COALESCE($1, full_name), locale = COALESCE($2, locale), updated_at = $3 \
         WHERE id = $4",
    )
    .bind(full_name)
    .bind(locale.map(Locale::as_str))
    .bind(now)
    .bind(id)
    .execute(&db.writer)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Marks the current address verified (kept from the first time).
pub async fn mark_verified_in(tx: &mut WriteTx, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Makes `email` the account's verified address. A unique violation: the
/// address became another account's meanwhile.
pub async fn change_email_in(
    tx: &mut WriteTx,
    id: i64,
    email: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET email = $1, email_key = $2, email_verified_at = $3, updated_at = $3 WHERE id = $4",
    )
    .bind(email)
    .bind(login_key(email))
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Whether an account other than `except` has the address `email`.
pub async fn email_taken(db: &Db, email: &str, except: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE email_key = $1 AND id <> $2")
            .bind(login_key(email))
            .bind(except)
            .fetch_optional(&db.pool)
            .await?;
    Ok(found.is_some())
}

/// Stores a new password hash, on the writer or in the caller's transaction.
pub async fn set_password_hash<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: i64,
    password_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(id)
        .execute(executor)
        .await
        .map(|_| ())
}

/// A user row with whether the given session (refresh family) is still on
/// and whether the given jti is on the database's revocation list.
#[derive(sqlx::FromRow)]
pub struct TokenUserRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    /// When the token's session expires; `None` when it was revoked or is not the user's.
    pub session_expires_at: Option<i64>,
    pub revoked: i64,
}

/// Everything validation needs from the database, in one query. `jti` is
/// `None` when the revocation list lives elsewhere (Redis).
pub async fn find_for_token(
    db: &Db,
    id: i64,
    family_id: &str,
    jti: Option<&str>,
) -> Result<Option<TokenUserRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        ", (SELECT f.expires_at FROM refresh_families f WHERE f.id = $2 AND f.user_id = users.id \
           AND f.revoked_at IS NULL) AS session_expires_at, \
         (SELECT COUNT(*) FROM revoked_tokens r WHERE r.jti = $3) AS revoked \
         FROM users WHERE id = $1"
    ))
    .bind(id)
    .bind(family_id)
    .bind(jti)
    .fetch_optional(&db.pool)
    .await
}

#[derive(sqlx::FromRow)]
pub struct ListedUser {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub created_at: i64,
}

/// `%term%` for LIKE, with LIKE's own wildcards escaped.
fn like_pattern(term: &str) -> String {
    let escaped = login_key(term)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// One page of users, optionally those whose username or email contains `search`.
pub async fn list(
    db: &Db,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ListedUser>, i64), sqlx::Error> {
    let pattern = search.map(like_pattern);
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        ", created_at FROM users \
         WHERE ($1 IS NULL OR username_key LIKE $1 ESCAPE '\\' OR email_key LIKE $1 ESCAPE '\\') \
         ORDER BY id LIMIT $2 OFFSET $3"
    ))
    .bind(pattern.as_deref())
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    let total = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE ($1 IS NULL OR username_key LIKE $1 ESCAPE '\\' OR email_key LIKE $1 ESCAPE '\\')",
    )
    .bind(pattern.as_deref())
    .fetch_one(&db.pool)
    .await?;
    Ok((rows, total))
}

/// What a guarded change did.
#[derive(Debug, PartialEq, Eq)]
pub enum Guarded {
    Done,
    NoSuchUser,
    /// It would leave no active admin.
    LastAdmin,
}

/// A write transaction on the users table.
pub type WriteTx = sqlx::Transaction<'static, sqlx::Any>;

/// Sets the role, unless that demotes the last active admin, within `tx`.
pub async fn set_role_guarded(
    tx: &mut WriteTx,
    backend: Backend,
    id: i64,
    role: &str,
    now: i64,
) -> Result<Guarded, sqlx::Error> {
    let update = sqlx::query(
        "UPDATE users SET role = $1, updated_at = $2 WHERE id = $3 AND ($1 = 'Admin' OR role <> 'Admin' OR NOT is_active \
         OR (SELECT COUNT(*) FROM users o WHERE o.role = 'Admin' AND o.is_active AND o.id <> $3) > 0)",
    )
    .bind(role)
    .bind(now)
    .bind(id);
    guarded(tx, backend, id, update).await
}

/// Sets the active flag, unless that deactivates the last active admin,
/// within `tx`.
pub async fn set_active_guarded(
    tx: &mut WriteTx,
    backend: Backend,
    id: i64,
    active: bool,
    now: i64,
) -> Result<Guarded, sqlx::Error> {
    let update = sqlx::query(
        "UPDATE users SET is_active = $1, updated_at = $2 WHERE id = $3 AND ($1 OR role <> 'Admin' OR NOT is_active \
         OR (SELECT COUNT(*) FROM users o WHERE o.role = 'Admin' AND o.is_active AND o.id <> $3) > 0)",
    )
    .bind(active)
    .bind(now)
    .bind(id);
    guarded(tx, backend, id, update).await
}

/// Deletes the account (its families, tokens and mails go with it),
/// unless it is the last active admin, within `tx`.
pub async fn delete_guarded(
    tx: &mut WriteTx,
    backend: Backend,
    id: i64,
) -> Result<Guarded, sqlx::Error> {
    let delete = sqlx::query(
        "DELETE FROM users WHERE id = $1 AND (role <> 'Admin' OR NOT is_active \
         OR (SELECT COUNT(*) FROM users o WHERE o.role = 'Admin' AND o.is_active AND o.id <> $1) > 0)",
    )
    .bind(id);
    guarded(tx, backend, id, delete).await
}

/// Runs a guarded `update` of user `id`: one statement that checks and
/// changes. On PostgreSQL (read committed) two of them at once would each
/// count the other admin as still active and together leave none, so the
/// active admins' rows are locked first: the second waits for the first and
/// then counts again. SQLite runs one write at a time already.
async fn guarded(
    tx: &mut WriteTx,
    backend: Backend,
    id: i64,
    update: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
) -> Result<Guarded, sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query(
            "SELECT id FROM users WHERE role = 'Admin' AND is_active ORDER BY id FOR UPDATE",
        )
        .fetch_all(&mut **tx)
        .await?;
    }
    if update.execute(&mut **tx).await?.rows_affected() == 1 {
        return Ok(Guarded::Done);
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match exists {
        Some(_) => Guarded::LastAdmin,
        None => Guarded::NoSuchUser,
    })
}
