//! Cross-site request forgery defence for cookie-authenticated requests.
//!
//! A browser attaches cookies to requests that another site's page triggers, so a cookie
//! alone does not prove the user meant the request. For every unsafe method (anything but
//! GET, HEAD, OPTIONS) this middleware:
//!
//! 1. refuses it when the browser says it is cross-site: `Sec-Fetch-Site: cross-site` or
//!    `same-site`, or an `Origin` that is not this app's (including `Origin: null`);
//! 2. if it carries a cookie, refuses a "simple" content type (`text/plain`,
//!    `application/x-www-form-urlencoded`, `multipart/form-data`) on the JSON API, since only
//!    those can be sent cross-site without a CORS preflight; server-function endpoints, which
//!    accept form posts so login works without JavaScript, must then prove same-origin with
//!    `Sec-Fetch-Site` or `Origin` instead (browsers always send one of them on a form post).
//!
//! Requests without `Origin` or `Sec-Fetch-Site` come from non-browser clients (curl, mobile
//! apps), which cannot be tricked into sending someone else's cookie, and pass.
//! Bearer tokens need none of this: no browser attaches an `Authorization` header by itself.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{error::ApiError, state::AppState};

/// Path prefixes of the server-function endpoints (form posts allowed with same-origin proof).
pub const SERVER_FN_PREFIXES: [&str; 2] = ["/api/fn/", "/api/token/fn/"];

/// Middleware applying the rules above.
///
/// The lab may switch the defences off for one user's own logins for a while (the CSRF
/// experiment's throwaway user): a refused request whose session belongs to such a user passes.
pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Err(err) = check(
        req.method(),
        req.uri().path(),
        req.headers(),
        &state.config.public_url,
    ) && !switched_off_for(
        &state,
        req.extensions().get::<tower_sessions::Session>().cloned(),
    )
    .await
    {
        tracing::warn!(path = req.uri().path(), reason = %err, "refused a cross-site request");
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        state.lab.record_csrf(app::lab::CsrfEvent {
            at: state.clock.now_ms(),
            path: req.uri().path().to_owned(),
            origin: header("origin"),
            fetch_site: header("sec-fetch-site"),
            reason: err.message(),
        });
        return err.into_response();
    }
    next.run(req).await
}

/// Whether the lab switched the defences off for the user whose session cookie this request
/// carries. Looked up only for requests about to be refused, and only while some override is
/// live.
async fn switched_off_for(state: &AppState, session: Option<tower_sessions::Session>) -> bool {
    if !state.settings.any_override() {
        return false;
    }
    let Some(session) = session else {
        return false;
    };
    match crate::auth::session::user_of(&session).await {
        Some(user) => !state.settings.for_user(Some(user)).csrf_protection,
        None => false,
    }
}

/// The decision, separated from the middleware for testing.
pub fn check(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    public_origin: &str,
) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let fetch_site = header_str(headers, "sec-fetch-site");
    let origin = header_str(headers, header::ORIGIN.as_str());
    match fetch_site {
        Some("same-origin" | "none") => {}
        Some(_) => return Err(ApiError::Csrf("the browser marked it as cross-site")),
        None => {
            if let Some(origin) = origin
                && !is_same_origin(origin, headers, public_origin)
            {
                return Err(ApiError::Csrf("its Origin is not this site"));
            }
        }
    }
    if headers.contains_key(header::COOKIE) && is_simple_content_type(headers) {
        let server_fn = SERVER_FN_PREFIXES.iter().any(|p| path.starts_with(p));
        if !server_fn {
            return Err(ApiError::Csrf(
                "a cookie-authenticated API call must send JSON (Content-Type: application/json)",
            ));
        }
        if fetch_site.is_none() && origin.is_none() {
            return Err(ApiError::Csrf(
                "a form post with a cookie must come with Origin or Sec-Fetch-Site",
            ));
        }
    }
    Ok(())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Same origin: the `Origin` equals the configured public origin, or names exactly the host
/// (and port) this request was sent to *with the public origin's scheme* — an `http://` page
/// is not the same origin as the `https://` app even on the same host.
fn is_same_origin(origin: &str, headers: &HeaderMap, public_origin: &str) -> bool {
    if origin.eq_ignore_ascii_case(public_origin) {
        return true;
    }
    let scheme = if public_origin.starts_with("https://") {
        "https://"
    } else {
        "http://"
    };
    let Some(authority) = origin.strip_prefix(scheme) else {
        return false; // another scheme, "null", or garbage
    };
    header_str(headers, header::HOST.as_str())
        .is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

fn is_simple_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = header_str(headers, header::CONTENT_TYPE.as_str()) else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "text/plain" | "application/x-www-form-urlencoded" | "multipart/form-data"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "http://127.0.0.1:3000";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
        for (k, v) in pairs {
            h.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn refused(method: Method, path: &str, pairs: &[(&str, &str)]) -> bool {
        check(&method, path, &headers(pairs), ME).is_err()
    }

    #[test]
    fn the_host_fallback_requires_the_public_scheme() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "app.example".parse().unwrap());
        h.insert(header::ORIGIN, "http://app.example".parse().unwrap());
        assert!(check(&Method::POST, "/api/notes", &h, "https://app.example").is_err());
        h.insert(header::ORIGIN, "https://app.example".parse().unwrap());
        assert!(check(&Method::POST, "/api/notes", &h, "https://app.example").is_ok());
    }

    #[test]
    fn safe_methods_always_pass() {
        assert!(!refused(
            Method::GET,
            "/api/me",
            &[("origin", "http://evil.example")]
        ));
    }

    #[test]
    fn foreign_and_null_origins_are_refused() {
        assert!(refused(
            Method::POST,
            "/api/session/logout",
            &[("origin", "http://evil.example")]
        ));
        assert!(refused(
            Method::POST,
            "/api/session/logout",
            &[("origin", "null")]
        ));
        assert!(refused(
            Method::POST,
            "/api/session/logout",
            &[("origin", "http://localhost:3000")]
        ));
    }

    #[test]
    fn the_browsers_cross_site_marker_is_refused_whatever_the_origin_says() {
        assert!(refused(
            Method::POST,
            "/api/session/logout",
            &[("sec-fetch-site", "cross-site"), ("origin", ME)]
        ));
        assert!(refused(
            Method::POST,
            "/api/session/logout",
            &[("sec-fetch-site", "same-site")]
        ));
    }

    #[test]
    fn same_origin_requests_pass() {
        assert!(!refused(
            Method::POST,
            "/api/session/logout",
            &[("origin", ME)]
        ));
        assert!(!refused(
            Method::POST,
            "/api/session/logout",
            &[("sec-fetch-site", "same-origin")]
        ));
    }

    #[test]
    fn cookie_api_calls_with_a_simple_content_type_are_refused_even_same_origin() {
        let pairs = [
            ("origin", ME),
            ("cookie", "authlab_session=x"),
            ("content-type", "text/plain"),
        ];
        assert!(refused(Method::POST, "/api/session/logout", &pairs));
        let json = [
            ("origin", ME),
            ("cookie", "a=b"),
            ("content-type", "application/json"),
        ];
        assert!(!refused(Method::POST, "/api/session/logout", &json));
    }

    #[test]
    fn server_function_form_posts_need_same_origin_proof() {
        let form = "application/x-www-form-urlencoded";
        assert!(!refused(
            Method::POST,
            "/api/fn/session_login",
            &[("cookie", "a=b"), ("content-type", form), ("origin", ME)]
        ));
        assert!(refused(
            Method::POST,
            "/api/fn/session_login",
            &[("cookie", "a=b"), ("content-type", form)]
        ));
    }

    #[test]
    fn non_browser_clients_without_cookies_pass() {
        assert!(!refused(
            Method::POST,
            "/api/session/login",
            &[("content-type", "application/json")]
        ));
    }
}
