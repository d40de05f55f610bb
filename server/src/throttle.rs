//! Failed-login throttling, per account and per client IP.
//!
//! Each key may fail `max` times in a window that starts at its first failure; after that,
//! attempts are refused with 429 and `Retry-After` until the window ends, without even
//! checking the password (so the refusal costs no hashing). A successful login clears the
//! account's counter but not the IP's, so one valid account cannot launder an IP's failures.
//!
//! Counting *failures* is why this is not a general request-rate limiter such as `governor`:
//! a user who logs in correctly should never be slowed down.
//!
//! State is in memory: on several nodes, each node counts its own failures.

use std::{collections::HashMap, net::IpAddr, sync::Mutex, time::Duration};

use crate::{
    clock::{Millis, ms},
    config::ThrottleConfig,
};

/// Entries kept before old windows are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started_at: Millis,
    failures: u32,
}

#[derive(Debug)]
struct Limiter {
    max: u32,
    window: Millis,
    entries: Mutex<HashMap<String, Window>>,
}

impl Limiter {
    fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window: ms(window),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Milliseconds until `key` may try again, or `None` if it may now.
    fn blocked_for(&self, key: &str, now: Millis) -> Option<Millis> {
        let entries = self.entries.lock().ok()?;
        let w = entries.get(key)?;
        let ends = w.started_at + self.window;
        (w.failures >= self.max && now < ends).then(|| ends - now)
    }

    fn record_failure(&self, key: &str, now: Millis) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= SWEEP_AT {
            let window = self.window;
            entries.retain(|_, w| now < w.started_at + window);
        }
        let w = entries.entry(key.to_owned()).or_insert(Window {
            started_at: now,
            failures: 0,
        });
        if now >= w.started_at + self.window {
            *w = Window {
                started_at: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
    }

    fn clear(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    fn sweep(&self, now: Millis) {
        if let Ok(mut entries) = self.entries.lock() {
            let window = self.window;
            entries.retain(|_, w| now < w.started_at + window);
        }
    }
}

/// Failed-login counters for accounts and client IPs.
#[derive(Debug)]
pub struct LoginThrottle {
    accounts: Limiter,
    ips: Limiter,
}

fn account_key(username: &str) -> String {
    username.trim().to_ascii_lowercase()
}

fn ip_key(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

impl LoginThrottle {
    /// Limits from the configuration.
    pub fn new(config: &ThrottleConfig) -> Self {
        Self {
            accounts: Limiter::new(config.per_account, config.window),
            ips: Limiter::new(config.per_ip, config.window),
        }
    }

    /// Seconds to wait (rounded up) if this account or IP is locked out, else `None`.
    pub fn check(&self, username: &str, ip: Option<IpAddr>, now: Millis) -> Option<u64> {
        let wait = self
            .accounts
            .blocked_for(&account_key(username), now)
            .max(self.ips.blocked_for(&ip_key(ip), now))?;
        Some(u64::try_from(wait).unwrap_or(0).div_ceil(1000).max(1))
    }

    /// Counts a failed login against both the account and the IP.
    pub fn record_failure(&self, username: &str, ip: Option<IpAddr>, now: Millis) {
        self.accounts.record_failure(&account_key(username), now);
        self.ips.record_failure(&ip_key(ip), now);
    }

    /// A successful login clears the account's failures (not the IP's).
    pub fn record_success(&self, username: &str) {
        self.accounts.clear(&account_key(username));
    }

    /// Drops windows that have ended.
    pub fn sweep(&self, now: Millis) {
        self.accounts.sweep(now);
        self.ips.sweep(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(per_account: u32, per_ip: u32) -> LoginThrottle {
        LoginThrottle::new(&ThrottleConfig {
            per_account,
            per_ip,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn an_account_is_locked_after_its_limit_until_the_window_ends() {
        let t = throttle(3, 100);
        let ip = Some("192.0.2.1".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(t.check("alice", ip, 0), None);
            t.record_failure("Alice", ip, 0);
        }
        assert_eq!(t.check("ALICE", ip, 1_000), Some(59));
        assert_eq!(t.check("alice", ip, 60_000), None);
    }

    #[test]
    fn an_ip_is_locked_across_accounts() {
        let t = throttle(100, 2);
        let ip = Some("192.0.2.1".parse().unwrap());
        t.record_failure("a", ip, 0);
        t.record_failure("b", ip, 0);
        assert!(t.check("c", ip, 10).is_some());
        assert!(
            t.check("c", Some("192.0.2.2".parse().unwrap()), 10)
                .is_none()
        );
    }

    #[test]
    fn success_clears_the_account_but_not_the_ip() {
        let t = throttle(2, 2);
        let ip = Some("192.0.2.1".parse().unwrap());
        t.record_failure("alice", ip, 0);
        t.record_failure("bob", ip, 0);
        t.record_success("alice");
        assert!(t.check("alice", None, 1).is_none());
        assert!(t.check("carol", ip, 1).is_some());
    }
}
