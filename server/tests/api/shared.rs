//! Behaviours both modes share, written once and run against a session client and a bearer
//! client.

use reqwest::{Method, StatusCode, header};

use crate::helpers::{BearerClient, PASSWORD, SendOk, SessionClient, TestClient, body, spawn_app};

/// Instantiates each shared behaviour once per mode, and each of those on every backend.
macro_rules! in_both_modes {
    ($($name:ident),* $(,)?) => {
        mod session {
            $( async fn $name() { super::$name::<crate::helpers::SessionClient>().await } )*
            on_every_backend!($($name),*);
        }
        mod bearer {
            $( async fn $name() { super::$name::<crate::helpers::BearerClient>().await } )*
            on_every_backend!($($name),*);
        }
    };
}

in_both_modes!(
    me_names_the_user_and_the_mode,
    the_response_says_what_authentication_cost,
    devices_lists_the_current_login_marked,
    revoking_another_device_removes_it_from_the_list,
    revoke_others_keeps_only_the_current_device,
    a_device_of_another_user_cannot_be_revoked,
    logout_everywhere_ends_every_login,
);

async fn me_names_the_user_and_the_mode<C: TestClient>() {
    let app = spawn_app().await;
    let client: C = app.user("alice").await;
    let res = client.me().await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = body(res).await;
    assert_eq!(me["user"]["username"], "alice");
    assert_eq!(me["auth"]["mode"], C::MODE);
}

async fn the_response_says_what_authentication_cost<C: TestClient>() {
    let app = spawn_app().await;
    let client: C = app.user("alice").await;
    let res = client.me().await;
    let timing = res.headers()["server-timing"].to_str().unwrap();
    assert!(
        timing.starts_with("auth;desc=") || timing.contains(", auth;desc="),
        "{timing}"
    );
    let expected = if C::MODE == "session" {
        "\"session\""
    } else {
        "\"jwt"
    };
    assert!(timing.contains(expected), "{timing}");
}

async fn devices_lists_the_current_login_marked<C: TestClient>() {
    let app = spawn_app().await;
    let client: C = app.user("alice").await;
    let _second = C::login(&app, "alice", PASSWORD).await;
    let list = body(client.request(Method::GET, "/api/devices").send_ok().await).await;
    let devices = list["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices.iter().filter(|d| d["current"] == true).count(), 1);
    let kind = if C::MODE == "session" {
        "session"
    } else {
        "token"
    };
    assert!(devices.iter().all(|d| d["kind"] == kind));
    // Nothing secret is listed: handles only.
    let text = list.to_string();
    assert!(
        !text.contains("session_id") && !text.contains("token_hash"),
        "{text}"
    );
}

async fn revoking_another_device_removes_it_from_the_list<C: TestClient>() {
    let app = spawn_app().await;
    let client: C = app.user("alice").await;
    // The other device logs in the *other* way: devices span both modes.
    let other_session = SessionClient::login(&app, "alice", PASSWORD).await;
    let other_bearer = BearerClient::login(&app, "alice", PASSWORD).await;
    let list = body(client.request(Method::GET, "/api/devices").send_ok().await).await;
    assert_eq!(list["devices"].as_array().unwrap().len(), 3);
    for kind in ["session", "token"] {
        let list = body(client.request(Method::GET, "/api/devices").send_ok().await).await;
        let id = list["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["current"] == false && d["kind"] == kind)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = client
            .request(Method::DELETE, &format!("/api/devices/{id}"))
            .send_ok()
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    let list = body(client.request(Method::GET, "/api/devices").send_ok().await).await;
    assert_eq!(list["devices"].as_array().unwrap().len(), 1);
    assert_eq!(other_session.me().await.status(), StatusCode::UNAUTHORIZED);
    // The revoked token login cannot refresh any more.
    let refresh = other_bearer
        .refresh_with(&other_bearer.refresh_token())
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
}

async fn revoke_others_keeps_only_the_current_device<C: TestClient>() {
    let app = spawn_app().await;
    let client: C = app.user("alice").await;
    let _a = SessionClient::login(&app, "alice", PASSWORD).await;
    let _b = BearerClient::login(&app, "alice", PASSWORD).await;
    let res = client
        .request(Method::POST, "/api/devices/revoke-others")
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await["revoked"], 2);
    let list = body(client.request(Method::GET, "/api/devices").send_ok().await).await;
    let devices = list["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["current"], true);
    assert_eq!(client.me().await.status(), StatusCode::OK);
}

async fn a_device_of_another_user_cannot_be_revoked<C: TestClient>() {
    let app = spawn_app().await;
    let alice: C = app.user("alice").await;
    let bob: C = app.user("bob").await;
    let bobs = body(bob.request(Method::GET, "/api/devices").send_ok().await).await;
    let id = bobs["devices"][0]["id"].as_str().unwrap().to_owned();
    let res = alice
        .request(Method::DELETE, &format!("/api/devices/{id}"))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(bob.me().await.status(), StatusCode::OK);
}

async fn logout_everywhere_ends_every_login<C: TestClient>() {
    let app = spawn_app().await;
    let client: C = app.user("alice").await;
    let other = SessionClient::login(&app, "alice", PASSWORD).await;
    let res = client
        .request(Method::POST, "/api/devices/revoke-all")
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await["revoked"], 2);
    assert_eq!(other.me().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.session_records().await, 0);
    assert_eq!(app.counts().await.unrevoked_families, 0);
}

async fn without_a_credential_me_is_401_with_a_bare_bearer_challenge() {
    let app = spawn_app().await;
    let res = app.anonymous().get(app.url("/api/me")).send_ok().await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"authlab\""
    );
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let err = body(res).await;
    assert_eq!(err["error"], "unauthenticated");
    assert!(err["message"].as_str().unwrap().len() > 5);
}

async fn when_both_arrive_the_bearer_token_wins_over_the_cookie() {
    let app = spawn_app().await;
    app.register("alice").await;
    app.register("bob").await;
    let session = SessionClient::login(&app, "alice", PASSWORD).await;
    let bearer = BearerClient::login(&app, "bob", PASSWORD).await;
    let res = session
        .request(Method::GET, "/api/me")
        .bearer_auth(bearer.access_token())
        .send_ok()
        .await;
    let me = body(res).await;
    assert_eq!(me["user"]["username"], "bob");
    assert_eq!(me["auth"]["mode"], "bearer");
    // And a bad token is an error, not a fall-back to the cookie.
    let res = session
        .request(Method::GET, "/api/me")
        .bearer_auth("not-a-token")
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

on_every_backend!(
    without_a_credential_me_is_401_with_a_bare_bearer_challenge,
    when_both_arrive_the_bearer_token_wins_over_the_cookie,
);
