//! Registration, the password check and login throttling.

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::{
    BearerClient, PASSWORD, SendOk, SessionClient, Settings, TestClient, body, spawn_app,
    spawn_app_with,
};

async fn registering_answers_201_with_the_new_user() {
    let app = spawn_app().await;
    let res = app
        .anonymous()
        .post(app.url("/api/auth/register"))
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user = body(res).await;
    assert_eq!(user["username"], "alice");
    assert!(user["id"].as_i64().unwrap() > 0);
    assert_eq!(app.counts().await.users, 1);
}

async fn a_username_is_taken_whatever_its_case() {
    let app = spawn_app().await;
    app.register("Alice").await;
    let res = app
        .anonymous()
        .post(app.url("/api/auth/register"))
        .json(&json!({ "username": "aLICE", "password": PASSWORD }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(body(res).await["error"], "username_taken");
    assert_eq!(app.counts().await.users, 1);
}

async fn invalid_registrations_get_422_with_every_field_problem() {
    let app = spawn_app().await;
    let res = app
        .anonymous()
        .post(app.url("/api/auth/register"))
        .json(&json!({ "username": "a b", "password": "short" }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = body(res).await;
    assert_eq!(err["error"], "invalid_input");
    let fields: Vec<_> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["username", "password"]);
    assert_eq!(app.counts().await.users, 0);
}

async fn an_over_long_password_is_refused_not_truncated() {
    let app = spawn_app().await;
    let res = app
        .anonymous()
        .post(app.url("/api/auth/register"))
        .json(&json!({ "username": "alice", "password": "x".repeat(1025) }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn malformed_bodies_get_clear_json_errors() {
    let app = spawn_app().await;
    let client = app.anonymous();
    let url = app.url("/api/auth/register");
    let syntax = client
        .post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{not json")
        .send_ok()
        .await;
    assert_eq!(syntax.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(syntax).await["error"], "bad_request");
    let missing = client
        .post(&url)
        .json(&json!({ "username": "alice" }))
        .send_ok()
        .await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let no_type = client
        .post(&url)
        .body(r#"{"username":"a","password":"b"}"#)
        .send_ok()
        .await;
    assert_eq!(no_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body(no_type).await["error"], "unsupported_media_type");
}

async fn passwords_are_stored_as_argon2id_hashes_only() {
    let app = spawn_app().await;
    let id = app.register("alice").await["id"].as_i64().unwrap();
    let hash = app
        .state
        .store
        .census()
        .password_hash_of(id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

async fn a_unicode_passphrase_logs_in_in_both_modes() {
    let app = spawn_app().await;
    let password = "비밀번호는 길수록 좋다 🔐";
    let res = app
        .anonymous()
        .post(app.url("/api/auth/register"))
        .json(&json!({ "username": "minji", "password": password }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let session = SessionClient::login(&app, "MINJI", password).await;
    assert_eq!(session.me().await.status(), StatusCode::OK);
    let bearer = BearerClient::login(&app, "minji", password).await;
    assert_eq!(bearer.me().await.status(), StatusCode::OK);
}

async fn unknown_users_and_wrong_passwords_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("alice").await;
    for path in ["/api/session/login", "/api/token/login"] {
        let wrong = app
            .anonymous()
            .post(app.url(path))
            .json(&json!({ "username": "alice", "password": "not the password" }))
            .send_ok()
            .await;
        let unknown = app
            .anonymous()
            .post(app.url(path))
            .json(&json!({ "username": "nobody", "password": "not the password" }))
            .send_ok()
            .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.status(), unknown.status());
        let headers = |r: &reqwest::Response| {
            let mut h: Vec<_> = r
                .headers()
                .iter()
                .filter(|(k, _)| *k != header::DATE && k.as_str() != "server-timing")
                .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap()))
                .collect();
            h.sort();
            h
        };
        assert_eq!(headers(&wrong), headers(&unknown));
        assert_eq!(body(wrong).await, body(unknown).await);
    }
}

async fn repeated_failures_from_one_client_get_429_with_retry_after() {
    let app = spawn_app_with(Settings::default().with("LOGIN_MAX_FAILURES_PER_ACCOUNT", 3)).await;
    app.register("alice").await;
    let client = SessionClient::new(&app);
    for _ in 0..3 {
        let res = client.try_login("alice", "wrong password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused from this client: the limit is checked before hashing.
    let locked = client.try_login("alice", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = locked.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert_eq!(body(locked).await["error"], "too_many_attempts");
    // The token login path shares the lock.
    let token = BearerClient::try_login(&app, "alice", PASSWORD).await;
    assert_eq!(token.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn a_forged_forwarded_for_does_not_escape_the_ip_limit() {
    let app = spawn_app_with(Settings::default().with("LOGIN_MAX_FAILURES_PER_IP", 3)).await;
    let client = app.anonymous();
    for n in 0..3 {
        let res = client
            .post(app.url("/api/session/login"))
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .json(&json!({ "username": format!("user{n}"), "password": "wrong password" }))
            .send_ok()
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = client
        .post(app.url("/api/session/login"))
        .header("x-forwarded-for", "203.0.113.77")
        .json(&json!({ "username": "someone-else", "password": "wrong password" }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn a_successful_login_clears_the_accounts_failures() {
    let app = spawn_app_with(Settings::default().with("LOGIN_MAX_FAILURES_PER_ACCOUNT", 3)).await;
    app.register("alice").await;
    let client = SessionClient::new(&app);
    for _ in 0..2 {
        client.try_login("alice", "wrong password").await;
    }
    assert_eq!(
        client.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
    for _ in 0..2 {
        client.try_login("alice", "wrong password").await;
    }
    assert_eq!(
        client.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
}

on_every_backend!(
    registering_answers_201_with_the_new_user,
    a_username_is_taken_whatever_its_case,
    invalid_registrations_get_422_with_every_field_problem,
    an_over_long_password_is_refused_not_truncated,
    malformed_bodies_get_clear_json_errors,
    passwords_are_stored_as_argon2id_hashes_only,
    a_unicode_passphrase_logs_in_in_both_modes,
    unknown_users_and_wrong_passwords_get_the_same_answer,
    repeated_failures_from_one_client_get_429_with_retry_after,
    a_forged_forwarded_for_does_not_escape_the_ip_limit,
    a_successful_login_clears_the_accounts_failures,
);
