//! Cross-site request forgery: cookie-authenticated state changes from elsewhere are refused.

use reqwest::{Method, StatusCode, header};

use crate::helpers::{SendOk, SessionClient, TestClient, body, spawn_app};

/// Sends a logout with the given extra headers and checks it was refused and had no effect.
async fn refused(pairs: &[(&str, &str)]) {
    let app = spawn_app().await;
    let client: SessionClient = app.user("alice").await;
    let mut req = client
        .http
        .post(app.url("/api/session/logout"))
        .header(header::CONTENT_TYPE, "application/json");
    for (k, v) in pairs {
        req = req.header(*k, *v);
    }
    let res = req.send_ok().await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "{pairs:?}");
    assert_eq!(body(res).await["error"], "csrf_rejected");
    assert_eq!(
        client.me().await.status(),
        StatusCode::OK,
        "the session must survive"
    );
}

async fn a_post_from_another_origin_is_refused() {
    refused(&[("origin", "http://evil.example")]).await;
}

async fn a_post_with_origin_null_is_refused() {
    refused(&[("origin", "null")]).await;
}

async fn a_post_the_browser_marks_cross_site_is_refused() {
    refused(&[("sec-fetch-site", "cross-site")]).await;
}

async fn a_cookie_api_call_with_a_simple_content_type_is_refused() {
    let app = spawn_app().await;
    let client: SessionClient = app.user("alice").await;
    let res = client
        .request(Method::POST, "/api/session/logout")
        .header(header::CONTENT_TYPE, "text/plain")
        .body("{}")
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(client.me().await.status(), StatusCode::OK);
}

async fn a_form_post_to_a_server_function_needs_same_origin_proof() {
    let app = spawn_app().await;
    let client: SessionClient = app.user("alice").await;
    let res = client
        .http
        .post(app.url("/api/fn/session_logout"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(client.me().await.status(), StatusCode::OK);
}

async fn a_same_origin_json_post_passes() {
    let app = spawn_app().await;
    let client: SessionClient = app.user("alice").await;
    let res = client.logout().await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(client.me().await.status(), StatusCode::UNAUTHORIZED);
}

on_every_backend!(
    a_post_from_another_origin_is_refused,
    a_post_with_origin_null_is_refused,
    a_post_the_browser_marks_cross_site_is_refused,
    a_cookie_api_call_with_a_simple_content_type_is_refused,
    a_form_post_to_a_server_function_needs_same_origin_proof,
    a_same_origin_json_post_passes,
);
