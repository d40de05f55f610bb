//! The UI's language: English or Korean, chosen per request and rendered on the server.
//!
//! A request's language is, in order: the `?lang=` query parameter (the server applies it and
//! remembers it in the `lang` cookie, see `server::locale`), the `lang` cookie, the browser's
//! `Accept-Language`, then English. The page's `<html lang>` names it, and the browser hydrates
//! in that language, so there is no flash of the other one.
//!
//! The cookie is written by the server only (the client reads it, never writes it): switching
//! language is a link to the same page with `?lang=`, which works without JavaScript and gives
//! a URL that can be shared in either language.

use leptos::prelude::*;

pub use crate::i18n::{I18nLocaleTrait, Locale};

/// The cookie that remembers the chosen language.
pub const COOKIE: &str = "lang";

/// The query parameter that picks a language.
pub const QUERY: &str = "lang";

/// Finds the page's language and provides it to every component below
/// ([`use_locale`]): on the server from the request, in the browser from the `<html lang>`
/// the server rendered — so both render the same words and hydration matches.
///
/// The language is a plain value, not a signal: changing it is a page load (`?lang=`).
pub fn provide() -> Locale {
    let locale = detect();
    provide_context(locale);
    locale
}

/// The page's language (English outside [`provide`]).
pub fn use_locale() -> Locale {
    use_context::<Locale>().unwrap_or_default()
}

#[cfg(feature = "ssr")]
fn detect() -> Locale {
    use_context::<http::request::Parts>()
        .map_or_else(Locale::default, |parts| from_headers(&parts.headers))
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn detect() -> Locale {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|lang| parse(&lang))
        .unwrap_or_default()
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn detect() -> Locale {
    Locale::default()
}

/// A request's language: its `lang` cookie if that names one of the UI's, else the best
/// match for its `Accept-Language` (most preferred first, by `q`), else English.
pub fn from_headers(headers: &http::HeaderMap) -> Locale {
    let cookie = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| parse(value));
    if let Some(locale) = cookie {
        return locale;
    }
    let mut accepted: Vec<(f32, &str)> = headers
        .get_all(http::header::ACCEPT_LANGUAGE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (!tag.is_empty() && tag != "*" && q > 0.0).then_some((q, tag))
        })
        .collect();
    // Stable: equal weights keep the order the browser sent.
    accepted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let tags: Vec<&str> = accepted.into_iter().map(|(_, tag)| tag).collect();
    if tags.is_empty() {
        Locale::default()
    } else {
        Locale::find_locale(&tags)
    }
}

/// The language a `?lang=` value or cookie names, if it is one of the UI's.
pub fn parse(value: &str) -> Option<Locale> {
    Locale::get_all()
        .iter()
        .copied()
        .find(|l| l.as_str().eq_ignore_ascii_case(value.trim()))
}

/// `path` in `locale`: `path?lang=..`. The page's other query parameters are left behind —
/// they can carry text from whoever made the link, and the page never echoes that.
pub fn switch_href(path: &str, locale: Locale) -> String {
    format!("{path}?{QUERY}={}", locale.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(http::HeaderName, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_cookie_wins_then_accept_language_by_weight() {
        use http::header::{ACCEPT_LANGUAGE, COOKIE as COOKIE_HEADER};
        assert_eq!(from_headers(&headers(&[])), Locale::en);
        assert_eq!(
            from_headers(&headers(&[(ACCEPT_LANGUAGE, "ko-KR,ko;q=0.9,en;q=0.8")])),
            Locale::ko
        );
        assert_eq!(
            from_headers(&headers(&[(ACCEPT_LANGUAGE, "en;q=0.5, ko;q=0.8")])),
            Locale::ko
        );
        assert_eq!(
            from_headers(&headers(&[(ACCEPT_LANGUAGE, "fr-FR, de")])),
            Locale::en
        );
        assert_eq!(
            from_headers(&headers(&[(ACCEPT_LANGUAGE, "ko;q=0, en")])),
            Locale::en
        );
        assert_eq!(
            from_headers(&headers(&[
                (ACCEPT_LANGUAGE, "ko-KR"),
                (COOKIE_HEADER, "authlab_session=x; lang=en"),
            ])),
            Locale::en
        );
        assert_eq!(
            from_headers(&headers(&[
                (ACCEPT_LANGUAGE, "ko-KR"),
                (COOKIE_HEADER, "lang=xx")
            ])),
            Locale::ko
        );
    }

    #[test]
    fn only_the_ui_languages_parse() {
        assert_eq!(parse("ko"), Some(Locale::ko));
        assert_eq!(parse("EN"), Some(Locale::en));
        assert_eq!(parse("fr"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn the_switch_keeps_the_page_and_drops_its_other_parameters() {
        assert_eq!(
            switch_href("/session/login", Locale::ko),
            "/session/login?lang=ko"
        );
        assert_eq!(
            switch_href("/token/devices", Locale::en),
            "/token/devices?lang=en"
        );
    }
}
