//! Where the browser keeps bearer tokens, under a policy the user picks on the settings page.
//!
//! | policy | access token | refresh token | survives reload | shared by tabs | readable by injected script |
//! |---|---|---|---|---|---|
//! | memory | JS memory | JS memory | no | no | while the page runs |
//! | sessionStorage | sessionStorage | sessionStorage | yes | no | yes, both |
//! | localStorage | localStorage | localStorage | yes | yes | yes, both |
//! | hardened | JS memory | HttpOnly `SameSite=Strict` cookie on `/api/token` | yes (via refresh) | yes (cookie) | only the short-lived access token |
//!
//! The hardened policy is the one to use in production: a script injected into the page can
//! still use the access token while it runs, but can never carry off the refresh token, which
//! is what would let an attacker stay logged in.
//!
//! On the server (SSR) there is no token store: everything here answers "nothing stored".

use serde::{Deserialize, Serialize};

use crate::i18n::{Locale, td_string};

/// A storage policy for bearer tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoragePolicy {
    /// Both tokens in JS memory only: lost on reload.
    Memory,
    /// Both tokens in `sessionStorage`: per tab, survives reload.
    SessionStorage,
    /// Both tokens in `localStorage`: shared by tabs, survives restarts.
    LocalStorage,
    /// Access token in memory, refresh token in an HttpOnly cookie.
    Hardened,
}

impl StoragePolicy {
    /// Every policy, in the order the settings page lists them.
    pub const ALL: [Self; 4] = [
        Self::Hardened,
        Self::Memory,
        Self::SessionStorage,
        Self::LocalStorage,
    ];

    /// A short stable name (used in URLs, tests and storage).
    pub const fn key(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::SessionStorage => "session_storage",
            Self::LocalStorage => "local_storage",
            Self::Hardened => "hardened",
        }
    }

    /// The label on the settings page, in English (see [`StoragePolicy::label_in`]).
    pub fn label(self) -> &'static str {
        self.label_in(Locale::en)
    }

    /// The label on the settings page, in `locale`.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            Self::Memory => td_string!(locale, account.policy.memory_label),
            Self::SessionStorage => td_string!(locale, account.policy.session_storage_label),
            Self::LocalStorage => td_string!(locale, account.policy.local_storage_label),
            Self::Hardened => td_string!(locale, account.policy.hardened_label),
        }
    }

    /// One sentence on what the policy trades, in English (see [`StoragePolicy::summary_in`]).
    pub fn summary(self) -> &'static str {
        self.summary_in(Locale::en)
    }

    /// One sentence on what the policy trades, in `locale`.
    pub fn summary_in(self, locale: Locale) -> &'static str {
        match self {
            Self::Memory => td_string!(locale, account.policy.memory_summary),
            Self::SessionStorage => td_string!(locale, account.policy.session_storage_summary),
            Self::LocalStorage => td_string!(locale, account.policy.local_storage_summary),
            Self::Hardened => td_string!(locale, account.policy.hardened_summary),
        }
    }

    /// Whether the refresh token is kept by the browser as an HttpOnly cookie.
    pub const fn refresh_in_cookie(self) -> bool {
        matches!(self, Self::Hardened)
    }

    /// Parses [`StoragePolicy::key`].
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// The tokens a tab holds.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredTokens {
    /// The JWT sent as `Authorization: Bearer`.
    pub access_token: String,
    /// The refresh token; `None` under the hardened policy (it is in a cookie).
    pub refresh_token: Option<String>,
    /// When the access token expires, in browser time (ms since the epoch). Computed from
    /// `expires_in` on arrival, so the browser's clock never has to agree with the server's.
    pub expires_at: f64,
    /// The access token's lifetime in ms, to decide when to refresh ahead of expiry.
    pub lifetime: f64,
}

impl std::fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTokens")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// `localStorage` key of the chosen policy (not a secret).
pub const POLICY_KEY: &str = "authlab.storage_policy";
/// Storage key of the tokens under the storage policies.
pub const TOKENS_KEY: &str = "authlab.tokens";
/// `localStorage` key of the hardened policy's "a refresh cookie should exist" hint.
pub const HARDENED_HINT_KEY: &str = "authlab.hardened_login";

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::RefCell;

    use gloo_storage::{LocalStorage, SessionStorage, Storage};

    use super::*;

    thread_local! {
        /// Tokens held in JS memory (memory policy; hardened access token).
        static MEMORY: RefCell<Option<StoredTokens>> = const { RefCell::new(None) };
    }

    /// The chosen policy (hardened if none was chosen).
    pub fn policy() -> StoragePolicy {
        LocalStorage::get::<String>(POLICY_KEY)
            .ok()
            .and_then(|k| StoragePolicy::from_key(&k))
            .unwrap_or(StoragePolicy::Hardened)
    }

    /// Chooses a policy. Tokens held under the old one are dropped.
    pub fn set_policy(policy: StoragePolicy) {
        clear();
        let _ = LocalStorage::set(POLICY_KEY, policy.key());
    }

    /// The tokens this tab can use now, if any.
    pub fn load() -> Option<StoredTokens> {
        match policy() {
            StoragePolicy::Memory | StoragePolicy::Hardened => MEMORY.with(|m| m.borrow().clone()),
            StoragePolicy::SessionStorage => SessionStorage::get(TOKENS_KEY).ok(),
            StoragePolicy::LocalStorage => LocalStorage::get(TOKENS_KEY).ok(),
        }
    }

    /// Keeps a new pair under the current policy.
    pub fn save(tokens: StoredTokens) {
        match policy() {
            StoragePolicy::Memory => MEMORY.with(|m| *m.borrow_mut() = Some(tokens)),
            StoragePolicy::Hardened => {
                let _ = LocalStorage::set(HARDENED_HINT_KEY, true);
                MEMORY.with(|m| *m.borrow_mut() = Some(tokens));
            }
            StoragePolicy::SessionStorage => {
                let _ = SessionStorage::set(TOKENS_KEY, tokens);
            }
            StoragePolicy::LocalStorage => {
                let _ = LocalStorage::set(TOKENS_KEY, tokens);
            }
        }
    }

    /// Forgets every token this tab could use, under every policy.
    pub fn clear() {
        MEMORY.with(|m| *m.borrow_mut() = None);
        SessionStorage::delete(TOKENS_KEY);
        LocalStorage::delete(TOKENS_KEY);
        LocalStorage::delete(HARDENED_HINT_KEY);
    }

    /// Under the hardened policy after a reload: memory is empty, but a refresh cookie may
    /// exist (the browser will not tell script, it is HttpOnly), so it is worth one refresh.
    pub fn may_have_refresh_cookie() -> bool {
        policy() == StoragePolicy::Hardened
            && LocalStorage::get::<bool>(HARDENED_HINT_KEY).unwrap_or(false)
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::*;

    pub fn policy() -> StoragePolicy {
        StoragePolicy::Hardened
    }
    pub fn set_policy(_: StoragePolicy) {}
    pub fn load() -> Option<StoredTokens> {
        None
    }
    pub fn save(_: StoredTokens) {}
    pub fn clear() {}
    pub fn may_have_refresh_cookie() -> bool {
        false
    }
}

pub use browser::{clear, load, may_have_refresh_cookie, policy, save, set_policy};
