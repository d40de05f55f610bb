//! Reads the configuration, sets up logging, builds the app and serves it.

use server::{config::Config, startup::Application, telemetry};

/// mimalloc instead of the system allocator: a request allocates and frees many small values
/// (headers, cookies, the session record, JSON), and glibc's malloc was a tenth of the CPU time
/// of a session-authenticated `/api/me` (perf, `scripts/bench.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init(telemetry::DEFAULT_FILTER);
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    tracing::info!("authlab listening on http://{}", app.local_addr());
    app.run_until_stopped().await
}
