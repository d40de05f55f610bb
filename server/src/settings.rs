//! The lab's switches: strict token checking, the CSRF defences, the single-session policy.
//!
//! The server's own values come from the configuration and never change while it runs. The
//! lab changes them only **for one user at a time, for a limited time**: an experiment for its
//! throwaway users while it runs, a visitor for their own login from the lab page. An override
//! ends by itself (`OVERRIDE_LIFETIME`), so a closed pop-up or a dropped request can never leave
//! the defences off — and never for anyone else. Overrides exist only with `LAB_SWITCHES` on
//! (never in production).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::{
    config::Config,
    store::events::{Event, Events},
};

/// How long a lab override lasts unless it is set again.
pub const OVERRIDE_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The switches' values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switches {
    /// Every bearer request confirms its token family is alive.
    pub strict_token_check: bool,
    /// Cross-site state-changing cookie requests are refused.
    pub csrf_protection: bool,
    /// A new login ends the user's other logins.
    pub single_session: bool,
}

#[derive(Debug, Clone, Copy)]
struct Override {
    switches: Switches,
    until: Instant,
}

/// The server's switches, and the lab's per-user overrides.
#[derive(Debug)]
pub struct Settings {
    base: Switches,
    overrides: Mutex<HashMap<i64, Override>>,
    /// Whether overrides exist at all on this server (`LAB_SWITCHES`).
    lab: bool,
    /// Overrides are announced to the other servers of a cluster, in order, by one task.
    announcer: Option<tokio::sync::mpsc::UnboundedSender<Event>>,
}

impl Settings {
    /// Values from the configuration; overrides are shared over `events` (call within the
    /// runtime: a task publishes them).
    pub fn new(config: &Config, events: Events) -> Self {
        let announcer = events.is_shared().then(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
            tokio::spawn(async move {
                // One at a time: a set and the clear right after it arrive in that order.
                while let Some(event) = rx.recv().await {
                    events.publish(&event).await;
                }
            });
            tx
        });
        Self {
            base: Switches {
                strict_token_check: config.token.strict,
                csrf_protection: true,
                single_session: config.single_session,
            },
            overrides: Mutex::new(HashMap::new()),
            lab: config.lab_switches,
            announcer,
        }
    }

    /// The switches as they apply to `user` (the server's own values for anyone without a
    /// live override, and for anonymous requests).
    pub fn for_user(&self, user: Option<i64>) -> Switches {
        let Some(user) = user else { return self.base };
        let Ok(mut overrides) = self.overrides.lock() else {
            return self.base;
        };
        match overrides.get(&user) {
            Some(o) if o.until > Instant::now() => o.switches,
            Some(_) => {
                overrides.remove(&user);
                self.base
            }
            None => self.base,
        }
    }

    /// Whether any override is live (lets the common path skip the per-user lookup).
    pub fn any_override(&self) -> bool {
        self.overrides.lock().is_ok_and(|o| !o.is_empty())
    }

    /// The server's own values.
    pub fn base(&self) -> Switches {
        self.base
    }

    /// Sets `user`'s switches for [`OVERRIDE_LIFETIME`] (or `lifetime`, if shorter), here and
    /// on every other server.
    pub fn set_for(&self, user: i64, switches: Switches, lifetime: Duration) {
        self.set_here(user, switches, lifetime);
        self.announce(Event::Switches {
            user,
            values: Some([
                switches.strict_token_check,
                switches.csrf_protection,
                switches.single_session,
            ]),
            millis_left: u64::try_from(lifetime.min(OVERRIDE_LIFETIME).as_millis())
                .unwrap_or(u64::MAX),
        });
    }

    /// Ends `user`'s override, here and on every other server.
    pub fn clear_for(&self, user: i64) {
        self.clear_here(user);
        self.announce(Event::Switches {
            user,
            values: None,
            millis_left: 0,
        });
    }

    /// Applies an override another server announced — only where the lab is on: a server
    /// without the lab never weakens a defence, whatever arrives on the channel.
    pub fn apply_remote(&self, user: i64, values: Option<[bool; 3]>, millis_left: u64) {
        if !self.lab {
            return;
        }
        match values {
            Some([strict_token_check, csrf_protection, single_session]) => self.set_here(
                user,
                Switches {
                    strict_token_check,
                    csrf_protection,
                    single_session,
                },
                Duration::from_millis(millis_left),
            ),
            None => self.clear_here(user),
        }
    }

    fn announce(&self, event: Event) {
        if let Some(announcer) = &self.announcer {
            let _ = announcer.send(event);
        }
    }

    fn set_here(&self, user: i64, switches: Switches, lifetime: Duration) {
        if let Ok(mut overrides) = self.overrides.lock() {
            let now = Instant::now();
            overrides.retain(|_, o| o.until > now);
            overrides.insert(
                user,
                Override {
                    switches,
                    until: now + lifetime.min(OVERRIDE_LIFETIME),
                },
            );
        }
    }

    fn clear_here(&self, user: i64) {
        if let Ok(mut overrides) = self.overrides.lock() {
            overrides.remove(&user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            base: Switches {
                strict_token_check: false,
                csrf_protection: true,
                single_session: false,
            },
            overrides: Mutex::new(HashMap::new()),
            lab: true,
            announcer: None,
        }
    }

    #[test]
    fn an_override_applies_to_its_user_only() {
        let s = settings();
        let off = Switches {
            csrf_protection: false,
            ..s.base()
        };
        s.set_for(7, off, OVERRIDE_LIFETIME);
        assert!(!s.for_user(Some(7)).csrf_protection);
        assert!(s.for_user(Some(8)).csrf_protection);
        assert!(s.for_user(None).csrf_protection);
    }

    #[test]
    fn an_override_ends_by_itself() {
        let s = settings();
        let strict = Switches {
            strict_token_check: true,
            ..s.base()
        };
        s.set_for(7, strict, Duration::from_millis(20));
        assert!(s.for_user(Some(7)).strict_token_check);
        std::thread::sleep(Duration::from_millis(40));
        assert!(!s.for_user(Some(7)).strict_token_check);
        assert!(!s.any_override());
    }
}
