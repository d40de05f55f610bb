//! `?lang=`: a page asked for in a language is rendered in it, and the choice is remembered.
//!
//! The UI takes its language from the `lang` cookie, then `Accept-Language` (see
//! `app::locale`). For a request with `?lang=ko` (or `en`) this layer puts that language in the
//! request's `lang` cookie before the page renders, so the answer is already in it, and sets the
//! cookie on the response so the following pages keep it. Any other value is ignored.
//!
//! The cookie is a preference, not a credential: readable by the page, `SameSite=Lax`, a year
//! long, `Secure` where the session cookie is.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};
use tower_cookies::cookie::{Cookie, SameSite};

use app::locale::{self, I18nLocaleTrait, Locale};

use crate::state::AppState;

/// How long the choice is remembered.
const REMEMBERED: time::Duration = time::Duration::days(365);

/// Applies and remembers `?lang=`.
pub async fn apply(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(chosen) = req.uri().query().and_then(requested) else {
        return next.run(req).await;
    };
    let mut cookies: Vec<String> = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.split('=').next() != Some(locale::COOKIE))
        .map(str::to_owned)
        .collect();
    cookies.push(format!("{}={}", locale::COOKIE, chosen.as_str()));
    req.headers_mut().remove(header::COOKIE);
    if let Ok(value) = HeaderValue::from_str(&cookies.join("; ")) {
        req.headers_mut().insert(header::COOKIE, value);
    }

    let mut res = next.run(req).await;
    let cookie = Cookie::build((locale::COOKIE, chosen.as_str()))
        .path("/")
        .same_site(SameSite::Lax)
        .secure(state.config.session.cookie_secure)
        .max_age(REMEMBERED)
        .build();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    res
}

/// The language a query string's `lang` names, if it is one of the UI's.
fn requested(query: &str) -> Option<Locale> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == locale::QUERY)
        .and_then(|(_, value)| locale::parse(&value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_known_language_is_applied() {
        assert_eq!(requested("lang=ko"), Some(Locale::ko));
        assert_eq!(requested("next=%2Fx&lang=en"), Some(Locale::en));
        assert_eq!(requested("lang=xx"), None);
        assert_eq!(requested("language=ko"), None);
    }
}
