//! Bearer-token mode: JWT validation (RFC 8725), refresh-token rotation and reuse detection.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{
    BearerClient, PASSWORD, SendOk, Settings, TestApp, TestClient, body, set_cookie, spawn_app,
    spawn_app_with,
};

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

fn secret(app: &TestApp) -> String {
    server::config::expose(&app.state.config.token.jwt_secret).to_owned()
}

/// Valid claims for `user_id`, as the server would issue them now.
fn claims(app: &TestApp, sub: &str, sid: &str) -> Value {
    let now = app.state.clock_now_secs();
    json!({
        "iss": "authlab", "aud": "authlab", "sub": sub, "exp": now + 300, "iat": now,
        "nbf": now, "jti": "test-jti", "sid": sid, "name": "alice", "scope": "read write"
    })
}

/// Signs `claims` as the server does (its algorithm, its current key and key id), with the
/// given `typ` header.
fn sign(app: &TestApp, claims: &Value, typ: Option<&str>) -> String {
    let (mut header, key) = app
        .state
        .access_tokens
        .signing_kit()
        .expect("a signing key");
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).expect("signs")
}

/// Signs with an HMAC algorithm and `key`, naming the server's current key id.
fn sign_hmac(app: &TestApp, claims: &Value, alg: Algorithm, key: &[u8]) -> String {
    let (real, _) = app
        .state
        .access_tokens
        .signing_kit()
        .expect("a signing key");
    let mut header = Header::new(alg);
    header.typ = Some("at+jwt".into());
    header.kid = real.kid;
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key)).expect("signs")
}

/// The server's published keys.
async fn jwks(app: &TestApp) -> Value {
    body(
        app.anonymous()
            .get(app.url("/.well-known/jwks.json"))
            .send_ok()
            .await,
    )
    .await
}

trait ClockNow {
    fn clock_now_secs(&self) -> i64;
}

impl ClockNow for server::state::AppState {
    fn clock_now_secs(&self) -> i64 {
        self.clock.now_secs()
    }
}

async fn refused(app: &TestApp, client: &BearerClient, token: &str) {
    let res = client.me_with(token).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "token should be refused: {token}"
    );
    let challenge = res.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer realm=\"authlab\", error=\"invalid_token\""),
        "{challenge}"
    );
    assert_eq!(body(res).await["error"], "invalid_token");
    let _ = app;
}

/// A logged-in bearer client and a valid, server-shaped claim set for it.
async fn setup() -> (TestApp, BearerClient, Value) {
    let app = spawn_app().await;
    let client: BearerClient = app.user("alice").await;
    let real = decode_part(&client.access_token(), 1);
    let claims = claims(
        &app,
        real["sub"].as_str().unwrap(),
        real["sid"].as_str().unwrap(),
    );
    (app, client, claims)
}

async fn token_login_answers_an_oauth_style_pair_of_typed_tokens() {
    let app = spawn_app().await;
    let user_id = app.register("alice").await["id"].as_i64().unwrap();
    let res = BearerClient::try_login(&app, "alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let pair = body(res).await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 300);
    let access = pair["access_token"].as_str().unwrap();
    let head = decode_part(access, 0);
    assert_eq!(head["alg"], "EdDSA");
    assert_eq!(head["typ"], "at+jwt");
    // The key id names a key the JWKS publishes.
    let jwks = jwks(&app).await;
    assert_eq!(jwks["keys"][0]["kid"], head["kid"]);
    let claims = decode_part(access, 1);
    for claim in ["iss", "aud", "sub", "exp", "iat", "nbf", "jti", "sid"] {
        assert!(claims.get(claim).is_some(), "missing {claim}: {claims}");
    }
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    // The refresh token is opaque: 256 bits of base64url, not a JWT.
    let refresh = pair["refresh_token"].as_str().unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(refresh).unwrap().len(), 32);
    // Only its hash is stored.
    let stored = app
        .state
        .store
        .census()
        .token_hashes_of(user_id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let stored = stored[0].clone();
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, URL_SAFE_NO_PAD.decode(refresh).unwrap());
}

async fn a_bearer_request_needs_no_store_lookup_and_repeat_tokens_skip_reverification() {
    let (_app, client, _) = setup().await;
    let first = client.me().await;
    let timing = first.headers()["server-timing"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(timing.contains("auth;desc=\"jwt\""), "{timing}");
    assert!(!timing.contains("store"), "{timing}");
    let me = body(first).await;
    assert_eq!(me["auth"]["mode"], "bearer");
    assert_eq!(me["auth"]["strict"], false);
    let second = client.me().await;
    let timing = second.headers()["server-timing"].to_str().unwrap();
    assert!(timing.contains("auth;desc=\"jwt-cached\""), "{timing}");
}

async fn an_access_token_outlives_logout_until_it_expires() {
    let (app, client, _) = setup().await;
    assert_eq!(client.logout().await.status(), StatusCode::NO_CONTENT);
    // The stateless trade-off: nothing on the server remembers the logout for this token.
    assert_eq!(client.me().await.status(), StatusCode::OK);
    app.advance(Duration::from_secs(300 + 6));
    refused(&app, &client, &client.access_token()).await;
}

async fn strict_checking_kills_the_access_token_at_logout() {
    let app = spawn_app_with(Settings::default().with("STRICT_TOKEN_CHECK", true)).await;
    let client: BearerClient = app.user("alice").await;
    let res = client.me().await;
    let timing = res.headers()["server-timing"].to_str().unwrap().to_owned();
    assert!(timing.contains("store;desc=\"family check\""), "{timing}");
    assert_eq!(body(res).await["auth"]["strict"], true);
    client.logout().await;
    refused(&app, &client, &client.access_token()).await;
}

async fn a_token_in_the_query_string_is_ignored() {
    let (app, client, _) = setup().await;
    let res = app
        .anonymous()
        .get(app.url(&format!("/api/me?access_token={}", client.access_token())))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"authlab\""
    );
}

async fn a_tampered_payload_is_refused() {
    let (app, client, _) = setup().await;
    let token = client.access_token();
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = decode_part(&token, 1);
    payload["name"] = json!("mallory");
    payload["exp"] = json!(payload["exp"].as_i64().unwrap() + 86_400);
    let forged_payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    refused(
        &app,
        &client,
        &format!("{}.{forged_payload}.{}", parts[0], parts[2]),
    )
    .await;
}

async fn alg_none_is_refused() {
    let (app, client, claims) = setup().await;
    let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    refused(&app, &client, &format!("{head}.{payload}.")).await;
}

async fn an_hmac_token_made_with_the_servers_own_keys_is_refused() {
    let (app, client, claims) = setup().await;
    // Algorithm confusion: the public key (anyone can read it in the JWKS) used as an HMAC
    // secret — the classic attack on verifiers that let the token pick the algorithm.
    let jwks = jwks(&app).await;
    let public = URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().unwrap())
        .unwrap();
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        refused(&app, &client, &sign_hmac(&app, &claims, alg, &public)).await;
        // And the secret every key derives from, used directly.
        refused(
            &app,
            &client,
            &sign_hmac(&app, &claims, alg, secret(&app).as_bytes()),
        )
        .await;
    }
    // The control: the same claims signed as the server signs pass.
    let ok = client.me_with(&sign(&app, &claims, Some("at+jwt"))).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

async fn a_token_signed_with_another_key_is_refused() {
    let (app, client, claims) = setup().await;
    let (header, _) = app.state.access_tokens.signing_kit().unwrap();
    let other = server::auth::keys::throwaway_key(server::auth::keys::SigningAlgorithm::EdDsa);
    refused(
        &app,
        &client,
        &jsonwebtoken::encode(&header, &claims, &other).unwrap(),
    )
    .await;
}

async fn a_token_naming_an_unknown_key_or_no_key_is_refused() {
    let (app, client, claims) = setup().await;
    let (mut header, key) = app.state.access_tokens.signing_kit().unwrap();
    header.kid = Some("no-such-key".into());
    refused(
        &app,
        &client,
        &jsonwebtoken::encode(&header, &claims, &key).unwrap(),
    )
    .await;
    header.kid = None;
    refused(
        &app,
        &client,
        &jsonwebtoken::encode(&header, &claims, &key).unwrap(),
    )
    .await;
}

async fn refused_with(edit: impl FnOnce(&mut Value, i64)) {
    let (app, client, mut claims) = setup().await;
    edit(&mut claims, app.state.clock_now_secs());
    let token = sign(&app, &claims, Some("at+jwt"));
    refused(&app, &client, &token).await;
}

async fn an_expired_token_is_refused() {
    refused_with(|c, now| {
        c["iat"] = json!(now - 400);
        c["nbf"] = json!(now - 400);
        c["exp"] = json!(now - 100);
    })
    .await;
}

async fn a_token_not_valid_yet_is_refused() {
    refused_with(|c, now| c["nbf"] = json!(now + 120)).await;
}

async fn a_token_issued_in_the_future_is_refused() {
    refused_with(|c, now| c["iat"] = json!(now + 120)).await;
}

async fn a_token_without_exp_is_refused() {
    refused_with(|c, _| {
        c.as_object_mut().unwrap().remove("exp");
    })
    .await;
}

async fn a_token_for_another_audience_is_refused() {
    refused_with(|c, _| c["aud"] = json!("another-api")).await;
}

async fn a_token_from_another_issuer_is_refused() {
    refused_with(|c, _| c["iss"] = json!("https://evil.example")).await;
}

async fn a_jwt_that_is_not_typed_as_an_access_token_is_refused() {
    let (app, client, claims) = setup().await;
    refused(&app, &client, &sign(&app, &claims, Some("JWT"))).await;
    refused(&app, &client, &sign(&app, &claims, None)).await;
}

async fn clock_skew_within_the_documented_leeway_is_tolerated() {
    let (app, client, mut claims) = setup().await;
    let now = app.state.clock_now_secs();
    claims["nbf"] = json!(now + 3); // leeway is 5 s
    let token = sign(&app, &claims, Some("at+jwt"));
    assert_eq!(client.me_with(&token).await.status(), StatusCode::OK);
}

async fn a_refresh_token_is_not_an_access_token_and_vice_versa() {
    let (app, client, _) = setup().await;
    refused(&app, &client, &client.refresh_token()).await;
    let res = client.refresh_with(&client.access_token()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body(res).await["error"], "invalid_grant");
}

async fn refresh_rotates_the_pair_and_retires_the_old_refresh_token() {
    let (app, client, _) = setup().await;
    let old_access = client.access_token();
    let old_refresh = client.refresh_token();
    app.advance(Duration::from_secs(1));
    let pair = client.refresh().await;
    assert_ne!(pair["refresh_token"], old_refresh.as_str());
    assert_ne!(pair["access_token"], old_access.as_str());
    assert_eq!(client.me().await.status(), StatusCode::OK);
    assert_eq!(app.counts().await.used_refresh_tokens, 1);
    assert_eq!(
        {
            let c = app.counts().await;
            c.refresh_tokens - c.used_refresh_tokens
        },
        1
    );
    // Same family: the access token's sid did not change.
    assert_eq!(
        decode_part(&old_access, 1)["sid"],
        decode_part(&client.access_token(), 1)["sid"]
    );
}

async fn reuse_inside_the_grace_window_answers_with_the_current_pair() {
    let (app, client, _) = setup().await;
    let first = client.refresh_token();
    let rotated = client.refresh().await;
    app.advance(Duration::from_secs(5)); // grace is 10 s
    let again = client.refresh_with(&first).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again = body(again).await;
    assert_eq!(again["refresh_token"], rotated["refresh_token"]);
    assert_eq!(app.counts().await.unrevoked_families, 1);
}

async fn reuse_after_the_grace_window_revokes_the_whole_family() {
    let (app, client, _) = setup().await;
    let first = client.refresh_token();
    client.refresh().await;
    let newest = client.refresh_token();
    app.advance(Duration::from_secs(11));
    let reuse = client.refresh_with(&first).await;
    assert_eq!(reuse.status(), StatusCode::UNAUTHORIZED);
    let err = body(reuse).await;
    assert_eq!(err["error"], "invalid_grant");
    assert!(err["message"].as_str().unwrap().contains("revoked"));
    // The legitimate holder's newest token is dead too: both must log in again.
    assert_eq!(
        client.refresh_with(&newest).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let user_id = decode_part(&client.access_token(), 1)["sub"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    let reasons = app
        .state
        .store
        .census()
        .revoked_reasons_of(user_id)
        .await
        .unwrap();
    assert_eq!(reasons, ["reuse_detected"]);
}

async fn ten_simultaneous_refreshes_leave_exactly_one_live_token() {
    let (app, client, _) = setup().await;
    let token = client.refresh_token();
    let url = app.url("/api/token/refresh");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (http, url, token) = (client.http.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                http.post(url)
                    .json(&json!({ "refresh_token": token }))
                    .send()
                    .await
                    .expect("the server answers")
            })
        })
        .collect();
    let mut issued = Vec::new();
    for task in tasks {
        let res = task.await.expect("task");
        assert_eq!(res.status(), StatusCode::OK);
        issued.push(
            body(res).await["refresh_token"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    issued.dedup();
    assert_eq!(issued.len(), 1, "every caller got the same successor");
    assert_eq!(
        {
            let c = app.counts().await;
            c.refresh_tokens - c.used_refresh_tokens
        },
        1
    );
    assert_eq!(app.counts().await.refresh_tokens, 2);
}

async fn a_refresh_token_is_dead_after_logout() {
    let (_app, client, _) = setup().await;
    assert_eq!(client.logout().await.status(), StatusCode::NO_CONTENT);
    let res = client.refresh_with(&client.refresh_token()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn an_unused_refresh_token_dies_after_its_idle_lifetime() {
    let app = spawn_app_with(Settings::default().with("REFRESH_TOKEN_IDLE_SECS", 60)).await;
    let client: BearerClient = app.user("alice").await;
    app.advance(Duration::from_secs(61));
    let res = client.refresh_with(&client.refresh_token()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn rotation_never_extends_the_absolute_lifetime() {
    let app = spawn_app_with(
        Settings::default()
            .with("REFRESH_TOKEN_IDLE_SECS", 60)
            .with("REFRESH_TOKEN_ABSOLUTE_SECS", 100),
    )
    .await;
    let client: BearerClient = app.user("alice").await;
    for _ in 0..2 {
        app.advance(Duration::from_secs(45));
        client.refresh().await;
    }
    // 90 s in, last refresh 0 s ago: idle is fine, but the family ends at 100 s.
    app.advance(Duration::from_secs(11));
    let res = client.refresh_with(&client.refresh_token()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        body(res).await["message"]
            .as_str()
            .unwrap()
            .contains("maximum lifetime")
    );
}

async fn the_hardened_policy_keeps_the_refresh_token_in_a_strict_httponly_cookie() {
    let app = spawn_app().await;
    app.register("alice").await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = browser
        .post(app.url("/api/token/login"))
        .json(&json!({ "username": "alice", "password": PASSWORD, "refresh_in_cookie": true }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = set_cookie(&res, "authlab_refresh")
        .expect("refresh cookie")
        .to_ascii_lowercase();
    for attr in ["httponly", "samesite=strict", "path=/api/token"] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
    let pair = body(res).await;
    assert_eq!(pair["refresh_token"], "");
    // Refresh with no body: the cookie carries it (same-origin, as a browser would say).
    let res = browser
        .post(app.url("/api/token/refresh"))
        .header(header::ORIGIN, &app.address)
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        set_cookie(&res, "authlab_refresh").is_some(),
        "the cookie rotates too"
    );
    let access = body(res).await["access_token"].as_str().unwrap().to_owned();
    let me = app
        .anonymous()
        .get(app.url("/api/me"))
        .bearer_auth(access)
        .send_ok()
        .await;
    assert_eq!(me.status(), StatusCode::OK);
}

async fn refresh_without_any_token_is_401_invalid_grant() {
    let app = spawn_app().await;
    let res = app
        .anonymous()
        .post(app.url("/api/token/refresh"))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body(res).await["error"], "invalid_grant");
}

async fn bearer_devices_are_token_families() {
    let (_app, client, _) = setup().await;
    let res = client.request(Method::GET, "/api/devices").send_ok().await;
    let list = body(res).await;
    let sid = decode_part(&client.access_token(), 1)["sid"].clone();
    assert_eq!(list["devices"][0]["id"], sid);
    assert_eq!(list["devices"][0]["kind"], "token");
    assert_eq!(list["devices"][0]["current"], true);
}

on_every_backend!(
    token_login_answers_an_oauth_style_pair_of_typed_tokens,
    a_bearer_request_needs_no_store_lookup_and_repeat_tokens_skip_reverification,
    an_access_token_outlives_logout_until_it_expires,
    strict_checking_kills_the_access_token_at_logout,
    a_token_in_the_query_string_is_ignored,
    a_tampered_payload_is_refused,
    alg_none_is_refused,
    an_hmac_token_made_with_the_servers_own_keys_is_refused,
    a_token_naming_an_unknown_key_or_no_key_is_refused,
    a_token_signed_with_another_key_is_refused,
    an_expired_token_is_refused,
    a_token_not_valid_yet_is_refused,
    a_token_issued_in_the_future_is_refused,
    a_token_without_exp_is_refused,
    a_token_for_another_audience_is_refused,
    a_token_from_another_issuer_is_refused,
    a_jwt_that_is_not_typed_as_an_access_token_is_refused,
    clock_skew_within_the_documented_leeway_is_tolerated,
    a_refresh_token_is_not_an_access_token_and_vice_versa,
    refresh_rotates_the_pair_and_retires_the_old_refresh_token,
    reuse_inside_the_grace_window_answers_with_the_current_pair,
    reuse_after_the_grace_window_revokes_the_whole_family,
    ten_simultaneous_refreshes_leave_exactly_one_live_token,
    a_refresh_token_is_dead_after_logout,
    an_unused_refresh_token_dies_after_its_idle_lifetime,
    rotation_never_extends_the_absolute_lifetime,
    the_hardened_policy_keeps_the_refresh_token_in_a_strict_httponly_cookie,
    refresh_without_any_token_is_401_invalid_grant,
    bearer_devices_are_token_families,
);
