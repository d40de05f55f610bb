//! The lab's HTTP client: a real client of this server, over the network, with its own cookie
//! jar and token. Every request and answer is recorded as an [`Exchange`] for the report.
//!
//! The jar is kept by hand (not by reqwest) so the lab can show exactly which `Cookie` header
//! travelled, and so a "thief" can copy it.

use std::{
    collections::BTreeMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use app::lab::{Exchange, SentCredential};
use reqwest::{Method, header};
use serde_json::Value;

use crate::error::ApiError;

/// What one call returned: the record, and the parsed body.
#[derive(Debug)]
pub struct Answer {
    /// The record for the report.
    pub exchange: Exchange,
    /// The body as JSON (`Null` if it was not JSON).
    pub json: Value,
    /// The body as text.
    pub text: String,
    /// The `Location` header of a redirect.
    pub location: Option<String>,
}

impl Answer {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.exchange.status
    }
}

/// A client of this server, as a browser or an app would be.
pub struct LabClient {
    http: reqwest::Client,
    base: String,
    actor: String,
    origin: Option<String>,
    jar: Mutex<BTreeMap<String, String>>,
    authorization: Mutex<Option<String>>,
}

impl std::fmt::Debug for LabClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabClient")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

/// Shortens a long value in the middle (`eyJhbGci…x9Q`), keeping both ends recognisable.
pub fn shorten(value: &str, keep: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= keep * 2 + 1 {
        return value.to_owned();
    }
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}…{tail}")
}

/// A `Set-Cookie` header with its value replaced by its length.
fn redact_set_cookie(raw: &str) -> String {
    let mut parts = raw.split(';');
    let first = parts.next().unwrap_or_default();
    let (name, value) = first.split_once('=').unwrap_or((first, ""));
    let attrs: Vec<&str> = parts.map(str::trim).collect();
    let shown = if value.is_empty() {
        format!("{name}=")
    } else {
        format!("{name}=<{} chars>", value.len())
    };
    std::iter::once(shown.as_str())
        .chain(attrs)
        .collect::<Vec<_>>()
        .join("; ")
}

impl LabClient {
    /// A browser-like client: sends a same-origin `Origin` on unsafe requests.
    pub fn browser(http: &reqwest::Client, base: &str, actor: &str) -> Self {
        Self::new(http, base, actor, Some(base.to_owned()))
    }

    /// An app-like client: no `Origin`, no cookies unless given.
    pub fn app(http: &reqwest::Client, base: &str, actor: &str) -> Self {
        Self::new(http, base, actor, None)
    }

    fn new(http: &reqwest::Client, base: &str, actor: &str, origin: Option<String>) -> Self {
        Self {
            http: http.clone(),
            base: base.to_owned(),
            actor: actor.to_owned(),
            origin,
            jar: Mutex::new(BTreeMap::new()),
            authorization: Mutex::new(None),
        }
    }

    /// Who this client is in the report.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Sets (or clears) the `Authorization` header this client sends.
    pub fn set_authorization(&self, value: Option<String>) {
        if let Ok(mut auth) = self.authorization.lock() {
            *auth = value;
        }
    }

    /// The `Authorization` header this client sends, if any.
    pub fn authorization(&self) -> Option<String> {
        self.authorization.lock().ok().and_then(|a| a.clone())
    }

    /// The `Cookie` header this client sends, if any.
    pub fn cookie_header(&self) -> Option<String> {
        let jar = self.jar.lock().ok()?;
        (!jar.is_empty()).then(|| {
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// The value of one cookie in this client's jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().ok()?.get(name).cloned()
    }

    /// Puts a cookie in this client's jar (an attacker who copied one).
    pub fn set_cookie(&self, name: &str, value: &str) {
        if let Ok(mut jar) = self.jar.lock() {
            jar.insert(name.to_owned(), value.to_owned());
        }
    }

    /// Carries another client's credentials: the same browser or app, talking to another
    /// server.
    pub fn same_browser_as(&self, other: &LabClient) {
        self.steal_from(other);
    }

    /// Copies another client's credentials (a thief who got hold of them).
    pub fn steal_from(&self, victim: &LabClient) {
        if let (Ok(mut mine), Ok(theirs)) = (self.jar.lock(), victim.jar.lock()) {
            mine.clone_from(&theirs);
        }
        self.set_authorization(victim.authorization());
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Answer, ApiError> {
        self.send(Method::GET, path, None, &[]).await
    }

    /// `POST path` with a JSON body (or none).
    pub async fn post(&self, path: &str, body: Option<Value>) -> Result<Answer, ApiError> {
        self.send(Method::POST, path, body, &[]).await
    }

    /// `POST path` with an HTML form's fields (`application/x-www-form-urlencoded`).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Result<Answer, ApiError> {
        self.request(Method::POST, path, Body::Form(fields), &[])
            .await
    }

    /// Any request, with extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        extra: &[(&str, String)],
    ) -> Result<Answer, ApiError> {
        let body = body.map_or(Body::None, Body::Json);
        self.request(method, path, body, extra).await
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Body<'_>,
        extra: &[(&str, String)],
    ) -> Result<Answer, ApiError> {
        let unsafe_method = !matches!(method, Method::GET | Method::HEAD);
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header(header::USER_AGENT, format!("authlab-lab/{}", self.actor));
        if unsafe_method && let Some(origin) = &self.origin {
            req = req.header(header::ORIGIN, origin);
        }
        let mut credential = None;
        if let Some(auth) = self.authorization() {
            credential = Some(SentCredential {
                header: "Authorization".into(),
                shown: format!("Authorization: {}", shorten(&auth, 24)),
                bytes: "Authorization: ".len() + auth.len(),
            });
            req = req.header(header::AUTHORIZATION, auth);
        } else if let Some(cookie) = self.cookie_header() {
            credential = Some(SentCredential {
                header: "Cookie".into(),
                shown: format!("Cookie: {}", shorten(&cookie, 24)),
                bytes: "Cookie: ".len() + cookie.len(),
            });
        }
        if let Some(cookie) = self.cookie_header() {
            req = req.header(header::COOKIE, cookie);
        }
        match body {
            Body::None => {}
            Body::Json(body) => req = req.json(&body),
            Body::Form(fields) => req = req.form(fields),
        }
        for (name, value) in extra {
            req = req.header(*name, value);
        }
        let started = Instant::now();
        let res = req
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("lab request failed: {e}")))?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let mut set_cookie = Vec::new();
        for raw in headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            set_cookie.push(redact_set_cookie(raw));
            self.absorb_cookie(raw);
        }
        let text = res.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        let header_text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let location = header_text("location");
        Ok(Answer {
            location,
            exchange: Exchange {
                actor: self.actor.clone(),
                method: method.to_string(),
                path: path.to_owned(),
                credential,
                status,
                set_cookie,
                www_authenticate: header_text("www-authenticate"),
                server_timing: header_text("server-timing"),
                body: shorten_body(&text),
                ms,
            },
            json,
            text,
        })
    }

    /// Keeps or drops a cookie the server set, as a browser would.
    fn absorb_cookie(&self, raw: &str) {
        let Some((name, rest)) = raw.split_once('=') else {
            return;
        };
        let value = rest.split(';').next().unwrap_or_default().to_owned();
        let expired = raw.to_ascii_lowercase().contains("max-age=0");
        if let Ok(mut jar) = self.jar.lock() {
            if value.is_empty() || expired {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value);
            }
        }
    }
}

/// What a request carries.
enum Body<'a> {
    None,
    Json(Value),
    Form(&'a [(&'a str, &'a str)]),
}

/// Bodies are shown, not archived: 400 characters, with token values shortened.
fn shorten_body(text: &str) -> String {
    let mut shown = text.to_owned();
    if let Ok(mut json) = serde_json::from_str::<Value>(text) {
        for key in ["access_token", "refresh_token", "id_token", "token"] {
            if let Some(Value::String(v)) = json.get_mut(key) {
                *v = shorten(v, 12);
            }
        }
        shown = json.to_string();
    }
    if shown.chars().count() > 400 {
        shown = shown.chars().take(400).collect::<String>() + "…";
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_keep_both_ends() {
        assert_eq!(shorten("abcdefghij", 2), "ab…ij");
        assert_eq!(shorten("short", 4), "short");
    }

    #[test]
    fn set_cookie_values_are_hidden_but_attributes_kept() {
        let shown = redact_set_cookie("authlab_session=abcdef; HttpOnly; SameSite=Lax; Path=/");
        assert_eq!(
            shown,
            "authlab_session=<6 chars>; HttpOnly; SameSite=Lax; Path=/"
        );
    }
}
