//! The SQLite backend (the default): one file, no server, WAL mode.
//!
//! SQLite has one writer at a time. Writes that must not interleave (a refresh-token
//! rotation) take the write lock up front with `BEGIN IMMEDIATE`; everything waits up to the
//! busy timeout for it, and a wait past that is [`StoreError::Busy`] (503), never a 500.

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use async_trait::async_trait;
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tower_sessions::session::{Id, Record};
use tower_sessions_sqlx_store::SqliteStore;

use super::Dialect;
use crate::store::{Database, DatabaseKind, Result, sessions};

/// The tower-sessions table (its default name).
const SESSION_TABLE: &str = "tower_sessions";

/// A SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteDb {
    pool: SqlitePool,
}

impl SqliteDb {
    /// Opens (creating if needed) the file named by `url` and runs the migrations.
    pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .context("DATABASE_URL is not a valid sqlite: URL")?
            .create_if_missing(true)
            // WAL lets readers (every session lookup) proceed while a login writes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let file = options.get_filename().to_path_buf();
        if let Some(dir) = file.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("DATABASE_URL: creating directory {}", dir.display()))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await
            .with_context(|| format!("DATABASE_URL: opening {}", file.display()))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .context("DATABASE_URL: running the SQLite migrations")?;
        // Only the server's own user may read the database (SQLite gives its -wal and -shm
        // files the database file's mode).
        for suffix in ["", "-wal", "-shm"] {
            let mut path = file.clone().into_os_string();
            path.push(suffix);
            crate::config::owner_only(std::path::Path::new(&path))
                .context("DATABASE_URL: restricting the database file")?;
        }
        Ok(Self { pool })
    }

    /// Session records in this database (tower-sessions' SQLite store, same pool).
    pub async fn session_records(&self) -> anyhow::Result<sessions::SessionRecords> {
        let inner = SqliteStore::new(self.pool.clone());
        inner
            .migrate()
            .await
            .context("DATABASE_URL: creating the session table")?;
        Ok(sessions::SessionRecords::new(SqliteSessions {
            inner,
            pool: self.pool.clone(),
        }))
    }
}

/// Session records in SQLite: tower-sessions' store, with an update-only save.
#[derive(Debug)]
struct SqliteSessions {
    inner: SqliteStore,
    pool: SqlitePool,
}

#[async_trait]
impl sessions::RecordBackend for SqliteSessions {
    fn kind(&self) -> sessions::SessionBackendKind {
        sessions::SessionBackendKind::Sqlite
    }

    fn store(&self) -> &dyn tower_sessions::SessionStore {
        &self.inner
    }

    async fn update(&self, record: &Record, data: Vec<u8>) -> Result<bool> {
        let updated = sqlx::query(&format!(
            "update {SESSION_TABLE} set data = $1, expiry_date = $2 where id = $3"
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
            "select length(id) + length(data) + 8 from {SESSION_TABLE} where id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn count(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar::<_, i64>(&format!("select count(*) from {SESSION_TABLE}"))
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

impl Dialect for SqliteDb {
    const USER_BY_NAME: &'static str =
        "select id, username, password_hash from users where username = $1 collate nocase";
    // The write lock from the start: two rotations of one token cannot both read it unused.
    const BEGIN_ROTATION: &'static str = "begin immediate";
    const LOCK_ROWS: &'static str = "";
}

impl Database for SqliteDb {
    fn kind(&self) -> DatabaseKind {
        DatabaseKind::Sqlite
    }
}

mod stores {
    super::super::sql_backend!(super::SqliteDb);
}
