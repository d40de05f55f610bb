//! Session mode in the browser: the server keeps the login, the browser keeps an HttpOnly
//! cookie and sends it by itself. Script holds no credential, nothing is refreshed, and data
//! loads while the server renders the page.

use leptos::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

use super::{Loaded, ModeClient};
use crate::{error::AppError, fns, wire::UserView};

/// The session sibling of the auth client.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionClient;

impl ModeClient for SessionClient {
    fn activate(self) {
        // This tab's tokens (if token mode left any) are not in use here.
        #[cfg(feature = "hydrate")]
        super::refresher::pause();
    }

    fn load<T, F, Fut>(self, version: RwSignal<u64>, fetch: F) -> Loaded<T>
    where
        T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
        F: Fn() -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    {
        // Loaded during server rendering: the page request carries the cookie.
        Loaded::Server(Resource::new(move || version.get(), move |_| fetch()))
    }

    async fn call<T, F, Fut>(self, f: F) -> Result<T, AppError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        f().await
    }

    async fn login(self, username: String, password: String) -> Result<UserView, AppError> {
        fns::session_login(username, password, None).await
    }

    async fn finish_provider_sign_in(self) -> Result<(), AppError> {
        // The provider's callback already set the session cookie.
        Ok(())
    }

    async fn logout(self) -> Result<(), AppError> {
        fns::session_logout().await
    }

    fn access_token(self) -> Option<String> {
        // The credential is an HttpOnly cookie, out of the page's reach.
        None
    }

    fn rotations(self) -> Option<u32> {
        None
    }
}
