//! Crash safety: the server binary is killed with SIGKILL in the middle of a refresh storm and
//! a login storm, then started again on the same SQLite file. Whatever was in flight, the
//! store must hold together: no refresh token with two live successors, no session that is
//! listed but dead or alive but unlisted, every user able to log in — and no request answered
//! with a 5xx (SQLite's "database is locked" included) before the kill.

#![allow(clippy::print_stderr)] // the figures of the run, for the note

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, SqliteConnection};

const USERS: usize = 6;
const PASSWORD: &str = "correct horse battery staple";

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    /// A failing test must not leave a server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

async fn start(dir: &std::path::Path, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", dir.join("site"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/crash.db?mode=rwc", dir.display()),
        )
        .env("SECRETS_FILE", dir.join("secrets.env"))
        .env("PASSWORD_HASH_THREADS", "2")
        .env("LOGIN_MAX_FAILURES_PER_IP", "100000")
        .env("LAB_SWITCHES", "false")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(res) = http.get(format!("{base}/api/health")).send().await
            && res.status() == StatusCode::OK
        {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server { child, base }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn post(base: &str, path: &str, body: Value) -> reqwest::Result<reqwest::Response> {
    client()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
}

/// Logs `user` in with a token; their refresh token.
async fn token_login(base: &str, user: &str) -> String {
    let pair: Value = post(
        base,
        "/api/token/login",
        json!({ "username": user, "password": PASSWORD }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    pair["refresh_token"].as_str().unwrap().to_owned()
}

/// Counts 5xx answers; transport errors (the kill) are expected and not counted.
#[derive(Default)]
struct Tally {
    server_errors: AtomicUsize,
    answered: AtomicUsize,
}

impl Tally {
    fn see(&self, res: &reqwest::Response) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        if res.status().is_server_error() {
            eprintln!("5xx during the storm: {}", res.status());
            self.server_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Rotates one refresh chain until the server goes away; several chains share a token now
/// and then (a second tab), so reuse detection and revocation run under the storm too.
async fn refresh_chain(base: String, mut token: String, tally: Arc<Tally>) {
    for _ in 0..10_000 {
        let Ok(res) = post(
            &base,
            "/api/token/refresh",
            json!({ "refresh_token": token }),
        )
        .await
        else {
            return;
        };
        tally.see(&res);
        if res.status() != StatusCode::OK {
            return;
        }
        let Ok(pair) = res.json::<Value>().await else {
            return;
        };
        token = pair["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
}

/// Logs in with cookies again and again, keeping every session cookie it got.
async fn login_loop(base: String, user: String, tally: Arc<Tally>) -> Vec<String> {
    let mut cookies = Vec::new();
    for _ in 0..10_000 {
        let Ok(res) = post(
            &base,
            "/api/session/login",
            json!({ "username": user, "password": PASSWORD }),
        )
        .await
        else {
            return cookies;
        };
        tally.see(&res);
        if let Some(c) = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("authlab_session="))
        {
            cookies.push(c.split(';').next().unwrap().to_owned());
        }
    }
    cookies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_leaves_a_consistent_store() {
    let dir = std::env::temp_dir().join(format!("authlab-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("site")).unwrap();
    let port = free_port();
    let server = start(&dir, port).await;
    let base = server.base.clone();

    let users: Vec<String> = (0..USERS).map(|n| format!("crash{n}")).collect();
    let mut refresh_tokens = Vec::new();
    for user in &users {
        let res = post(
            &base,
            "/api/auth/register",
            json!({ "username": user, "password": PASSWORD }),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        refresh_tokens.push(token_login(&base, user).await);
    }

    let tally = Arc::new(Tally::default());
    let mut chains = Vec::new();
    for token in &refresh_tokens {
        // Two tabs on the same token: one wins, the other's reuse revokes the family.
        for _ in 0..2 {
            chains.push(tokio::spawn(refresh_chain(
                base.clone(),
                token.clone(),
                tally.clone(),
            )));
        }
    }
    // And a chain per user that is alone on its own login.
    for user in &users {
        chains.push(tokio::spawn(refresh_chain(
            base.clone(),
            token_login(&base, user).await,
            tally.clone(),
        )));
    }
    let logins: Vec<_> = users
        .iter()
        .map(|u| tokio::spawn(login_loop(base.clone(), u.clone(), tally.clone())))
        .collect();

    // Let the storms run, then pull the plug (SIGKILL: no shutdown code runs).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    drop(server);
    for chain in chains {
        chain.await.unwrap();
    }
    let mut cookies = Vec::new();
    for login in logins {
        cookies.extend(login.await.unwrap());
    }
    assert!(
        tally.answered.load(Ordering::Relaxed) > 20,
        "the storms ran before the kill"
    );
    assert_eq!(
        tally.server_errors.load(Ordering::Relaxed),
        0,
        "no 5xx under concurrent writers"
    );

    // Start again on the same file.
    let server2 = start(&dir, port).await;
    let base = server2.base.clone();
    let mut db = SqliteConnection::connect(&format!("sqlite://{}/crash.db", dir.display()))
        .await
        .unwrap();

    // No refresh token has two successors, and no live family has two unused tokens.
    let forks: i64 = sqlx::query_scalar(
        "select count(*) from (select parent_hash from refresh_tokens
          where parent_hash is not null group by parent_hash having count(*) > 1)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(forks, 0, "a refresh token was rotated twice");
    let doubles: i64 = sqlx::query_scalar(
        "select count(*) from (select t.family_id from refresh_tokens t
           join token_families f on f.id = t.family_id
          where t.used_at is null and f.revoked_at is null
          group by t.family_id having count(*) > 1)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(doubles, 0, "a live family has two live tokens");

    // Every session cookie handed out is usable exactly when its session is listed.
    assert!(!cookies.is_empty(), "the login storm logged someone in");
    let http = client();
    let mut usable = 0;
    for cookie in &cookies {
        let id = cookie.trim_start_matches("authlab_session=");
        let listed: i64 =
            sqlx::query_scalar("select count(*) from session_devices where session_id = $1")
                .bind(id)
                .fetch_one(&mut db)
                .await
                .unwrap();
        let status = http
            .get(format!("{base}/api/me"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .status();
        assert!(
            (status == StatusCode::OK) == (listed == 1),
            "session listed {listed} times answers {status}"
        );
        usable += usize::from(status == StatusCode::OK);
    }
    assert!(usable > 0, "sessions saved before the kill survive it");
    let families: i64 = sqlx::query_scalar("select count(*) from token_families")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let rotations: i64 =
        sqlx::query_scalar("select count(*) from refresh_tokens where used_at is not null")
            .fetch_one(&mut db)
            .await
            .unwrap();
    eprintln!(
        "crash test: {} answers before the kill, 0 5xx; {rotations} rotations in {families} \
         families; {} session cookies, {usable} alive and listed after the restart",
        tally.answered.load(Ordering::Relaxed),
        cookies.len()
    );
    // No listed session without its record.
    let orphans: i64 = sqlx::query_scalar(
        "select count(*) from session_devices d
          where d.session_id not like 'pending:%'
            and not exists (select 1 from tower_sessions s where s.id = d.session_id)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(orphans, 0, "a listed session has no record");

    // Every user can still log in, in both modes.
    for user in &users {
        let creds = json!({ "username": user, "password": PASSWORD });
        let res = post(&base, "/api/session/login", creds.clone())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{user} after the crash");
        let res = post(&base, "/api/token/login", creds).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{user} after the crash");
    }
    drop(server2);
    let _ = std::fs::remove_dir_all(&dir);
}
