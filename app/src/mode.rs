//! The two auth modes, and how each shows up in the URL (`/session/...`, `/token/...`).

use serde::{Deserialize, Serialize};

/// Which way a page talks to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuthMode {
    /// An HttpOnly session cookie the browser sends by itself.
    Session,
    /// A JWT access token the client attaches, renewed with a refresh token.
    Token,
}

impl AuthMode {
    /// Both modes, session first.
    pub const ALL: [Self; 2] = [Self::Session, Self::Token];

    /// The URL path segment: `session` or `token`.
    pub const fn segment(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Token => "token",
        }
    }

    /// The label in the mode switch.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Session => "Session",
            Self::Token => "Token",
        }
    }

    /// The path of `page` (`""` for home) in this mode, e.g. `/token/profile`.
    pub fn path(self, page: &str) -> String {
        let page = page.trim_start_matches('/');
        if page.is_empty() {
            format!("/{}", self.segment())
        } else {
            format!("/{}/{page}", self.segment())
        }
    }

    /// The mode named by the first segment of `path`, if any.
    pub fn from_path(path: &str) -> Option<Self> {
        let first = path.trim_start_matches('/').split(['/', '?', '#']).next()?;
        Self::ALL.into_iter().find(|m| m.segment() == first)
    }

    /// `path` with its mode segment switched to `self` (keeps the page, drops the query).
    pub fn switch_path(self, path: &str) -> String {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let rest = path
            .trim_start_matches('/')
            .split_once('/')
            .map_or("", |(_, rest)| rest);
        match Self::from_path(path) {
            Some(_) => self.path(rest),
            None => self.path(""),
        }
    }
}

/// Only local paths are accepted as a post-login destination: no open redirect (`//host`,
/// `https://`, `/\\host`), and nothing but printable ASCII, since it becomes a `Location` header
/// (our paths are ASCII; anything else must arrive percent-encoded).
pub fn safe_next(next: Option<&str>, fallback: &str) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n.to_owned()
        }
        _ => fallback.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switching_mode_keeps_the_page() {
        assert_eq!(
            AuthMode::Token.switch_path("/session/devices"),
            "/token/devices"
        );
        assert_eq!(
            AuthMode::Session.switch_path("/token/profile?x=1"),
            "/session/profile"
        );
        assert_eq!(AuthMode::Token.switch_path("/session"), "/token");
        assert_eq!(AuthMode::Token.switch_path("/lab"), "/token");
    }

    #[test]
    fn only_local_paths_are_safe_destinations() {
        assert_eq!(
            safe_next(Some("/session/devices"), "/x"),
            "/session/devices"
        );
        assert_eq!(safe_next(Some("//evil.example/"), "/x"), "/x");
        assert_eq!(safe_next(Some("https://evil.example/"), "/x"), "/x");
        assert_eq!(safe_next(Some("/\\evil.example"), "/x"), "/x");
        assert_eq!(safe_next(None, "/x"), "/x");
        assert_eq!(safe_next(Some("/a\r\nSet-Cookie: x=y"), "/x"), "/x");
        assert_eq!(safe_next(Some("/séssion"), "/x"), "/x");
        assert_eq!(safe_next(Some("/a%20b?c=d"), "/x"), "/a%20b?c=d");
    }
}
