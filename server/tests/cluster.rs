//! Several real server processes on one PostgreSQL and one Redis — what `scripts/cluster.sh`
//! runs — and what must hold between them: a session or token made on one server works on the
//! others, a revocation on one is refused by the others within a second, concurrent refreshes
//! spread over servers leave one live successor, the login throttle counts across servers, the
//! signing keys rotate cluster-wide and the API server verifies with the public key alone. The
//! last test puts nginx in front and kills a server under load.
//!
//! Each test gets its own PostgreSQL schema and Redis key prefix (so it never sees another's
//! sessions or events) and its own pair of secrets, shared by its servers.

#![allow(clippy::print_stderr)] // the measured revocation delays, for the note

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use sqlx::Connection;

const PASSWORD: &str = "correct horse battery staple";
/// The bound the issue sets for a revocation to reach every server.
const REVOCATION_BOUND: Duration = Duration::from_secs(1);

fn postgres_url() -> String {
    std::env::var("AUTHLAB_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn redis_url() -> String {
    std::env::var("AUTHLAB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn random(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}

/// A child process killed when dropped (a failing test leaves nothing running).
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One test's cluster: its storage, its secrets and the processes started on them.
struct Cluster {
    env: Vec<(String, String)>,
    servers: Vec<(String, Process)>,
    dir: std::path::PathBuf,
}

/// Schemas left by earlier runs are dropped once, before the first test makes its own.
static LEFTOVERS: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

async fn drop_leftover_schemas(pg: &mut sqlx::PgConnection) {
    let old: Vec<String> = sqlx::query_scalar(
        "select nspname::text from pg_namespace where nspname like 'authlab\\_c\\_%'",
    )
    .fetch_all(&mut *pg)
    .await
    .unwrap_or_default();
    for schema in old {
        let _ = sqlx::query(&format!("drop schema \"{schema}\" cascade"))
            .execute(&mut *pg)
            .await;
    }
}

impl Cluster {
    /// A fresh schema and key prefix; `extra` settings for every server.
    async fn new(extra: &[(&str, &str)]) -> Self {
        let schema = format!("authlab_c_{}", random(12));
        let mut pg = sqlx::PgConnection::connect(&postgres_url())
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {} is needed: {e}", postgres_url()));
        LEFTOVERS
            .get_or_init(|| drop_leftover_schemas(&mut pg))
            .await;
        sqlx::query(&format!("create schema {schema}"))
            .execute(&mut pg)
            .await
            .expect("creating the test schema");
        pg.close().await.ok();
        let sep = if postgres_url().contains('?') {
            '&'
        } else {
            '?'
        };
        let dir = std::env::temp_dir().join(format!("authlab-cluster-{schema}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut env: Vec<(String, String)> = [
            (
                "DATABASE_URL",
                format!("{}{sep}options[search_path]={schema}", postgres_url()),
            ),
            ("DATABASE_MAX_CONNECTIONS", "4".into()),
            ("SESSION_STORE_URL", redis_url()),
            ("REDIS_URL", redis_url()),
            ("REDIS_KEY_PREFIX", format!("{schema}:")),
            ("JWT_SECRET", random(48)),
            ("REFRESH_TOKEN_SECRET", random(48)),
            ("SECRETS_FILE", dir.join("none.env").display().to_string()),
            ("LEPTOS_SITE_ROOT", dir.join("site").display().to_string()),
            ("PASSWORD_HASH_THREADS", "1".into()),
            // Long enough that only the cluster events can explain a revocation seen in time.
            ("SESSION_CACHE_SECS", "300".into()),
            ("LAB_SWITCHES", "true".into()),
            // Any free port: a fixed offset could meet another test's server.
            ("LAB_ATTACKER_ADDR", "127.0.0.1:0".into()),
            ("RUST_LOG", "error".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in extra {
            env.retain(|(key, _)| key != k);
            env.push(((*k).to_owned(), (*v).to_owned()));
        }
        Self {
            env,
            servers: Vec::new(),
            dir,
        }
    }

    /// Starts an app server; its base URL.
    async fn start(&mut self) -> String {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let mut process = Process(child);
        up(&format!("{base}/api/health"), &mut process).await;
        self.servers.push((base.clone(), process));
        base
    }

    /// Starts the API server reading the JWKS of `app`; its base URL.
    async fn start_api(&mut self, app: &str, reload_secs: &str) -> String {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["--role", "api"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("API_ADDR", format!("127.0.0.1:{port}"))
            .env("JWKS_URL", format!("{app}/.well-known/jwks.json"))
            .env("JWKS_REFRESH_MIN_SECS", reload_secs)
            .env("JWKS_RELOAD_SECS", reload_secs)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the API server starts");
        let base = format!("http://127.0.0.1:{port}");
        let mut process = Process(child);
        up(&format!("{base}/api/health"), &mut process).await;
        self.servers.push((base.clone(), process));
        base
    }

    /// Kills the server at `base` with SIGKILL.
    fn kill(&mut self, base: &str) {
        self.servers.retain(|(b, _)| b != base);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.servers.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until `url` answers 200; fails at once if `process` exits (its stderr says why).
async fn up(url: &str, process: &mut Process) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let http = reqwest::Client::new();
    loop {
        if let Ok(Some(status)) = process.0.try_wait() {
            panic!("the process for {url} exited with {status}");
        }
        if let Ok(res) = http.get(url).send().await
            && res.status() == StatusCode::OK
        {
            return;
        }
        assert!(Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn register(base: &str) -> String {
    let name = format!("c{}", random(10));
    let res = http()
        .post(format!("{base}/api/auth/register"))
        .json(&json!({ "username": name, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "registering {name}");
    name
}

/// Logs in with a session on `base`; the `Cookie` header value.
async fn session_login(base: &str, user: &str) -> String {
    let res = http()
        .post(format!("{base}/api/session/login"))
        .json(&json!({ "username": user, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "session login");
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("authlab_session="))
        .expect("a session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

/// Logs in with a token on `base`; the token pair.
async fn token_login(base: &str, user: &str) -> Value {
    let res = http()
        .post(format!("{base}/api/token/login"))
        .json(&json!({ "username": user, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "token login");
    res.json().await.unwrap()
}

/// Logs in with a token on `base`; the access token.
async fn access_token(base: &str, user: &str) -> String {
    token_login(base, user).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The status `GET /api/me` gets on `base` with `token`.
async fn token_status(base: &str, token: &str) -> StatusCode {
    me_with_token(base, token).await.status()
}

async fn me_with_cookie(base: &str, cookie: &str) -> StatusCode {
    http()
        .get(format!("{base}/api/me"))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .status()
}

async fn me_with_token(base: &str, token: &str) -> reqwest::Response {
    http()
        .get(format!("{base}/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Polls `check` until it is true; how long that took, or `None` past `limit`.
async fn time_until<F, Fut>(limit: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_one_server_works_on_another_and_its_logout_reaches_it_within_a_second() {
    let mut cluster = Cluster::new(&[]).await;
    let a = cluster.start().await;
    let b = cluster.start().await;
    let user = register(&a).await;
    const TRIALS: usize = 50;
    let mut delays = Vec::with_capacity(TRIALS);
    for _ in 0..TRIALS {
        let cookie = session_login(&a, &user).await;
        // Accepted on B, which now holds the record in its read cache (for 300 s).
        assert_eq!(me_with_cookie(&b, &cookie).await, StatusCode::OK);
        assert_eq!(me_with_cookie(&b, &cookie).await, StatusCode::OK);
        let res = http()
            .post(format!("{a}/api/session/logout"))
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let delay = time_until(REVOCATION_BOUND, || async {
            me_with_cookie(&b, &cookie).await == StatusCode::UNAUTHORIZED
        })
        .await
        .expect("server B refused the logged-out session within the bound");
        delays.push(delay);
    }
    delays.sort();
    eprintln!(
        "cross-server session revocation over {TRIALS} trials: median {:?}, max {:?}",
        delays[TRIALS / 2],
        delays[TRIALS - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_revocation_log_out_everywhere_and_single_session_cross_servers() {
    let mut cluster = Cluster::new(&[
        ("STRICT_TOKEN_CHECK", "true"),
        ("REFRESH_TOKEN_GRACE_SECS", "1"),
    ])
    .await;
    let a = cluster.start().await;
    let b = cluster.start().await;
    let user = register(&a).await;

    // Device revocation: a session made on A, revoked from a token login on A, refused on B.
    let cookie = session_login(&a, &user).await;
    let pair = token_login(&a, &user).await;
    let access = pair["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me_with_cookie(&b, &cookie).await, StatusCode::OK);
    assert_eq!(token_status(&b, &access).await, StatusCode::OK);
    let devices: Value = http()
        .get(format!("{a}/api/devices"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session_device = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "session")
        .expect("the session is listed")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = http()
        .delete(format!("{a}/api/devices/{session_device}"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    time_until(REVOCATION_BOUND, || async {
        me_with_cookie(&b, &cookie).await == StatusCode::UNAUTHORIZED
    })
    .await
    .expect("B refused the revoked session within the bound");

    // Log out everywhere (from a new session on B): A refuses the token (strict checking).
    let cookie_b = session_login(&b, &user).await;
    let res = http()
        .post(format!("{b}/api/devices/revoke-all"))
        .header(header::COOKIE, &cookie_b)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "revoke-all: {}", res.status());
    time_until(REVOCATION_BOUND, || async {
        token_status(&a, &access).await == StatusCode::UNAUTHORIZED
    })
    .await
    .expect("A refused the token of a revoked login within the bound");
    assert_eq!(
        me_with_cookie(&a, &cookie_b).await,
        StatusCode::UNAUTHORIZED
    );

    // A refresh token presented twice (past the grace period) revokes its family on B; A
    // refuses the family's access token.
    let pair = token_login(&a, &user).await;
    let access = pair["access_token"].as_str().unwrap().to_owned();
    let first = pair["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |base: String, token: String| async move {
        http()
            .post(format!("{base}/api/token/refresh"))
            .json(&json!({ "refresh_token": token }))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(refresh(a.clone(), first.clone()).await, StatusCode::OK);
    assert_eq!(token_status(&a, &access).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1_500)).await; // past REFRESH_TOKEN_GRACE_SECS
    assert_eq!(refresh(b.clone(), first).await, StatusCode::UNAUTHORIZED);
    time_until(REVOCATION_BOUND, || async {
        token_status(&a, &access).await == StatusCode::UNAUTHORIZED
    })
    .await
    .expect("A refused the replayed family's access token within the bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_session_on_one_server_ends_the_login_cached_on_another() {
    let mut cluster = Cluster::new(&[("SINGLE_SESSION", "true")]).await;
    let a = cluster.start().await;
    let b = cluster.start().await;
    let user = register(&a).await;
    let first = session_login(&a, &user).await;
    assert_eq!(me_with_cookie(&b, &first).await, StatusCode::OK);
    let second = session_login(&b, &user).await;
    time_until(REVOCATION_BOUND, || async {
        me_with_cookie(&a, &first).await == StatusCode::UNAUTHORIZED
            && me_with_cookie(&b, &first).await == StatusCode::UNAUTHORIZED
    })
    .await
    .expect("the first login was refused everywhere within the bound");
    assert_eq!(me_with_cookie(&a, &second).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_parallel_refreshes_over_two_servers_leave_at_most_one_live_successor() {
    let mut cluster = Cluster::new(&[]).await;
    let a = cluster.start().await;
    let b = cluster.start().await;
    let user = register(&a).await;
    let pair = token_login(&a, &user).await;
    let token = pair["refresh_token"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let base = if i % 2 == 0 { a.clone() } else { b.clone() };
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let res = http()
                .post(format!("{base}/api/token/refresh"))
                .json(&json!({ "refresh_token": token }))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (status, body["refresh_token"].as_str().map(str::to_owned))
        }));
    }
    let mut successors = std::collections::BTreeSet::new();
    for task in tasks {
        let (status, next) = task.await.unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
            "a refresh answered {status}"
        );
        if let Some(next) = next {
            successors.insert(next);
        }
    }
    assert_eq!(
        successors.len(),
        1,
        "every success handed out the same successor"
    );
    // In the store: one child of the presented token, and it is the only unused one.
    let db = cluster
        .env
        .iter()
        .find(|(k, _)| k == "DATABASE_URL")
        .unwrap()
        .1
        .clone();
    let mut pg = sqlx::PgConnection::connect(&db).await.unwrap();
    let unused: i64 = sqlx::query_scalar(
        "select count(*) from refresh_tokens t join token_families f on f.id = t.family_id
          where t.used_at is null and f.revoked_at is null",
    )
    .fetch_one(&mut pg)
    .await
    .unwrap();
    assert_eq!(unused, 1, "one live refresh token in the family");
    // And it works, on either server.
    let next = successors.into_iter().next().unwrap();
    let res = http()
        .post(format!("{b}/api/token/refresh"))
        .json(&json!({ "refresh_token": next }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_spread_over_servers_meet_the_same_limit_as_on_one() {
    let mut cluster = Cluster::new(&[]).await;
    let a = cluster.start().await;
    let b = cluster.start().await;
    let user = register(&a).await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let base = if i % 2 == 0 { &a } else { &b };
        let res = http()
            .post(format!("{base}/api/session/login"))
            .json(&json!({ "username": user, "password": "wrong guess" }))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    // Five guesses a minute for one account from one client, counted in Redis: the sixth is
    // refused whichever server it reaches (with per-server counters it would be the eleventh).
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429, 429, 429],
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_keys_rotate_cluster_wide_and_the_api_server_verifies_with_the_jwks_alone() {
    let mut cluster = Cluster::new(&[("JWKS_REFRESH_MIN_SECS", "1")]).await;
    let a = cluster.start().await;
    let b = cluster.start().await;
    let api = cluster.start_api(&a, "1").await;
    let user = register(&a).await;
    let kid = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid.unwrap();

    // The JWKS: public, cacheable, Ed25519, no private part.
    let res = http()
        .get(format!("{b}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cache = res.headers()[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cache.contains("public") && cache.contains("max-age=60"),
        "{cache}"
    );
    let jwks: Value = res.json().await.unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    assert!(jwks["keys"][0].get("d").is_none());

    let old = access_token(&a, &user).await;
    let old_kid = kid(&old);
    assert_eq!(
        jsonwebtoken::decode_header(&old).unwrap().alg,
        jsonwebtoken::Algorithm::EdDSA
    );
    for base in [&a, &b, &api] {
        assert_eq!(token_status(base, &old).await, StatusCode::OK, "{base}");
    }
    // The API server asked no store: its Server-Timing names the signature check only.
    let res = me_with_token(&api, &old).await;
    let timing = res.headers()["server-timing"].to_str().unwrap().to_owned();
    assert!(
        timing.contains("jwt") && !timing.contains("store"),
        "{timing}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["username"], user.as_str());

    // Rotate on A: B signs with the new key too (it heard the event), and every verifier
    // accepts both the new token and the old one.
    let res = http()
        .post(format!("{a}/api/admin/keys/rotate"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let listing: Value = res.json().await.unwrap();
    let new_kid = listing["signing"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    let signed_on_b = time_until(REVOCATION_BOUND, || async {
        let token = access_token(&b, &user).await;
        kid(&token) == new_kid
    })
    .await;
    assert!(
        signed_on_b.is_some(),
        "B signs with the new key within the bound"
    );
    let new = access_token(&b, &user).await;
    for base in [&a, &b, &api] {
        assert_eq!(token_status(base, &new).await, StatusCode::OK, "{base}");
        assert_eq!(token_status(base, &old).await, StatusCode::OK, "{base}");
    }

    // Retire the old key on B: A refuses the old token within the bound, the API server after
    // its next JWKS reload (1 s here, JWKS_RELOAD_SECS); the new one still works everywhere.
    let res = http()
        .post(format!("{b}/api/admin/keys/{old_kid}/retire"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(token_status(&b, &old).await, StatusCode::UNAUTHORIZED);
    time_until(REVOCATION_BOUND, || async {
        token_status(&a, &old).await == StatusCode::UNAUTHORIZED
    })
    .await
    .expect("A refused the retired key within the bound");
    time_until(Duration::from_secs(5), || async {
        token_status(&api, &old).await == StatusCode::UNAUTHORIZED
    })
    .await
    .expect("the API server dropped the retired key after its reload");
    for base in [&a, &b, &api] {
        assert_eq!(token_status(base, &new).await, StatusCode::OK, "{base}");
    }
    // The last live key cannot be retired.
    let res = http()
        .post(format!("{a}/api/admin/keys/{new_kid}/retire"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // A token naming a key nobody issued, and a tampered one: 401 everywhere.
    let (mut header, claims) = {
        let mut parts = new.split('.');
        let header = jsonwebtoken::decode_header(&new).unwrap();
        parts.next();
        let claims: Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                parts.next().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        (header, claims)
    };
    header.kid = Some("no-such-key".into());
    let unknown = jsonwebtoken::encode(
        &header,
        &claims,
        &server::auth::keys::throwaway_key(server::auth::keys::SigningAlgorithm::EdDsa),
    )
    .unwrap();
    let mut tampered = new.clone();
    tampered.insert(new.find('.').unwrap() + 5, 'A');
    for base in [&a, &b, &api] {
        for token in [&unknown, &tampered] {
            let res = me_with_token(base, token).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{base}");
            assert!(
                res.headers()[header::WWW_AUTHENTICATE]
                    .to_str()
                    .unwrap()
                    .contains("invalid_token")
            );
        }
    }

    // Logout ends the login on the app servers' side, but the API server cannot know: the
    // access token keeps working there until it expires.
    let pair = token_login(&a, &user).await;
    let access = pair["access_token"].as_str().unwrap().to_owned();
    let res = http()
        .post(format!("{a}/api/token/logout"))
        .json(&json!({ "refresh_token": pair["refresh_token"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(token_status(&api, &access).await, StatusCode::OK);
}

/// nginx in front of three app servers; a bounded load of session and bearer `GET /api/me`;
/// one server is SIGKILLed in the middle. Every request must still be answered 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_server_under_load_loses_no_login_behind_nginx() {
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("nginx is installed (scripts/setup.sh installs it)");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut cluster = Cluster::new(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("PUBLIC_URL", &format!("http://{listen}")),
        ("SESSION_CACHE_SECS", "5"),
    ])
    .await;
    let mut apps = Vec::new();
    for _ in 0..3 {
        apps.push(cluster.start().await);
    }
    let conf_dir = cluster.dir.join("nginx");
    std::fs::create_dir_all(conf_dir.join("tmp")).unwrap();
    let upstreams: String = apps
        .iter()
        .map(|a| {
            format!(
                "        server {} max_fails=1 fail_timeout=2s;\n",
                a.trim_start_matches("http://")
            )
        })
        .collect();
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tools/cluster/nginx.conf.in"
    ))
    .unwrap();
    let conf = template
        .replace("@UPSTREAMS@\n", &upstreams)
        .replace("@DIR@", &conf_dir.display().to_string())
        .replace("@LISTEN@", &listen)
        .replace("@API@", "127.0.0.1:9");
    std::fs::write(conf_dir.join("nginx.conf"), conf).unwrap();
    let mut nginx = Process(
        Command::new(nginx)
            .arg("-p")
            .arg(&conf_dir)
            .arg("-c")
            .arg(conf_dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts"),
    );
    let front = format!("http://{listen}");
    up(&format!("{front}/api/health"), &mut nginx).await;

    // Logins through nginx land on any server.
    let user = register(&front).await;
    let mut cookies = Vec::new();
    let mut tokens = Vec::new();
    for _ in 0..4 {
        cookies.push(session_login(&front, &user).await);
        tokens.push(access_token(&front, &user).await);
    }
    const REQUESTS: usize = 600;
    let mut failures = Vec::new();
    let mut answered = 0;
    for i in 0..REQUESTS {
        if i == REQUESTS / 3 {
            let victim = apps[1].clone();
            cluster.kill(&victim);
        }
        let status = if i % 2 == 0 {
            me_with_cookie(&front, &cookies[i % cookies.len()]).await
        } else {
            me_with_token(&front, &tokens[i % tokens.len()])
                .await
                .status()
        };
        answered += 1;
        if status != StatusCode::OK {
            failures.push((i, status));
        }
    }
    assert_eq!(answered, REQUESTS);
    assert!(
        failures.is_empty(),
        "requests that failed after the kill: {failures:?}"
    );
    // And a new login still works on the two that are left.
    let cookie = session_login(&front, &user).await;
    assert_eq!(me_with_cookie(&front, &cookie).await, StatusCode::OK);
}
