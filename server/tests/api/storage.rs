//! The storage boundary: one behaviour on every backend, clear errors for bad configuration,
//! and the default that needs no service at all.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::json;
use server::config::{Config, generate_secret};
use time::OffsetDateTime;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
};

use crate::helpers::{
    Backend, PASSWORD, SendOk, SessionClient, TestClient, body, postgres_url, redis_url, spawn_app,
    tempdir::TempDir,
};

#[test]
fn sqlx_and_redis_are_used_only_under_the_store_folder() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != src.join("store") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let uses = ["sqlx::", "use sqlx", "fred::", "use fred"];
                    if uses.iter().any(|u| line.contains(u)) {
                        offenders.push(format!("{}:{}: {line}", path.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "outside server/src/store:\n{}",
        offenders.join("\n")
    );
}

/// The README's run command configures nothing: the server must come up on SQLite alone.
#[test]
fn the_default_configuration_runs_on_sqlite_with_no_service() {
    let cwd = TempDir::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .current_dir(cwd.path())
        .env_clear()
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut address = None;
    for line in stderr.by_ref().take(200) {
        let line = line.unwrap();
        if let Some(at) = line.find("listening on http://") {
            address = Some(line[at + "listening on ".len()..].trim().to_owned());
            break;
        }
    }
    let address = address.expect("the server says where it listens");
    // Keep reading its log, so it never writes into a closed pipe.
    std::thread::spawn(move || stderr.for_each(drop));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let outcome = rt.block_on(async {
        let http = reqwest::Client::new();
        let creds = json!({ "username": "alice", "password": PASSWORD });
        let registered = http
            .post(format!("{address}/api/auth/register"))
            .json(&creds)
            .send_ok()
            .await;
        let login = http
            .post(format!("{address}/api/token/login"))
            .json(&creds)
            .send_ok()
            .await;
        (registered.status(), login.status())
    });
    child.kill().ok();
    child.wait().ok();
    assert_eq!(outcome, (StatusCode::CREATED, StatusCode::OK));
    let db = std::path::Path::new(&cwd.path()).join("data/authlab.db");
    assert!(db.exists(), "the SQLite file is created in data/");
}

#[test]
fn with_nothing_set_the_store_is_sqlite_with_sessions_in_it() {
    let dir = TempDir::new();
    let env = HashMap::from([("SECRETS_FILE".to_owned(), format!("{}/s.env", dir.path()))]);
    let config = Config::from_source(&env).unwrap();
    assert_eq!(
        config.store.database_url,
        "sqlite://data/authlab.db?mode=rwc"
    );
    assert_eq!(config.store.session_store_url, None);
}

/// Builds an app with `pairs` over a valid base configuration; returns the start-up error.
pub(crate) async fn start_up_error(pairs: &[(&str, String)]) -> String {
    let dir = TempDir::new();
    let mut env: HashMap<String, String> = HashMap::from([
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        ("SECRETS_FILE".into(), format!("{}/s.env", dir.path())),
        ("JWT_SECRET".into(), generate_secret()),
        ("REFRESH_TOKEN_SECRET".into(), generate_secret()),
        (
            "DATABASE_URL".into(),
            format!("sqlite://{}/t.db?mode=rwc", dir.path()),
        ),
    ]);
    for (k, v) in pairs {
        env.insert((*k).to_owned(), v.clone());
    }
    let built = match Config::from_source(&env) {
        Err(err) => return format!("{err:#}"),
        Ok(config) => server::startup::Application::build(config).await,
    };
    match built {
        Err(err) => format!("{err:#}"),
        Ok(_) => panic!("the server started with {pairs:?}"),
    }
}

#[tokio::test]
async fn an_unknown_database_scheme_is_refused_naming_the_variable() {
    let err = start_up_error(&[("DATABASE_URL", "mysql://root@127.0.0.1/test".into())]).await;
    assert!(
        err.contains("DATABASE_URL") && err.contains("mysql"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_an_error_naming_the_variable() {
    let err = start_up_error(&[(
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:1/test".into(),
    )])
    .await;
    assert!(
        err.contains("DATABASE_URL") && err.contains("cannot connect"),
        "{err}"
    );
}

#[tokio::test]
async fn refused_database_credentials_are_an_error_naming_the_variable() {
    let url = postgres_url().replace("postgres@", "no_such_role_authlab@");
    let err = start_up_error(&[("DATABASE_URL", url)]).await;
    assert!(
        err.contains("DATABASE_URL") && err.contains("no_such_role_authlab"),
        "{err}"
    );
}

#[tokio::test]
async fn a_session_store_that_is_not_redis_is_refused_naming_the_variable() {
    let err = start_up_error(&[("SESSION_STORE_URL", "memcached://127.0.0.1:11211".into())]).await;
    assert!(err.contains("SESSION_STORE_URL"), "{err}");
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_naming_the_variable() {
    let err = start_up_error(&[("SESSION_STORE_URL", "redis://127.0.0.1:1".into())]).await;
    assert!(err.contains("SESSION_STORE_URL"), "{err}");
}

fn record(expires_in: time::Duration) -> Record {
    Record {
        id: Id::default(),
        data: HashMap::from([("k".to_owned(), json!(1))]),
        expiry_date: OffsetDateTime::now_utc() + expires_in,
    }
}

async fn a_deleted_session_record_is_never_brought_back_by_a_save() {
    let app = spawn_app().await;
    let records = &app.state.store.sessions;
    let mut rec = record(time::Duration::hours(1));
    records.create(&mut rec).await.unwrap();
    assert_eq!(app.session_records().await, 1);
    records.delete(&rec.id).await.unwrap();
    // A request that loaded the session before the delete now writes it back.
    records.save(&rec).await.unwrap();
    assert!(records.load(&rec.id).await.unwrap().is_none());
    assert_eq!(app.session_records().await, 0);
}

async fn a_saved_session_record_reads_back_with_its_changes() {
    let app = spawn_app().await;
    let records = &app.state.store.sessions;
    let mut rec = record(time::Duration::hours(1));
    records.create(&mut rec).await.unwrap();
    rec.data.insert("k".into(), json!(2));
    records.save(&rec).await.unwrap();
    let loaded = records.load(&rec.id).await.unwrap().unwrap();
    assert_eq!(loaded.data["k"], 2);
    assert!(records.size_of(&rec.id).await.unwrap().unwrap() > 20);
}

async fn an_expired_session_record_is_not_loaded() {
    let app = spawn_app().await;
    let records = &app.state.store.sessions;
    let mut rec = record(time::Duration::milliseconds(300));
    records.create(&mut rec).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert!(records.load(&rec.id).await.unwrap().is_none());
}

async fn the_lab_sees_what_this_backend_keeps() {
    let app = spawn_app().await;
    let client: SessionClient = app.user("alice").await;
    let res = client
        .request(reqwest::Method::GET, "/api/me")
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = body(res).await;
    let user_id = me["user"]["id"].as_i64().unwrap();
    let description = server::lab::storage_description(&app.state);
    let expected = match Backend::current() {
        Backend::Sqlite => "sqlite table tower_sessions",
        Backend::Postgres => "postgres table tower_sessions",
        Backend::PostgresRedis => "Redis keys",
    };
    assert!(description.contains(expected), "{description}");
    let entries = app
        .state
        .devices
        .index()
        .live_sessions(user_id, app.state.clock.now_ms())
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let bytes = app
        .state
        .store
        .sessions
        .size_of(&entries[0].session_id.parse().unwrap())
        .await
        .unwrap();
    assert!(bytes.is_some_and(|b| b > 50), "{bytes:?}");
}

on_every_backend!(
    a_deleted_session_record_is_never_brought_back_by_a_save,
    a_saved_session_record_reads_back_with_its_changes,
    an_expired_session_record_is_not_loaded,
    the_lab_sees_what_this_backend_keeps,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_session_keys_expire_with_the_session() {
    Backend::PostgresRedis
        .run(async {
            use fred::prelude::{Builder, ClientLike, Config as RedisConfig, KeysInterface};
            let app = spawn_app().await;
            let client: SessionClient = app.user("alice").await;
            assert_eq!(client.me().await.status(), StatusCode::OK);
            let prefix = &app.state.config.store.redis_prefix;
            let redis = Builder::from_config(RedisConfig::from_url(&redis_url()).unwrap())
                .build()
                .unwrap();
            redis.init().await.unwrap();
            let keys: Vec<String> = redis
                .custom(fred::cmd!("KEYS"), vec![format!("{prefix}session:*")])
                .await
                .unwrap();
            assert_eq!(keys.len(), 1, "{keys:?}");
            let ttl_ms: i64 = redis.pttl(&keys[0]).await.unwrap();
            // The idle timeout (30 min) plus the second the cookie is given in hand.
            let idle_ms = 1_800_000;
            assert!(
                ttl_ms > idle_ms - 60_000 && ttl_ms <= idle_ms + 1_000,
                "{ttl_ms}"
            );
            redis.quit().await.ok();
        })
        .await
}
