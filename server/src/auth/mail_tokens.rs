//! The tokens of mailed links: 32 random bytes (URL-safe base64, 43
//! characters), stored only as their SHA-256, used once. A token dies with
//! its TTL, with a newer token of the same purpose for the account, and with
//! any change of the account's password or address.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

use super::{refresh::token_hash, users::WriteTx};
use crate::db::Db;

const TOKEN_BYTES: usize = 32;
const TOKEN_LEN: usize = 43;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Verify,
    Reset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Reset => "reset",
        }
    }
}

/// Whether `presented` has the shape of a token (and may be looked up).
pub fn is_well_formed(presented: &str) -> bool {
    presented.len() == TOKEN_LEN
        && URL_SAFE_NO_PAD.decode(presented).map(|b| b.len()) == Ok(TOKEN_BYTES)
}

/// A token issued: the token (for the link) and its stored hash.
pub struct Issued {
    pub token: String,
    pub hash: String,
}

/// Issues a token for `email`, ending the account's earlier tokens of the
/// same purpose.
pub async fn issue(
    db: &Db,
    user_id: i64,
    purpose: Purpose,
    email: &str,
    ttl_secs: i64,
    now: i64,
) -> Result<Issued, sqlx::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).expect("the OS random number generator is available");
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM mail_tokens WHERE user_id = $1 AND purpose = $2")
        .bind(user_id)
        .bind(purpose.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO mail_tokens (token_hash, user_id, purpose, email, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&hash)
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(email)
    .bind(now)
    .bind(now + ttl_secs)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Issued { token, hash })
}

/// A token found: whose, and the address it was mailed to.
#[derive(Debug, sqlx::FromRow)]
pub struct Redeemed {
    pub user_id: i64,
    pub email: String,
}

/// The token's account and address, if it is live (without using it up).
pub async fn peek(
    db: &Db,
    presented: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<Redeemed>, sqlx::Error> {
    if !is_well_formed(presented) {
        return Ok(None);
    }
    sqlx::query_as(
        "SELECT user_id, email FROM mail_tokens WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3",
    )
    .bind(token_hash(presented))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(&db.pool)
    .await
}

/// Uses the token up within `tx`: only one of any number of concurrent
/// redemptions gets it.
pub async fn redeem_in(
    tx: &mut WriteTx,
    presented: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<Redeemed>, sqlx::Error> {
    if !is_well_formed(presented) {
        return Ok(None);
    }
    sqlx::query_as(
        "DELETE FROM mail_tokens WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3 \
         RETURNING user_id, email",
    )
    .bind(token_hash(presented))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(&mut **tx)
    .await
}

/// Ends every token of the account (its password or address changed).
pub async fn end_all_in(tx: &mut WriteTx, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM mail_tokens WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Deletes one token (its mail was never sent).
pub async fn delete(db: &Db, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM mail_tokens WHERE token_hash = $1")
        .bind(hash)
        .execute(&db.writer)
        .await
        .map(|_| ())
}

pub async fn delete_expired(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM mail_tokens WHERE expires_at <= $1")
        .bind(now)
        .execute(&db.writer)
        .await
        .map(|r| r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_of_the_issued_shape_are_looked_up() {
        let token = URL_SAFE_NO_PAD.encode([7u8; TOKEN_BYTES]);
        assert!(is_well_formed(&token));
        for bad in [
            "",
            "short",
            &token[1..],
            &format!("{token}A"),
            &format!("+{}", &token[1..]),
            &"=".repeat(TOKEN_LEN),
        ] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }
}
