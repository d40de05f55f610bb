//! Logging: `tracing` to stderr, filtered by `RUST_LOG`.
//!
//! What is logged is chosen so that nothing secret can appear: request spans carry the method
//! and the path (never the query string, which could hold `?access_token=`), never headers;
//! auth events log user ids and device handles, never passwords, tokens, session ids or hashes.

use tracing_subscriber::{EnvFilter, fmt};

/// The filter used when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,tower_sessions=warn,sqlx=warn";

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
