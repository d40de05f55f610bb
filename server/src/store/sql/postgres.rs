//! The PostgreSQL backend (`DATABASE_URL=postgres://…`): several servers can share it.
//!
//! Tables live in the connection's current schema (the first of its `search_path`, normally
//! `public`; the tests give each test its own with `?options[search_path]=…`), session records
//! included, in the table tower-sessions' `PostgresStore` reads and writes.

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use async_trait::async_trait;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tower_sessions::session::{Id, Record};
use tower_sessions_sqlx_store::PostgresStore;

use super::Dialect;
use crate::store::{Database, DatabaseKind, Result, sessions};

/// The session table (created by our migrations, see `migrations/postgres`).
const SESSION_TABLE: &str = "tower_sessions";

/// A PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgDb {
    pool: PgPool,
    /// The schema the tables are in (quoted identifier-safe: checked at open).
    schema: String,
}

impl PgDb {
    /// Connects and runs the migrations (under PostgreSQL's advisory lock, so servers starting
    /// together migrate once).
    pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .context("DATABASE_URL is not a valid postgres:// URL")?;
        let target = format!(
            "{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("(default database)")
        );
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .with_context(|| format!("DATABASE_URL: cannot connect to PostgreSQL as {target}"))?;
        let schema: Option<String> = sqlx::query_scalar("select current_schema()")
            .fetch_one(&pool)
            .await
            .context("DATABASE_URL: reading the current schema")?;
        let schema = schema.context(
            "DATABASE_URL: no schema to create tables in (does the search_path name an \
                 existing schema?)",
        )?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .context("DATABASE_URL: running the PostgreSQL migrations")?;
        Ok(Self { pool, schema })
    }

    /// Session records in this database (tower-sessions' PostgreSQL store, same pool).
    pub async fn session_records(&self) -> anyhow::Result<sessions::SessionRecords> {
        let inner = PostgresStore::new(self.pool.clone())
            .with_schema_name(&self.schema)
            .and_then(|s| s.with_table_name(SESSION_TABLE))
            .map_err(|e| anyhow::anyhow!("DATABASE_URL: unusable schema for sessions: {e}"))?;
        Ok(sessions::SessionRecords::new(PgSessions {
            inner,
            pool: self.pool.clone(),
            table: format!("\"{}\".\"{SESSION_TABLE}\"", self.schema),
        }))
    }
}

/// Session records in PostgreSQL: tower-sessions' store, with an update-only save.
#[derive(Debug)]
struct PgSessions {
    inner: PostgresStore,
    pool: PgPool,
    /// `"schema"."table"`.
    table: String,
}

#[async_trait]
impl sessions::RecordBackend for PgSessions {
    fn kind(&self) -> sessions::SessionBackendKind {
        sessions::SessionBackendKind::Postgres
    }

    fn store(&self) -> &dyn tower_sessions::SessionStore {
        &self.inner
    }

    async fn update(&self, record: &Record, data: Vec<u8>) -> Result<bool> {
        let updated = sqlx::query(&format!(
            "update {} set data = $1, expiry_date = $2 where id = $3",
            self.table
        ))
        .bind(data)
        .bind(record.expiry_date)
        .bind(record.id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn delete_expired(&self) -> Result<()> {
        use tower_sessions::session_store::ExpiredDeletion;
        self.inner
            .delete_expired()
            .await
            .map_err(|e| anyhow::anyhow!("deleting expired sessions: {e}").into())
    }

    async fn size_of(&self, id: &Id) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar::<_, i64>(&format!(
            "select cast(length(id) + length(data) + 8 as bigint) from {} where id = $1",
            self.table
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn count(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar::<_, i64>(&format!("select count(*) from {}", self.table))
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

impl Dialect for PgDb {
    // Served by the unique index on lower(username).
    const USER_BY_NAME: &'static str =
        "select id, username, password_hash from users where lower(username) = lower($1)";
    const BEGIN_ROTATION: &'static str = "begin";
    // Concurrent rotations of one token wait here for the first to commit, then read the
    // token as it left it (used), so only the first can rotate.
    const LOCK_ROWS: &'static str = " for update of t, f";
}

impl Database for PgDb {
    fn kind(&self) -> DatabaseKind {
        DatabaseKind::Postgres
    }
}

mod stores {
    super::super::sql_backend!(super::PgDb);
}
