//! Other servers for the lab's scale-out experiments: real processes of this very binary,
//! started on free loopback ports with settings of their own, and killed when the experiment
//! ends (or fails). Each experiment's peers get a fresh directory with their own SQLite file
//! and secrets, so they never touch the lab server's users.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

use crate::{config::generate_secret, error::ApiError, state::AppState};

/// How long a peer may take to answer its health check.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running peer, killed when dropped.
pub struct Peer {
    /// Its base URL.
    pub url: String,
    _child: Child,
}

/// The peers of one experiment run and their directory (removed at the end).
pub struct Peers {
    dir: PathBuf,
    binary: PathBuf,
    site_root: String,
    secrets: [(String, String); 2],
    /// The lab server's token rules, so an API server peer accepts its tokens.
    rules: [(String, String); 3],
}

impl Drop for Peers {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn internal(what: &str, err: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("lab peers: {what}: {err}"))
}

fn free_port() -> Result<u16, ApiError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| internal("finding a free port", e))
}

impl Peers {
    /// A fresh directory and one pair of secrets for every peer of this run.
    pub fn new(state: &AppState) -> Result<Self, ApiError> {
        let binary = match &state.config.lab_server_bin {
            Some(path) => path.clone(),
            None => std::env::current_exe().map_err(|e| internal("finding this binary", e))?,
        };
        let dir =
            std::env::temp_dir().join(format!("authlab-lab-peers-{}", &generate_secret()[..12]));
        std::fs::create_dir_all(&dir).map_err(|e| internal("creating their directory", e))?;
        let token = &state.config.token;
        Ok(Self {
            dir,
            binary,
            site_root: state.leptos.site_root.to_string(),
            secrets: [
                ("JWT_SECRET".into(), generate_secret()),
                ("REFRESH_TOKEN_SECRET".into(), generate_secret()),
            ],
            rules: [
                ("JWT_ISSUER".into(), token.issuer.clone()),
                ("JWT_AUDIENCE".into(), token.audience.clone()),
                ("JWT_LEEWAY_SECS".into(), token.leeway_secs.to_string()),
            ],
        })
    }

    /// The SQLite file `name` in this run's directory, as a `DATABASE_URL`.
    pub fn database(&self, name: &str) -> String {
        format!("sqlite://{}?mode=rwc", self.dir.join(name).display())
    }

    /// How the peers are started, for the report.
    pub fn how(&self) -> String {
        format!(
            "{} with LEPTOS_SITE_ADDR=127.0.0.1:<free port>",
            self.binary
                .file_name()
                .map_or("server".into(), |n| n.to_string_lossy().into_owned())
        )
    }

    /// Starts an app server with `env` on top of the run's secrets.
    pub async fn app(&self, env: &[(&str, String)]) -> Result<Peer, ApiError> {
        let port = free_port()?;
        let mut cmd = self.command();
        cmd.envs(self.secrets.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", &self.site_root)
            .env("SECRETS_FILE", self.dir.join("none.env"))
            .env("LAB_SWITCHES", "false")
            .env("PASSWORD_HASH_THREADS", "1")
            .env("DATABASE_MAX_CONNECTIONS", "2")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        self.start(cmd, port).await
    }

    /// Starts an API server (`--role api`) that reads its keys from `jwks_url`.
    pub async fn api(&self, jwks_url: &str) -> Result<Peer, ApiError> {
        let port = free_port()?;
        let mut cmd = self.command();
        cmd.args(["--role", "api"])
            .envs(self.rules.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("API_ADDR", format!("127.0.0.1:{port}"))
            .env("JWKS_URL", jwks_url);
        self.start(cmd, port).await
    }

    #[allow(unsafe_code)]
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "error")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        // If the lab server itself dies (even by SIGKILL), the kernel kills its peers too.
        // SAFETY: only an async-signal-safe system call runs between fork and exec.
        #[cfg(target_os = "linux")]
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd
    }

    async fn start(&self, mut cmd: Command, port: u16) -> Result<Peer, ApiError> {
        let mut child = cmd.spawn().map_err(|e| internal("starting a peer", e))?;
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(internal("a peer exited at start", status));
            }
            if let Ok(res) = http
                .get(format!("{url}/api/health"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                && res.status().is_success()
            {
                return Ok(Peer { url, _child: child });
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(internal("a peer did not come up", &url));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The run's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
