//! `Server-Timing`: each response says which auth mode recognised the caller and what it cost.
//!
//! A recorder is put in every request's extensions; the auth code adds entries
//! (`auth;desc="session"`, `store;desc="session load"`) and the middleware writes them out:
//! `Server-Timing: auth;desc="jwt";dur=0.004, store;desc="family check";dur=0.180`.

use std::{
    fmt::Write,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{FromRequestParts, Request},
    http::{HeaderValue, request::Parts},
    middleware::Next,
    response::Response,
};

/// One `Server-Timing` entry.
#[derive(Debug, Clone)]
struct Metric {
    name: &'static str,
    desc: &'static str,
    dur: Duration,
}

/// Collects timing entries for one request. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct ServerTiming(Arc<Mutex<Vec<Metric>>>);

impl ServerTiming {
    /// Adds an entry, e.g. `record("store", "session load", elapsed)`.
    pub fn record(&self, name: &'static str, desc: &'static str, dur: Duration) {
        if let Ok(mut metrics) = self.0.lock() {
            metrics.push(Metric { name, desc, dur });
        }
    }

    /// Runs `fut`, recording how long it took.
    pub async fn measure<T>(
        &self,
        name: &'static str,
        desc: &'static str,
        fut: impl Future<Output = T>,
    ) -> T {
        let start = Instant::now();
        let out = fut.await;
        self.record(name, desc, start.elapsed());
        out
    }

    /// The header value, or `None` if nothing was recorded.
    fn header_value(&self) -> Option<HeaderValue> {
        let metrics = self.0.lock().ok()?;
        if metrics.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(48 * metrics.len());
        for (i, m) in metrics.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let ms = m.dur.as_secs_f64() * 1000.0;
            let _ = write!(out, "{};desc=\"{}\";dur={ms:.3}", m.name, m.desc);
        }
        HeaderValue::from_str(&out).ok()
    }
}

/// Middleware: gives the request a recorder and writes its entries on the response, with
/// the inspector's echo of the credential (one pass, see `crate::inspect`).
pub async fn server_timing(mut req: Request, next: Next) -> Response {
    let timing = ServerTiming::default();
    req.extensions_mut().insert(timing.clone());
    let credential = crate::inspect::credential_of(req.headers());
    let mut response = next.run(req).await;
    if let Some(value) = timing.header_value() {
        response.headers_mut().append("server-timing", value);
    }
    crate::inspect::annotate(response.headers_mut(), credential);
    response
}

impl<S: Send + Sync> FromRequestParts<S> for ServerTiming {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Outside the middleware (a unit test calling a handler) entries are simply dropped.
        Ok(parts.extensions.get::<Self>().cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_written_in_order_with_millisecond_durations() {
        let timing = ServerTiming::default();
        timing.record("auth", "session", Duration::from_micros(12));
        timing.record("store", "session load", Duration::from_micros(2500));
        assert_eq!(
            timing.header_value().unwrap(),
            "auth;desc=\"session\";dur=0.012, store;desc=\"session load\";dur=2.500"
        );
    }

    #[test]
    fn nothing_recorded_means_no_header() {
        assert!(ServerTiming::default().header_value().is_none());
    }
}
