//! The lab's additions at the API level: opaque tokens, scopes, the single-session policy,
//! secret rotation, notes, and every server-side experiment reaching its verdict.

use app::lab::{EXPERIMENTS, Outcome, RunsIn};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{
    BearerClient, PASSWORD, SendOk, SessionClient, Settings, TestApp, TestClient, body, spawn_app,
    spawn_app_with, spawn_real_time_app,
};

async fn opaque_login(app: &TestApp, username: &str) -> String {
    let res = app
        .anonymous()
        .post(app.url("/api/opaque/login"))
        .json(&json!({ "username": username, "password": PASSWORD }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = body(res).await;
    assert_eq!(token["token_type"], "Token");
    token["token"].as_str().unwrap().to_owned()
}

async fn an_opaque_token_is_looked_up_on_every_request_and_dies_at_logout() {
    let app = spawn_app().await;
    let user_id = app.register("alice").await["id"].as_i64().unwrap();
    let token = opaque_login(&app, "alice").await;
    assert_eq!(token.len(), 40);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let client = app.anonymous();
    let me = client
        .get(app.url("/api/me"))
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .send_ok()
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    let timing = me.headers()["server-timing"].to_str().unwrap().to_owned();
    assert!(timing.contains("store;desc=\"token lookup\""), "{timing}");
    assert!(timing.contains("auth;desc=\"opaque\""), "{timing}");
    assert_eq!(body(me).await["auth"]["mode"], "opaque");
    // Stored hashed only.
    let stored = app
        .state
        .store
        .census()
        .opaque_hashes_of(user_id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let stored = stored[0].clone();
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, token.as_bytes());

    let logout = client
        .post(app.url("/api/opaque/logout"))
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .send_ok()
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.counts().await.opaque_tokens, 0);
    let after = client
        .get(app.url("/api/me"))
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .send_ok()
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

async fn opaque_tokens_are_listed_and_revocable_as_devices() {
    let app = spawn_app().await;
    let session: SessionClient = app.user("alice").await;
    let token = opaque_login(&app, "alice").await;
    let list = body(session.request(Method::GET, "/api/devices").send_ok().await).await;
    let opaque = list["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "opaque")
        .expect("the opaque token is listed")
        .clone();
    let id = opaque["id"].as_str().unwrap();
    let res = session
        .request(Method::DELETE, &format!("/api/devices/{id}"))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let after = app
        .anonymous()
        .get(app.url("/api/me"))
        .header(header::AUTHORIZATION, format!("Token {token}"))
        .send_ok()
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

async fn scoped_login(app: &TestApp, scope: &str) -> Value {
    let res = app
        .anonymous()
        .post(app.url("/api/token/login"))
        .json(&json!({ "username": "alice", "password": PASSWORD, "scope": scope }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK, "login with scope {scope}");
    body(res).await
}

async fn a_read_only_token_reads_but_is_refused_writes_with_403() {
    let app = spawn_app().await;
    app.register("alice").await;
    let pair = scoped_login(&app, "read").await;
    let access = pair["access_token"].as_str().unwrap();
    let client = app.anonymous();
    let read = client
        .get(app.url("/api/notes"))
        .bearer_auth(access)
        .send_ok()
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    let write = client
        .post(app.url("/api/notes"))
        .bearer_auth(access)
        .json(&json!({ "text": "hello" }))
        .send_ok()
        .await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        write.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"authlab\", error=\"insufficient_scope\", scope=\"write\""
    );
    assert_eq!(body(write).await["error"], "insufficient_scope");
    let revoke = client
        .post(app.url("/api/devices/revoke-others"))
        .bearer_auth(access)
        .send_ok()
        .await;
    assert_eq!(revoke.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.counts().await.notes, 0);

    // Rotation keeps the scope.
    let refreshed = client
        .post(app.url("/api/token/refresh"))
        .json(&json!({ "refresh_token": pair["refresh_token"] }))
        .send_ok()
        .await;
    let access = body(refreshed).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = body(
        client
            .get(app.url("/api/me"))
            .bearer_auth(&access)
            .send_ok()
            .await,
    )
    .await;
    assert_eq!(me["auth"]["scope"], "read");
    let write = client
        .post(app.url("/api/notes"))
        .bearer_auth(&access)
        .json(&json!({ "text": "hello" }))
        .send_ok()
        .await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
}

async fn a_full_token_and_a_session_can_write_notes() {
    let app = spawn_app().await;
    app.register("alice").await;
    let pair = scoped_login(&app, "read write").await;
    let res = app
        .anonymous()
        .post(app.url("/api/notes"))
        .bearer_auth(pair["access_token"].as_str().unwrap())
        .json(&json!({ "text": "from a token" }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(body(res).await["via"], "bearer");
    let session = SessionClient::login(&app, "alice", PASSWORD).await;
    let res = session
        .request(Method::POST, "/api/notes")
        .json(&json!({ "text": "from a session" }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let list = body(session.request(Method::GET, "/api/notes").send_ok().await).await;
    assert_eq!(list["notes"].as_array().unwrap().len(), 2);
    assert_eq!(list["notes"][0]["text"], "from a session");
}

async fn unknown_scopes_and_empty_notes_are_422() {
    let app = spawn_app().await;
    app.register("alice").await;
    let res = app
        .anonymous()
        .post(app.url("/api/token/login"))
        .json(&json!({ "username": "alice", "password": PASSWORD, "scope": "admin" }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let session = SessionClient::login(&app, "alice", PASSWORD).await;
    let res = session
        .request(Method::POST, "/api/notes")
        .json(&json!({ "text": "   " }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn with_the_single_session_policy_a_new_login_ends_the_others_in_both_modes() {
    let app = spawn_app_with(Settings::default().with("SINGLE_SESSION", true)).await;
    let user_id = app.register("alice").await["id"].as_i64().unwrap();
    let laptop = SessionClient::login(&app, "alice", PASSWORD).await;
    let phone = BearerClient::login(&app, "alice", PASSWORD).await;
    assert_eq!(laptop.me().await.status(), StatusCode::UNAUTHORIZED);
    let tablet = SessionClient::login(&app, "alice", PASSWORD).await;
    let refresh = phone.refresh_with(&phone.refresh_token()).await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    let list = body(tablet.request(Method::GET, "/api/devices").send_ok().await).await;
    assert_eq!(list["devices"].as_array().unwrap().len(), 1);
    let reasons = app
        .state
        .store
        .census()
        .revoked_reasons_of(user_id)
        .await
        .unwrap();
    assert_eq!(reasons, ["single_session"]);
}

async fn without_the_policy_logins_coexist() {
    let app = spawn_app().await;
    app.register("alice").await;
    let laptop = SessionClient::login(&app, "alice", PASSWORD).await;
    let _phone = BearerClient::login(&app, "alice", PASSWORD).await;
    assert_eq!(laptop.me().await.status(), StatusCode::OK);
}

async fn rotating_the_signing_key_ends_access_tokens_but_not_refresh_tokens() {
    let app = spawn_app().await;
    let client: BearerClient = app.user("alice").await;
    assert_eq!(client.me().await.status(), StatusCode::OK);
    server::lab::rotate_secret(&app.state).await.unwrap();
    let res = client.me().await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body(res).await["error"], "invalid_token");
    client.refresh().await;
    assert_eq!(client.me().await.status(), StatusCode::OK);
}

async fn production_has_no_lab_switches() {
    let app = spawn_app_with(Settings::default().with("LAB_SWITCHES", false)).await;
    app.register("alice").await;
    let res = app
        .anonymous()
        .post(app.url("/api/lab/session-login"))
        .json(&json!({ "username": "alice", "password": PASSWORD, "idle_secs": 2 }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(server::lab::rotate_secret(&app.state).await.is_err());
    assert!(
        server::lab::experiments::run(&app.state, "forgery")
            .await
            .is_err()
    );
}

async fn lab_logins_refuse_lifetimes_out_of_range() {
    let app = spawn_app().await;
    app.register("alice").await;
    let res = app
        .anonymous()
        .post(app.url("/api/lab/token-login"))
        .json(&json!({ "username": "alice", "password": PASSWORD, "access_ttl_secs": 0 }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_lab_token_login_issues_the_asked_lifetime_and_keeps_it_on_refresh() {
    let app = spawn_app().await;
    app.register("alice").await;
    let res = app
        .anonymous()
        .post(app.url("/api/lab/token-login"))
        .json(&json!({ "username": "alice", "password": PASSWORD, "access_ttl_secs": 7 }))
        .send_ok()
        .await;
    let pair = body(res).await;
    assert_eq!(pair["expires_in"], 7);
    let refreshed = app
        .anonymous()
        .post(app.url("/api/token/refresh"))
        .json(&json!({ "refresh_token": pair["refresh_token"] }))
        .send_ok()
        .await;
    assert_eq!(body(refreshed).await["expires_in"], 7);
}

/// Every server-side experiment, run for real against a spawned app, on every backend.
macro_rules! experiment_tests {
    ($($name:ident => $id:literal : $outcome:expr),* $(,)?) => {
        mod experiments {
            use super::*;
            $(
                async fn $name() {
                    let app = spawn_real_time_app(Settings::default().with("REFRESH_TOKEN_GRACE_SECS", 1)).await;
                    let report = server::lab::experiments::run(&app.state, $id).await.expect("the experiment runs");
                    assert_eq!(report.verdict.outcome, $outcome, "{}: {}", $id, report.verdict.text);
                    assert!(!report.steps.is_empty());
                    assert!(report.steps.iter().any(|s| !s.exchanges.is_empty()), "real requests were made");
                }
            )*
            on_every_backend!($($name),*);
        }
    };
}

experiment_tests! {
    no_credential => "no-credential": Outcome::Confirmed,
    credential_contents => "credential-contents": Outcome::Confirmed,
    stolen_cookie => "stolen-cookie": Outcome::Confirmed,
    stolen_token => "stolen-token": Outcome::Confirmed,
    forgery => "forgery": Outcome::Confirmed,
    refresh_reuse => "refresh-reuse": Outcome::Confirmed,
    server_state => "server-state": Outcome::Partly,
    wire_bytes => "wire-bytes": Outcome::Confirmed,
    sliding_session => "sliding-session": Outcome::Confirmed,
    single_session => "single-session": Outcome::Partly,
    opaque_token => "opaque-token": Outcome::Confirmed,
    scoped_token => "scoped-token": Outcome::Confirmed,
    leaked_secret => "leaked-secret": Outcome::Confirmed,
    shared_store => "shared-store": Outcome::Confirmed,
    api_server => "api-server": Outcome::Confirmed,
}

/// The logout reaches the other server in milliseconds where the lab server has Redis (its
/// peers broadcast on it), and only when the cache expires where it has none.
async fn logout_reaches_every_server_in_milliseconds_with_redis_and_at_cache_expiry_without() {
    let app = spawn_real_time_app(Settings::default()).await;
    let report = server::lab::experiments::run(&app.state, "logout-everywhere")
        .await
        .expect("the experiment runs");
    let with_redis = app.state.config.store.shared_url.is_some();
    let expected = if with_redis {
        Outcome::Confirmed
    } else {
        Outcome::Partly
    };
    assert_eq!(report.verdict.outcome, expected, "{}", report.verdict.text);
    let max = report
        .steps
        .iter()
        .flat_map(|s| &s.facts)
        .find(|f| f.key == "max_delay")
        .expect("the longest delay is reported")
        .value
        .trim_end_matches(" ms")
        .parse::<f64>()
        .unwrap();
    if with_redis {
        assert!(max <= 1000.0, "{max} ms");
    } else {
        // SESSION_CACHE_SECS=2 on the peers: B trusts its copy until then.
        assert!((500.0..=5000.0).contains(&max), "{max} ms");
    }
}

#[test]
fn every_server_experiment_has_a_test_above() {
    let server_side = EXPERIMENTS
        .iter()
        .filter(|e| e.runs_in == RunsIn::Server)
        .count();
    // Every one in `experiment_tests!`, logout-everywhere on its own, and oauth in `oidc.rs`
    // (it needs the local identity provider).
    assert_eq!(server_side, 17);
}

async fn experiments_leave_the_switches_as_they_found_them() {
    let app = spawn_app().await;
    let before = server::lab::settings(&app.state, None);
    server::lab::experiments::run(&app.state, "single-session")
        .await
        .unwrap();
    assert_eq!(server::lab::settings(&app.state, None), before);
    // The run's own overrides ended with it.
    assert!(!app.state.settings.any_override());
}

on_every_backend!(
    an_opaque_token_is_looked_up_on_every_request_and_dies_at_logout,
    opaque_tokens_are_listed_and_revocable_as_devices,
    a_read_only_token_reads_but_is_refused_writes_with_403,
    a_full_token_and_a_session_can_write_notes,
    unknown_scopes_and_empty_notes_are_422,
    with_the_single_session_policy_a_new_login_ends_the_others_in_both_modes,
    without_the_policy_logins_coexist,
    rotating_the_signing_key_ends_access_tokens_but_not_refresh_tokens,
    production_has_no_lab_switches,
    lab_logins_refuse_lifetimes_out_of_range,
    a_lab_token_login_issues_the_asked_lifetime_and_keeps_it_on_refresh,
    experiments_leave_the_switches_as_they_found_them,
    logout_reaches_every_server_in_milliseconds_with_redis_and_at_cache_expiry_without,
);
