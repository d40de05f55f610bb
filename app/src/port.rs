//! What the server functions need from the server (compiled with `ssr` only).
//!
//! The auth services (password hashing, the session store, JWTs, refresh tokens) live in the
//! `server` crate, which depends on this one. So this crate declares the operations it needs
//! as a trait, and the server provides an implementation as Leptos context. Server functions
//! stay thin: read the request, call the port, turn the error into a response.

use std::sync::Arc;

use async_trait::async_trait;
use http::request::Parts;
use leptos::prelude::use_context;

use crate::{
    error::AppError,
    lab::{
        CompareAction, CsrfEvent, LabSettings, Pane, PaneResult, Report, ServerView, TokenCheck,
    },
    mode::AuthMode,
    wire::{
        Credentials, DeviceList, LinkedAccount, Me, Note, NoteList, ProviderView, RefreshRequest,
        Revoked, TokenPair, UserView,
    },
};

/// The server-side operations behind the UI's server functions.
///
/// Every method gets the request's parts, so the implementation can authenticate the caller
/// exactly as the JSON API does (cookie session or bearer token, one extractor).
#[async_trait]
pub trait AuthPort: Send + Sync + 'static {
    /// Creates an account.
    async fn register(&self, req: &Parts, creds: Credentials) -> Result<UserView, AppError>;
    /// Checks the password and starts a cookie session (new session id).
    async fn session_login(&self, req: &Parts, creds: Credentials) -> Result<UserView, AppError>;
    /// Ends the caller's cookie session on the server.
    async fn session_logout(&self, req: &Parts) -> Result<(), AppError>;
    /// Checks the password and issues an access token and a refresh token. With
    /// `refresh_in_cookie`, the refresh token is set as an HttpOnly cookie instead of returned.
    async fn token_login(
        &self,
        req: &Parts,
        creds: Credentials,
        refresh_in_cookie: bool,
    ) -> Result<TokenPair, AppError>;
    /// Rotates a refresh token (from the body, or the refresh cookie) into a new pair.
    async fn token_refresh(&self, req: &Parts, body: RefreshRequest)
    -> Result<TokenPair, AppError>;
    /// Revokes the refresh-token family of the given (or cookie) refresh token.
    async fn token_logout(&self, req: &Parts, body: RefreshRequest) -> Result<(), AppError>;
    /// The authenticated caller.
    async fn me(&self, req: &Parts) -> Result<Me, AppError>;
    /// The caller's live sessions and token families.
    async fn devices(&self, req: &Parts) -> Result<DeviceList, AppError>;
    /// Ends one of the caller's devices.
    async fn revoke_device(&self, req: &Parts, id: String) -> Result<(), AppError>;
    /// Ends every device of the caller except the current one.
    async fn revoke_other_devices(&self, req: &Parts) -> Result<Revoked, AppError>;
    /// Ends every device of the caller, the current one included.
    async fn logout_everywhere(&self, req: &Parts) -> Result<Revoked, AppError>;
    /// The caller's latest notes.
    async fn list_notes(&self, req: &Parts) -> Result<NoteList, AppError>;
    /// Writes a note as the caller.
    async fn add_note(&self, req: &Parts, text: String) -> Result<Note, AppError>;

    /// The lab's switches.
    async fn lab_settings(&self, req: &Parts) -> Result<LabSettings, AppError>;
    /// Changes the lab's switches (lab configuration only).
    async fn set_lab_settings(
        &self,
        req: &Parts,
        settings: LabSettings,
    ) -> Result<LabSettings, AppError>;
    /// Runs a server-side experiment.
    async fn run_experiment(&self, req: &Parts, id: String) -> Result<Report, AppError>;
    /// One action of one pane of the compare view.
    async fn compare(
        &self,
        req: &Parts,
        board: String,
        pane: Pane,
        action: CompareAction,
    ) -> Result<PaneResult, AppError>;
    /// What the server keeps about the caller.
    async fn server_view(&self, req: &Parts) -> Result<ServerView, AppError>;
    /// Checks a token as `/api/me` would.
    async fn verify_token(&self, req: &Parts, token: String) -> Result<TokenCheck, AppError>;
    /// Cross-site requests refused since `since` (Unix ms).
    async fn csrf_events(&self, req: &Parts, since: i64) -> Result<Vec<CsrfEvent>, AppError>;

    /// The identity provider, if one is configured.
    async fn provider(&self) -> Option<ProviderView>;
    /// Starts a sign-in at the provider that ends in `mode` (with `link`, links a provider
    /// account to the logged-in caller instead); returns the provider URL to go to.
    async fn provider_start(
        &self,
        req: &Parts,
        mode: AuthMode,
        link: bool,
    ) -> Result<String, AppError>;
    /// Token mode, after a provider sign-in: trades the handoff cookie for a token pair.
    async fn provider_handoff(
        &self,
        req: &Parts,
        refresh_in_cookie: bool,
    ) -> Result<TokenPair, AppError>;
    /// The provider accounts linked to the caller.
    async fn linked_accounts(&self, req: &Parts) -> Result<Vec<LinkedAccount>, AppError>;
}

/// How the port is stored in Leptos context.
pub type SharedPort = Arc<dyn AuthPort>;

/// The port and the current request, for use inside a server function.
pub fn context() -> Result<(SharedPort, Parts), AppError> {
    let port = use_context::<SharedPort>();
    let parts = use_context::<Parts>();
    match (port, parts) {
        (Some(port), Some(parts)) => Ok((port, parts)),
        _ => {
            let err = AppError::new(500, "internal", "Something went wrong on the server.");
            err.apply_to_response();
            Err(err)
        }
    }
}

/// True when the request is a plain HTML form post (no JavaScript): it wants a redirect.
pub fn is_form_post(parts: &Parts) -> bool {
    parts
        .headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}
