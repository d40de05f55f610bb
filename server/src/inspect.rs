//! Headers for the request inspector: what credential arrived and which cookies were set.
//!
//! Page scripts cannot see the `Cookie` header the browser sends, nor any `Set-Cookie` the
//! server answers with (both are hidden from `fetch` by design, and the session cookie is
//! HttpOnly on top). So the server echoes their *shape* — sizes and attributes, never values:
//!
//! * `x-authlab-credential: cookie 61 B` / `authorization Bearer 412 B` / `none`
//! * `x-authlab-set-cookie: authlab_session=<22 chars>; HttpOnly; SameSite=Lax; Path=/; ...`
//!
//! Written by the Server-Timing middleware, in the same pass (`crate::timing`).

use axum::http::{HeaderMap, HeaderValue, header};

/// What credential a request carries, as the `x-authlab-credential` value.
pub fn credential_of(headers: &HeaderMap) -> HeaderValue {
    if !headers.contains_key(header::AUTHORIZATION) && !headers.contains_key(header::COOKIE) {
        return HeaderValue::from_static("none");
    }
    HeaderValue::from_str(&describe(headers)).unwrap_or(HeaderValue::from_static("none"))
}

/// Adds both headers to a response, given what the request carried.
pub fn annotate(response_headers: &mut HeaderMap, credential: HeaderValue) {
    if response_headers.contains_key(header::SET_COOKIE) {
        let set_cookies: Vec<String> = response_headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(redact)
            .collect();
        if let Ok(value) = HeaderValue::from_str(&set_cookies.join(" | ")) {
            response_headers.insert("x-authlab-set-cookie", value);
        }
    }
    response_headers.insert("x-authlab-credential", credential);
}

fn describe(headers: &HeaderMap) -> String {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let scheme = auth
            .to_str()
            .ok()
            .and_then(|v| v.split(' ').next())
            .unwrap_or("?");
        return format!(
            "authorization {scheme} {} B",
            "Authorization: ".len() + auth.len()
        );
    }
    let cookies: usize = headers
        .get_all(header::COOKIE)
        .iter()
        .map(|c| "Cookie: ".len() + c.len())
        .sum();
    if cookies > 0 {
        format!("cookie {cookies} B")
    } else {
        "none".to_owned()
    }
}

/// `name=value; attrs` → `name=<n chars>; attrs`.
fn redact(raw: &str) -> String {
    let (first, attrs) = raw.split_once(';').unwrap_or((raw, ""));
    let (name, value) = first.split_once('=').unwrap_or((first, ""));
    if attrs.is_empty() {
        format!("{name}=<{} chars>", value.len())
    } else {
        format!("{name}=<{} chars>;{attrs}", value.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_described_by_size_not_value() {
        let mut h = HeaderMap::new();
        assert_eq!(credential_of(&h), "none");
        h.insert(header::COOKIE, "authlab_session=abc".parse().unwrap());
        assert_eq!(credential_of(&h), "cookie 27 B");
        h.insert(header::AUTHORIZATION, "Bearer xyz".parse().unwrap());
        assert_eq!(credential_of(&h), "authorization Bearer 25 B");
    }

    #[test]
    fn set_cookie_values_are_redacted() {
        let mut h = HeaderMap::new();
        h.insert(header::SET_COOKIE, "a=secret; HttpOnly".parse().unwrap());
        annotate(&mut h, HeaderValue::from_static("none"));
        assert_eq!(h["x-authlab-set-cookie"], "a=<6 chars>; HttpOnly");
        assert_eq!(h["x-authlab-credential"], "none");
    }
}
