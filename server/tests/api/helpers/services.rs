//! The PostgreSQL and Redis the tests run on: `./scripts/test` starts
//! throwaway ones and names them in `TEST_DATABASE_URL` and `TEST_REDIS_URL`.

use sqlx::{Connection, Executor, PgConnection};

pub fn test_database_url() -> String {
    std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: the PostgreSQL tests need a server. \
         Run ./scripts/test, which starts a throwaway one, or point TEST_DATABASE_URL at yours.",
    )
}

pub fn test_redis_url() -> String {
    std::env::var("TEST_REDIS_URL").expect(
        "TEST_REDIS_URL is not set: the scale-out tests need a Redis server. \
         Run ./scripts/test, which starts a throwaway one, or point TEST_REDIS_URL at yours.",
    )
}

/// A Redis URL on a port nothing listens on (bound, then freed).
pub fn unreachable_redis_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("redis://127.0.0.1:{port}")
}

/// Creates a fresh PostgreSQL database and returns its URL and name.
pub async fn fresh_postgres_database() -> (String, String) {
    let admin_url = test_database_url();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin_url)
        .await
        .expect("cannot connect to TEST_DATABASE_URL");
    conn.execute(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
        .await
        .expect("cannot create a test database");
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL has a database name");
    (format!("{base}/{name}"), name)
}

/// Settings for a server whose Redis user may read every key, and write
/// every key but those matching `unwritable` (after the prefix): the
/// writes of the app to those fail, as they would if Redis went away at
/// that moment.
pub async fn settings_with_a_redis_user_that_may_not_write(
    unwritable: &[&str],
) -> Vec<(String, String)> {
    let admin_url = test_redis_url();
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let user = format!("limited{}", uuid::Uuid::new_v4().simple());
    let mut conn = redis::Client::open(admin_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut acl = redis::cmd("ACL");
    acl.arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg(">limited-password")
        .arg("+@all")
        .arg("%R~*");
    for writable in [
        "lockout:*",
        "rate:*",
        "revoked:*",
        "session:*",
        "validation-generation",
    ] {
        if !unwritable.contains(&writable) {
            acl.arg(format!("~{prefix}{writable}"));
        }
    }
    acl.query_async::<()>(&mut conn).await.unwrap();
    // The generation exists from the start: reading it must not need a write.
    redis::cmd("SET")
        .arg(format!("{prefix}validation-generation"))
        .arg(1)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    let url = admin_url.replacen("redis://", &format!("redis://{user}:limited-password@"), 1);
    vec![
        ("REDIS_URL".into(), url),
        ("REDIS_KEY_PREFIX".into(), prefix),
    ]
}

/// Settings for a server that cannot move the validation generation after
/// a committed change.
pub async fn settings_where_the_generation_cannot_move() -> Vec<(String, String)> {
    settings_with_a_redis_user_that_may_not_write(&["validation-generation"]).await
}
