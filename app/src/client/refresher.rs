//! Silent refresh: keeps the bearer-mode access token fresh without the user noticing.
//!
//! * **Ahead of expiry**: a timer fires when a fifth of the token's life (at most 30 s) is
//!   left, and every authenticated call checks the same margin before it is sent.
//! * **On a 401 `invalid_token`** (revoked, server key rotated, clock trouble) the auth client
//!   refreshes once and retries the call once.
//! * **One refresh at a time**: inside a tab an async mutex makes concurrent callers wait for
//!   the refresh in flight; across tabs the Web Locks API (`navigator.locks`) does the same,
//!   and whoever gets the lock first re-reads storage — if another tab already refreshed, it
//!   adopts that pair instead of spending the refresh token again. Web Locks was chosen over
//!   storage events or BroadcastChannel because it is a real mutual exclusion (it also covers
//!   the hardened policy, whose refresh token is a shared cookie), and the server's grace
//!   window for replays covers the browsers where it is missing.
//! * **When refresh fails** for good (revoked, expired, reused) the tokens are dropped and the
//!   browser goes to the login page with the reason; a page never stays half logged in.
//!
//! Only compiled into the browser build; the server never holds a token.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
    sync::LazyLock,
};

use futures::lock::Mutex;
use gloo_timers::callback::Timeout;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::{JsFuture, future_to_promise, spawn_local};

use super::token_store::{self, StoredTokens};
use crate::{error::AppError, fns::token_refresh, mode::AuthMode, wire::TokenPair};

/// The Web Lock every tab of this origin takes to refresh.
const LOCK_NAME: &str = "authlab-token-refresh";

static REFRESH_IN_FLIGHT: LazyLock<Mutex<()>> = LazyLock::new(|| Mutex::new(()));

thread_local! {
    static ROTATIONS: Cell<u32> = const { Cell::new(0) };
    static TIMER: RefCell<Option<Timeout>> = const { RefCell::new(None) };
}

/// Starts refreshing the stored tokens ahead of expiry (a page in token mode).
pub fn resume() {
    if let Some(tokens) = token_store::load() {
        schedule(&tokens);
    }
}

/// Stops refreshing (a page in session mode: this tab's tokens are not in use).
pub fn pause() {
    cancel_timer();
}

/// How many times this tab rotated its tokens.
pub fn rotations() -> u32 {
    ROTATIONS.with(Cell::get)
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Refresh when this much of the token's life is left.
fn margin(lifetime: f64) -> f64 {
    (lifetime * 0.2).min(30_000.0)
}

fn is_fresh(tokens: &StoredTokens) -> bool {
    tokens.expires_at - now() > margin(tokens.lifetime)
}

/// Stores a pair just received (login or refresh) and schedules its refresh.
pub fn accept(pair: TokenPair) {
    let lifetime = pair.expires_in as f64 * 1000.0;
    let tokens = StoredTokens {
        access_token: pair.access_token,
        refresh_token: (!pair.refresh_token.is_empty()).then_some(pair.refresh_token),
        expires_at: now() + lifetime,
        lifetime,
    };
    schedule(&tokens);
    token_store::save(tokens);
}

/// Drops every token and the pending timer (logout).
pub fn forget() {
    cancel_timer();
    token_store::clear();
}

fn cancel_timer() {
    TIMER.with(|t| {
        if let Some(timer) = t.borrow_mut().take() {
            timer.cancel();
        }
    });
}

fn schedule(tokens: &StoredTokens) {
    let delay = (tokens.expires_at - margin(tokens.lifetime) - now()).max(0.0);
    let timer = Timeout::new(delay as u32, || {
        // Only scheduled while a token-mode page is shown (`pause` cancels it).
        spawn_local(async {
            let _ = refresh(false).await;
        });
    });
    TIMER.with(|t| {
        if let Some(old) = t.borrow_mut().replace(timer) {
            old.cancel();
        }
    });
}

/// The access token to attach to a token-mode request, refreshing first if it is about to
/// expire. `None` when not logged in.
pub async fn access_token() -> Option<String> {
    match token_store::load() {
        Some(tokens) if is_fresh(&tokens) => return Some(tokens.access_token),
        Some(_) => {}
        None if token_store::may_have_refresh_cookie() => {}
        None => return None,
    }
    // A failure here is reported by the call itself (it goes out without a fresh token).
    let _ = refresh(false).await;
    token_store::load().map(|t| t.access_token)
}

/// Refreshes the token pair, once per tab and once across tabs. With `force`, refreshes even
/// if the current token looks fresh (the server just refused it).
pub async fn refresh(force: bool) -> Result<(), AppError> {
    let before = token_store::load().map(|t| t.access_token);
    let _in_flight = REFRESH_IN_FLIGHT.lock().await;
    if let Some(tokens) = token_store::load() {
        let replaced = Some(&tokens.access_token) != before.as_ref();
        if is_fresh(&tokens) && (replaced || !force) {
            return Ok(());
        }
    }
    with_web_lock(async move {
        // Another tab may have refreshed while this one waited for the lock.
        let current = token_store::load();
        if let Some(tokens) = &current
            && is_fresh(tokens)
            && Some(&tokens.access_token) != before.as_ref()
        {
            schedule(tokens);
            return Ok(());
        }
        let refresh_token = current.and_then(|t| t.refresh_token);
        let policy = token_store::policy();
        if refresh_token.is_none() && !policy.refresh_in_cookie() {
            return Err(login_ended(AppError::new(
                401,
                "invalid_grant",
                "There is no refresh token in this tab.",
            )));
        }
        match token_refresh(refresh_token).await {
            Ok(pair) => {
                accept(pair);
                ROTATIONS.with(|r| r.set(r.get() + 1));
                Ok(())
            }
            Err(err) if err.status == 401 || err.status == 400 => Err(login_ended(err)),
            Err(err) => Err(err),
        }
    })
    .await
}

/// The login is over (refresh refused): forget it and go to the login page with the reason.
fn login_ended(err: AppError) -> AppError {
    forget();
    if let Some(window) = web_sys::window() {
        let location = window.location();
        let path = location.pathname().unwrap_or_default();
        let login = AuthMode::Token.path("login");
        // Only a token-mode page moves; a session-mode page or the lab window stays.
        if AuthMode::from_path(&path) == Some(AuthMode::Token) && path != login {
            let next = js_sys::encode_uri_component(&path);
            // A code, never the message: the login page must not print text from its URL.
            let reason = ended_code(&err.message);
            let _ = location.set_href(&format!("{login}?ended={reason}&next={next}"));
        }
    }
    err
}

/// The `ended` code for a refused refresh (see `pages::login::ended_reason`).
fn ended_code(message: &str) -> &'static str {
    if message.contains("already used") {
        "reused"
    } else if message.contains("revoked") || message.contains("logged out") {
        "revoked"
    } else if message.contains("lifetime") || message.contains("expired") {
        "expired"
    } else {
        "refused"
    }
}

/// Runs `work` holding the cross-tab refresh lock (or just runs it where Web Locks is missing).
async fn with_web_lock<F>(work: F) -> Result<(), AppError>
where
    F: Future<Output = Result<(), AppError>> + 'static,
{
    let request = web_sys::window()
        .and_then(|w| Reflect::get(&w.navigator(), &JsValue::from_str("locks")).ok())
        .filter(|locks| !locks.is_undefined())
        .and_then(|locks| {
            let request = Reflect::get(&locks, &JsValue::from_str("request")).ok()?;
            Some((locks, request.dyn_into::<Function>().ok()?))
        });
    let Some((locks, request)) = request else {
        return work.await;
    };
    let outcome: Rc<RefCell<Option<Result<(), AppError>>>> = Rc::new(RefCell::new(None));
    let slot = Rc::clone(&outcome);
    let mut work = Some(work);
    let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
        let work = work.take();
        future_to_promise(async move {
            if let Some(work) = work {
                *slot.borrow_mut() = Some(work.await);
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    let promise = request
        .call2(&locks, &JsValue::from_str(LOCK_NAME), &callback)
        .ok()
        .and_then(|p| p.dyn_into::<Promise>().ok());
    if let Some(promise) = promise {
        let _ = JsFuture::from(promise).await;
    }
    outcome.borrow_mut().take().unwrap_or_else(|| {
        Err(AppError::new(
            0,
            "network",
            "The token refresh did not run.",
        ))
    })
}
