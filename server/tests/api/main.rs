//! Integration tests: the real app on port 0, real HTTP, a fresh store per test — and the
//! whole suite once per backend: SQLite; PostgreSQL; PostgreSQL with sessions in Redis.
//!
//! `TEST_LOG=1` shows the server's logs. `cargo test -p server -- sqlite::` (or `postgres::`,
//! `postgres_redis::`) runs one backend. The PostgreSQL and Redis suites need those servers
//! (`AUTHLAB_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`;
//! `AUTHLAB_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`); if one is not there, its tests
//! fail — they never skip.

/// Runs each named test (an `async fn` in the invoking module) once per backend, as
/// `<module>::sqlite::<name>`, `<module>::postgres::<name>`, `<module>::postgres_redis::<name>`.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::helpers::Backend::Sqlite.run(super::$name()).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::helpers::Backend::Postgres.run(super::$name()).await
                }
            )*
        }
        mod postgres_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::helpers::Backend::PostgresRedis.run(super::$name()).await
                }
            )*
        }
    };
}

mod accounts;
mod bearer;
mod csrf;
mod hardening;
mod helpers;
mod lab;
mod oidc;
mod pages;
mod session;
mod shared;
mod storage;
