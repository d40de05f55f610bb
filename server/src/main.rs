//! Reads the configuration, sets up logging, builds the app and serves it.

use server::{config::Config, startup::Application, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init(telemetry::DEFAULT_FILTER);
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    tracing::info!("authlab listening on http://{}", app.local_addr());
    app.run_until_stopped().await
}
