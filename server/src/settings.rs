//! Settings that can change while the server runs (the lab's switches).
//!
//! They start from the configuration. Changing one at run time is allowed only when the server
//! runs with `LAB_SWITCHES` on (never in production); see the lab endpoints.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::Config;

/// Live, shared settings.
#[derive(Debug)]
pub struct Settings {
    strict_token_check: AtomicBool,
    csrf_protection: AtomicBool,
    single_session: AtomicBool,
}

impl Settings {
    /// Initial values from the configuration.
    pub fn new(config: &Config) -> Self {
        Self {
            strict_token_check: AtomicBool::new(config.token.strict),
            csrf_protection: AtomicBool::new(true),
            single_session: AtomicBool::new(config.single_session),
        }
    }

    /// Whether every bearer request must confirm its token family is alive.
    pub fn strict_token_check(&self) -> bool {
        self.strict_token_check.load(Ordering::Relaxed)
    }

    /// Turns strict token checking on or off.
    pub fn set_strict_token_check(&self, on: bool) {
        self.strict_token_check.store(on, Ordering::Relaxed);
    }

    /// Whether the CSRF defences are on (always, unless a lab demo turned them off).
    pub fn csrf_protection(&self) -> bool {
        self.csrf_protection.load(Ordering::Relaxed)
    }

    /// Whether a new login ends the user's other sessions, token logins and opaque tokens.
    pub fn single_session(&self) -> bool {
        self.single_session.load(Ordering::Relaxed)
    }

    /// Turns the single-session policy on or off.
    pub fn set_single_session(&self, on: bool) {
        self.single_session.store(on, Ordering::Relaxed);
    }

    /// Turns the CSRF defences on or off (lab demo only).
    pub fn set_csrf_protection(&self, on: bool) {
        self.csrf_protection.store(on, Ordering::Relaxed);
    }
}
