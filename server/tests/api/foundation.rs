use reqwest::StatusCode;

use crate::{helpers::*, on_every_backend};

on_every_backend! {
    async fn health_answers_in_the_envelope(app) {
        let (status, body) = envelope(app.get("/api/health").await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["status"], "ok");
        assert!(body["errors"].as_array().unwrap().is_empty());
    }

    async fn ready_checks_the_database_and_redis(app) {
        let (status, body) = envelope(app.get("/api/ready").await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["database"], "ok");
        let redis = if app.backend == Backend::Postgres { "ok" } else { "not configured" };
        assert_eq!(body["data"]["redis"], redis);
    }

    async fn unknown_api_paths_and_wrong_methods_answer_in_the_envelope(app) {
        let (status, body) = envelope(app.get("/api/nothing/here").await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let response = app.client.post(app.url("/api/health")).send().await.unwrap();
        let (status, body) = envelope(response).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    }

    async fn every_response_carries_a_request_id(app) {
        let response = app.get("/api/health").await;
        let id = response.headers().get("x-request-id").expect("x-request-id").to_str().unwrap();
        assert_eq!(id.len(), 36, "{id}");
    }

    async fn the_home_page_is_rendered_on_the_server(app) {
        let response = app.get("/").await;
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        assert!(html.contains("<h1>Rust auth server</h1>"), "{html}");
        assert!(html.contains("Checking the API"), "the health badge waits for hydration: {html}");
        assert!(html.contains("/pkg/auth"), "hydration scripts and stylesheet are linked: {html}");
        assert!(html.contains("hydrate"), "{html}");
    }

    async fn an_unknown_page_is_a_404_page(app) {
        let response = app.get("/no/such/page").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(response.text().await.unwrap().contains("Page not found"));
    }
}

#[tokio::test]
async fn ready_is_503_in_the_envelope_when_redis_is_unreachable() {
    let redis = unreachable_redis_url();
    let app = spawn_app_with(Backend::Sqlite, &[("REDIS_URL", &redis)]).await;
    let (status, body) = envelope(app.get("/api/ready").await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["errors"][0], "redis unreachable");
}

#[tokio::test]
async fn the_sqlite_database_is_created_in_wal_mode_and_migrated() {
    let app = spawn_app(Backend::Sqlite).await;
    let path = app.dir.path().join("auth.db");
    assert!(path.exists());
    let url = format!("sqlite://{}", path.display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_has_every_table(&tables);
}

#[tokio::test]
async fn the_postgres_database_is_migrated() {
    let app = spawn_app(Backend::Postgres).await;
    let url = app.config.database.url.clone();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_has_every_table(&tables);
}

/// The tables the migrations of both backends create.
fn assert_has_every_table(tables: &[String]) {
    for table in [
        "audit_events",
        "browser_sessions",
        "login_failures",
        "refresh_families",
        "refresh_tokens",
        "revoked_tokens",
        "users",
    ] {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing from {tables:?}"
        );
    }
}

/// The WAL is copied back into the database every 250 pages (about 1 MB) and
/// reused while writes go on. If nothing checkpointed it, it would only grow:
/// 1,000 rotations append well over 30 MB of pages to it (measured with
/// checkpoints deferred to a task beside a busy writer, which never let it
/// restart); with SQLite's default of 1,000 pages it reaches 4 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_wal_is_checkpointed_and_reused_under_writes() {
    let app = spawn_app(Backend::Sqlite).await;
    let registered = app.register("walker").await;
    let mut token = registered["refreshToken"].as_str().unwrap().to_string();
    let wal = app.dir.path().join("auth.db-wal");
    let mut largest = 0;
    for _ in 0..1000 {
        let (status, body) = app.refresh(&token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        token = body["data"]["refreshToken"].as_str().unwrap().to_string();
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    }
    assert!(largest > 0, "the database is in WAL mode");
    assert!(largest < 2 << 20, "the WAL grew to {largest} bytes");
}
