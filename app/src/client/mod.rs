//! The auth client: the one way pages talk to the server about who the user is.
//!
//! It has two variants, picked by the URL's mode:
//!
//! * **session** — the server keeps the state and the browser keeps an HttpOnly cookie that
//!   script cannot read. Data loads during server rendering ([`Resource`]), so the server's
//!   HTML already shows the logged-in page, and login works without JavaScript.
//! * **token** — the browser keeps the tokens ([`token_store`]), [`transport`] attaches the
//!   access token to each call and [`refresher`] renews it silently. The server cannot see
//!   the token while rendering, so it sends an anonymous shell and the browser fills it in
//!   after hydration ([`LocalResource`]).
//!
//! Pages ask the client (`load`, `call`, `login`, `logout`, `user`) and never look at the
//! mode to decide how to reach the server.

pub mod forms;
pub mod inspector;
#[cfg(feature = "hydrate")]
pub mod lab_window;
#[cfg(feature = "hydrate")]
pub mod refresher;
pub mod token_store;
pub mod transport;

use leptos::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    error::AppError,
    fns,
    mode::AuthMode,
    wire::{Me, UserView},
};

/// Data loaded through the auth client: by the server (session mode) or by the browser after
/// hydration (token mode). Read it inside `<Suspense/>` or `<Transition/>`.
pub enum Loaded<T: Send + Sync + 'static> {
    /// Loaded during server rendering, handed to the browser with the page.
    Server(Resource<Result<T, AppError>>),
    /// Loaded in the browser only; on the server it stays pending.
    Browser(LocalResource<Result<T, AppError>>),
}

impl<T: Send + Sync + 'static> std::fmt::Debug for Loaded<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Server(_) => "Loaded::Server",
            Self::Browser(_) => "Loaded::Browser",
        })
    }
}

impl<T: Send + Sync + 'static> Clone for Loaded<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Loaded<T> {}

impl<T> Loaded<T>
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    /// The value, once loaded (tracked).
    pub fn get(&self) -> Option<Result<T, AppError>> {
        match self {
            Self::Server(r) => r.get(),
            Self::Browser(r) => r.get(),
        }
    }

    /// The value, waiting for a load in progress (so a reload after login is never read
    /// stale). Use inside `Suspend::new` under a `<Suspense/>`.
    pub async fn wait(self) -> Result<T, AppError> {
        match self {
            Self::Server(r) => r.await,
            #[cfg(feature = "ssr")]
            Self::Browser(_) => {
                // The server never has the browser's data. Tell the enclosing `<Suspense/>` to
                // render its fallback — what awaiting the `LocalResource` does — without its
                // panic when Leptos re-runs this closure outside that Suspense's context.
                if let Some(mut notifier) = use_context::<suspense::LocalResourceNotifier>() {
                    notifier.notify();
                }
                std::future::pending().await
            }
            #[cfg(not(feature = "ssr"))]
            Self::Browser(r) => r.await,
        }
    }

    /// Loads again.
    pub fn refetch(&self) {
        match self {
            Self::Server(r) => r.refetch(),
            Self::Browser(r) => r.refetch(),
        }
    }
}

/// The auth client for the current page's mode. `Copy`; get it with [`AuthClient::expect`].
#[derive(Debug, Clone, Copy)]
pub struct AuthClient {
    mode: AuthMode,
    /// Bumped on login and logout, so everything loaded through the client reloads.
    version: RwSignal<u64>,
    user: Loaded<Me>,
}

impl AuthClient {
    /// Creates the client for `mode` and provides it to the page below.
    ///
    /// ## Server-side rendering
    /// In session mode the current user is loaded while rendering; in token mode it is not
    /// (no token reaches the server with a page request) and loads after hydration.
    pub fn provide(mode: AuthMode) -> Self {
        let version = RwSignal::new(0);
        let user = load_with(mode, version, fns::current_user);
        let client = Self {
            mode,
            version,
            user,
        };
        provide_context(client);
        #[cfg(feature = "hydrate")]
        refresher::set_active_mode(mode);
        client
    }

    /// The client provided by the enclosing mode layout.
    ///
    /// # Panics
    /// Outside a mode layout.
    pub fn expect() -> Self {
        expect_context()
    }

    /// The mode this client speaks.
    pub fn mode(self) -> AuthMode {
        self.mode
    }

    /// The current user (`Err` with status 401 when not logged in).
    pub fn user(self) -> Loaded<Me> {
        self.user
    }

    /// Marks the login state as changed: everything loaded through the client reloads.
    pub fn changed(self) {
        self.version.update(|v| *v += 1);
    }

    /// Loads data through an authenticated server function, reloading when the login changes.
    ///
    /// ## Usage
    /// ```text
    /// let devices = auth.load(fns::devices);
    /// view! { <Suspense>{move || devices.get().map(|d| ...)}</Suspense> }
    /// ```
    pub fn load<T, F, Fut>(self, fetch: F) -> Loaded<T>
    where
        T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
        F: Fn() -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    {
        load_with(self.mode, self.version, fetch)
    }

    /// Runs an authenticated server call. In token mode, a token the server refuses gets one
    /// silent refresh and the call one retry.
    pub async fn call<T, F, Fut>(self, f: F) -> Result<T, AppError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        call_in(self.mode, f).await
    }

    /// Logs in: a new session cookie, or a new token pair kept under the storage policy.
    pub async fn login(self, username: String, password: String) -> Result<UserView, AppError> {
        let user = match self.mode {
            AuthMode::Session => fns::session_login(username, password, None).await?,
            AuthMode::Token => {
                let policy = token_store::policy();
                let pair = fns::token_login(username.clone(), password, policy.refresh_in_cookie())
                    .await?;
                #[cfg(feature = "hydrate")]
                refresher::accept(pair);
                #[cfg(not(feature = "hydrate"))]
                let _ = pair;
                // The name is echoed for the caller; who is logged in comes from /me.
                UserView { id: 0, username }
            }
        };
        self.changed();
        Ok(user)
    }

    /// Starts a sign-in at the identity provider that ends in this mode; returns the provider
    /// URL the browser must go to.
    pub async fn provider_sign_in(self) -> Result<String, AppError> {
        fns::provider::provider_start(self.mode.segment().to_owned()).await
    }

    /// Starts linking a provider account to the logged-in user; returns the provider URL.
    pub async fn provider_link(self) -> Result<String, AppError> {
        self.call(|| fns::provider::provider_link(self.mode.segment().to_owned()))
            .await
    }

    /// Finishes a provider sign-in after the provider's callback. Session mode has nothing
    /// to do (the callback set the session cookie); token mode trades the callback's handoff
    /// cookie for a token pair, kept under the storage policy like a password login's.
    pub async fn finish_provider_sign_in(self) -> Result<(), AppError> {
        if self.mode == AuthMode::Token {
            let policy = token_store::policy();
            let pair = fns::provider::provider_handoff(policy.refresh_in_cookie()).await?;
            #[cfg(feature = "hydrate")]
            refresher::accept(pair);
            #[cfg(not(feature = "hydrate"))]
            let _ = pair;
        }
        self.changed();
        Ok(())
    }

    /// Logs out: the session is destroyed, or the token family revoked and the tokens dropped.
    pub async fn logout(self) -> Result<(), AppError> {
        let result = match self.mode {
            AuthMode::Session => fns::session_logout().await,
            AuthMode::Token => {
                let refresh = token_store::load().and_then(|t| t.refresh_token);
                let result = fns::token_logout(refresh).await;
                #[cfg(feature = "hydrate")]
                refresher::forget();
                result
            }
        };
        self.changed();
        result
    }

    /// The access token this tab would send now: in token mode the stored one, in session
    /// mode none (the credential is an HttpOnly cookie, out of the page's reach).
    pub fn access_token(self) -> Option<String> {
        match self.mode {
            AuthMode::Session => None,
            AuthMode::Token => token_store::load().map(|t| t.access_token),
        }
    }

    /// Where token mode keeps its tokens in this browser.
    pub fn storage_policy(self) -> token_store::StoragePolicy {
        token_store::policy()
    }

    /// Chooses where token mode keeps its tokens. Tokens kept under the old policy are
    /// dropped (they cannot move into an HttpOnly cookie), so token mode logs out.
    pub fn set_storage_policy(self, policy: token_store::StoragePolicy) {
        #[cfg(feature = "hydrate")]
        refresher::forget();
        token_store::set_policy(policy);
        self.changed();
    }

    /// How many times this tab has rotated its tokens; `None` in session mode, where nothing
    /// is refreshed.
    pub fn rotations(self) -> Option<u32> {
        if self.mode != AuthMode::Token {
            return None;
        }
        #[cfg(feature = "hydrate")]
        {
            Some(refresher::rotations())
        }
        #[cfg(not(feature = "hydrate"))]
        {
            Some(0)
        }
    }
}

fn load_with<T, F, Fut>(mode: AuthMode, version: RwSignal<u64>, fetch: F) -> Loaded<T>
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    match mode {
        AuthMode::Session => Loaded::Server(Resource::new(move || version.get(), move |_| fetch())),
        AuthMode::Token => Loaded::Browser(LocalResource::new(move || {
            version.track();
            let fetch = fetch.clone();
            async move { call_in(mode, fetch).await }
        })),
    }
}

async fn call_in<T, F, Fut>(mode: AuthMode, f: F) -> Result<T, AppError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let first = f().await;
    #[cfg(feature = "hydrate")]
    if mode == AuthMode::Token && first.as_ref().is_err_and(AppError::is_invalid_token) {
        refresher::refresh(true).await?;
        return f().await;
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = mode;
    first
}
