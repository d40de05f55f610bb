//! The SQLite database: connection pool and embedded migrations.

use std::{path::Path, str::FromStr, time::Duration};

use anyhow::{Context, bail};
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tower_sessions_sqlx_store::SqliteStore;

/// Opens the database named by `DATABASE_URL`, creating the file if needed, and brings its
/// schema up to date (ours and the session store's).
pub async fn connect(url: &str) -> anyhow::Result<(SqlitePool, SqliteStore)> {
    if !url.starts_with("sqlite:") {
        bail!(
            "DATABASE_URL must be a sqlite: URL (e.g. sqlite://data/authlab.db?mode=rwc); \
             other databases are not supported yet"
        );
    }
    let options = SqliteConnectOptions::from_str(url)
        .context("parsing DATABASE_URL")?
        .create_if_missing(true)
        // WAL lets readers (every session lookup) proceed while a login writes.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    if let Some(dir) = Path::new(options.get_filename()).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating database directory {}", dir.display()))?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .context("opening the database")?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .context("running migrations")?;
    let store = SqliteStore::new(pool.clone());
    store
        .migrate()
        .await
        .context("creating the session store table")?;
    Ok((pool, store))
}
