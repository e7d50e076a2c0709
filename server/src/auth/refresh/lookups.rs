//! Looking presented tokens up, with their family and user: one SELECT for
//! the look-ups waiting at one moment (a refused claim's, to tell reuse
//! from a repeat; and right after a claim, the claimed tokens' users).

use std::fmt::Write as _;

use sqlx::AnyPool;
use tokio::sync::oneshot;

use super::super::{group_commit::each_alone, users::UserRow};
use crate::db::Db;

#[derive(Clone, sqlx::FromRow)]
pub(super) struct PresentedRow {
    pub token_hash: String,
    pub family_id: String,
    pub used_at: Option<i64>,
    pub successor_hash: Option<String>,
    pub successor_sealed: Option<String>,
    #[sqlx(flatten)]
    pub user: UserRow,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// A rotation's lookup of the presented token, waiting for the finder.
pub(super) struct Find {
    pub hash: String,
    pub found: oneshot::Sender<Result<Option<PresentedRow>, sqlx::Error>>,
}

/// The columns of a presented token, its family and its user.
const PRESENTED: &str =
    "SELECT t.token_hash, t.family_id, t.used_at, t.successor_hash, t.successor_sealed, \
     f.expires_at, f.revoked_at, \
     u.id, u.username, u.email, u.full_name, u.password_hash, u.role, \
     CASE WHEN u.is_active THEN 1 ELSE 0 END AS is_active, \
     CASE WHEN u.email_verified_at IS NULL THEN 0 ELSE 1 END AS email_verified, u.locale \
     FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
     JOIN users u ON u.id = f.user_id WHERE t.token_hash";

pub(super) async fn find_alone(db: &Db, hash: &str) -> Result<Option<PresentedRow>, sqlx::Error> {
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
pub(super) async fn find_rows(
    pool: &AnyPool,
    hashes: &[&str],
) -> Result<Vec<PresentedRow>, sqlx::Error> {
    let sql = format!("{PRESENTED} IN ({})", placeholders(hashes.len()));
    // Built from placeholders only: every value is bound.
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for hash in hashes {
        query = query.bind(*hash);
    }
    query.fetch_all(pool).await
}

/// The finder: one SELECT for the batch; should it fail, each look-up alone.
pub(super) async fn find_batch(db: Db, batch: Vec<Find>) {
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

#[cfg(test)]
mod tests {
    use super::{super::test_support::*, *};
    use crate::auth::refresh::token::{new_token, token_hash};

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
}
