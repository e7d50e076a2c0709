//! Claiming presented tokens: the one write of a rotation. The claims
//! waiting at one moment share one UPDATE, whose trigger stores each
//! successor and its audit event in the same statement.

use std::fmt::Write as _;

use tokio::sync::oneshot;

use super::{
    super::{client::ClientInfo, group_commit::each_alone, users::UserRow, Clock},
    lookups::find_rows,
};
use crate::db::Db;

/// A rotation's claim of the presented token, waiting for the claims writer.
pub(super) struct Claim {
    pub hash: String,
    pub successor_hash: String,
    pub sealed: Option<String>,
    /// Who presented the token, for the audit event the claim stores.
    pub client: ClientInfo,
    /// The token's family and user when this claim set its successor.
    pub won: oneshot::Sender<Result<Option<Claimed>, sqlx::Error>>,
}

/// A token a claim set the successor of, with its family and user as read
/// right after the claim.
pub(super) struct Claimed {
    pub token_hash: String,
    pub successor_hash: Option<String>,
    pub family_id: String,
    pub user: UserRow,
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
pub(super) async fn claim_batch(db: Db, clock: Clock, batch: Vec<Claim>) {
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
pub(super) async fn claim_alone(db: &Db, now: i64, claim: Claim) {
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
        "used_at",
        "successor_hash",
        "successor_sealed",
        "used_ip",
        "used_user_agent",
    ];
    let per_claim = columns.len() + 1;
    let mut cases: Vec<String> = columns
        .iter()
        .map(|column| format!("{column} = CASE token_hash"))
        .collect();
    let mut tokens = String::new();
    for i in 0..batch.len() {
        let n = i * per_claim;
        for (c, case) in cases.iter_mut().enumerate() {
            let _ = write!(case, " WHEN ${} THEN ${}", n + 1, n + 2 + c);
        }
        let separator = if i == 0 { "" } else { ", " };
        let _ = write!(tokens, "{separator}${}", n + 1);
    }
    // Each claim binds the batch's time in its own branch: written as one
    // shared parameter, PostgreSQL planned the expiry check as a scan of
    // the families' expiry index, and rotations ran at half the rate.
    let now_case = cases[0].replacen(
        "used_at = CASE token_hash",
        "CASE refresh_tokens.token_hash",
        1,
    );
    let sql = format!(
        "UPDATE refresh_tokens SET {} END WHERE token_hash IN ({tokens}) AND used_at IS NULL \
         AND EXISTS (SELECT 1 FROM refresh_families f JOIN users u ON u.id = f.user_id \
         WHERE f.id = refresh_tokens.family_id AND f.revoked_at IS NULL \
         AND f.expires_at > {now_case} END AND u.is_active) \
         RETURNING token_hash, successor_hash",
        cases.join(" END, "),
    );
    // Built from placeholders only: every value is bound.
    let mut update = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for claim in batch {
        update = update
            .bind(&claim.hash)
            .bind(now)
            .bind(&claim.successor_hash)
            .bind(claim.sealed.as_deref())
            .bind(claim.client.ip.as_deref())
            .bind(claim.client.user_agent.as_deref());
    }
    update.fetch_all(conn).await
}

/// The family and user of each claimed token, with one SELECT. Not on
/// SQLite's one writer connection: read there, the soak's resident memory
/// kept growing (docs/performance.md).
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
    use super::{super::test_support::*, *};
    use crate::auth::refresh::token::token_hash;

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
