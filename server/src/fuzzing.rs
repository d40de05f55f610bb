//! Entry points for the fuzz targets (`fuzz/`, run by `scripts/fuzz.sh`): each takes the raw
//! bytes an attacker controls, feeds them to the code that parses them in production, and
//! panics only when a property of that code breaks. The seed corpus in `fuzz/corpus/` also
//! runs through these functions in every `cargo test` (`tests/fuzz_corpus.rs`).

use std::{str::FromStr, sync::LazyLock};

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, header};
use tower_sessions::session::Id;

use crate::{
    auth::{self, bearer::AccessTokens, keys::StaticKeys},
    config::{Config, TokenConfig},
    csrf,
};

/// The origin the CSRF target's app is served from.
const PUBLIC_ORIGIN: &str = "https://authlab.example";

static TOKENS: LazyLock<(TokenConfig, AccessTokens)> = LazyLock::new(|| {
    let source = std::collections::HashMap::from([
        (
            "JWT_SECRET".to_owned(),
            "fuzzing-jwt-secret-of-at-least-256-bits-0123456789abcdef".to_owned(),
        ),
        (
            "REFRESH_TOKEN_SECRET".to_owned(),
            "fuzzing-refresh-secret-at-least-256-bits-0123456789abcdef".to_owned(),
        ),
        (
            "SECRETS_FILE".to_owned(),
            "/nonexistent/authlab-fuzz".to_owned(),
        ),
    ]);
    let config = Config::from_source(&source).expect("the fuzzing configuration is valid");
    let keys = StaticKeys::new(config.token.algorithm, config.token.jwt_secret.clone());
    let set = keys
        .load_now()
        .expect("keys derive from the fuzzing secret");
    let tokens = AccessTokens::with_keys((&config.token).into(), set, std::sync::Arc::new(keys));
    (config.token, tokens)
});

/// Splits fuzz input into `n` fields at `\n` (missing fields are empty).
fn fields(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |b| *b == b'\n').collect();
    out.resize(n, b"");
    out
}

/// An `Authorization` header: parsed as the extractor does, a bearer token then decoded and
/// verified as a JWT. Random bytes must never verify.
pub fn authorization(data: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let (parts, ()) = Request::builder()
        .header(header::AUTHORIZATION, value)
        .body(())
        .expect("a request with one header")
        .into_parts();
    if let Ok(Some(token)) = auth::bearer_token(&parts) {
        let (_, tokens) = &*TOKENS;
        if let Ok((claims, _)) = tokens.verify(token, 1_700_000_000) {
            panic!("a token nobody signed verified: {claims:?}");
        }
    }
}

/// A JWT on its own (the decoder, header and claims checks), and its claims as JSON.
pub fn jwt(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let (_, tokens) = &*TOKENS;
    assert!(
        tokens.verify(token, 1_700_000_000).is_err(),
        "a token nobody signed verified"
    );
    let _ = jsonwebtoken::decode_header(token);
}

/// A `Cookie` header: split into cookies as the session and refresh-cookie layers do; a
/// session id parsed; a refresh token hashed; a stored session record decoded.
pub fn cookie_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for cookie in tower_cookies::cookie::Cookie::split_parse(text).flatten() {
        match cookie.name() {
            "authlab_session" | "__Host-authlab_session" => {
                if let Ok(id) = Id::from_str(cookie.value()) {
                    // A parsed id prints back as the same cookie value.
                    assert_eq!(
                        Id::from_str(&id.to_string()).ok(),
                        Some(id),
                        "session id round trip"
                    );
                }
            }
            _ => {
                let _ = auth::refresh::hash(cookie.value());
            }
        }
    }
    auth::session::decode_record(data);
}

/// The CSRF decision for a request whose method, path, `Origin`, `Sec-Fetch-Site`, `Host`,
/// `Content-Type` and `Cookie` come from the input. Property: a request the browser marks
/// cross-site, or with a foreign `Origin`, never passes.
pub fn csrf_origin(data: &[u8]) {
    let f = fields(data, 7);
    let Ok(method) = Method::from_bytes(f[0]) else {
        return;
    };
    let path = String::from_utf8_lossy(f[1]);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("origin", f[2]),
        ("sec-fetch-site", f[3]),
        ("host", f[4]),
        ("content-type", f[5]),
        ("cookie", f[6]),
    ] {
        if !value.is_empty()
            && let Ok(value) = HeaderValue::from_bytes(value)
        {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    if csrf::check(&method, &path, &headers, PUBLIC_ORIGIN).is_err() {
        return;
    }
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return;
    }
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    match text("sec-fetch-site") {
        Some(site) => assert!(
            site == "same-origin" || site == "none",
            "passed with Sec-Fetch-Site {site:?}"
        ),
        None => {
            if let Some(origin) = text("origin") {
                let own_host = text("host")
                    .is_some_and(|h| origin.eq_ignore_ascii_case(&format!("https://{h}")));
                assert!(
                    origin.eq_ignore_ascii_case(PUBLIC_ORIGIN) || own_host,
                    "passed with a foreign Origin {origin:?}"
                );
            }
        }
    }
}

/// A login or refresh request body: deserialised as the endpoints do, then checked by the
/// login limits. Property: whatever passes the limits is small.
pub fn bodies(data: &[u8]) {
    if let Ok(creds) = serde_json::from_slice::<app::wire::Credentials>(data)
        && app::wire::validate_login(&creds.username, &creds.password).is_empty()
    {
        assert!(
            creds.username.trim().len() <= 4 * app::wire::limits::USERNAME_MAX
                && creds.password.len() <= 4 * app::wire::limits::PASSWORD_MAX,
            "an oversized login passed the limits"
        );
    }
    let _ = app::wire::validate_registration(
        &String::from_utf8_lossy(data),
        &String::from_utf8_lossy(data),
    );
    if let Ok(req) = serde_json::from_slice::<app::wire::RefreshRequest>(data)
        && let Some(token) = req.refresh_token
    {
        let _ = auth::refresh::hash(&token);
    }
}

/// The post-login `next` destination. Property: the answer is always a local path.
pub fn next_redirect(data: &[u8]) {
    let Ok(next) = std::str::from_utf8(data) else {
        return;
    };
    let to = app::mode::safe_next(Some(next), "/session/profile");
    assert!(
        to.starts_with('/') && !to.starts_with("//") && !to.contains('\\'),
        "not a local path: {to:?}"
    );
    assert!(
        to.bytes().all(|b| b.is_ascii_graphic()),
        "not printable ASCII: {to:?}"
    );
    assert!(
        HeaderValue::from_str(&to).is_ok(),
        "not a valid Location header: {to:?}"
    );
}

/// A fuzz target: takes the attacker's bytes, panics only if a property breaks.
pub type Target = fn(&[u8]);

/// The targets by name (the corpus test and the fuzz crate share these names).
pub const TARGETS: [(&str, Target); 6] = [
    ("authorization", authorization),
    ("jwt", jwt),
    ("cookie_header", cookie_header),
    ("csrf_origin", csrf_origin),
    ("bodies", bodies),
    ("next_redirect", next_redirect),
];
