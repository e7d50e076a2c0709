//! The admin API: role checks, user management, the audit log.

use reqwest::{Method, StatusCode};
use serde_json::json;
use server::auth::users::{self, Guarded};

use crate::{helpers::*, on_every_backend};

enum Change {
    Demote,
    Deactivate,
}

/// One guarded change of user `id` in its own transaction.
async fn guarded(db: &server::db::Db, id: i64, change: Change) -> Guarded {
    let mut tx = db.begin_write().await.unwrap();
    let outcome = match change {
        Change::Demote => users::set_role_guarded(&mut tx, db.backend, id, "User", 0).await,
        Change::Deactivate => users::set_active_guarded(&mut tx, db.backend, id, false, 0).await,
    };
    tx.commit().await.unwrap();
    outcome.unwrap()
}

on_every_backend! {
    async fn a_user_gets_403_insufficient_scope_from_every_admin_endpoint(app) {
        let user = app.register("plain").await;
        let token = user["accessToken"].as_str().unwrap();
        let id = user["user"]["id"].as_i64().unwrap();
        for (method, path, body) in [
            (Method::GET, "/api/admin/users".to_string(), None),
            (Method::PATCH, format!("/api/admin/users/{id}/role"), Some(json!({"role": "Admin"}))),
            (Method::PATCH, format!("/api/admin/users/{id}/active"), Some(json!({"isActive": false}))),
            (Method::POST, format!("/api/admin/users/{id}/revoke-sessions"), None),
            (Method::GET, "/api/admin/audit".to_string(), None),
        ] {
            let mut request = app.client.request(method.clone(), app.url(&path)).bearer_auth(token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            assert_eq!(challenge(&response), r#"Bearer error="insufficient_scope""#, "{method} {path}");
            assert_eq!(envelope(response).await.0, StatusCode::FORBIDDEN, "{method} {path}");
            let anonymous = app.client.request(method.clone(), app.url(&path)).send().await.unwrap();
            assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        }
        assert_eq!(app.me(token).await.1["data"]["role"], "User", "nothing changed");
    }

    async fn admins_list_and_search_users_a_page_at_a_time(app) {
        let (token, _) = app.admin("boss").await;
        for name in ["bob", "bobby", "carla"] {
            app.register(name).await;
        }
        let (status, body) = app.call(Method::GET, "/api/admin/users?page=1&pageSize=2", &token, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["total"], 4);
        assert_eq!(body["data"]["items"].as_array().unwrap().len(), 2);
        assert_eq!((body["data"]["page"].as_u64(), body["data"]["pageSize"].as_u64()), (Some(1), Some(2)));
        let (_, second) = app.call(Method::GET, "/api/admin/users?page=2&pageSize=2", &token, None).await;
        assert_eq!(second["data"]["items"][1]["username"], "carla");
        assert!(second["data"]["items"][1]["createdAt"].as_str().unwrap().ends_with('Z'));

        let (_, found) = app.call(Method::GET, "/api/admin/users?search=BOB", &token, None).await;
        assert_eq!(found["data"]["total"], 2, "{found}");
        let (_, none) = app.call(Method::GET, "/api/admin/users?search=%25", &token, None).await;
        assert_eq!(none["data"]["total"], 0, "LIKE wildcards are matched literally");

        for bad in ["pageSize=101", "pageSize=0", "page=0", "pageSize=lots"] {
            let (status, body) = app.call(Method::GET, &format!("/api/admin/users?{bad}"), &token, None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        }
    }

    async fn a_role_change_takes_effect_at_once_on_tokens_already_issued(app) {
        let (admin_token, _) = app.admin("chief").await;
        let user = app.register("rising").await;
        let token = user["accessToken"].as_str().unwrap();
        let id = user["user"]["id"].as_i64().unwrap();
        assert_eq!(app.call(Method::GET, "/api/admin/users", token, None).await.0, StatusCode::FORBIDDEN);
        let (status, body) = app.call(Method::PATCH, &format!("/api/admin/users/{id}/role"), &admin_token, Some(json!({"role": "Admin"}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["role"], "Admin");
        // The token still says "User"; the database decides.
        assert_eq!(jwt_part(token, 1)["role"], "User");
        assert_eq!(app.call(Method::GET, "/api/admin/users", token, None).await.0, StatusCode::OK);
        app.call(Method::PATCH, &format!("/api/admin/users/{id}/role"), &admin_token, Some(json!({"role": "User"}))).await;
        assert_eq!(app.call(Method::GET, "/api/admin/users", token, None).await.0, StatusCode::FORBIDDEN);
        let (status, _) = app.call(Method::PATCH, &format!("/api/admin/users/{id}/role"), &admin_token, Some(json!({"role": "Root"}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn deactivation_stops_tokens_and_sessions_at_once_and_reactivation_restores_login(app) {
        let (admin_token, _) = app.admin("warden").await;
        let user = app.register("paused").await;
        let id = user["user"]["id"].as_i64().unwrap();
        let (status, body) = app.call(Method::PATCH, &format!("/api/admin/users/{id}/active"), &admin_token, Some(json!({"isActive": false}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["isActive"], false);
        assert_eq!(app.me(user["accessToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.refresh(user["refreshToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.login("paused", PASSWORD).await.0, StatusCode::UNAUTHORIZED);
        app.call(Method::PATCH, &format!("/api/admin/users/{id}/active"), &admin_token, Some(json!({"isActive": true}))).await;
        assert_eq!(app.login("paused", PASSWORD).await.0, StatusCode::OK);
        let kinds = app.count("SELECT COUNT(*) FROM audit_events WHERE kind IN ('user_deactivated', 'user_reactivated') AND detail <> $1", "").await;
        assert_eq!(kinds, 2);
    }

    async fn the_last_active_admin_cannot_be_demoted_or_deactivated(app) {
        let (token, id) = app.admin("solo").await;
        let (status, body) = app.call(Method::PATCH, &format!("/api/admin/users/{id}/role"), &token, Some(json!({"role": "User"}))).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (status, _) = app.call(Method::PATCH, &format!("/api/admin/users/{id}/active"), &token, Some(json!({"isActive": false}))).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, second) = app.admin("deputy").await;
        let (status, _) = app.call(Method::PATCH, &format!("/api/admin/users/{second}/role"), &token, Some(json!({"role": "User"}))).await;
        assert_eq!(status, StatusCode::OK, "another active admin remains");
        let (status, _) = app.call(Method::PATCH, "/api/admin/users/999999/role", &token, Some(json!({"role": "User"}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app.call(Method::PATCH, "/api/admin/users/abc/role", &token, Some(json!({"role": "User"}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    async fn two_admins_removed_at_once_leave_one_admin(app) {
        // Each change alone is allowed (another admin remains); run together,
        // the second must see the first, or no admin would be left. Called on
        // the store, so that the two statements reach the database together.
        let (_, a) = app.admin("rivala").await;
        let (_, b) = app.admin("rivalb").await;
        let db = &app.state().db;
        for round in 0..100 {
            sqlx::query("UPDATE users SET role = 'Admin', is_active = TRUE WHERE id IN ($1, $2)")
                .bind(a)
                .bind(b)
                .execute(&db.writer)
                .await
                .unwrap();
            // Alternate the two guarded changes: demotion and deactivation.
            let outcomes = if round % 2 == 0 {
                tokio::join!(guarded(db, a, Change::Demote), guarded(db, b, Change::Demote))
            } else {
                tokio::join!(guarded(db, a, Change::Deactivate), guarded(db, b, Change::Deactivate))
            };
            let mut outcomes = [outcomes.0, outcomes.1];
            outcomes.sort_by_key(|o| format!("{o:?}"));
            assert_eq!(outcomes, [Guarded::Done, Guarded::LastAdmin], "round {round}");
        }
    }

    async fn revoking_a_users_sessions_ends_their_tokens_at_once(app) {
        let (admin_token, _) = app.admin("sheriff").await;
        let user = app.register("outlaw").await;
        let (_, second) = app.login("outlaw", PASSWORD).await;
        let id = user["user"]["id"].as_i64().unwrap();
        let (status, body) = app.call(Method::POST, &format!("/api/admin/users/{id}/revoke-sessions"), &admin_token, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["revoked"], 2);
        assert_eq!(app.me(user["accessToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(second["data"]["accessToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.refresh(second["data"]["refreshToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.login("outlaw", PASSWORD).await.0, StatusCode::OK, "they can sign in again");
    }

    async fn the_audit_log_filters_by_user_kind_ip_and_time(app) {
        let (token, _) = app.admin("auditor").await;
        let user = app.register("watched").await;
        let id = user["user"]["id"].as_i64().unwrap();
        app.login("watched", "wrong password").await;
        app.login("watched", PASSWORD).await;

        let (status, all) = app.call(Method::GET, &format!("/api/admin/audit?userId={id}"), &token, None).await;
        assert_eq!(status, StatusCode::OK, "{all}");
        let kinds: Vec<&str> = all["data"]["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["login_succeeded", "login_failed", "register"], "newest first");
        assert_eq!(all["data"]["total"], 3);

        let (_, failed) = app.call(Method::GET, &format!("/api/admin/audit?userId={id}&kind=login_failed"), &token, None).await;
        assert_eq!(failed["data"]["total"], 1);
        assert_eq!(failed["data"]["items"][0]["ip"], "127.0.0.1");
        let (_, by_ip) = app.call(Method::GET, "/api/admin/audit?ip=10.9.9.9", &token, None).await;
        assert_eq!(by_ip["data"]["total"], 0);
        let (_, paged) = app.call(Method::GET, &format!("/api/admin/audit?userId={id}&pageSize=1&page=3"), &token, None).await;
        assert_eq!(paged["data"]["items"][0]["kind"], "register");

        let now = time::OffsetDateTime::from_unix_timestamp(app.clock.now()).unwrap();
        let fmt = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
        let future = fmt(now + time::Duration::hours(1));
        let past = fmt(now - time::Duration::hours(1));
        let (_, later) = app.call(Method::GET, &format!("/api/admin/audit?userId={id}&from={future}"), &token, None).await;
        assert_eq!(later["data"]["total"], 0);
        let (_, window) = app.call(Method::GET, &format!("/api/admin/audit?userId={id}&from={past}&to={future}"), &token, None).await;
        assert_eq!(window["data"]["total"], 3);
        let (status, body) = app.call(Method::GET, "/api/admin/audit?from=yesterday", &token, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
}

/// Deactivation ends the sessions in the same transaction that sets the
/// flag: should moving the validation generation fail afterwards, the
/// sessions are still over, and a reactivation does not revive them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivation_ends_the_sessions_even_when_the_generation_cannot_move() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let settings = settings_where_the_generation_cannot_move().await;
        let app = spawn_app_with_owned(backend, &settings).await;
        let (admin, _) = app.admin("frozenadmin").await;
        let victim = app.register("frozenvictim").await;
        let (access, refresh) = (
            victim["accessToken"].as_str().unwrap(),
            victim["refreshToken"].as_str().unwrap(),
        );
        assert_eq!(
            app.me(access).await.0,
            StatusCode::OK,
            "remembered by the cache"
        );
        let id = victim["user"]["id"].as_i64().unwrap();
        let (status, body) = app.set_active(&admin, id, false).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend:?}: the change is committed: {body}"
        );
        assert_eq!(
            app.me(access).await.0,
            StatusCode::UNAUTHORIZED,
            "{backend:?}"
        );
        assert_eq!(app.set_active(&admin, id, true).await.0, StatusCode::OK);
        assert_eq!(
            app.refresh(refresh).await.0,
            StatusCode::UNAUTHORIZED,
            "{backend:?}: not revived"
        );
        assert_eq!(
            app.me(access).await.0,
            StatusCode::UNAUTHORIZED,
            "{backend:?}: not revived"
        );
    }
}
