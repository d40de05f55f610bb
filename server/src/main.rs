//! Reads the configuration, sets up logging, builds the app and serves it.

use server::{
    api_server::{ApiServer, ApiServerConfig},
    config::Config,
    startup::Application,
    telemetry,
};

/// mimalloc instead of the system allocator: a request allocates and frees many small values
/// (headers, cookies, the session record, JSON), and glibc's malloc was a tenth of the CPU time
/// of a session-authenticated `/api/me` (perf, `scripts/bench.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init(telemetry::DEFAULT_FILTER);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["--role", "app"] => {}
        ["--role", "api"] => {
            let server = ApiServer::build(ApiServerConfig::from_env()?).await?;
            tracing::info!(
                "authlab API server listening on http://{}",
                server.local_addr()
            );
            return server.run_until_stopped().await;
        }
        _ => anyhow::bail!("usage: server [--role app|api]"),
    }
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    tracing::info!("authlab listening on http://{}", app.local_addr());
    app.run_until_stopped().await
}
