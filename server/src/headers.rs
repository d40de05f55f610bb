//! Security headers on every response, and a strict Content-Security-Policy on every page.
//!
//! * `Content-Security-Policy` (HTML): scripts only from this origin and only with the
//!   response's nonce — Leptos puts the same nonce on its hydration and resource scripts, so
//!   an injected `<script>` without it does not run; WebAssembly allowed to compile
//!   (`'wasm-unsafe-eval'`); no plugins, no `<base>` rewriting, forms post only here (and may
//!   be redirected on to the identity provider, for "Sign in with …"), and
//!   `frame-ancestors 'none'` so no other site can frame a page (with `X-Frame-Options: DENY`
//!   for older browsers). Inline `style=` attributes are allowed: the charts use them, and a
//!   style cannot run code. In development the lab's attacker origin may be framed by the lab
//!   window (the CSRF experiment needs it).
//! * `Cache-Control: no-store` (HTML): a page can show who is logged in; no shared cache may
//!   keep it.
//! * `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin` on everything: no
//!   URL leaks to another site, and the no-JavaScript form posts still get the `Referer` they
//!   return to.
//! * The build's files under `/pkg/` get their cache policy from [`crate::assets`].

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;

use crate::state::AppState;

/// The nonce of one HTML response, put in the request's extensions for the page renderer.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

impl CspNonce {
    fn new() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// The policy for a page whose scripts carry `nonce`. `form_to` is the identity provider's
/// origin, if there is one: the "Sign in with …" form posts here and is redirected there, and
/// `form-action` governs that redirect too.
pub fn content_security_policy(
    nonce: &str,
    frame_src: Option<&str>,
    form_to: Option<&str>,
) -> String {
    let frames = frame_src.map_or_else(|| "'none'".to_owned(), |f| format!("'self' {f}"));
    let forms = form_to.map_or_else(|| "'self'".to_owned(), |f| format!("'self' {f}"));
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'strict-dynamic' \
         'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; frame-src {frames}; frame-ancestors 'none'; object-src 'none'; \
         base-uri 'none'; form-action {forms}"
    )
}

/// Middleware: adds the headers above.
pub async fn secure(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let nonce = CspNonce::new();
    req.extensions_mut().insert(nonce.clone());
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        let attacker = state.lab.attacker_origins();
        let csp =
            content_security_policy(&nonce.0, attacker.as_deref(), state.oidc.provider_origin());
        if let Ok(value) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
