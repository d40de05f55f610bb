//! Throttling logins and registrations: how many attempts a client, and a client against one
//! account, may make.
//!
//! Every attempt is **counted before the password is hashed**, in one atomic step with the
//! check, so a burst of concurrent guesses cannot all slip past the limit; a login that turns
//! out to succeed is taken back, so a user who types the right password never pays for it.
//! Refusals are 429 with `Retry-After` and cost no hashing.
//!
//! The limits:
//!
//! * **per client network** (an IPv4 address, or an IPv6 /64 — one subscriber's whole
//!   allocation, which costs an attacker nothing to rotate within): `LOGIN_MAX_FAILURES_PER_IP`
//!   logins per `LOGIN_THROTTLE_WINDOW_SECS`, and `REGISTER_MAX_PER_IP` registrations per hour;
//! * **per account and client network**, growing stricter: 5 failed logins a minute, then
//!   `LOGIN_MAX_FAILURES_PER_ACCOUNT` per window.
//!
//! There is deliberately **no limit per account alone**. A lock on the account is a lock
//! anyone can trigger: whoever knows a username (registration's 409 tells) could keep its
//! owner out. Keyed by account *and* client, a guesser is slowed down while the owner, from
//! their own network, logs in as usual; a guesser spread over many networks is held by each
//! network's own limit.
//!
//! Keys are 128 bits of a keyed hash of what they count, never the username or address
//! itself, so they take the same small room whatever an attacker sends (and the in-memory map
//! is bounded). Counters live in memory, or in Redis when `REDIS_URL` is set, so every server
//! of a cluster counts the same attempts.

use std::{
    net::{IpAddr, Ipv6Addr},
    sync::Arc,
};

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::{
    clock::{Clock, ms},
    config::ThrottleConfig,
    error::ApiError,
    store::counters::{CounterKey, Counters, Limit},
};

/// The short first tier per account and client: 5 failures a minute.
const BURST: Limit = Limit {
    max: 5,
    window_ms: 60_000,
};

/// What an attempt is counted against.
#[derive(Debug, Clone, Copy)]
enum Subject<'a> {
    /// A client network's logins.
    ClientLogins(&'a str),
    /// A client network's registrations.
    ClientRegistrations(&'a str),
    /// One account from one client network, short window.
    AccountBurst(&'a str, &'a str),
    /// One account from one client network, long window.
    Account(&'a str, &'a str),
}

/// A login attempt that was counted; report how it went.
#[derive(Debug)]
pub struct Attempt {
    client: CounterKey,
    burst: CounterKey,
    account: CounterKey,
}

/// The throttle.
pub struct Throttle {
    counters: Arc<dyn Counters>,
    clock: Arc<dyn Clock>,
    /// Keys counters by a hash no one outside can predict (so no one can aim collisions).
    salt: [u8; 32],
    per_client: Limit,
    per_account: Limit,
    registrations: Limit,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("per_client", &self.per_client)
            .field("per_account", &self.per_account)
            .finish_non_exhaustive()
    }
}

/// The network a client is counted as: IPv4 as is, IPv6 by its /64 (IPv4-mapped IPv6 as the
/// IPv4 address it is).
pub fn client_network(ip: Option<IpAddr>) -> String {
    match ip.map(canonical_ip) {
        None => "unknown".to_owned(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
    }
}

/// `::ffff:a.b.c.d` is the IPv4 address `a.b.c.d`.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key the throttle counts an account under: trimmed, NFKC, lower case (as logins match).
fn account_name(username: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    username.trim().nfkc().collect::<String>().to_lowercase()
}

impl Throttle {
    /// Limits from the configuration, counters from the store. The key salt is shared by the
    /// servers of a cluster (it is derived from `salt_source`, a configured secret) so their
    /// Redis counters meet.
    pub fn new(
        config: &ThrottleConfig,
        counters: Arc<dyn Counters>,
        clock: Arc<dyn Clock>,
        salt_source: &[u8],
    ) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(salt_source).expect("any key length");
        mac.update(b"authlab throttle keys v1");
        let salt: [u8; 32] = mac.finalize().into_bytes().into();
        Self {
            counters,
            clock,
            salt,
            per_client: Limit {
                max: config.per_ip,
                window_ms: ms(config.window),
            },
            per_account: Limit {
                max: config.per_account,
                window_ms: ms(config.window),
            },
            registrations: Limit {
                max: config.registrations_per_ip,
                window_ms: 3_600_000,
            },
        }
    }

    /// A throttle whose key salt is random (one server, tests).
    pub fn with_random_salt(
        config: &ThrottleConfig,
        counters: Arc<dyn Counters>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let mut salt = [0u8; 32];
        rand::rng().fill_bytes(&mut salt);
        Self::new(config, counters, clock, &salt)
    }

    fn key(&self, subject: Subject<'_>) -> CounterKey {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.salt).expect("any key length");
        let (tag, a, b): (&[u8], &str, &str) = match subject {
            Subject::ClientLogins(c) => (b"client-logins", c, ""),
            Subject::ClientRegistrations(c) => (b"client-registrations", c, ""),
            Subject::AccountBurst(a, c) => (b"account-burst", a, c),
            Subject::Account(a, c) => (b"account", a, c),
        };
        for part in [tag, a.as_bytes(), b.as_bytes()] {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part);
        }
        let full = mac.finalize().into_bytes();
        let mut key = [0u8; 16];
        key.copy_from_slice(&full[..16]);
        key
    }

    fn refused(wait_ms: i64) -> ApiError {
        ApiError::Throttled {
            retry_after: u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1),
        }
    }

    /// Counts a login attempt for `username` from `ip`, before any hashing. 429 if over a limit.
    /// (Callers have already refused over-long input, so `username` is short.)
    pub async fn login_attempt(
        &self,
        username: &str,
        ip: Option<IpAddr>,
    ) -> Result<Attempt, ApiError> {
        let network = client_network(ip);
        let account = account_name(username);
        let attempt = Attempt {
            client: self.key(Subject::ClientLogins(&network)),
            burst: self.key(Subject::AccountBurst(&account, &network)),
            account: self.key(Subject::Account(&account, &network)),
        };
        let keys = [
            (attempt.client, self.per_client),
            (attempt.burst, BURST),
            (attempt.account, self.per_account),
        ];
        match self.counters.hit(&keys, self.clock.now_ms()).await? {
            None => Ok(attempt),
            Some(wait) => Err(Self::refused(wait)),
        }
    }

    /// The password was right: the attempt is taken back from the client's count and the
    /// account's failures from this client are forgotten.
    pub async fn login_succeeded(&self, attempt: Attempt) {
        let now = self.clock.now_ms();
        let results = [
            self.counters.take_back(&attempt.client, now).await,
            self.counters.forget(&attempt.burst).await,
            self.counters.forget(&attempt.account).await,
        ];
        for result in results {
            if let Err(err) = result {
                tracing::warn!(error = %err, "could not update the throttle after a login");
            }
        }
    }

    /// Counts a registration from `ip`, before any hashing. 429 if over the limit.
    pub async fn registration_attempt(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let network = client_network(ip);
        let key = self.key(Subject::ClientRegistrations(&network));
        match self
            .counters
            .hit(&[(key, self.registrations)], self.clock.now_ms())
            .await?
        {
            None => Ok(()),
            Some(wait) => Err(Self::refused(wait)),
        }
    }

    /// Drops ended windows (memory counters).
    pub async fn sweep(&self) {
        self.counters.sweep(self.clock.now_ms()).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{clock::ManualClock, store::counters::MemoryCounters};

    fn throttle(per_account: u32, per_ip: u32) -> (Throttle, ManualClock) {
        let clock = ManualClock::new();
        let config = ThrottleConfig {
            per_account,
            per_ip,
            window: Duration::from_secs(900),
            registrations_per_ip: 3,
        };
        let t = Throttle::with_random_salt(
            &config,
            Arc::new(MemoryCounters::new()),
            Arc::new(clock.clone()),
        );
        (t, clock)
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[tokio::test]
    async fn failures_from_one_client_do_not_lock_the_owner_out_from_another() {
        let (t, _) = throttle(10, 100);
        for _ in 0..5 {
            t.login_attempt("alice", ip("192.0.2.1")).await.unwrap();
        }
        assert!(t.login_attempt("alice", ip("192.0.2.1")).await.is_err());
        assert!(t.login_attempt("Alice", ip("198.51.100.7")).await.is_ok());
    }

    #[tokio::test]
    async fn the_account_limit_grows_stricter_after_the_first_minute() {
        let (t, clock) = throttle(6, 100);
        for _ in 0..5 {
            t.login_attempt("alice", ip("192.0.2.1")).await.unwrap();
        }
        // The sixth is refused by the burst tier (and, refused, counts nowhere).
        assert!(t.login_attempt("alice", ip("192.0.2.1")).await.is_err());
        clock.advance(Duration::from_secs(61));
        // A new burst window, but the long tier (6 per 15 min) has one attempt left.
        assert!(t.login_attempt("alice", ip("192.0.2.1")).await.is_ok());
        assert!(t.login_attempt("alice", ip("192.0.2.1")).await.is_err());
    }

    #[tokio::test]
    async fn an_ipv6_client_is_counted_by_its_64() {
        let (t, _) = throttle(100, 3);
        for n in 0..3 {
            let addr = format!("2001:db8:1:2::{n:x}");
            t.login_attempt(&format!("u{n}"), ip(&addr)).await.unwrap();
        }
        assert!(
            t.login_attempt("u9", ip("2001:db8:1:2:ffff::1"))
                .await
                .is_err()
        );
        assert!(t.login_attempt("u9", ip("2001:db8:1:3::1")).await.is_ok());
    }

    #[tokio::test]
    async fn a_successful_login_is_taken_back() {
        let (t, _) = throttle(10, 3);
        for _ in 0..10 {
            let attempt = t.login_attempt("alice", ip("192.0.2.1")).await.unwrap();
            t.login_succeeded(attempt).await;
        }
    }

    #[test]
    fn ipv4_mapped_addresses_are_their_ipv4_address() {
        assert_eq!(
            client_network(ip("::ffff:192.0.2.1")),
            client_network(ip("192.0.2.1"))
        );
    }

    #[tokio::test]
    async fn registrations_are_limited_per_client() {
        let (t, _) = throttle(10, 100);
        for _ in 0..3 {
            t.registration_attempt(ip("192.0.2.1")).await.unwrap();
        }
        assert!(t.registration_attempt(ip("192.0.2.1")).await.is_err());
        assert!(t.registration_attempt(ip("192.0.2.2")).await.is_ok());
    }
}
