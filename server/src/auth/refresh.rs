//! Refresh tokens: opaque, stored as SHA-256, grouped in families (one per
//! login, with an absolute expiry). Rotation claims the presented token with
//! one conditional UPDATE, whose trigger adds the successor and the audit
//! event in the same statement, so of N concurrent rotations exactly one
//! wins; the others, within the grace window, get the very same successor
//! back. The claim comes first and checks the family and user itself, so a
//! rotation that succeeds waits for one batch (the UPDATE, then one SELECT
//! of the claimed tokens' users); only a refused claim looks the token up,
//! to tell reuse from a repeat or an invalid token. Claims and look-ups are
//! batched: those waiting at one moment share one UPDATE, and one SELECT.

use std::fmt::Write as _;

use base64::{engine::general_purpose::STANDARD, Engine};
use sha2::{Digest, Sha256};
use sqlx::AnyPool;
use tokio::sync::oneshot;

use super::{
    client::ClientInfo,
    group_commit::{each_alone, GroupCommit},
    store::StoreError,
    users::UserRow,
    validation_cache::ValidationCache,
    Clock,
};
use crate::db::Db;

/// 32 random bytes, standard base64 with padding: 44 characters.
const TOKEN_BYTES: usize = 32;
const TOKEN_LEN: usize = 44;

/// The most claims one UPDATE makes (6 bound values each).
const MAX_CLAIMS: usize = 64;

/// The most tokens one SELECT looks up.
const MAX_FINDS: usize = 64;

pub fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).expect("the OS random number generator is available");
    STANDARD.encode(bytes)
}

/// The stored form of a token: hex SHA-256.
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// The successor of a token, kept so that only a holder of the token it
/// replaced can read it: XOR with a key derived from that token. Each token
/// has at most one successor, so the key is used once.
fn seal(presented: &str, successor: &str) -> Option<String> {
    let key = Sha256::new()
        .chain_update(b"refresh-successor-v1:")
        .chain_update(presented.as_bytes())
        .finalize();
    let plain = STANDARD.decode(successor).ok()?;
    let sealed: Vec<u8> = plain.iter().zip(key.iter()).map(|(a, b)| a ^ b).collect();
    Some(STANDARD.encode(sealed))
}

fn unseal(presented: &str, sealed: &str) -> Option<String> {
    let key = Sha256::new()
        .chain_update(b"refresh-successor-v1:")
        .chain_update(presented.as_bytes())
        .finalize();
    let bytes = STANDARD.decode(sealed).ok()?;
    if bytes.len() != TOKEN_BYTES {
        return None;
    }
    Some(
        STANDARD.encode(
            bytes
                .iter()
                .zip(key.iter())
                .map(|(a, b)| a ^ b)
                .collect::<Vec<u8>>(),
        ),
    )
}

/// What presenting a refresh token led to.
pub enum Rotation {
    /// A new refresh token (or, in the grace window, the one already issued).
    Rotated {
        /// The family's user as stored now, read with the token.
        user: UserRow,
        family_id: String,
        token: String,
        /// Whether the rotation stored its audit event (a claim does; a
        /// repeat within the grace window does not).
        audited: bool,
    },
    /// An already-rotated token outside the grace window: the family is now revoked.
    ReuseDetected { user_id: i64, family_id: String },
    /// Unknown, malformed, expired or revoked, or its user is inactive.
    Invalid,
}

#[derive(Clone, sqlx::FromRow)]
struct PresentedRow {
    token_hash: String,
    family_id: String,
    used_at: Option<i64>,
    successor_hash: Option<String>,
    successor_sealed: Option<String>,
    #[sqlx(flatten)]
    user: UserRow,
    expires_at: i64,
    revoked_at: Option<i64>,
}

/// A login session as the sessions list shows it.
#[derive(sqlx::FromRow)]
pub struct FamilyRow {
    pub id: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Where a new family comes from, for the audit log and the sessions list.
pub struct Origin<'a> {
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// A rotation's lookup of the presented token, waiting for the finder.
struct Find {
    hash: String,
    found: oneshot::Sender<Result<Option<PresentedRow>, sqlx::Error>>,
}

/// A rotation's claim of the presented token, waiting for the claims writer.
struct Claim {
    hash: String,
    successor_hash: String,
    sealed: Option<String>,
    /// Who presented the token, for the audit event the claim stores.
    client: ClientInfo,
    /// The token's family and user when this claim set its successor.
    won: oneshot::Sender<Result<Option<Claimed>, sqlx::Error>>,
}

/// A token a claim set the successor of, with its family and user as read
/// right after the claim.
struct Claimed {
    token_hash: String,
    successor_hash: Option<String>,
    family_id: String,
    user: UserRow,
}

#[derive(Clone)]
pub struct RefreshTokens {
    db: Db,
    clock: Clock,
    validation: ValidationCache,
    finds: GroupCommit<Find>,
    claims: GroupCommit<Claim>,
    ttl: i64,
    grace: i64,
}

impl RefreshTokens {
    /// Starts the claims writer: call within the Tokio runtime.
    pub fn new(db: Db, clock: Clock, validation: ValidationCache, ttl: i64, grace: i64) -> Self {
        let (writer_db, writer_clock) = (db.clone(), clock.clone());
        let claims = GroupCommit::start(MAX_CLAIMS, move |batch| {
            claim_batch(writer_db.clone(), writer_clock.clone(), batch)
        });
        let finder_db = db.clone();
        let finds =
            GroupCommit::start(MAX_FINDS, move |batch| find_batch(finder_db.clone(), batch));
        RefreshTokens {
            db,
            clock,
            validation,
            finds,
            claims,
            ttl,
            grace,
        }
    }

    /// Starts a family for a new login; returns its id and first token.
    pub async fn start_family(
        &self,
        user_id: i64,
        origin: &Origin<'_>,
        now: i64,
    ) -> Result<(String, String), sqlx::Error> {
        let family_id = uuid::Uuid::new_v4().to_string();
        let token = new_token();
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO refresh_families (id, user_id, created_at, last_used_at, expires_at, ip, user_agent) \
             VALUES ($1, $2, $3, $3, $4, $5, $6)",
        )
        .bind(&family_id)
        .bind(user_id)
        .bind(now)
        .bind(now + self.ttl)
        .bind(origin.ip)
        .bind(origin.user_agent)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash(&token))
        .bind(&family_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((family_id, token))
    }

    async fn find(&self, hash: &str) -> Result<Option<PresentedRow>, sqlx::Error> {
        let (found, answer) = oneshot::channel();
        let find = Find {
            hash: hash.to_string(),
            found,
        };
        match self.finds.submit(find) {
            Ok(()) => answer.await.unwrap_or(Err(sqlx::Error::WorkerCrashed)),
            Err(find) => find_alone(&self.db, &find.hash).await,
        }
    }

    /// Rotates `presented`: see the module documentation.
    pub async fn rotate(
        &self,
        presented: &str,
        client: &ClientInfo,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        if presented.len() != TOKEN_LEN
            || STANDARD.decode(presented).map(|b| b.len()) != Ok(TOKEN_BYTES)
        {
            return Ok(Rotation::Invalid);
        }
        let hash = token_hash(presented);
        let successor = new_token();
        let sealed = seal(presented, &successor);
        if let Some(claimed) = self
            .claim(&hash, token_hash(&successor), sealed, client)
            .await?
        {
            return Ok(Rotation::Rotated {
                user: claimed.user,
                family_id: claimed.family_id,
                token: successor,
                audited: true,
            });
        }

        // Refused: unknown, expired or revoked, its user inactive, or
        // already rotated (by another request a moment ago, or long ago).
        let Some(row) = self.find(&hash).await? else {
            return Ok(Rotation::Invalid);
        };
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Ok(Rotation::Invalid);
        }
        if row.user.is_active == 0 {
            self.revoke_family(&row.family_id, "user inactive", now)
                .await?;
            return Ok(Rotation::Invalid);
        }
        if row.used_at.is_none() {
            // The family or user changed between the claim and the look-up.
            return Ok(Rotation::Invalid);
        }

        if let Some(token) = self.grace_successor(presented, &row, now).await? {
            return Ok(Rotation::Rotated {
                user: row.user,
                family_id: row.family_id,
                token,
                audited: false,
            });
        }
        self.revoke_family(&row.family_id, "reuse", now).await?;
        Ok(Rotation::ReuseDetected {
            user_id: row.user.id,
            family_id: row.family_id,
        })
    }

    /// Sets the successor of a token unless another claim did first, its
    /// family is revoked or expired, or its user is inactive; the token's
    /// family and user when this claim did.
    async fn claim(
        &self,
        hash: &str,
        successor_hash: String,
        sealed: Option<String>,
        client: &ClientInfo,
    ) -> Result<Option<Claimed>, sqlx::Error> {
        let (won, answer) = oneshot::channel();
        let claim = Claim {
            hash: hash.to_string(),
            successor_hash,
            sealed,
            client: client.clone(),
            won,
        };
        if let Err(claim) = self.claims.submit(claim) {
            // The writer has stopped (the runtime is shutting down).
            claim_alone(&self.db, self.clock.now(), claim).await;
        }
        answer.await.unwrap_or(Err(sqlx::Error::WorkerCrashed))
    }

    /// The successor of an already-rotated token, when it was rotated within
    /// the grace window and the successor has not been used itself.
    async fn grace_successor(
        &self,
        presented: &str,
        row: &PresentedRow,
        now: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        let (Some(used_at), Some(successor_hash), Some(sealed)) =
            (row.used_at, &row.successor_hash, &row.successor_sealed)
        else {
            return Ok(None);
        };
        if now - used_at > self.grace {
            return Ok(None);
        }
        let Some(successor) =
            unseal(presented, sealed).filter(|s| token_hash(s) == *successor_hash)
        else {
            return Ok(None);
        };
        let successor_used: Option<Option<i64>> =
            sqlx::query_scalar("SELECT used_at FROM refresh_tokens WHERE token_hash = $1")
                .bind(successor_hash)
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(matches!(successor_used, Some(None)).then_some(successor))
    }

    /// Revokes a family; true when it was active.
    pub async fn revoke_family(
        &self,
        family_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let revoked = sqlx::query("UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(reason)
            .bind(family_id)
            .execute(&self.db.writer)
            .await?
            .rows_affected()
            == 1;
        if revoked {
            self.validation.invalidate().await;
        }
        Ok(revoked)
    }

    /// Revokes every active family of a user, except `keep`; returns how many.
    pub async fn revoke_user_families(
        &self,
        user_id: i64,
        reason: &str,
        keep: Option<&str>,
        now: i64,
    ) -> Result<u64, StoreError> {
        let mut conn = self.db.writer.acquire().await?;
        let revoked = revoke_user_families_in(&mut conn, user_id, reason, keep, now).await?;
        drop(conn);
        if revoked > 0 {
            self.validation.invalidate().await;
        }
        Ok(revoked)
    }

    /// A user's families that are neither revoked nor expired, newest first.
    pub async fn active_families(
        &self,
        user_id: i64,
        now: i64,
    ) -> Result<Vec<FamilyRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, created_at, last_used_at, ip, user_agent FROM refresh_families \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.db.pool)
        .await
    }

    /// The family and owner of a token, if it exists.
    pub async fn owner_of(&self, presented: &str) -> Result<Option<(String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT f.id, f.user_id FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.token_hash = $1",
        )
        .bind(token_hash(presented))
        .fetch_optional(&self.db.pool)
        .await
    }

    /// True when the family exists, is not revoked and has not expired.
    pub async fn is_active(&self, family_id: &str, now: i64) -> Result<bool, sqlx::Error> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM refresh_families WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2")
                .bind(family_id)
                .bind(now)
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(found.is_some())
    }

    /// Deletes expired families (their tokens go with them); returns how many.
    pub async fn delete_expired(&self, now: i64) -> Result<u64, sqlx::Error> {
        sqlx::query("DELETE FROM refresh_families WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.db.writer)
            .await
            .map(|r| r.rows_affected())
    }

    /// Forgets the sealed successors whose grace window has passed: after
    /// it no repeat gets the successor, and a database dump must not let an
    /// old token walk the chain to the live one. Returns how many.
    pub async fn forget_expired_seals(&self, now: i64) -> Result<u64, sqlx::Error> {
        sqlx::query(
            "UPDATE refresh_tokens SET successor_sealed = NULL \
             WHERE successor_sealed IS NOT NULL AND used_at < $1",
        )
        .bind(now - self.grace)
        .execute(&self.db.writer)
        .await
        .map(|r| r.rows_affected())
    }

    /// The grace window, in seconds.
    pub fn grace(&self) -> i64 {
        self.grace
    }

    /// How many tokens a family holds (for tests and diagnostics).
    pub async fn family_size(&self, family_id: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM refresh_tokens WHERE family_id = $1")
            .bind(family_id)
            .fetch_one(&self.db.pool)
            .await
    }
}

/// Revokes every active family of a user, except `keep`, within the caller's
/// transaction (the change that ends them commits with them); returns how
/// many. The caller moves the validation generation once it commits.
pub async fn revoke_user_families_in(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    reason: &str,
    keep: Option<&str>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 \
         WHERE user_id = $3 AND revoked_at IS NULL AND ($4 IS NULL OR id <> $4)",
    )
    .bind(now)
    .bind(reason)
    .bind(user_id)
    .bind(keep)
    .execute(conn)
    .await?
    .rows_affected())
}

/// The columns of a presented token, its family and its user.
const PRESENTED: &str =
    "SELECT t.token_hash, t.family_id, t.used_at, t.successor_hash, t.successor_sealed, \
     f.expires_at, f.revoked_at, \
     u.id, u.username, u.email, u.full_name, u.password_hash, u.role, \
     CASE WHEN u.is_active THEN 1 ELSE 0 END AS is_active \
     FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
     JOIN users u ON u.id = f.user_id WHERE t.token_hash";

async fn find_alone(db: &Db, hash: &str) -> Result<Option<PresentedRow>, sqlx::Error> {
    Ok(find_rows(&db.pool, &[hash]).await?.pop())
}

/// `$1, $2, …` for `count` values.
fn placeholders(count: usize) -> String {
    let mut list = String::new();
    for i in 1..=count {
        let separator = if i == 1 { "" } else { ", " };
        let _ = write!(list, "{separator}${i}");
    }
    list
}

/// The presented rows of `hashes`, with one SELECT on `pool`.
async fn find_rows(pool: &AnyPool, hashes: &[&str]) -> Result<Vec<PresentedRow>, sqlx::Error> {
    let sql = format!("{PRESENTED} IN ({})", placeholders(hashes.len()));
    // Built from placeholders only: every value is bound.
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for hash in hashes {
        query = query.bind(*hash);
    }
    query.fetch_all(pool).await
}

/// The finder: one SELECT for the batch; should it fail, each look-up alone.
async fn find_batch(db: Db, batch: Vec<Find>) {
    if batch.len() > 1 {
        let hashes: Vec<&str> = batch.iter().map(|find| &*find.hash).collect();
        match find_rows(&db.pool, &hashes).await {
            Ok(rows) => {
                // A token presented twice at once is in the batch twice.
                for find in batch {
                    let row = rows.iter().find(|r| r.token_hash == find.hash);
                    let _ = find.found.send(Ok(row.cloned()));
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, finds = batch.len(), "a batch of refresh-token look-ups failed; looking each up alone")
            }
        }
    }
    each_alone(batch, |find| {
        let db = db.clone();
        async move {
            let row = find_alone(&db, &find.hash).await;
            let _ = find.found.send(row);
        }
    })
    .await;
}

/// The claims writer: one UPDATE for the batch; should it fail, each claim
/// alone, so that every claim gets its own answer (the failed statement
/// changed nothing).
///
/// The batch waits for the writer connection first. A claim whose request
/// is gone by then (it timed out, or its client left) is dropped, never
/// committed: its client would present the old token again later and find
/// it rotated, which is reuse. The others are stamped with the time the
/// claim runs, so the grace window counts from the rotation itself.
async fn claim_batch(db: Db, clock: Clock, batch: Vec<Claim>) {
    let mut conn = match db.writer.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            for claim in batch {
                let _ = claim.won.send(Err(copy_of(&e)));
            }
            return;
        }
    };
    let batch: Vec<Claim> = batch.into_iter().filter(|c| !c.won.is_closed()).collect();
    if batch.is_empty() {
        return;
    }
    let now = clock.now();
    let marked = mark_claimed(&mut conn, &batch, now).await;
    drop(conn);
    match marked {
        Ok(marked) => answer_claims(&db, batch, marked).await,
        Err(e) if batch.len() > 1 => {
            tracing::warn!(error = %e, claims = batch.len(), "a batch of refresh-token claims failed; making each alone");
            each_alone(batch, |claim| {
                let db = db.clone();
                async move { claim_alone(&db, now, claim).await }
            })
            .await;
        }
        // A batch of one: its error is its answer.
        Err(e) => {
            if let Some(claim) = batch.into_iter().next() {
                let _ = claim.won.send(Err(e));
            }
        }
    }
}

/// The same failure for another waiter (`sqlx::Error` is not `Clone`),
/// keeping whether it means "unavailable".
fn copy_of(e: &sqlx::Error) -> sqlx::Error {
    match e {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        sqlx::Error::Io(io) => sqlx::Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// Makes a claim with an UPDATE of its own and answers it.
async fn claim_alone(db: &Db, now: i64, claim: Claim) {
    let marked = match db.writer.acquire().await {
        Ok(mut conn) => mark_claimed(&mut conn, std::slice::from_ref(&claim), now).await,
        Err(e) => Err(e),
    };
    match marked {
        Ok(marked) => answer_claims(db, vec![claim], marked).await,
        Err(e) => {
            let _ = claim.won.send(Err(e));
        }
    }
}

/// Tells each claim of a batch whether it won, once the winners' users are
/// read. Should that read fail, every claim is told it lost: a winner's
/// look-up then finds its token rotated a moment ago, with its own
/// successor, and answers with that (the grace path, which stores no second
/// audit event), or fails in turn.
async fn answer_claims(db: &Db, batch: Vec<Claim>, marked: Vec<Marked>) {
    let mut claimed = read_claimed(db, marked).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, claims = batch.len(), "reading the users of claimed refresh tokens failed");
        Vec::new()
    });
    for claim in batch {
        let won = claimed.iter().position(|c| {
            c.token_hash == claim.hash
                && c.successor_hash.as_deref() == Some(&*claim.successor_hash)
        });
        let _ = claim.won.send(Ok(won.map(|i| claimed.swap_remove(i))));
    }
}

/// A token a claim's UPDATE set the successor of: its hash and successor.
type Marked = (String, Option<String>);

/// Claims a batch with one UPDATE; returns each claimed token with the
/// successor it got. A claim succeeds only while the token is unused, its
/// family neither revoked nor expired and its user active; of concurrent
/// claims of one token, only one finds it unused. When a token is claimed
/// twice in one batch, the first claim's successor is set (a `CASE` takes
/// its first match), so the other claim loses, as it would have one
/// statement later.
///
/// The `refresh_token_rotated` trigger stores the successor, marks the
/// family used and stores the audit event in the claiming statement itself
/// (migrations 0003 and 0004).
async fn mark_claimed(
    conn: &mut sqlx::AnyConnection,
    batch: &[Claim],
    now: i64,
) -> Result<Vec<Marked>, sqlx::Error> {
    let columns = [
        "successor_hash",
        "successor_sealed",
        "used_ip",
        "used_user_agent",
    ];
    // $1 is the time; then each claim's token and its columns.
    let per_claim = columns.len() + 1;
    let mut cases: Vec<String> = columns
        .iter()
        .map(|column| format!("{column} = CASE token_hash"))
        .collect();
    let mut tokens = String::new();
    for i in 0..batch.len() {
        let n = 1 + i * per_claim;
        for (c, case) in cases.iter_mut().enumerate() {
            let _ = write!(case, " WHEN ${} THEN ${}", n + 1, n + 2 + c);
        }
        let separator = if i == 0 { "" } else { ", " };
        let _ = write!(tokens, "{separator}${}", n + 1);
    }
    let sql = format!(
        "UPDATE refresh_tokens SET used_at = $1, {} END WHERE token_hash IN ({tokens}) AND used_at IS NULL \
         AND EXISTS (SELECT 1 FROM refresh_families f JOIN users u ON u.id = f.user_id \
         WHERE f.id = refresh_tokens.family_id AND f.revoked_at IS NULL \
         AND f.expires_at > $1 AND u.is_active) \
         RETURNING token_hash, successor_hash",
        cases.join(" END, "),
    );
    // Built from placeholders only: every value is bound.
    let mut update = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now);
    for claim in batch {
        update = update
            .bind(&claim.hash)
            .bind(&claim.successor_hash)
            .bind(claim.sealed.as_deref())
            .bind(claim.client.ip.as_deref())
            .bind(claim.client.user_agent.as_deref());
    }
    update.fetch_all(conn).await
}

/// The family and user of each claimed token, with one SELECT. Not on
/// SQLite's one writer connection: read there, the soak's RSS kept growing
/// (37.7 -> 57.8 MB in 220 s, against 41.4 -> 47.1 on a reader).
async fn read_claimed(db: &Db, marked: Vec<Marked>) -> Result<Vec<Claimed>, sqlx::Error> {
    if marked.is_empty() {
        return Ok(Vec::new());
    }
    let hashes: Vec<&str> = marked.iter().map(|(hash, _)| &**hash).collect();
    let rows = find_rows(&db.pool, &hashes).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let (_, successor_hash) = marked.iter().find(|(hash, _)| *hash == row.token_hash)?;
            Some(Claimed {
                successor_hash: successor_hash.clone(),
                token_hash: row.token_hash,
                family_id: row.family_id,
                user: row.user,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_44_characters_of_padded_base64_from_32_bytes() {
        let t = new_token();
        assert_eq!(t.len(), TOKEN_LEN);
        assert!(t.ends_with('='));
        assert_eq!(STANDARD.decode(&t).unwrap().len(), TOKEN_BYTES);
        assert_ne!(t, new_token());
    }

    #[test]
    fn only_the_replaced_token_unseals_its_successor() {
        let (a, b, c) = (new_token(), new_token(), new_token());
        let sealed = seal(&a, &b).unwrap();
        assert_eq!(unseal(&a, &sealed).unwrap(), b);
        assert_ne!(unseal(&c, &sealed).unwrap(), b);
    }

    type Won = oneshot::Receiver<Result<Option<Claimed>, sqlx::Error>>;

    fn claim_of(token: &str) -> (Claim, Won) {
        let (won, answer) = oneshot::channel();
        let claim = Claim {
            hash: token_hash(token),
            successor_hash: token_hash(&new_token()),
            sealed: None,
            client: ClientInfo::default(),
            won,
        };
        (claim, answer)
    }

    /// A SQLite file holding user 1, the refresh tokens on it, and their
    /// clock, set to time 10.
    async fn one_user_store() -> (tempfile::TempDir, Db, RefreshTokens, Clock) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/claims.db", dir.path().display()), 2)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO users (username, username_key, email, email_key, full_name, password_hash, created_at, updated_at) \
             VALUES ('u', 'u', 'u@example.com', 'u@example.com', 'U', 'x', 0, 0)",
        )
        .execute(&db.writer)
        .await
        .unwrap();
        let clock = Clock::system();
        clock.advance(10 - clock.now());
        let refresh = RefreshTokens::new(
            db.clone(),
            clock.clone(),
            ValidationCache::new(&db, None),
            3600,
            5,
        );
        (dir, db, refresh, clock)
    }

    /// A new family of user 1 at time 0: its id and first token.
    async fn family_of_user_1(refresh: &RefreshTokens) -> (String, String) {
        let origin = Origin {
            ip: None,
            user_agent: None,
        };
        refresh.start_family(1, &origin, 0).await.unwrap()
    }

    /// The successor hash stored for `token` (read on the writer, which
    /// stays open when a test closes the readers).
    async fn stored_successor(db: &Db, token: &str) -> Option<String> {
        sqlx::query_scalar("SELECT successor_hash FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_one(&db.writer)
            .await
            .unwrap()
    }

    /// The family a claim won, or None when it lost.
    async fn family_won(won: Won) -> Option<String> {
        won.await.unwrap().unwrap().map(|claimed| {
            assert_eq!(claimed.user.username, "u", "the claim reads the user");
            claimed.family_id
        })
    }

    #[tokio::test]
    async fn one_update_claims_a_batch_and_tells_each_claim_whether_it_won() {
        let (_dir, db, refresh, clock) = one_user_store().await;
        let (a, a_token) = family_of_user_1(&refresh).await;
        let (b, b_token) = family_of_user_1(&refresh).await;
        let (c, c_token) = family_of_user_1(&refresh).await;
        refresh.revoke_family(&b, "test", 0).await.unwrap();

        // Two claims of one token, one of a revoked family, one plain.
        let (first, first_won) = claim_of(&a_token);
        let (second, second_won) = claim_of(&a_token);
        let (revoked, revoked_won) = claim_of(&b_token);
        let (plain, plain_won) = claim_of(&c_token);
        let first_successor = first.successor_hash.clone();
        claim_batch(
            db.clone(),
            clock.clone(),
            vec![first, revoked, second, plain],
        )
        .await;

        assert_eq!(
            family_won(first_won).await.as_ref(),
            Some(&a),
            "the first claim of a token wins"
        );
        assert_eq!(family_won(second_won).await, None, "the second loses");
        assert_eq!(
            family_won(revoked_won).await,
            None,
            "a revoked family is not claimed"
        );
        assert_eq!(family_won(plain_won).await.as_ref(), Some(&c));
        assert_eq!(
            refresh.family_size(&a).await.unwrap(),
            2,
            "one successor, not two"
        );
        assert_eq!(refresh.family_size(&b).await.unwrap(), 1);
        assert_eq!(refresh.family_size(&c).await.unwrap(), 2);
        assert_eq!(stored_successor(&db, &a_token).await, Some(first_successor));
    }

    #[tokio::test]
    async fn one_select_finds_a_batch_and_answers_each_look_up() {
        let (_dir, db, refresh, _) = one_user_store().await;
        let (a, a_token) = family_of_user_1(&refresh).await;
        let (b, b_token) = family_of_user_1(&refresh).await;

        // One token twice (two rotations at once), another, an unknown one.
        let mut answers = Vec::new();
        let mut batch = Vec::new();
        for token in [&a_token, &b_token, &a_token, &new_token()] {
            let (found, answer) = oneshot::channel();
            batch.push(Find {
                hash: token_hash(token),
                found,
            });
            answers.push(answer);
        }
        find_batch(db.clone(), batch).await;

        let mut families = Vec::new();
        for answer in answers {
            families.push(answer.await.unwrap().unwrap().map(|row| row.family_id));
        }
        assert_eq!(families, [Some(a.clone()), Some(b), Some(a), None]);
    }

    #[tokio::test]
    async fn a_claim_that_fails_does_not_fail_the_others_of_its_batch() {
        let (_dir, db, refresh, clock) = one_user_store().await;
        let (_, a_token) = family_of_user_1(&refresh).await;
        let (_, b_token) = family_of_user_1(&refresh).await;

        // A successor equal to an existing token breaks the trigger's INSERT
        // (a unique key), and with it the batch's one UPDATE.
        let (good, good_won) = claim_of(&a_token);
        let (mut bad, bad_won) = claim_of(&b_token);
        bad.successor_hash = token_hash(&a_token);
        claim_batch(db.clone(), clock.clone(), vec![good, bad]).await;

        assert!(
            family_won(good_won).await.is_some(),
            "claimed alone after the batch failed"
        );
        assert!(
            bad_won.await.unwrap().is_err(),
            "the broken claim gets its own error"
        );
    }

    #[tokio::test]
    async fn a_claim_whose_user_cannot_be_read_is_told_it_lost_but_keeps_its_successor() {
        let (_dir, db, refresh, clock) = one_user_store().await;
        let (_, token) = family_of_user_1(&refresh).await;

        // The readers are gone, the writer is not: the UPDATE commits and
        // the SELECT of the users fails.
        db.pool.close().await;
        let (claim, won) = claim_of(&token);
        let successor = claim.successor_hash.clone();
        claim_batch(db.clone(), clock.clone(), vec![claim]).await;
        assert!(
            won.await.unwrap().unwrap().is_none(),
            "told it lost, so that its look-up takes the grace path"
        );

        assert_eq!(
            stored_successor(&db, &token).await,
            Some(successor),
            "the claim's successor is stored"
        );
    }

    #[tokio::test]
    async fn a_claim_refuses_an_expired_family_and_an_inactive_user() {
        let (_dir, db, refresh, clock) = one_user_store().await;
        let (_, token) = family_of_user_1(&refresh).await;

        // The family of `one_user_store` expires at 3600.
        let (late, late_won) = claim_of(&token);
        clock.advance(3600 - clock.now());
        claim_batch(db.clone(), clock.clone(), vec![late]).await;
        assert_eq!(family_won(late_won).await, None, "expired");

        sqlx::query("UPDATE users SET is_active = $1 WHERE id = 1")
            .bind(false)
            .execute(&db.writer)
            .await
            .unwrap();
        let (inactive, inactive_won) = claim_of(&token);
        claim_batch(db.clone(), clock.clone(), vec![inactive]).await;
        assert_eq!(family_won(inactive_won).await, None, "inactive user");

        let used: Option<i64> =
            sqlx::query_scalar("SELECT used_at FROM refresh_tokens WHERE token_hash = $1")
                .bind(token_hash(&token))
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(used, None, "neither claim changed the token");
    }
}
