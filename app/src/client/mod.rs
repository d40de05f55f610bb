//! The auth client: the one way pages talk to the server about who the user is.
//!
//! Two siblings behind one interface ([`ModeClient`]), as on the server:
//!
//! * [`session::SessionClient`] — the server keeps the state and the browser keeps an
//!   HttpOnly cookie that script cannot read. Data loads during server rendering
//!   ([`Resource`]), so the server's HTML already shows the logged-in page, and login works
//!   without JavaScript.
//! * [`token::TokenClient`] — the browser keeps the tokens ([`token_store`]), each call runs
//!   [`transport::with_bearer`] so the access token goes with it, and [`refresher`] renews it
//!   silently. The server cannot see the token while rendering, so it sends an anonymous
//!   shell and the browser fills it in after hydration ([`LocalResource`]).
//!
//! [`AuthClient`] owns the page's mode (from its URL) and hands each request to the sibling
//! for that mode, in one place (the `in_mode!` macro). Pages ask it (`load`, `call`,
//! `login`, `logout`, `user`) and never look at the mode to decide how to reach the server.
//! Every request goes through [`transport`].

pub mod forms;
pub mod inspector;
#[cfg(feature = "hydrate")]
pub mod refresher;
pub mod session;
pub mod token;
pub mod token_store;
pub mod transport;

use leptos::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

pub use self::{session::SessionClient, token::TokenClient};
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

/// What the two modes do differently in the browser. [`SessionClient`] and [`TokenClient`]
/// are its implementations; [`AuthClient`] picks one by the page's mode.
pub trait ModeClient: Copy + 'static {
    /// Starts what this mode does in the background (token mode: refreshing ahead of expiry)
    /// and stops the other mode's.
    fn activate(self);

    /// Loads data through an authenticated server function, again whenever `version` changes.
    fn load<T, F, Fut>(self, version: RwSignal<u64>, fetch: F) -> Loaded<T>
    where
        T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
        F: Fn() -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<T, AppError>> + Send + 'static;

    /// Runs an authenticated server call.
    fn call<T, F, Fut>(self, f: F) -> impl Future<Output = Result<T, AppError>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, AppError>>;

    /// Logs in with a password.
    fn login(
        self,
        username: String,
        password: String,
    ) -> impl Future<Output = Result<UserView, AppError>>;

    /// Finishes a sign-in at the identity provider, after its callback.
    fn finish_provider_sign_in(self) -> impl Future<Output = Result<(), AppError>>;

    /// Logs out.
    fn logout(self) -> impl Future<Output = Result<(), AppError>>;

    /// The access token this tab would send now, if script can see one.
    fn access_token(self) -> Option<String>;

    /// How many times this tab has rotated its tokens, where tokens rotate.
    fn rotations(self) -> Option<u32>;
}

/// The auth client for the current page's mode. `Copy`; get it with [`AuthClient::expect`].
#[derive(Debug, Clone, Copy)]
pub struct AuthClient {
    mode: AuthMode,
    /// Bumped on login and logout, so everything loaded through the client reloads.
    version: RwSignal<u64>,
    user: Loaded<Me>,
}

/// Runs `$body` with `$client` bound to the sibling for `$mode`: the one place the mode
/// picks an implementation.
macro_rules! in_mode {
    ($mode:expr, |$client:ident| $body:expr) => {
        match $mode {
            AuthMode::Session => {
                let $client = SessionClient;
                $body
            }
            AuthMode::Token => {
                let $client = TokenClient;
                $body
            }
        }
    };
}

impl AuthClient {
    /// Creates the client for `mode` and provides it to the page below.
    ///
    /// ## Server-side rendering
    /// In session mode the current user is loaded while rendering; in token mode it is not
    /// (no token reaches the server with a page request) and loads after hydration.
    pub fn provide(mode: AuthMode) -> Self {
        let version = RwSignal::new(0);
        let user = in_mode!(mode, |c| c.load(version, fns::current_user));
        let client = Self {
            mode,
            version,
            user,
        };
        provide_context(client);
        in_mode!(mode, |c| c.activate());
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
        in_mode!(self.mode, |c| c.load(self.version, fetch))
    }

    /// Runs an authenticated server call. In token mode, a token the server refuses gets one
    /// silent refresh and the call one retry.
    pub async fn call<T, F, Fut>(self, f: F) -> Result<T, AppError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        in_mode!(self.mode, |c| c.call(f).await)
    }

    /// Logs in: a new session cookie, or a new token pair kept under the storage policy.
    pub async fn login(self, username: String, password: String) -> Result<UserView, AppError> {
        let user = in_mode!(self.mode, |c| c.login(username, password).await)?;
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
        in_mode!(self.mode, |c| c.finish_provider_sign_in().await)?;
        self.changed();
        Ok(())
    }

    /// Logs out: the session is destroyed, or the token family revoked and the tokens dropped.
    pub async fn logout(self) -> Result<(), AppError> {
        let result = in_mode!(self.mode, |c| c.logout().await);
        self.changed();
        result
    }

    /// The access token this tab would send now: in token mode the stored one, in session
    /// mode none (the credential is an HttpOnly cookie, out of the page's reach).
    pub fn access_token(self) -> Option<String> {
        in_mode!(self.mode, |c| c.access_token())
    }

    /// Where token mode keeps its tokens in this browser.
    pub fn storage_policy(self) -> token_store::StoragePolicy {
        token_store::policy()
    }

    /// Chooses where token mode keeps its tokens. Tokens kept under the old policy are
    /// dropped (they cannot move into an HttpOnly cookie), so token mode logs out.
    pub fn set_storage_policy(self, policy: token_store::StoragePolicy) {
        TokenClient::set_storage_policy(policy);
        self.changed();
    }

    /// How many times this tab has rotated its tokens; `None` in session mode, where nothing
    /// is refreshed.
    pub fn rotations(self) -> Option<u32> {
        in_mode!(self.mode, |c| c.rotations())
    }
}
