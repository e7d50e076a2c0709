//! The operator's command line: `server admin create`, `promote` and
//! `set-password`.

use std::process::Stdio;

use tempfile::TempDir;

use crate::process::command;

/// Runs `server admin …` with `stdin` as its standard input.
fn admin_command(
    dir: &TempDir,
    database_url: &str,
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    use std::io::Write;
    let mut child = command(dir)
        .env("DATABASE_URL", database_url)
        .arg("admin")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn the_admin_commands_work_on(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = admin_command(
        &dir,
        database_url,
        &[
            "create",
            "--username",
            "root",
            "--email",
            "root@example.com",
        ],
        "s3cret-admin\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = admin_command(
        &dir,
        database_url,
        &["create", "--username", "ROOT", "--email", "x@example.com"],
        "s3cret-admin\n",
    );
    assert_eq!(again.status.code(), Some(1), "a duplicate is refused");
    let bad = admin_command(
        &dir,
        database_url,
        &["create", "--username", "r", "--email", "nope"],
        "123\n",
    );
    assert_eq!(bad.status.code(), Some(2), "invalid input is a usage error");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("Username") && stderr.contains("Email") && stderr.contains("Password"),
        "{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("s3cret-admin"),
        "the password is never printed"
    );

    let db = server::db::Db::connect(database_url, 2).await.unwrap();
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE username = 'root'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(role, "Admin");

    sqlx::query(
        "INSERT INTO users (username, username_key, email, email_key, full_name, password_hash, role, is_active, created_at, updated_at) \
         VALUES ('Joe', 'joe', 'joe@example.com', 'joe@example.com', 'Joe', 'x', 'User', TRUE, 0, 0)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let promoted = admin_command(&dir, database_url, &["promote", "JOE"], "");
    assert!(
        promoted.status.success(),
        "{}",
        String::from_utf8_lossy(&promoted.stderr)
    );
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE username = 'Joe'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(role, "Admin");
    assert_eq!(
        admin_command(&dir, database_url, &["promote", "nobody"], "")
            .status
            .code(),
        Some(1)
    );
}

crate::on_every_backend! {
    async fn admin_create_and_promote_work(app) {
        the_admin_commands_work_on(&app.config.database.url).await;
    }
}

/// `server admin set-password` against the stores of a running server.
fn set_password(
    app: &crate::helpers::TestApp,
    username: &str,
    stdin: &str,
) -> std::process::Output {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(&dir);
    cmd.env("DATABASE_URL", &app.config.database.url)
        .env("REDIS_KEY_PREFIX", &app.config.database.redis_key_prefix);
    if let Some(redis) = &app.config.database.redis_url {
        cmd.env("REDIS_URL", redis);
    }
    let mut child = cmd
        .args(["admin", "set-password", "--username", username])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

crate::on_every_backend! {
    /// The way back in for a user with no mail: the operator sets a new
    /// password, and every session of the account ends with it.
    async fn set_password_replaces_the_password_and_ends_the_sessions(app) {
        app.register("forgetful").await;
        let (_, signed_in) = app.login("forgetful", crate::helpers::PASSWORD).await;
        let access = signed_in["data"]["accessToken"].as_str().unwrap();
        let refresh = signed_in["data"]["refreshToken"].as_str().unwrap();
        assert_eq!(app.me(access).await.0, reqwest::StatusCode::OK);

        let out = set_password(&app, "FORGETFUL", "a brand new password\n");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{said}");
        // The registration's session and the sign-in's.
        assert!(said.contains("2 sessions ended"), "{said}");
        assert!(!said.contains("a brand new password"), "the password is never printed");

        // The command is another process: the server's remembered answers
        // see its change once they expire (validation_cache::MAX_AGE).
        app.clock.advance(2);
        assert_eq!(app.me(access).await.0, reqwest::StatusCode::UNAUTHORIZED);
        assert_eq!(app.refresh(refresh).await.0, reqwest::StatusCode::UNAUTHORIZED);
        assert_eq!(app.login("forgetful", crate::helpers::PASSWORD).await.0, reqwest::StatusCode::UNAUTHORIZED);
        assert_eq!(app.login("forgetful", "a brand new password").await.0, reqwest::StatusCode::OK);

        let weak = set_password(&app, "forgetful", "short\n");
        assert_eq!(weak.status.code(), Some(2), "a weak password is a usage error");
        assert!(String::from_utf8_lossy(&weak.stderr).contains("Password"));
        assert_eq!(set_password(&app, "nobody", "a brand new password\n").status.code(), Some(1));
        assert_eq!(app.login("forgetful", "a brand new password").await.0, reqwest::StatusCode::OK);
    }
}

#[tokio::test]
async fn an_admin_created_on_the_command_line_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/auth.db", dir.path().display());
    let out = admin_command(
        &dir,
        &url,
        &[
            "create",
            "--username",
            "first",
            "--email",
            "first@example.com",
            "--full-name",
            "First Admin",
        ],
        "first-secret\n",
    );
    assert!(out.status.success());
    let app =
        crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, &[("DATABASE_URL", &url)])
            .await;
    let (status, body) = app.login("first", "first-secret").await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert_eq!(body["data"]["user"]["role"], "Admin");
    assert_eq!(body["data"]["user"]["fullName"], "First Admin");
}
