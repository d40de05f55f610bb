//! The lab's server functions: switches, experiments, the compare view, and the inspector's
//! questions to the server.

use leptos::{
    prelude::*,
    server_fn::codec::{GetUrl, Json},
};

use crate::{
    client::transport::{AuthedClient, InspectedClient},
    error::AppError,
    lab::{
        CompareAction, CsrfEvent, LabSettings, Pane, PaneResult, Report, ServerView, TokenCheck,
    },
};

/// The lab's switches as the server has them.
#[server(prefix = "/api/fn", endpoint = "lab_settings", input = GetUrl, client = AuthedClient)]
pub async fn get_lab_settings() -> Result<LabSettings, AppError> {
    let (port, parts) = crate::port::context()?;
    port.lab_settings(&parts).await
}

/// Changes the lab's switches (lab configuration only).
#[server(prefix = "/api/fn", endpoint = "set_lab_settings", input = Json, client = AuthedClient)]
pub async fn set_lab_settings(settings: LabSettings) -> Result<LabSettings, AppError> {
    let (port, parts) = crate::port::context()?;
    port.set_lab_settings(&parts, settings).await
}

/// Runs one of the server-side experiments.
#[server(prefix = "/api/fn", endpoint = "run_experiment", input = Json, client = InspectedClient)]
pub async fn run_experiment(id: String) -> Result<Report, AppError> {
    let (port, parts) = crate::port::context()?;
    port.run_experiment(&parts, id).await
}

/// One action in one pane of a compare board.
#[server(prefix = "/api/fn", endpoint = "compare", input = Json, client = InspectedClient)]
pub async fn compare(
    board: String,
    pane: Pane,
    action: CompareAction,
) -> Result<PaneResult, AppError> {
    let (port, parts) = crate::port::context()?;
    port.compare(&parts, board, pane, action).await
}

/// What the server keeps about the caller (sessions, token logins).
#[server(prefix = "/api/fn", endpoint = "server_view", input = GetUrl, client = AuthedClient)]
pub async fn server_state() -> Result<ServerView, AppError> {
    let (port, parts) = crate::port::context()?;
    port.server_view(&parts).await
}

/// Checks a token as `/api/me` would (the JWT decoder's signature check).
#[server(prefix = "/api/fn", endpoint = "verify_token", input = Json, client = InspectedClient)]
pub async fn verify_token(token: String) -> Result<TokenCheck, AppError> {
    let (port, parts) = crate::port::context()?;
    port.verify_token(&parts, token).await
}

/// Cross-site requests the server refused since `since` (Unix ms).
#[server(prefix = "/api/fn", endpoint = "csrf_events", input = GetUrl, client = InspectedClient)]
pub async fn csrf_events(since: i64) -> Result<Vec<CsrfEvent>, AppError> {
    let (port, parts) = crate::port::context()?;
    port.csrf_events(&parts, since).await
}
