//! Abuse resistance: one test (at least) per finding of the hardening review, numbered as in
//! the review.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use server::settings::Switches;

use crate::helpers::{
    BearerClient, PASSWORD, SendOk, SessionClient, Settings, TestClient, body, set_cookie,
    spawn_app, spawn_app_with,
};

/// A client behind a proxy the app trusts, appearing as `ip`.
fn login_from(
    app: &crate::helpers::TestApp,
    ip: &str,
    username: &str,
    password: &str,
) -> reqwest::RequestBuilder {
    app.anonymous()
        .post(app.url("/api/session/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({ "username": username, "password": password }))
}

fn behind_proxy() -> Settings {
    Settings::default().with("TRUSTED_PROXIES", "127.0.0.1")
}

// 1. Oversized logins are refused before any work, and IPv6 clients count by their /64.

async fn an_oversized_login_is_422_before_any_work_and_counts_nothing() {
    let app = spawn_app_with(Settings::default().with("LOGIN_MAX_FAILURES_PER_IP", 2)).await;
    app.register("alice").await;
    let huge = "u".repeat(60_000);
    for _ in 0..4 {
        let res = app
            .anonymous()
            .post(app.url("/api/session/login"))
            .json(&json!({ "username": huge, "password": "wrong password" }))
            .send_ok()
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = body(res).await;
        assert_eq!(body["error"], "invalid_input", "{body}");
        assert_eq!(body["fields"][0]["field"], "username", "{body}");
    }
    // None of them was counted: the client's first real failure is still a plain 401.
    let res = SessionClient::new(&app)
        .try_login("alice", "wrong password")
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A body past the limit is refused before it is even read.
    let res = app
        .anonymous()
        .post(app.url("/api/session/login"))
        .json(&json!({ "username": "u".repeat(70_000), "password": "x" }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn ipv6_clients_are_counted_by_their_64_network() {
    let app = spawn_app_with(behind_proxy().with("LOGIN_MAX_FAILURES_PER_IP", 2)).await;
    for ip in ["2001:db8:1:2::1", "2001:db8:1:2::2"] {
        let res = login_from(&app, ip, "nobody", "wrong password")
            .send_ok()
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{ip}");
    }
    // A third address of the same /64 is the same client.
    let res = login_from(&app, "2001:db8:1:2:ffff::3", "nobody", "wrong password")
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another /64 is another client.
    let res = login_from(&app, "2001:db8:1:3::1", "nobody", "wrong password")
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // IPv4-mapped IPv6 is the IPv4 address it maps.
    for ip in ["192.0.2.5", "192.0.2.5"] {
        login_from(&app, ip, "nobody", "wrong password")
            .send_ok()
            .await;
    }
    let res = login_from(&app, "::ffff:192.0.2.5", "nobody", "wrong password")
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

// 2. The lab window does not exist where the lab is off.

async fn the_lab_window_is_404_where_the_lab_is_off() {
    let app = spawn_app_with(Settings::default().with("LAB_SWITCHES", false)).await;
    let res = app.anonymous().get(app.url("/lab-window")).send_ok().await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let lab = spawn_app().await;
    let res = lab.anonymous().get(lab.url("/lab-window")).send_ok().await;
    assert_eq!(res.status(), StatusCode::OK);
    // The window's first check, the lab's availability, needs no login.
    let res = lab
        .anonymous()
        .get(lab.url("/api/fn/lab_settings"))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await["available"], true);
}

// 3. Registration is limited per client, and a taken name is refused without hashing.

async fn registrations_are_limited_per_client() {
    let app = spawn_app_with(behind_proxy().with("REGISTER_MAX_PER_IP", 3)).await;
    let register = |ip: &'static str, name: &'static str| {
        app.anonymous()
            .post(app.url("/api/auth/register"))
            .header("x-forwarded-for", ip)
            .json(&json!({ "username": name, "password": PASSWORD }))
            .send_ok()
    };
    assert_eq!(
        register("198.51.100.1", "alice").await.status(),
        StatusCode::CREATED
    );
    // Re-registering a taken name counts too (it is what an oracle would do).
    assert_eq!(
        register("198.51.100.1", "alice").await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        register("198.51.100.1", "bob").await.status(),
        StatusCode::CREATED
    );
    let refused = register("198.51.100.1", "carol").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(
        app.counts().await.users,
        2,
        "the refused registration stored nothing"
    );
    // Another client registers as usual.
    assert_eq!(
        register("198.51.100.2", "carol").await.status(),
        StatusCode::CREATED
    );
}

// 4. A burst of concurrent guesses cannot pass the per-account limit.

async fn concurrent_guesses_get_no_more_tries_than_the_limit() {
    let app = spawn_app_with(Settings::default().with("LOGIN_MAX_FAILURES_PER_ACCOUNT", 3)).await;
    app.register("alice").await;
    let guesses = (0..12).map(|n| {
        let client = SessionClient::new(&app);
        async move {
            client
                .try_login("alice", &format!("guess {n}"))
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let tried = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((tried, refused), (3, 9), "{statuses:?}");
}

// 5. A guesser cannot lock the owner out.

async fn a_guesser_elsewhere_cannot_lock_the_owner_out() {
    let app = spawn_app_with(behind_proxy().with("LOGIN_MAX_FAILURES_PER_ACCOUNT", 3)).await;
    app.register("alice").await;
    for _ in 0..6 {
        login_from(&app, "198.51.100.66", "alice", "wrong password")
            .send_ok()
            .await;
    }
    let guesser = login_from(&app, "198.51.100.66", "alice", PASSWORD)
        .send_ok()
        .await;
    assert_eq!(guesser.status(), StatusCode::TOO_MANY_REQUESTS);
    let owner = login_from(&app, "203.0.113.9", "alice", PASSWORD)
        .send_ok()
        .await;
    assert_eq!(owner.status(), StatusCode::OK);
}

// 7. The refresh cookie is `__Secure-` prefixed behind HTTPS.

async fn behind_https_the_refresh_cookie_is_secure_prefixed() {
    let app =
        spawn_app_with(Settings::default().with("PUBLIC_URL", "https://authlab.example")).await;
    app.register("alice").await;
    let res = app
        .anonymous()
        .post(app.url("/api/token/login"))
        .json(&json!({ "username": "alice", "password": PASSWORD, "refresh_in_cookie": true }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = set_cookie(&res, "__Secure-authlab_refresh").expect("prefixed refresh cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(set_cookie(&res, "authlab_refresh").is_none());
}

// 8. Every usable session is listed (and so revocable), even with a revoke racing the logins.

async fn a_session_racing_logout_everywhere_is_either_listed_or_dead() {
    let app = spawn_app().await;
    app.register("alice").await;
    let revoker = BearerClient::login(&app, "alice", PASSWORD).await;
    let logins = (0..4).map(|_| SessionClient::login(&app, "alice", PASSWORD));
    let revoke = async {
        revoker
            .request(Method::POST, "/api/devices/revoke-others")
            .send_ok()
            .await
            .status()
    };
    let (clients, revoked) = tokio::join!(futures::future::join_all(logins), revoke);
    assert_eq!(revoked, StatusCode::OK);
    let listed: Value = body(revoker.request(Method::GET, "/api/devices").send_ok().await).await;
    let listed = listed["devices"].as_array().unwrap().len();
    let mut usable = 0;
    for client in &clients {
        if client.me().await.status() == StatusCode::OK {
            usable += 1;
        }
    }
    // The bearer login itself is listed too.
    assert_eq!(
        listed,
        usable + 1,
        "listed {listed}, usable sessions {usable}"
    );
    assert_eq!(app.counts().await.session_entries as usize, usable);
}

// 9. The CSRF check compares the scheme too.

async fn an_origin_with_the_right_host_but_another_scheme_is_refused() {
    let app = spawn_app().await;
    app.register("alice").await;
    let client = SessionClient::login(&app, "alice", PASSWORD).await;
    let wrong_scheme = app.address.replacen("http://", "https://", 1);
    let res = client
        .http
        .post(app.url("/api/notes"))
        .header(header::ORIGIN, wrong_scheme)
        .json(&json!({ "text": "hello" }))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

// 10. The database file is the server's alone.

#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    app.register("alice").await;
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}/test.db{suffix}", app.dir());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{path}: {mode:o}");
    }
}

// 11. Lab overrides are one user's, end by themselves; other Host names are refused.

async fn a_lab_override_is_its_users_alone_and_ends_by_itself() {
    let app = spawn_app().await;
    app.register("alice").await;
    app.register("bob").await;
    let alice = SessionClient::login(&app, "alice", PASSWORD).await;
    let bob = SessionClient::login(&app, "bob", PASSWORD).await;
    let alice_id = body(alice.me().await).await["user"]["id"].as_i64().unwrap();
    let off = Switches {
        csrf_protection: false,
        ..app.state.settings.base()
    };
    app.state
        .settings
        .set_for(alice_id, off, Duration::from_millis(600));
    let forged = |client: &SessionClient| {
        client
            .http
            .post(app.url("/api/notes"))
            .header(header::ORIGIN, "http://attacker.example")
            .json(&json!({ "text": "forged" }))
            .send_ok()
    };
    assert_eq!(forged(&alice).await.status(), StatusCode::CREATED);
    assert_eq!(forged(&bob).await.status(), StatusCode::FORBIDDEN);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(forged(&alice).await.status(), StatusCode::FORBIDDEN);
    assert!(!app.state.settings.any_override());
}

async fn a_request_for_another_host_name_is_421() {
    let app = spawn_app().await;
    let res = app
        .anonymous()
        .get(app.url("/api/health"))
        .header(header::HOST, "rebound.attacker.example")
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
    let port = app.address.rsplit(':').next().unwrap();
    let res = app
        .anonymous()
        .get(app.url("/api/health"))
        .header(header::HOST, format!("localhost:{port}"))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

// 12. Security headers, no caching of pages, nothing from the URL printed, bounded growth.

async fn html_pages_carry_a_nonce_csp_and_are_never_cached() {
    let app = spawn_app().await;
    let res = app
        .anonymous()
        .get(app.url("/session/login"))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    let csp = h[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert!(
        !csp.contains("'unsafe-inline'") || csp.contains("style-src"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a script nonce")
        .to_owned();
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::REFERRER_POLICY], "same-origin");
    assert!(
        h[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the page's scripts carry the nonce"
    );
    // Each response gets its own nonce.
    let again = app
        .anonymous()
        .get(app.url("/session/login"))
        .send_ok()
        .await;
    let csp_again = again.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(!csp_again.contains(&nonce));
}

async fn the_login_page_prints_no_text_from_the_url() {
    let app = spawn_app().await;
    let res = app
        .anonymous()
        .get(app.url(
            "/session/login?ended=Your%20account%20is%20suspended%2C%20call%20%2B1-555&registered=%3Cb%3Eevil%3C%2Fb%3E",
        ))
        .send_ok()
        .await;
    let html = res.text().await.unwrap();
    assert!(!html.contains("suspended"), "attacker text shown");
    assert!(!html.contains("evil"), "attacker text shown");
    let res = app
        .anonymous()
        .get(app.url("/session/login?ended=revoked&registered=alice"))
        .send_ok()
        .await;
    let html = res.text().await.unwrap();
    assert!(html.contains("revoked"), "a known reason is explained");
    assert!(html.contains("alice"), "a valid new username is greeted");
}

async fn cleanup_drops_old_events_surplus_notes_and_stale_lab_users() {
    let app = spawn_app().await;
    app.register("alice").await;
    app.register("lab-0123abcd").await;
    let alice = SessionClient::login(&app, "alice", PASSWORD).await;
    for n in 0..205 {
        let res = alice
            .request(Method::POST, "/api/notes")
            .json(&json!({ "text": format!("note {n}") }))
            .send_ok()
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let before = app.counts().await;
    assert!(before.audit_events > 0);
    server::cleanup::run_once(&app.state).await.unwrap();
    let kept = app.counts().await;
    assert_eq!(kept.notes, 200, "each user keeps the newest 200 notes");
    assert_eq!(kept.users, 2, "a fresh lab user stays");
    assert_eq!(kept.audit_events, before.audit_events, "recent events stay");
    // The newest notes are the ones kept.
    let notes: Value = body(alice.request(Method::GET, "/api/notes").send_ok().await).await;
    assert!(notes.to_string().contains("note 204"), "{notes}");
    app.advance(Duration::from_secs(91 * 24 * 3600));
    server::cleanup::run_once(&app.state).await.unwrap();
    let later = app.counts().await;
    assert_eq!(later.audit_events, 0);
    assert_eq!(
        later.users, 1,
        "the lab's throwaway user is gone, alice stays"
    );
}

on_every_backend!(
    an_oversized_login_is_422_before_any_work_and_counts_nothing,
    ipv6_clients_are_counted_by_their_64_network,
    the_lab_window_is_404_where_the_lab_is_off,
    registrations_are_limited_per_client,
    concurrent_guesses_get_no_more_tries_than_the_limit,
    a_guesser_elsewhere_cannot_lock_the_owner_out,
    behind_https_the_refresh_cookie_is_secure_prefixed,
    a_session_racing_logout_everywhere_is_either_listed_or_dead,
    an_origin_with_the_right_host_but_another_scheme_is_refused,
    a_lab_override_is_its_users_alone_and_ends_by_itself,
    a_request_for_another_host_name_is_421,
    html_pages_carry_a_nonce_csp_and_are_never_cached,
    the_login_page_prints_no_text_from_the_url,
    cleanup_drops_old_events_surplus_notes_and_stale_lab_users,
);
