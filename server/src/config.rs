//! Typed configuration, read once from the environment at start-up.
//!
//! Every variable is documented in `.env.example`. There are two profiles:
//!
//! * **development** (the default, used by the README's run command): a missing secret is
//!   generated, written to `SECRETS_FILE` so it survives restarts, and announced with a loud
//!   warning; `.env` is read; cookies are `Secure` only when the public URL is `https`.
//! * **production** (`APP_ENV=production`): `.env` is ignored, a missing or weak secret stops
//!   the server, and cookies are always `Secure`.

use std::{
    collections::HashMap,
    fs,
    io::Write,
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use anyhow::{Context, bail, ensure};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

pub use crate::store::StoreConfig;
use crate::{auth::keys::SigningAlgorithm, store::DatabaseKind};

/// Which rules apply to secrets, cookies and lab switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Local use: generated secrets, lab switches available.
    Development,
    /// Deployed: strong secrets required, `Secure` cookies forced, lab switches off.
    Production,
}

/// Everything the server needs to know, already parsed and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// `APP_ENV`: `development` (default) or `production`.
    pub profile: Profile,
    /// `LEPTOS_SITE_ADDR`: the address to listen on (port 0 picks a free port).
    pub site_addr: SocketAddr,
    /// `PUBLIC_URL`: the origin browsers use to reach the app (default `http://{site_addr}`).
    /// Used for the same-origin check and, in development, to decide `Secure` cookies.
    pub public_url: String,
    /// `LEPTOS_SITE_ROOT`: where cargo-leptos put the compiled site (`target/site`).
    pub site_root: String,
    /// `LEPTOS_OUTPUT_NAME`: the name of the generated .js/.wasm/.css files.
    pub output_name: String,
    /// Where state is kept: `DATABASE_URL`, `SESSION_STORE_URL`, `REDIS_KEY_PREFIX`,
    /// `DATABASE_MAX_CONNECTIONS` (see [`StoreConfig`]).
    pub store: StoreConfig,
    /// Session cookie and store settings.
    pub session: SessionConfig,
    /// Bearer-token settings.
    pub token: TokenConfig,
    /// Failed-login throttling.
    pub throttle: ThrottleConfig,
    /// `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed (comma-separated IPs).
    pub trusted_proxies: Vec<IpAddr>,
    /// `ALLOWED_HOSTS`: `Host` names (with port) answered besides `PUBLIC_URL`'s, e.g. behind
    /// a proxy that rewrites it (comma-separated). In development the server also answers to
    /// `localhost`, `127.0.0.1` and `[::1]` on its port.
    pub allowed_hosts: Vec<String>,
    /// `PASSWORD_HASH_THREADS`: how many Argon2id hashes run at once (default: the cores; they
    /// run at idle priority, after everything else).
    pub password_hash_threads: usize,
    /// `LAB_SWITCHES`: allow the lab's demo switches (defences off, strict mode, ...).
    /// Default on in development, forced off in production.
    pub lab_switches: bool,
    /// `LAB_ATTACKER_ADDR`: where the lab serves its "attacker" page for the CSRF experiment:
    /// another port of the same host, i.e. another origin (default: the site's port + 10).
    pub lab_attacker_addr: SocketAddr,
    /// `SINGLE_SESSION` (default false): a new login ends the user's other logins (both modes).
    pub single_session: bool,
    /// `LAB_SERVER_BIN` (default: this executable): the server binary the lab's scale-out
    /// experiments start as extra servers (tests point it at the built binary).
    pub lab_server_bin: Option<PathBuf>,
    /// Sign-in with an OpenID Connect provider: `OIDC_ISSUER`, `OIDC_CLIENT_ID` (default
    /// `authlab`), `OIDC_CLIENT_SECRET`, `OIDC_PROVIDER_NAME`. `None` without `OIDC_ISSUER`.
    pub oidc: Option<crate::oidc::OidcConfig>,
}

/// Cookie-session settings.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// `SESSION_IDLE_TIMEOUT_SECS` (default 1800): a session unused this long is dead.
    pub idle_timeout: Duration,
    /// `SESSION_ABSOLUTE_TIMEOUT_SECS` (default 28800): a session older than this is dead,
    /// however active it is.
    pub absolute_timeout: Duration,
    /// `COOKIE_SECURE`: send the session cookie only over HTTPS. Forced on in production;
    /// in development it defaults to whether `PUBLIC_URL` is `https`.
    pub cookie_secure: bool,
    /// `SESSION_CLEANUP_INTERVAL_SECS` (default 60): how often expired sessions are deleted.
    pub cleanup_interval: Duration,
    /// `SESSION_CACHE_SECS` (default 5): how long a session read from the database is trusted
    /// from memory. Revocation on this server is immediate regardless; with several servers
    /// sharing the database this bounds how late another server notices. 0 turns it off.
    pub cache_for: Duration,
}

/// Bearer-token settings.
#[derive(Debug, Clone)]
pub struct TokenConfig {
    /// `JWT_SECRET`: the secret every access-token signing key is derived from (with its key
    /// id, see `auth::keys`), at least 256 bits.
    pub jwt_secret: SecretString,
    /// `JWT_ALGORITHM` (default `EdDSA`): how access tokens are signed, `EdDSA` or `HS256`.
    pub algorithm: SigningAlgorithm,
    /// `JWKS_REFRESH_MIN_SECS` (default 10): a token naming an unknown key makes the verifier
    /// reload its keys (from the database, or the JWKS on the API server) at most this often.
    pub key_refetch_every: Duration,
    /// `REFRESH_TOKEN_SECRET`: the key that derives each rotated refresh token from its parent
    /// (so a lost response can be answered again without storing tokens), at least 256 bits.
    pub refresh_secret: SecretString,
    /// `JWT_ISSUER` (default `authlab`): the `iss` claim issued and required.
    pub issuer: String,
    /// `JWT_AUDIENCE` (default `authlab`): the `aud` claim issued and required.
    pub audience: String,
    /// `ACCESS_TOKEN_TTL_SECS` (default 300): access-token lifetime.
    pub access_ttl: Duration,
    /// `REFRESH_TOKEN_IDLE_SECS` (default 1209600 = 14 days): an unused refresh token dies.
    pub refresh_idle: Duration,
    /// `REFRESH_TOKEN_ABSOLUTE_SECS` (default 2592000 = 30 days): a token family dies this long
    /// after its login, whatever rotation happened.
    pub refresh_absolute: Duration,
    /// `REFRESH_TOKEN_GRACE_SECS` (default 10): how long a rotated refresh token may be
    /// presented again (lost response, second tab) without counting as theft.
    pub refresh_grace: Duration,
    /// `STRICT_TOKEN_CHECK` (default false): every bearer request confirms its token family is
    /// still alive (one store lookup), so logout kills access tokens at once.
    pub strict: bool,
    /// `JWT_LEEWAY_SECS` (default 5, at most 30): clock skew tolerated on `exp`, `nbf`, `iat`.
    pub leeway_secs: u64,
}

/// Login and registration throttling (see `throttle.rs`). A successful login never counts.
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// `LOGIN_MAX_FAILURES_PER_ACCOUNT` (default 10): failed logins per window for one
    /// account from one client network.
    pub per_account: u32,
    /// `LOGIN_MAX_FAILURES_PER_IP` (default 100): failed logins per window from one client
    /// network (an IPv4 address or an IPv6 /64), whatever the account.
    pub per_ip: u32,
    /// `LOGIN_THROTTLE_WINDOW_SECS` (default 900).
    pub window: Duration,
    /// `REGISTER_MAX_PER_IP` (default 20; 1000 where the lab is on, whose experiments register
    /// throwaway users by the dozen): registrations per hour from one client network.
    pub registrations_per_ip: u32,
}

/// Where config values come from: the process environment, or a map in tests.
pub trait Source {
    /// The raw value of `key`, if set and not empty.
    fn get(&self, key: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy)]
pub struct Environment;

impl Source for Environment {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key)
            .cloned()
            .filter(|v| !v.trim().is_empty())
    }
}

/// The smallest key we accept for HS256: 256 bits (RFC 7518 §3.2).
const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the process environment, loading `.env` first unless the environment itself says
    /// `APP_ENV=production`.
    pub fn from_env() -> anyhow::Result<Self> {
        let production = std::env::var("APP_ENV").is_ok_and(|v| v == "production");
        if !production {
            // A missing .env is normal; a malformed one is worth stopping for.
            match dotenvy::dotenv() {
                Ok(_) | Err(dotenvy::Error::Io(_)) => {}
                Err(err) => return Err(err).context("reading .env"),
            }
        }
        Self::from_source(&Environment)
    }

    /// Builds the configuration from any source; used directly by tests.
    pub fn from_source(src: &impl Source) -> anyhow::Result<Self> {
        let profile = match src.get("APP_ENV").as_deref() {
            None | Some("development") => Profile::Development,
            Some("production") => Profile::Production,
            Some(other) => bail!("APP_ENV must be `development` or `production`, not `{other}`"),
        };
        let production = profile == Profile::Production;

        let site_addr: SocketAddr = parse(src, "LEPTOS_SITE_ADDR", "127.0.0.1:3000")?;
        let public_url = src
            .get("PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{site_addr}"))
            .trim_end_matches('/')
            .to_owned();
        ensure!(
            public_url.starts_with("http://") || public_url.starts_with("https://"),
            "PUBLIC_URL must start with http:// or https://"
        );
        let cookie_secure = if production {
            true
        } else {
            match src.get("COOKIE_SECURE") {
                Some(v) => parse_bool("COOKIE_SECURE", &v)?,
                None => public_url.starts_with("https://"),
            }
        };

        let secrets_file = PathBuf::from(
            src.get("SECRETS_FILE")
                .unwrap_or_else(|| "data/dev-secrets.env".into()),
        );
        let jwt_secret = secret(src, "JWT_SECRET", profile, &secrets_file)?;
        let refresh_secret = secret(src, "REFRESH_TOKEN_SECRET", profile, &secrets_file)?;
        if jwt_secret.expose_secret() == refresh_secret.expose_secret() {
            // One leaked key must not give away both: forging access tokens and deriving
            // refresh tokens are separate powers.
            let why = "JWT_SECRET and REFRESH_TOKEN_SECRET are the same value";
            if production {
                bail!("{why}; production requires two different secrets");
            }
            tracing::warn!("{why}; production would refuse to start");
        }

        let algorithm =
            SigningAlgorithm::parse(&src.get("JWT_ALGORITHM").unwrap_or_else(|| "EdDSA".into()))?;
        let key_refetch_every = secs(src, "JWKS_REFRESH_MIN_SECS", "10")?;
        // 0 (ask on every unknown key id) is for tests; in production forged key ids would
        // turn into a database query each.
        ensure!(
            !production || !key_refetch_every.is_zero(),
            "JWKS_REFRESH_MIN_SECS must be at least 1 in production"
        );
        let leeway_secs: u64 = parse(src, "JWT_LEEWAY_SECS", "5")?;
        ensure!(leeway_secs <= 30, "JWT_LEEWAY_SECS must be at most 30");
        let access_ttl = secs(src, "ACCESS_TOKEN_TTL_SECS", "300")?;
        let refresh_idle = secs(src, "REFRESH_TOKEN_IDLE_SECS", "1209600")?;
        let refresh_absolute = secs(src, "REFRESH_TOKEN_ABSOLUTE_SECS", "2592000")?;
        let idle_timeout = secs(src, "SESSION_IDLE_TIMEOUT_SECS", "1800")?;
        let absolute_timeout = secs(src, "SESSION_ABSOLUTE_TIMEOUT_SECS", "28800")?;
        for (name, value) in [
            ("ACCESS_TOKEN_TTL_SECS", access_ttl),
            ("REFRESH_TOKEN_IDLE_SECS", refresh_idle),
            ("REFRESH_TOKEN_ABSOLUTE_SECS", refresh_absolute),
            ("SESSION_IDLE_TIMEOUT_SECS", idle_timeout),
            ("SESSION_ABSOLUTE_TIMEOUT_SECS", absolute_timeout),
        ] {
            ensure!(!value.is_zero(), "{name} must be at least 1");
        }

        let trusted_proxies = src
            .get("TRUSTED_PROXIES")
            .map(|list| {
                list.split(',')
                    .map(|ip| {
                        ip.trim()
                            .parse::<IpAddr>()
                            .with_context(|| format!("TRUSTED_PROXIES: `{ip}` is not an IP"))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();

        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let default_threads = cores.to_string();
        let password_hash_threads: usize = parse(src, "PASSWORD_HASH_THREADS", &default_threads)?;
        ensure!(
            password_hash_threads >= 1,
            "PASSWORD_HASH_THREADS must be at least 1"
        );

        let lab_switches = !production
            && match src.get("LAB_SWITCHES") {
                Some(v) => parse_bool("LAB_SWITCHES", &v)?,
                None => true,
            };

        let default_attacker = SocketAddr::new(
            site_addr.ip(),
            if site_addr.port() == 0 {
                0
            } else {
                site_addr.port().saturating_add(10)
            },
        )
        .to_string();
        let lab_attacker_addr = parse(src, "LAB_ATTACKER_ADDR", &default_attacker)?;
        let single_session = match src.get("SINGLE_SESSION") {
            Some(v) => parse_bool("SINGLE_SESSION", &v)?,
            None => false,
        };

        Ok(Self {
            profile,
            site_addr,
            oidc: oidc_config(src, profile, &public_url)?,
            public_url,
            site_root: src
                .get("LEPTOS_SITE_ROOT")
                .unwrap_or_else(|| "target/site".into()),
            output_name: src
                .get("LEPTOS_OUTPUT_NAME")
                .unwrap_or_else(|| "authlab".into()),
            store: store_config(src)?,
            session: SessionConfig {
                idle_timeout,
                absolute_timeout,
                cookie_secure,
                cleanup_interval: secs(src, "SESSION_CLEANUP_INTERVAL_SECS", "60")?,
                cache_for: secs(src, "SESSION_CACHE_SECS", "5")?,
            },
            token: TokenConfig {
                jwt_secret,
                algorithm,
                key_refetch_every,
                refresh_secret,
                issuer: src.get("JWT_ISSUER").unwrap_or_else(|| "authlab".into()),
                audience: src.get("JWT_AUDIENCE").unwrap_or_else(|| "authlab".into()),
                access_ttl,
                refresh_idle,
                refresh_absolute,
                refresh_grace: secs(src, "REFRESH_TOKEN_GRACE_SECS", "10")?,
                strict: parse_bool(
                    "STRICT_TOKEN_CHECK",
                    &src.get("STRICT_TOKEN_CHECK")
                        .unwrap_or_else(|| "false".into()),
                )?,
                leeway_secs,
            },
            throttle: ThrottleConfig {
                per_account: parse(src, "LOGIN_MAX_FAILURES_PER_ACCOUNT", "10")?,
                per_ip: parse(src, "LOGIN_MAX_FAILURES_PER_IP", "100")?,
                window: secs(src, "LOGIN_THROTTLE_WINDOW_SECS", "900")?,
                // The lab's experiments register throwaway users by the dozen, all from this
                // machine: where the lab is on, the default leaves room for them.
                registrations_per_ip: parse(
                    src,
                    "REGISTER_MAX_PER_IP",
                    if lab_switches { "1000" } else { "20" },
                )?,
            },
            trusted_proxies,
            allowed_hosts: src
                .get("ALLOWED_HOSTS")
                .map(|list| {
                    list.split(',')
                        .map(|h| h.trim().to_owned())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            password_hash_threads,
            lab_switches,
            lab_attacker_addr,
            single_session,
            lab_server_bin: src.get("LAB_SERVER_BIN").map(PathBuf::from),
        })
    }

    /// The scheme://host[:port] browsers use for this app, for the same-origin check.
    pub fn public_origin(&self) -> &str {
        &self.public_url
    }
}

/// Where state is kept. Schemes are checked here, so a typo stops the server at once with the
/// variable's name; reachability is checked when the store opens.
fn store_config(src: &impl Source) -> anyhow::Result<StoreConfig> {
    let database_url = src
        .get("DATABASE_URL")
        .unwrap_or_else(|| "sqlite://data/authlab.db?mode=rwc".into());
    DatabaseKind::of_url(&database_url)?;
    let session_store_url = src.get("SESSION_STORE_URL");
    let redis_sessions = session_store_url
        .as_ref()
        .is_some_and(|url| url.starts_with("redis://") || url.starts_with("rediss://"));
    if let Some(url) = &session_store_url {
        ensure!(
            redis_sessions || url == crate::store::MEMORY_SESSIONS,
            "SESSION_STORE_URL must be a redis:// URL, or `memory:` (this process only), or \
             unset, to keep sessions in the database; not `{}:`",
            url.split(':').next().unwrap_or("")
        );
    }
    let shared_url = src
        .get("REDIS_URL")
        .or_else(|| session_store_url.clone().filter(|_| redis_sessions));
    if let Some(url) = &shared_url {
        ensure!(
            url.starts_with("redis://") || url.starts_with("rediss://"),
            "REDIS_URL must be a redis:// URL, not `{}:`",
            url.split(':').next().unwrap_or("")
        );
    }
    let redis_prefix = src
        .get("REDIS_KEY_PREFIX")
        .unwrap_or_else(|| "authlab:".into());
    ensure!(
        redis_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.')),
        "REDIS_KEY_PREFIX may hold only letters, digits and `:_-.`"
    );
    let max_connections: u32 = parse(src, "DATABASE_MAX_CONNECTIONS", "8")?;
    ensure!(
        (1..=1000).contains(&max_connections),
        "DATABASE_MAX_CONNECTIONS must be between 1 and 1000"
    );
    Ok(StoreConfig {
        database_url,
        session_store_url,
        shared_url,
        redis_prefix,
        max_connections,
    })
}

fn parse<T>(src: &impl Source, key: &str, default: &str) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let raw = src.get(key).unwrap_or_else(|| default.to_owned());
    raw.trim()
        .parse()
        .map_err(|err| anyhow::anyhow!("{key}: cannot parse `{raw}`: {err}"))
}

fn secs(src: &impl Source, key: &str, default: &str) -> anyhow::Result<Duration> {
    parse::<u64>(src, key, default).map(Duration::from_secs)
}

fn parse_bool(key: &str, raw: &str) -> anyhow::Result<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => bail!("{key} must be true or false, not `{other}`"),
    }
}

/// The provider sign-in settings, if `OIDC_ISSUER` is set. The issuer must be https (plain
/// http only on loopback, outside production). Production refuses a missing client secret;
/// development then leaves the sign-in off, with a warning.
fn oidc_config(
    src: &impl Source,
    profile: Profile,
    public_url: &str,
) -> anyhow::Result<Option<crate::oidc::OidcConfig>> {
    let Some(issuer) = src.get("OIDC_ISSUER").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let production = profile == Profile::Production;
    require_https(
        "OIDC_ISSUER",
        &issuer,
        if production {
            Loopback::Refused
        } else {
            Loopback::Allowed
        },
    )?;
    let Some(client_secret) = src.get("OIDC_CLIENT_SECRET").filter(|v| !v.is_empty()) else {
        if production {
            bail!("OIDC_CLIENT_SECRET must be set in production when OIDC_ISSUER is");
        }
        tracing::warn!("OIDC_ISSUER is set but OIDC_CLIENT_SECRET is not: provider sign-in is off");
        return Ok(None);
    };
    Ok(Some(crate::oidc::OidcConfig {
        registration: crate::oidc::Registration {
            issuer,
            client_id: src
                .get("OIDC_CLIENT_ID")
                .unwrap_or_else(|| "authlab".into()),
            client_secret: SecretString::from(client_secret),
            redirect_url: format!(
                "{}{}",
                public_url.trim_end_matches('/'),
                crate::oidc::CALLBACK_PATH
            ),
        },
        name: src
            .get("OIDC_PROVIDER_NAME")
            .unwrap_or_else(|| "the local OpenID provider".into()),
    }))
}

/// Whether [`require_https`] lets plain http through to a loopback address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loopback {
    /// `http://127.0.0.1…`, `http://localhost…` and `http://[::1]…` are accepted.
    Allowed,
    /// Only https.
    Refused,
}

/// Refuses a URL a server trusts for keys or identities unless it is https (or, where
/// allowed, plain http to this machine): whoever can change what it answers in transit can
/// forge whatever it vouches for.
pub fn require_https(key: &str, url: &str, loopback: Loopback) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{key} is not a URL"))?;
    let host = parsed.host_str().unwrap_or("").trim_matches(['[', ']']);
    let is_loopback =
        host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback && loopback == Loopback::Allowed => Ok(()),
        _ if loopback == Loopback::Allowed => {
            bail!("{key} must be https:// (plain http:// only to a loopback address)")
        }
        _ => bail!("{key} must be https:// in production"),
    }
}

/// Reads a signing secret. Production refuses a weak or missing one; development generates a
/// missing one and keeps it in `secrets_file` so tokens survive a restart.
fn secret(
    src: &impl Source,
    key: &str,
    profile: Profile,
    secrets_file: &Path,
) -> anyhow::Result<SecretString> {
    if let Some(value) = src.get(key) {
        if let Err(why) = check_secret_strength(&value) {
            if profile == Profile::Production {
                bail!("{key} is too weak for production: {why}");
            }
            tracing::warn!("{key} is weak ({why}); production would refuse to start");
        }
        return Ok(SecretString::from(value));
    }
    if profile == Profile::Production {
        bail!("{key} must be set in production (at least {MIN_SECRET_BYTES} random bytes)");
    }
    let value = match read_kept_secret(secrets_file, key)? {
        Some(value) => value,
        None => {
            let value = generate_secret();
            keep_secret(secrets_file, key, &value)?;
            value
        }
    };
    tracing::warn!(
        file = %secrets_file.display(),
        "!!! {key} is not set: using a generated development secret kept in that file. \
         Set {key} before deploying; APP_ENV=production refuses to start without it !!!"
    );
    Ok(SecretString::from(value))
}

/// A secret is strong enough when it can hold at least 256 bits — its length times the bits
/// a character of its alphabet carries: 4 for hex, 6 for base64, 6.5 for any printable
/// ASCII — and does not look like a word or a repeated pattern (a Shannon estimate over its
/// characters of at least 128 bits). So 32 hex characters (128 bits) are refused, 64 pass;
/// `openssl rand -base64 32` passes.
pub fn check_secret_strength(value: &str) -> Result<(), String> {
    if value.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "{} bytes, at least {MIN_SECRET_BYTES} are required",
            value.len()
        ));
    }
    let hex = value.bytes().all(|b| b.is_ascii_hexdigit());
    let base64 = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'='));
    let bits_per_char = if hex {
        4.0
    } else if base64 {
        6.0
    } else {
        6.5
    };
    let capacity = bits_per_char * value.len() as f64;
    if capacity < 256.0 {
        return Err(format!(
            "{} characters of that alphabet hold about {capacity:.0} bits, 256 are required",
            value.len()
        ));
    }
    let mut counts = [0usize; 256];
    for b in value.bytes() {
        counts[usize::from(b)] += 1;
    }
    let len = value.len() as f64;
    let per_char: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum();
    if per_char * len < 128.0 {
        return Err("too little variety (looks like a word or a pattern)".into());
    }
    Ok(())
}

/// 256 random bits, base64url: what `openssl rand -base64 32` gives, URL-safe.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn read_kept_secret(file: &Path, key: &str) -> anyhow::Result<Option<String>> {
    owner_only(file)?;
    let text = match fs::read_to_string(file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("reading {}", file.display())),
    };
    Ok(text.lines().find_map(|line| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix('='))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }))
}

fn keep_secret(file: &Path, key: &str, value: &str) -> anyhow::Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options = fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options
        .open(file)
        .with_context(|| format!("opening {}", file.display()))?;
    writeln!(out, "{key}={value}").with_context(|| format!("writing {}", file.display()))?;
    // The mode above applies only when the file is created; an older file is tightened too.
    owner_only(file)
}

/// Makes a file readable and writable by its owner only (0600), if it exists: secrets and
/// the database must not be readable by other users of the machine.
pub fn owner_only(file: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match fs::metadata(file) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                fs::set_permissions(file, fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("restricting {} to its owner", file.display()))?;
            }
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err).with_context(|| format!("reading {}", file.display())),
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Lets tests and tools see the secret without it ever reaching `Debug` output or logs.
pub fn expose(secret: &SecretString) -> &str {
    secret.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn production_refuses_to_start_without_a_jwt_secret() {
        let err = Config::from_source(&source(&[("APP_ENV", "production")])).unwrap_err();
        assert!(err.to_string().contains("JWT_SECRET must be set"), "{err}");
    }

    #[test]
    fn production_refuses_to_start_without_a_refresh_token_secret() {
        let err = Config::from_source(&source(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &generate_secret()),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("REFRESH_TOKEN_SECRET must be set"),
            "{err}"
        );
    }

    #[test]
    fn production_refuses_a_short_or_patterned_secret() {
        for weak in [
            "short",
            "changeme-changeme-changeme-changeme",
            &"ab".repeat(40),
        ] {
            let err =
                Config::from_source(&source(&[("APP_ENV", "production"), ("JWT_SECRET", weak)]))
                    .unwrap_err();
            assert!(err.to_string().contains("too weak"), "{weak}: {err}");
        }
    }

    #[test]
    fn production_forces_secure_cookies_and_turns_lab_switches_off() {
        let config = Config::from_source(&source(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &generate_secret()),
            ("REFRESH_TOKEN_SECRET", &generate_secret()),
            ("COOKIE_SECURE", "false"),
            ("LAB_SWITCHES", "true"),
        ]))
        .unwrap();
        assert!(config.session.cookie_secure);
        assert!(!config.lab_switches);
    }

    #[test]
    fn development_follows_the_public_scheme_for_secure_cookies() {
        let dir = std::env::temp_dir().join(format!("authlab-cfg-{}", generate_secret()));
        let file = dir.join("secrets.env");
        let file = file.to_str().unwrap();
        let http = Config::from_source(&source(&[("SECRETS_FILE", file)])).unwrap();
        assert!(!http.session.cookie_secure);
        let https = Config::from_source(&source(&[
            ("SECRETS_FILE", file),
            ("PUBLIC_URL", "https://authlab.example"),
        ]))
        .unwrap();
        assert!(https.session.cookie_secure);
        fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn development_generates_a_secret_once_and_keeps_it_across_restarts() {
        let dir = std::env::temp_dir().join(format!("authlab-cfg-{}", generate_secret()));
        let file = dir.join("secrets.env");
        let src = source(&[("SECRETS_FILE", file.to_str().unwrap())]);
        let first = Config::from_source(&src).unwrap();
        let second = Config::from_source(&src).unwrap();
        assert_eq!(
            expose(&first.token.jwt_secret),
            expose(&second.token.jwt_secret)
        );
        assert!(check_secret_strength(expose(&first.token.jwt_secret)).is_ok());
        fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_128_bit_hex_secret_is_too_weak_and_a_256_bit_one_is_not() {
        let hex128 = "0123456789abcdef0f1e2d3c4b5a6978";
        assert!(check_secret_strength(hex128).is_err());
        let hex256 = "3f9a0c1d7e5b2a4869f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f70";
        assert!(
            check_secret_strength(hex256).is_ok(),
            "{:?}",
            check_secret_strength(hex256)
        );
    }

    #[test]
    fn production_refuses_the_same_secret_twice() {
        let same = generate_secret();
        let err = Config::from_source(&source(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &same),
            ("REFRESH_TOKEN_SECRET", &same),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("same value"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_kept_secrets_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("authlab-cfg-{}", generate_secret()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secrets.env");
        // An older file, created world-readable.
        fs::write(&file, "").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        Config::from_source(&source(&[("SECRETS_FILE", file.to_str().unwrap())])).unwrap();
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_generated_secret_passes_the_strength_check() {
        assert!(check_secret_strength(&generate_secret()).is_ok());
    }
}
