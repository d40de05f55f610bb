//! The request inspector's memory: the last requests this page made through the auth client,
//! with what travelled and what came back.
//!
//! The browser hides the `Cookie` header it sends and every `Set-Cookie` it receives from page
//! scripts (and the session cookie is HttpOnly besides), so for those the server's echo headers
//! (`x-authlab-credential`, `x-authlab-set-cookie`) supply sizes and attributes — never values.

use serde::{Deserialize, Serialize};

use crate::i18n::*;

/// How many requests are kept.
pub const KEEP: usize = 30;

/// One `Server-Timing` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingEntry {
    /// `auth`, `store`.
    pub name: String,
    /// e.g. `jwt-cached`, `session load`.
    pub desc: String,
    /// Milliseconds.
    pub dur: f64,
}

/// One request the page made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Sequence number on this page.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Response status.
    pub status: u16,
    /// The credential header that travelled, as far as the page can know it.
    pub credential: String,
    /// Its size in bytes (0 when none).
    pub credential_bytes: usize,
    /// Whether the page itself could read it (a bearer token) or not (an HttpOnly cookie).
    pub readable: bool,
    /// Cookies the server set (values hidden).
    pub set_cookie: Option<String>,
    /// The `WWW-Authenticate` challenge, if any.
    pub www_authenticate: Option<String>,
    /// `Server-Timing` entries.
    pub timing: Vec<TimingEntry>,
}

/// Parses a `Server-Timing` header: `auth;desc="jwt";dur=0.012, store;dur=0.2`.
pub fn parse_timing(header: &str) -> Vec<TimingEntry> {
    header
        .split(',')
        .filter_map(|metric| {
            let mut parts = metric.split(';').map(str::trim);
            let name = parts.next()?.to_owned();
            if name.is_empty() {
                return None;
            }
            let (mut desc, mut dur) = (String::new(), 0.0);
            for p in parts {
                if let Some(d) = p.strip_prefix("desc=") {
                    desc = d.trim_matches('"').to_owned();
                } else if let Some(d) = p.strip_prefix("dur=") {
                    dur = d.parse().unwrap_or(0.0);
                }
            }
            Some(TimingEntry { name, desc, dur })
        })
        .collect()
}

/// Reads the server's `x-authlab-credential` echo: `cookie 61 B`, `authorization Bearer 412 B`.
pub fn parse_credential_echo(echo: &str) -> (String, usize) {
    let bytes = echo
        .split_whitespace()
        .rev()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let text = if echo.starts_with("cookie") {
        format!("Cookie ({bytes} B) — sent by the browser; HttpOnly, so this page cannot read it")
    } else if echo.starts_with("authorization") {
        format!("Authorization ({bytes} B)")
    } else {
        "none".to_owned()
    };
    (text, bytes)
}

/// A record's credential as the inspector shows it, in `locale`: the notes
/// [`parse_credential_echo`] writes are translated; a header the page sent itself is shown as
/// it went.
pub fn credential_text(locale: Locale, record: &Record) -> String {
    let bytes = record.credential_bytes;
    if record.readable {
        record.credential.clone()
    } else if record.credential.starts_with("Cookie (") {
        format!(
            "Cookie ({bytes} B) — {}",
            td_string!(locale, tools.inspector.credential_cookie)
        )
    } else if record.credential == "none" {
        td_string!(locale, tools.inspector.credential_none).to_owned()
    } else {
        record.credential.clone()
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::{cell::RefCell, collections::VecDeque};

    use leptos::prelude::*;

    use super::*;

    thread_local! {
        static RECORDS: RefCell<VecDeque<Record>> = const { RefCell::new(VecDeque::new()) };
        static CHANGED: ArcTrigger = ArcTrigger::new();
        static SEQ: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// Keeps a record (oldest dropped past [`KEEP`]).
    pub fn push(mut record: Record) {
        record.seq = SEQ.with(|s| {
            s.set(s.get() + 1);
            s.get()
        });
        RECORDS.with(|r| {
            let mut r = r.borrow_mut();
            if r.len() == KEEP {
                r.pop_front();
            }
            r.push_back(record);
        });
        CHANGED.with(|c| c.notify());
    }

    /// The records, newest first (tracked: reading in a reactive context re-runs on change).
    pub fn records() -> Vec<Record> {
        CHANGED.with(|c| c.track());
        RECORDS.with(|r| r.borrow().iter().rev().cloned().collect())
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::*;

    /// Nothing is recorded on the server.
    pub fn push(_: Record) {}

    /// No records on the server.
    pub fn records() -> Vec<Record> {
        Vec::new()
    }
}

pub use browser::{push, records};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_is_parsed() {
        let t =
            parse_timing("store;desc=\"session load\";dur=0.210, auth;desc=\"session\";dur=0.25");
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].desc, "session load");
        assert!((t[1].dur - 0.25).abs() < 1e-9);
    }

    #[test]
    fn the_credential_echo_gives_the_size() {
        assert_eq!(parse_credential_echo("cookie 61 B").1, 61);
        assert_eq!(parse_credential_echo("authorization Bearer 412 B").1, 412);
        assert_eq!(parse_credential_echo("none"), ("none".into(), 0));
    }
}
