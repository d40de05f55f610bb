//! The attacker origin for the CSRF experiment: a second listener (another port of the same
//! host, so another origin but the same site) that serves one page. The page auto-submits a
//! form to this app's note-writing endpoint, as any site on the web could.
//!
//! It only runs with the lab's switches on.

use std::net::SocketAddr;

use anyhow::Context;
use axum::{
    Router,
    extract::Query,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use tokio::net::TcpListener;

/// Binds the attacker origin; returns its port and the server future.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<(u16, impl Future<Output = ()>)> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the lab's attacker origin on {addr}"))?;
    let port = listener.local_addr().context("attacker address")?.port();
    let app = Router::new().route("/attack", get(attack_page));
    Ok((port, async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::warn!(error = %err, "the lab's attacker origin stopped");
        }
    }))
}

#[derive(Debug, Deserialize)]
struct Target {
    /// The victim app's origin, e.g. `http://localhost:3000`.
    target: String,
}

/// Only this machine's own app can be targeted.
fn allowed(target: &str) -> bool {
    let Some(rest) = target.strip_prefix("http://") else {
        return false;
    };
    let (host, port) = rest.split_once(':').unwrap_or((rest, "80"));
    matches!(host, "localhost" | "127.0.0.1") && port.chars().all(|c| c.is_ascii_digit())
}

async fn attack_page(Query(q): Query<Target>) -> Response {
    if !allowed(&q.target) {
        return (StatusCode::BAD_REQUEST, "target must be this machine's app").into_response();
    }
    let target = &q.target;
    let page = format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="referrer" content="origin">
<title>You have won a prize</title></head>
<body style="font-family: sans-serif">
<h1>Congratulations!</h1>
<p>This page is on another origin. While you look at it, it submits a form to {target}.</p>
<form id="attack" method="POST" action="{target}/api/fn/add_note" target="sink">
  <input type="hidden" name="text" value="Written by the attacker's page">
</form>
<iframe name="sink" title="sink" style="display:none"></iframe>
<script>
  const sink = document.querySelector('iframe');
  let sent = false;
  sink.addEventListener('load', () => {{
    if (sent) parent.postMessage({{ authlab: 'csrf-sent' }}, '*');
  }});
  sent = true;
  document.getElementById('attack').submit();
</script>
</body></html>"#
    );
    let mut res = Html(page).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machines_app_can_be_targeted() {
        assert!(allowed("http://localhost:3000"));
        assert!(allowed("http://127.0.0.1:3100"));
        assert!(!allowed("http://evil.example:3000"));
        assert!(!allowed("https://localhost:3000"));
        assert!(!allowed("http://localhost:3000/x\"><script>"));
    }
}
