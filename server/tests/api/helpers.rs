//! Spawns the real app on port 0 with a fresh store on the test's backend, and gives tests
//! clients that speak each auth mode.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde_json::{Value, json};
use server::{
    clock::ManualClock,
    config::{Config, generate_secret},
    startup::Application,
    state::AppState,
    store::Counts,
    telemetry,
};

/// Logs only when asked: `TEST_LOG=1 cargo test`.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        telemetry::init("debug,sqlx=warn,tower_sessions=info");
    }
});

/// The password every test user gets unless a test says otherwise.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running app.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// Moves the server's clock (not used by apps on the wall clock).
    pub clock: ManualClock,
    /// The app's state (database, stores).
    pub state: AppState,
    _dir: tempdir::TempDir,
}

/// Extra configuration for one test.
#[derive(Default)]
pub struct Settings(pub Vec<(&'static str, String)>);

impl Settings {
    /// One more variable.
    pub fn with(mut self, key: &'static str, value: impl ToString) -> Self {
        self.0.push((key, value.to_string()));
        self
    }
}

/// Starts the app with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

/// Starts the app with some variables set.
pub async fn spawn_app_with(settings: Settings) -> TestApp {
    spawn(settings, false).await
}

/// Starts the app on the wall clock (for the lab's experiments, which measure real time).
pub async fn spawn_real_time_app(settings: Settings) -> TestApp {
    spawn(settings, true).await
}

/// The storage a test's app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (the default).
    Sqlite,
    /// PostgreSQL, sessions in PostgreSQL too.
    Postgres,
    /// PostgreSQL, sessions in Redis.
    PostgresRedis,
}

tokio::task_local! {
    static BACKEND: Backend;
}

impl Backend {
    /// Runs a test with this backend (boxed: a whole test is a large future). A test that
    /// has not finished after [`TEST_TIME_LIMIT`] fails, naming the backend — a hang never
    /// stalls the suite.
    pub async fn run(self, test: impl Future<Output = ()>) {
        let scoped = BACKEND.scope(self, Box::pin(test));
        if tokio::time::timeout(TEST_TIME_LIMIT, scoped).await.is_err() {
            panic!("the test did not finish within {TEST_TIME_LIMIT:?} on {self:?}");
        }
    }

    /// The backend of the running test (SQLite outside `on_every_backend!`).
    pub fn current() -> Self {
        BACKEND.try_with(|b| *b).unwrap_or(Self::Sqlite)
    }
}

/// How long one test may run before it counts as hung.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(90);

/// The PostgreSQL server the tests use.
pub fn postgres_url() -> String {
    std::env::var("AUTHLAB_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The Redis server the tests use.
pub fn redis_url() -> String {
    std::env::var("AUTHLAB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A name no other test (in this run or an earlier one) uses.
fn unique_name() -> String {
    format!(
        "authlab_t_{}",
        generate_secret()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect::<String>()
            .to_ascii_lowercase()
    )
}

/// Schemas and keys left by earlier runs are removed once, before the first test uses them.
static LEFTOVERS: LazyLock<()> = LazyLock::new(|| {
    std::thread::spawn(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            use sqlx::Connection;
            if let Ok(mut pg) = sqlx::PgConnection::connect(&postgres_url()).await {
                let old: Vec<String> = sqlx::query_scalar(
                    "select nspname::text from pg_namespace where nspname like 'authlab_t_%'",
                )
                .fetch_all(&mut pg)
                .await
                .unwrap_or_default();
                for schema in old {
                    let _ = sqlx::query(&format!("drop schema \"{schema}\" cascade"))
                        .execute(&mut pg)
                        .await;
                }
            }
        });
    })
    .join()
    .expect("cleaning up earlier test schemas");
});

/// The variables that put a test's app on `backend`, in a store of its own.
async fn storage_env(backend: Backend, dir: &tempdir::TempDir) -> Vec<(String, String)> {
    if backend == Backend::Sqlite {
        return vec![(
            "DATABASE_URL".into(),
            format!("sqlite://{}/test.db?mode=rwc", dir.path()),
        )];
    }
    LazyLock::force(&LEFTOVERS);
    // Each test gets its own PostgreSQL schema (and Redis key prefix), so tests stay parallel.
    let schema = unique_name();
    use sqlx::Connection;
    let mut pg = sqlx::PgConnection::connect(&postgres_url())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at {} is needed by this test: {e}",
                postgres_url()
            )
        });
    sqlx::query(&format!("create schema {schema}"))
        .execute(&mut pg)
        .await
        .expect("creating the test schema");
    pg.close().await.ok();
    let separator = if postgres_url().contains('?') {
        '&'
    } else {
        '?'
    };
    let mut env = vec![
        (
            "DATABASE_URL".into(),
            format!("{}{separator}options[search_path]={schema}", postgres_url()),
        ),
        ("DATABASE_MAX_CONNECTIONS".into(), "4".into()),
    ];
    if backend == Backend::PostgresRedis {
        env.push(("SESSION_STORE_URL".into(), redis_url()));
        env.push(("REDIS_KEY_PREFIX".into(), format!("{schema}:")));
    }
    env
}

async fn spawn(settings: Settings, wall_clock: bool) -> TestApp {
    LazyLock::force(&TRACING);
    let dir = tempdir::TempDir::new();
    let mut env: HashMap<String, String> = HashMap::from([
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        ("SECRETS_FILE".into(), format!("{}/secrets.env", dir.path())),
        ("JWT_SECRET".into(), generate_secret()),
        ("REFRESH_TOKEN_SECRET".into(), generate_secret()),
        ("PASSWORD_HASH_THREADS".into(), "2".into()),
        // The lab's scale-out experiments start extra servers: the built binary, not this test.
        ("LAB_SERVER_BIN".into(), env!("CARGO_BIN_EXE_server").into()),
    ]);
    env.extend(storage_env(Backend::current(), &dir).await);
    for (k, v) in settings.0 {
        env.insert(k.into(), v);
    }
    let config = Config::from_source(&env).expect("test configuration is valid");
    let clock = ManualClock::new();
    let app = if wall_clock {
        Application::build(config).await
    } else {
        Application::build_with_clock(config, Arc::new(clock.clone())).await
    }
    .expect("app builds");
    let address = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        clock,
        state,
        _dir: dir,
    }
}

impl TestApp {
    /// The test's own directory (the SQLite file, the secrets file).
    pub fn dir(&self) -> String {
        self._dir.path()
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A client with no cookie store and no credential.
    pub fn anonymous(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds")
    }

    /// Registers a user; panics unless the server says 201.
    pub async fn register(&self, username: &str) -> Value {
        let res = self
            .anonymous()
            .post(self.url("/api/auth/register"))
            .json(&json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::CREATED, "registering {username}");
        res.json().await.expect("json")
    }

    /// Registers a fresh user and logs in as them in mode `C`.
    pub async fn user<C: TestClient>(&self, username: &str) -> C {
        self.register(username).await;
        C::login(self, username, PASSWORD).await
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Row counts of every table, whatever the backend.
    pub async fn counts(&self) -> Counts {
        self.state
            .store
            .census()
            .counts()
            .await
            .expect("counting rows")
    }

    /// How many session records the session backend holds (rows or Redis keys).
    pub async fn session_records(&self) -> i64 {
        self.state
            .store
            .sessions
            .count()
            .await
            .expect("counting session records")
    }
}

/// A client logged in one way or the other. The shared behaviours run against both.
pub trait TestClient: Sized + Send + Sync {
    /// `session` or `bearer`, as `/api/me` reports it.
    const MODE: &'static str;

    /// Logs in (panics on failure).
    fn login(app: &TestApp, username: &str, password: &str) -> impl Future<Output = Self> + Send;

    /// A request carrying this client's credential.
    fn request(&self, method: Method, path: &str) -> RequestBuilder;

    /// Logs out in this client's mode; returns the response.
    fn logout(&self) -> impl Future<Output = Response> + Send;

    /// `GET /api/me`.
    fn me(&self) -> impl Future<Output = Response> + Send {
        self.request(Method::GET, "/api/me").send_ok()
    }
}

/// Sends, panicking only on transport errors (any HTTP status is fine).
pub trait SendOk {
    /// Sends the request.
    fn send_ok(self) -> impl Future<Output = Response> + Send;
}

impl SendOk for RequestBuilder {
    async fn send_ok(self) -> Response {
        self.send().await.expect("the server answers")
    }
}

/// A browser-like client: a cookie jar, same-origin `Origin` on unsafe requests.
pub struct SessionClient {
    /// The underlying client (its jar holds the session cookie).
    pub http: reqwest::Client,
    /// The app's address.
    pub base: String,
}

impl SessionClient {
    /// A fresh client with an empty cookie jar.
    pub fn new(app: &TestApp) -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("authlab-tests/session")
                .build()
                .expect("client builds"),
            base: app.address.clone(),
        }
    }

    /// Logs in with this client's jar; returns the raw response.
    pub async fn try_login(&self, username: &str, password: &str) -> Response {
        self.request(Method::POST, "/api/session/login")
            .json(&json!({ "username": username, "password": password }))
            .send_ok()
            .await
    }
}

impl TestClient for SessionClient {
    const MODE: &'static str = "session";

    async fn login(app: &TestApp, username: &str, password: &str) -> Self {
        let client = Self::new(app);
        let res = client.try_login(username, password).await;
        assert_eq!(res.status(), StatusCode::OK, "session login of {username}");
        client
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let unsafe_method = method != Method::GET && method != Method::HEAD;
        let builder = self.http.request(method, format!("{}{path}", self.base));
        if unsafe_method {
            // What a browser sends on a same-origin fetch.
            builder.header(header::ORIGIN, &self.base)
        } else {
            builder
        }
    }

    async fn logout(&self) -> Response {
        self.request(Method::POST, "/api/session/logout")
            .header(header::CONTENT_TYPE, "application/json")
            .send_ok()
            .await
    }
}

/// An API client holding an access token and a refresh token, no cookies.
pub struct BearerClient {
    /// Plain client (no cookie store).
    pub http: reqwest::Client,
    /// The app's address.
    pub base: String,
    /// Current access token.
    pub access: Mutex<String>,
    /// Current refresh token.
    pub refresh: Mutex<String>,
}

impl BearerClient {
    /// `POST /api/token/login`, raw.
    pub async fn try_login(app: &TestApp, username: &str, password: &str) -> Response {
        app.anonymous()
            .post(app.url("/api/token/login"))
            .header(header::USER_AGENT, "authlab-tests/bearer")
            .json(&json!({ "username": username, "password": password }))
            .send_ok()
            .await
    }

    /// The current access token.
    pub fn access_token(&self) -> String {
        self.access.lock().expect("lock").clone()
    }

    /// The current refresh token.
    pub fn refresh_token(&self) -> String {
        self.refresh.lock().expect("lock").clone()
    }

    /// `POST /api/token/refresh` with `token`, raw.
    pub async fn refresh_with(&self, token: &str) -> Response {
        self.http
            .post(format!("{}/api/token/refresh", self.base))
            .json(&json!({ "refresh_token": token }))
            .send_ok()
            .await
    }

    /// Refreshes with the current refresh token and keeps the new pair (panics on failure).
    pub async fn refresh(&self) -> Value {
        let res = self.refresh_with(&self.refresh_token()).await;
        assert_eq!(res.status(), StatusCode::OK, "refresh");
        let pair: Value = res.json().await.expect("json");
        self.keep(&pair);
        pair
    }

    /// Keeps a token pair from a response body.
    pub fn keep(&self, pair: &Value) {
        *self.access.lock().expect("lock") = pair["access_token"].as_str().expect("access").into();
        *self.refresh.lock().expect("lock") =
            pair["refresh_token"].as_str().expect("refresh").into();
    }

    /// `GET /api/me` with an arbitrary bearer token.
    pub async fn me_with(&self, token: &str) -> Response {
        self.http
            .get(format!("{}/api/me", self.base))
            .bearer_auth(token)
            .send_ok()
            .await
    }
}

impl TestClient for BearerClient {
    const MODE: &'static str = "bearer";

    async fn login(app: &TestApp, username: &str, password: &str) -> Self {
        let res = Self::try_login(app, username, password).await;
        assert_eq!(res.status(), StatusCode::OK, "token login of {username}");
        let pair: Value = res.json().await.expect("json");
        let client = Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client builds"),
            base: app.address.clone(),
            access: Mutex::new(String::new()),
            refresh: Mutex::new(String::new()),
        };
        client.keep(&pair);
        client
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.access_token())
    }

    async fn logout(&self) -> Response {
        self.http
            .post(format!("{}/api/token/logout", self.base))
            .json(&json!({ "refresh_token": self.refresh_token() }))
            .send_ok()
            .await
    }
}

/// The `Set-Cookie` header that sets `name`, if any.
pub fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The value part of a `Set-Cookie` header.
pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

/// A response's JSON body.
pub async fn body(res: Response) -> Value {
    res.json().await.expect("a JSON body")
}

/// A temporary directory removed when dropped (small and dependency-free).
pub mod tempdir {
    use std::path::PathBuf;

    /// The directory.
    pub struct TempDir(PathBuf);

    impl TempDir {
        /// Creates a unique directory under the system temp dir.
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(format!(
                "authlab-test-{}",
                server::config::generate_secret().replace('-', "_")
            ));
            std::fs::create_dir_all(&path).expect("temp dir");
            Self(path)
        }

        /// The path as text.
        pub fn path(&self) -> String {
            self.0.display().to_string()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
