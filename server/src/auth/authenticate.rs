//! Checking a Bearer token on every protected request: the hot path.

use std::sync::Arc;

use super::{access_token::TokenError, users, AuthError, AuthService, Authenticated};

impl AuthService {
    /// Checks a bearer token: signature and claims, then the revocation
    /// list, that its session is on, and that the user exists and is active.
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, AuthError> {
        let me = &self.0;
        let now = me.clock.now();
        let invalid = |e: TokenError| match e {
            TokenError::Invalid(why) => AuthError::InvalidToken(why),
            other => AuthError::InvalidToken(other.to_string()),
        };
        // A token validated a moment ago had its signature and claims
        // checked then: only its times are checked again.
        let remembered = me.validation.get(token);
        let claims = match &remembered {
            Some(answer) => {
                me.access
                    .check_times(&answer.claims, now)
                    .map_err(invalid)?;
                answer.claims.clone()
            }
            None => Arc::new(me.access.verify(token, now).map_err(invalid)?),
        };
        // With Redis, the revocation list is asked with the generation, in
        // one command; in the database, it is part of the query below.
        let listed = me.revocations.key_read_with_the_generation(&claims.jti);
        let list_in_db = listed.is_none();
        let (generation, revoked_elsewhere) = me.validation.generation_and_listed(listed).await?;
        if revoked_elsewhere {
            return Err(AuthError::InvalidToken("revoked".into()));
        }
        if let Some(answer) = remembered.filter(|a| a.is_of(generation)) {
            if answer.session_expires_at <= now {
                return Err(AuthError::InvalidToken("session ended".into()));
            }
            return Ok(Authenticated {
                user: answer.user.clone(),
                claims,
                locale: answer.locale,
            });
        }
        let id: i64 = claims
            .sub
            .parse()
            .map_err(|_| AuthError::InvalidToken("bad subject".into()))?;
        // One query reads the user (active flag and role as stored now), the
        // token's session and, when the list lives in the database, whether
        // the jti is revoked. (Each SQLite query is a hand-off to a connection
        // thread: the profile showed those context switches as the cost of
        // validation, hence the one query, and the cache in front of it.)
        let listed_jti = list_in_db.then_some(claims.jti.as_str());
        let row = users::find_for_token(&me.db, id, &claims.sid, listed_jti).await?;
        let Some(row) = row else {
            return Err(AuthError::InvalidToken("user deleted".into()));
        };
        if row.revoked != 0 {
            return Err(AuthError::InvalidToken("revoked".into()));
        }
        if !row.user.is_active {
            return Err(AuthError::InvalidToken("user deactivated".into()));
        }
        let session_expires_at = match row.session_expires_at {
            Some(expires_at) if expires_at > now => expires_at,
            _ => return Err(AuthError::InvalidToken("session ended".into())),
        };
        let user = row.user.to_api();
        me.validation.remember(
            token,
            generation,
            &user,
            row.user.locale,
            claims.clone(),
            session_expires_at,
        );
        Ok(Authenticated {
            user,
            claims,
            locale: row.user.locale,
        })
    }
}
