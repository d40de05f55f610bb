//! The server side of the UI: the [`AuthPort`] the server functions call, and the Leptos
//! context it travels in.
//!
//! Each method authenticates exactly as the JSON API does (same extractor, same services), so
//! the UI and curl see the same behaviour.

use std::sync::Arc;

use app::{
    error::AppError,
    lab::{
        CompareAction, CsrfEvent, LabSettings, Pane, PaneResult, Report, ServerView, TokenCheck,
    },
    mode::AuthMode as PageMode,
    port::{AuthPort, SharedPort},
    wire::{
        Credentials, DeviceList, LinkedAccount, Me, Note, NoteList, ProviderView, RefreshRequest,
        Revoked, TokenPair, UserView,
    },
};
use async_trait::async_trait;
use axum::{extract::FromRequestParts, http::request::Parts};
use tower_cookies::Cookies;
use tower_sessions::Session;

use crate::{
    api::oidc,
    auth::{
        Authentication, MaybeAuthentication,
        tokens::{LoginOptions, RefreshDelivery},
    },
    client::ClientInfo,
    error::ApiError,
    lab,
    state::AppState,
    store::{AuthMode, LoginMethod},
};

/// The port handed to the server functions.
pub fn port(state: AppState) -> SharedPort {
    Arc::new(UiPort(state))
}

struct UiPort(AppState);

fn fail(err: ApiError) -> AppError {
    err.into_app_error()
}

/// Something the middleware put in the request's extensions.
fn extension<T: Clone + Send + Sync + 'static>(req: &Parts) -> Result<T, AppError> {
    req.extensions.get::<T>().cloned().ok_or_else(|| {
        fail(ApiError::Internal(anyhow::anyhow!(
            "missing request extension {}",
            std::any::type_name::<T>()
        )))
    })
}

impl UiPort {
    async fn auth(&self, req: &Parts) -> Result<Authentication, AppError> {
        let mut parts = req.clone();
        Authentication::from_request_parts(&mut parts, &self.0)
            .await
            .map_err(fail)
    }

    async fn client(&self, req: &Parts) -> ClientInfo {
        let mut parts = req.clone();
        match ClientInfo::from_request_parts(&mut parts, &self.0).await {
            Ok(client) => client,
            Err(never) => match never {},
        }
    }
}

#[async_trait]
impl AuthPort for UiPort {
    async fn register(&self, req: &Parts, creds: Credentials) -> Result<UserView, AppError> {
        let client = self.client(req).await;
        self.0
            .accounts
            .register(&client, creds)
            .await
            .map(Into::into)
            .map_err(fail)
    }

    async fn session_login(&self, req: &Parts, creds: Credentials) -> Result<UserView, AppError> {
        let session = extension::<Session>(req)?;
        let client = self.client(req).await;
        let user = self
            .0
            .accounts
            .check_password(&client, creds, AuthMode::Session)
            .await
            .map_err(fail)?;
        let lifetimes = self.0.sessions.configured();
        self.0
            .sessions
            .login(&session, &user, &client, lifetimes, LoginMethod::Password)
            .await
            .map_err(fail)?;
        Ok(user.into())
    }

    async fn session_logout(&self, req: &Parts) -> Result<(), AppError> {
        let session = extension::<Session>(req)?;
        self.0.sessions.logout(&session).await.map_err(fail)
    }

    async fn token_login(
        &self,
        req: &Parts,
        creds: Credentials,
        refresh_in_cookie: bool,
    ) -> Result<TokenPair, AppError> {
        let cookies = extension::<Cookies>(req)?;
        let client = self.client(req).await;
        let delivery = if refresh_in_cookie {
            RefreshDelivery::Cookie
        } else {
            RefreshDelivery::Body
        };
        self.0
            .tokens
            .login(&client, Some(&cookies), creds, LoginOptions::new(delivery))
            .await
            .map_err(fail)
    }

    async fn token_refresh(
        &self,
        req: &Parts,
        body: RefreshRequest,
    ) -> Result<TokenPair, AppError> {
        let cookies = extension::<Cookies>(req)?;
        self.0
            .tokens
            .refresh(Some(&cookies), body)
            .await
            .map_err(fail)
    }

    async fn token_logout(&self, req: &Parts, body: RefreshRequest) -> Result<(), AppError> {
        let cookies = extension::<Cookies>(req)?;
        self.0
            .tokens
            .logout(Some(&cookies), body)
            .await
            .map_err(fail)
    }

    async fn me(&self, req: &Parts) -> Result<Me, AppError> {
        Ok(self.auth(req).await?.me())
    }

    async fn devices(&self, req: &Parts) -> Result<DeviceList, AppError> {
        let auth = self.auth(req).await?;
        self.0.devices.list(&auth).await.map_err(fail)
    }

    async fn revoke_device(&self, req: &Parts, id: String) -> Result<(), AppError> {
        let auth = self.auth(req).await?;
        self.0.devices.revoke(&auth, &id).await.map_err(fail)
    }

    async fn revoke_other_devices(&self, req: &Parts) -> Result<Revoked, AppError> {
        let auth = self.auth(req).await?;
        let revoked = self
            .0
            .devices
            .revoke_all(&auth, false)
            .await
            .map_err(fail)?;
        Ok(Revoked { revoked })
    }

    async fn logout_everywhere(&self, req: &Parts) -> Result<Revoked, AppError> {
        let auth = self.auth(req).await?;
        let revoked = self.0.devices.revoke_all(&auth, true).await.map_err(fail)?;
        Ok(Revoked { revoked })
    }

    async fn list_notes(&self, req: &Parts) -> Result<NoteList, AppError> {
        let auth = self.auth(req).await?;
        self.0.notes.list(&auth).await.map_err(fail)
    }

    async fn add_note(&self, req: &Parts, text: String) -> Result<Note, AppError> {
        let auth = self.auth(req).await?;
        self.0.notes.add(&auth, &text).await.map_err(fail)
    }

    async fn lab_settings(&self, req: &Parts) -> Result<LabSettings, AppError> {
        // As they apply to the caller; anonymous callers see the server's own values. (Not
        // `self.auth`: its error would set the response's status to 401.)
        let mut parts = req.clone();
        let user = Authentication::from_request_parts(&mut parts, &self.0)
            .await
            .ok()
            .map(|a| a.user().id);
        Ok(lab::settings(&self.0, user))
    }

    async fn set_lab_settings(
        &self,
        req: &Parts,
        settings: LabSettings,
    ) -> Result<LabSettings, AppError> {
        let auth = self.auth(req).await?;
        lab::set_settings(&self.0, auth.user().id, settings).map_err(fail)
    }

    async fn run_experiment(&self, _req: &Parts, id: String) -> Result<Report, AppError> {
        lab::experiments::run(&self.0, &id).await.map_err(fail)
    }

    async fn compare(
        &self,
        _req: &Parts,
        board: String,
        pane: Pane,
        action: CompareAction,
    ) -> Result<PaneResult, AppError> {
        lab::compare::act(&self.0, &board, pane, action)
            .await
            .map_err(fail)
    }

    async fn server_view(&self, req: &Parts) -> Result<ServerView, AppError> {
        let auth = self.auth(req).await?;
        lab::server_view(&self.0, &auth).await.map_err(fail)
    }

    async fn verify_token(&self, _req: &Parts, token: String) -> Result<TokenCheck, AppError> {
        Ok(lab::verify_token(&self.0, &token).await)
    }

    async fn csrf_events(&self, _req: &Parts, since: i64) -> Result<Vec<CsrfEvent>, AppError> {
        lab::require_switches(&self.0).map_err(fail)?;
        Ok(self.0.lab.csrf_events(since))
    }

    async fn provider(&self) -> Option<ProviderView> {
        self.0.oidc.info().map(|p| ProviderView {
            name: p.name,
            issuer: p.issuer,
        })
    }

    async fn provider_start(
        &self,
        req: &Parts,
        mode: PageMode,
        link: bool,
    ) -> Result<String, AppError> {
        let cookies = extension::<Cookies>(req)?;
        let mut parts = req.clone();
        let auth = if link {
            MaybeAuthentication::from_request_parts(&mut parts, &self.0)
                .await
                .map_err(fail)?
        } else {
            MaybeAuthentication(None)
        };
        oidc::start_flow(&self.0, auth, &cookies, mode, link)
            .await
            .map_err(fail)
    }

    async fn provider_handoff(
        &self,
        req: &Parts,
        refresh_in_cookie: bool,
    ) -> Result<TokenPair, AppError> {
        let cookies = extension::<Cookies>(req)?;
        let client = self.client(req).await;
        oidc::hand_over(&self.0, &client, &cookies, refresh_in_cookie)
            .await
            .map_err(fail)
    }

    async fn linked_accounts(&self, req: &Parts) -> Result<Vec<LinkedAccount>, AppError> {
        let auth = self.auth(req).await?;
        oidc::linked(&self.0, auth.user().id).await.map_err(fail)
    }
}
