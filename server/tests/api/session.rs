//! Cookie-session mode: cookie attributes, fixation, logout, expiry, devices.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::json;

use crate::helpers::{
    PASSWORD, SendOk, SessionClient, Settings, TestClient, body, cookie_value, set_cookie,
    spawn_app, spawn_app_with, spawn_real_time_app,
};

const COOKIE: &str = "authlab_session";

async fn login_sets_an_httponly_lax_host_wide_cookie_without_domain() {
    let app = spawn_app().await;
    app.register("alice").await;
    let res = SessionClient::new(&app).try_login("alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = set_cookie(&res, COOKIE).expect("a session cookie is set");
    let attrs: Vec<String> = cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    assert!(attrs.contains(&"httponly".into()), "{cookie}");
    assert!(attrs.contains(&"samesite=lax".into()), "{cookie}");
    assert!(attrs.contains(&"path=/".into()), "{cookie}");
    assert!(!attrs.iter().any(|a| a.starts_with("domain")), "{cookie}");
    // Served over plain http in development: Secure would make the browser drop it.
    assert!(!attrs.contains(&"secure".into()), "{cookie}");
    assert!(attrs.iter().any(|a| a.starts_with("max-age=")), "{cookie}");
    assert_eq!(body(res).await["username"], "alice");
}

async fn behind_https_the_cookie_is_secure_and_host_prefixed() {
    let app =
        spawn_app_with(Settings::default().with("PUBLIC_URL", "https://authlab.example")).await;
    app.register("alice").await;
    let res = app
        .anonymous()
        .post(app.url("/api/session/login"))
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send_ok()
        .await;
    let cookie = set_cookie(&res, "__Host-authlab_session").expect("__Host- cookie");
    assert!(cookie.to_ascii_lowercase().contains("; secure"), "{cookie}");
}

async fn me_in_session_mode_names_the_user_and_the_store_cost() {
    let app = spawn_app().await;
    let client: SessionClient = app.user("alice").await;
    let res = client.me().await;
    assert_eq!(res.status(), StatusCode::OK);
    let timing = res.headers()["server-timing"].to_str().unwrap().to_owned();
    assert!(timing.contains("auth;desc=\"session\";dur="), "{timing}");
    assert!(
        timing.contains("store;desc=\"session load\";dur="),
        "{timing}"
    );
    let me = body(res).await;
    assert_eq!(me["user"]["username"], "alice");
    assert_eq!(me["auth"]["mode"], "session");
    let created = me["auth"]["created_at"].as_i64().unwrap();
    assert!(me["auth"]["absolute_expires_at"].as_i64().unwrap() > created);
}

async fn a_planted_session_id_is_replaced_at_login_and_never_accepted() {
    let app = spawn_app().await;
    app.register("victim").await;
    app.register("attacker").await;
    // The attacker logs in, then plants their own session id in the victim's browser.
    let attacker = SessionClient::login(&app, "attacker", PASSWORD).await;
    let planted = {
        let res = attacker.try_login("attacker", PASSWORD).await;
        cookie_value(&set_cookie(&res, COOKIE).unwrap())
    };
    let victim_browser = app.anonymous();
    let res = victim_browser
        .post(app.url("/api/session/login"))
        .header(header::COOKIE, format!("{COOKIE}={planted}"))
        .json(&json!({ "username": "victim", "password": PASSWORD }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let issued = cookie_value(&set_cookie(&res, COOKIE).expect("a new cookie"));
    assert_ne!(issued, planted, "the session id must change at login");
    // The planted id is dead: it neither became the victim's session nor stayed the attacker's.
    let replay = victim_browser
        .get(app.url("/api/me"))
        .header(header::COOKIE, format!("{COOKIE}={planted}"))
        .send_ok()
        .await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let victim = victim_browser
        .get(app.url("/api/me"))
        .header(header::COOKIE, format!("{COOKIE}={issued}"))
        .send_ok()
        .await;
    assert_eq!(body(victim).await["user"]["username"], "victim");
}

async fn an_unknown_session_id_is_never_adopted() {
    let app = spawn_app().await;
    app.register("alice").await;
    // A syntactically valid id the server never issued.
    let made_up = "AAAAAAAAAAAAAAAAAAAAAA";
    let res = app
        .anonymous()
        .post(app.url("/api/session/login"))
        .header(header::COOKIE, format!("{COOKIE}={made_up}"))
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send_ok()
        .await;
    let issued = cookie_value(&set_cookie(&res, COOKIE).unwrap());
    assert_ne!(issued, made_up);
    let stored = app
        .state
        .store
        .sessions
        .size_of(&made_up.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(stored, None);
}

async fn after_logout_the_old_cookie_gets_401() {
    let app = spawn_app().await;
    app.register("alice").await;
    let client = SessionClient::new(&app);
    let login = client.try_login("alice", PASSWORD).await;
    let stolen = cookie_value(&set_cookie(&login, COOKIE).unwrap());

    let logout = client.logout().await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(logout.headers()[header::CACHE_CONTROL], "no-store");
    let cleared = set_cookie(&logout, COOKIE).expect("the cookie is cleared");
    assert!(
        cleared.to_ascii_lowercase().contains("max-age=0"),
        "{cleared}"
    );
    assert_eq!(app.session_records().await, 0);
    assert_eq!(app.counts().await.session_entries, 0);

    let replay = app
        .anonymous()
        .get(app.url("/api/me"))
        .header(header::COOKIE, format!("{COOKIE}={stolen}"))
        .send_ok()
        .await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert!(replay.headers().contains_key(header::WWW_AUTHENTICATE));
    assert_eq!(body(replay).await["error"], "invalid_session");
}

async fn logout_is_post_only() {
    let app = spawn_app().await;
    let client: SessionClient = app.user("alice").await;
    let res = client
        .request(Method::GET, "/api/session/logout")
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(client.me().await.status(), StatusCode::OK);
}

fn short_lifetimes(idle: u64, absolute: u64) -> Settings {
    Settings::default()
        .with("SESSION_IDLE_TIMEOUT_SECS", idle)
        .with("SESSION_ABSOLUTE_TIMEOUT_SECS", absolute)
}

async fn an_idle_session_expires_on_the_server() {
    let app = spawn_app_with(short_lifetimes(60, 3600)).await;
    let client: SessionClient = app.user("alice").await;
    app.advance(Duration::from_secs(61));
    let res = client.me().await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        body(res).await["message"]
            .as_str()
            .unwrap()
            .contains("idle")
    );
}

async fn activity_slides_the_idle_expiry() {
    let app = spawn_app_with(short_lifetimes(60, 3600)).await;
    let client: SessionClient = app.user("alice").await;
    for _ in 0..3 {
        app.advance(Duration::from_secs(40));
        assert_eq!(client.me().await.status(), StatusCode::OK);
    }
    // 120 s after login, still alive thanks to activity; now let it idle.
    app.advance(Duration::from_secs(61));
    assert_eq!(client.me().await.status(), StatusCode::UNAUTHORIZED);
}

async fn the_absolute_lifetime_ends_even_an_active_session() {
    let app = spawn_app_with(short_lifetimes(60, 100)).await;
    let client: SessionClient = app.user("alice").await;
    app.advance(Duration::from_secs(45));
    assert_eq!(client.me().await.status(), StatusCode::OK);
    app.advance(Duration::from_secs(45));
    assert_eq!(client.me().await.status(), StatusCode::OK);
    app.advance(Duration::from_secs(15));
    let res = client.me().await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        body(res).await["message"]
            .as_str()
            .unwrap()
            .contains("maximum lifetime")
    );
    assert_eq!(app.session_records().await, 0);
}

async fn the_cookie_lives_as_long_as_the_session_not_a_second_less() {
    // Max-Age is whole seconds. A session with 0.8 s left must not get `Max-Age=0`, or the
    // browser drops it before the server would have ended it.
    let app = spawn_real_time_app(short_lifetimes(2, 2)).await;
    let client: SessionClient = app.user("alice").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let res = client.me().await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = set_cookie(&res, COOKIE).expect("the sliding expiry is written back");
    let max_age: u64 = cookie
        .split(';')
        .find_map(|a| {
            a.trim()
                .to_ascii_lowercase()
                .strip_prefix("max-age=")
                .map(str::to_owned)
        })
        .and_then(|v| v.parse().ok())
        .expect("a Max-Age");
    assert_eq!(max_age, 1, "{cookie}");
    // The client kept the cookie, and the server still honours it until the 2 s cap.
    assert_eq!(client.me().await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(client.me().await.status(), StatusCode::UNAUTHORIZED);
}

async fn the_cleanup_task_removes_expired_sessions_from_the_store() {
    let app = spawn_app_with(short_lifetimes(1, 3600)).await;
    let _client: SessionClient = app.user("alice").await;
    assert_eq!(app.session_records().await, 1);
    // The store's own expiry is wall-clock time, a second past the session's end (so the
    // cookie's whole-second Max-Age never cuts it short), compared by SQLite at one-second
    // resolution: wait out the one-second lifetime, that second and the resolution.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    app.advance(Duration::from_secs(2));
    server::cleanup::run_once(&app.state).await.unwrap();
    assert_eq!(app.session_records().await, 0);
    assert_eq!(app.counts().await.session_entries, 0);
}

async fn a_revoked_session_gets_401_on_its_very_next_request() {
    let app = spawn_app().await;
    let laptop: SessionClient = app.user("alice").await;
    let phone = SessionClient::login(&app, "alice", PASSWORD).await;
    let devices = body(laptop.request(Method::GET, "/api/devices").send_ok().await).await;
    let other = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["current"] == false)
        .expect("the phone is listed")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = laptop
        .request(Method::DELETE, &format!("/api/devices/{other}"))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(phone.me().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.me().await.status(), StatusCode::OK);
    assert_eq!(app.session_records().await, 1);
}

async fn revoking_the_current_session_logs_it_out_for_good() {
    let app = spawn_app().await;
    let client: SessionClient = app.user("alice").await;
    let devices = body(client.request(Method::GET, "/api/devices").send_ok().await).await;
    let own = devices["devices"][0]["id"].as_str().unwrap().to_owned();
    let res = client
        .request(Method::DELETE, &format!("/api/devices/{own}"))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // The end of that request must not have written the session back.
    assert_eq!(app.session_records().await, 0);
    assert_eq!(client.me().await.status(), StatusCode::UNAUTHORIZED);
}

on_every_backend!(
    login_sets_an_httponly_lax_host_wide_cookie_without_domain,
    behind_https_the_cookie_is_secure_and_host_prefixed,
    me_in_session_mode_names_the_user_and_the_store_cost,
    a_planted_session_id_is_replaced_at_login_and_never_accepted,
    an_unknown_session_id_is_never_adopted,
    after_logout_the_old_cookie_gets_401,
    logout_is_post_only,
    an_idle_session_expires_on_the_server,
    activity_slides_the_idle_expiry,
    the_absolute_lifetime_ends_even_an_active_session,
    the_cookie_lives_as_long_as_the_session_not_a_second_less,
    the_cleanup_task_removes_expired_sessions_from_the_store,
    a_revoked_session_gets_401_on_its_very_next_request,
    revoking_the_current_session_logs_it_out_for_good,
);
