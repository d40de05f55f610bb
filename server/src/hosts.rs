//! The `Host` allow-list: requests must name this app.
//!
//! A page on another site can point a domain it controls at 127.0.0.1 (DNS rebinding) and
//! then talk to a developer's local server as "same-origin". The browser still sends the
//! attacker's host name, so refusing any `Host` that is not this app's stops it. Allowed:
//! the host of `PUBLIC_URL`, those in `ALLOWED_HOSTS`, and in development `localhost`,
//! `127.0.0.1` and `[::1]` on the port the server bound (the lab window uses the first two).
//! Anything else gets 421 Misdirected Request.

use std::sync::OnceLock;

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::state::AppState;

/// The host names (with port) this server answers to. Filled in once the port is known.
#[derive(Debug, Default)]
pub struct AllowedHosts(OnceLock<Vec<String>>);

impl AllowedHosts {
    /// Sets the list (lower case `host[:port]`).
    pub fn set(&self, hosts: Vec<String>) {
        let _ = self.0.set(hosts);
    }

    /// Whether `host` (a `Host` header) is on the list. Before the list is set, anything is.
    pub fn allows(&self, host: &str) -> bool {
        self.0
            .get()
            .is_none_or(|list| list.iter().any(|h| h.eq_ignore_ascii_case(host)))
    }
}

/// The list for a server reached at `public_url`, bound on `port`.
pub fn allowed_hosts(
    public_url: &str,
    extra: &[String],
    port: u16,
    development: bool,
) -> Vec<String> {
    let mut hosts: Vec<String> = extra.iter().map(|h| h.to_ascii_lowercase()).collect();
    if let Some(authority) = public_url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
    {
        hosts.push(authority.to_ascii_lowercase());
    }
    if development {
        for name in ["localhost", "127.0.0.1", "[::1]"] {
            hosts.push(format!("{name}:{port}"));
            if port == 80 {
                hosts.push(name.to_owned());
            }
        }
    }
    hosts
}

/// Middleware: 421 unless the `Host` is allowed. (HTTP/1.1 requires a `Host`; one without
/// is refused too.)
pub async fn check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(host) if state.hosts.allows(&host) => next.run(req).await,
        _ => (
            StatusCode::MISDIRECTED_REQUEST,
            "This server does not answer to that host name.",
        )
            .into_response(),
    }
}
