//! The compare view's two clients: for each visitor's compare board, a session client (cookie
//! jar) and a bearer client (token store), each with a thief who can copy its credential.
//! They are real HTTP clients of this server, kept here so the browser page can drive them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::lab::{CompareAction, Exchange, Pane, PaneResult};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use serde_json::json;

use super::client::{Answer, LabClient};
use crate::{error::ApiError, state::AppState};

/// Boards kept at most this long after their last action.
const IDLE: Duration = Duration::from_secs(30 * 60);
/// At most this many boards at once (the oldest is dropped).
const MAX_BOARDS: usize = 200;

/// One pane: its client, its thief, its account and refresh token.
struct PaneState {
    client: LabClient,
    thief: LabClient,
    account: Option<(String, String)>,
    refresh: Option<String>,
}

struct Board {
    panes: HashMap<Pane, Arc<tokio::sync::Mutex<PaneState>>>,
    used: Instant,
}

/// Every visitor's board, by the board id their page made up.
#[derive(Default)]
pub struct Panes(Mutex<HashMap<String, Board>>);

impl std::fmt::Debug for Panes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Panes")
    }
}

impl Panes {
    fn pane(
        &self,
        state: &AppState,
        board: &str,
        pane: Pane,
    ) -> Result<Arc<tokio::sync::Mutex<PaneState>>, ApiError> {
        let base = state.lab.self_url()?.to_owned();
        let mut boards = self
            .0
            .lock()
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("compare boards lock poisoned")))?;
        boards.retain(|_, b| b.used.elapsed() < IDLE);
        if boards.len() >= MAX_BOARDS
            && !boards.contains_key(board)
            && let Some(oldest) = boards
                .iter()
                .min_by_key(|(_, b)| b.used)
                .map(|(k, _)| k.clone())
        {
            boards.remove(&oldest);
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("lab client: {e}")))?;
        let entry = boards.entry(board.to_owned()).or_insert_with(|| Board {
            panes: HashMap::new(),
            used: Instant::now(),
        });
        entry.used = Instant::now();
        Ok(entry
            .panes
            .entry(pane)
            .or_insert_with(|| {
                let (client, thief) = match pane {
                    Pane::Session => (
                        LabClient::browser(&http, &base, "session pane"),
                        LabClient::app(&http, &base, "thief"),
                    ),
                    Pane::Bearer => (
                        LabClient::app(&http, &base, "bearer pane"),
                        LabClient::app(&http, &base, "thief"),
                    ),
                };
                Arc::new(tokio::sync::Mutex::new(PaneState {
                    client,
                    thief,
                    account: None,
                    refresh: None,
                }))
            })
            .clone())
    }
}

fn result(pane: Pane, action: CompareAction, summary: String, answers: &[&Answer]) -> PaneResult {
    PaneResult {
        pane,
        action,
        summary,
        status: answers.last().map_or(0, |a| a.status()),
        exchanges: answers
            .iter()
            .map(|a| a.exchange.clone())
            .collect::<Vec<Exchange>>(),
    }
}

/// One line next to the status code: who the server saw, or why it refused.
fn describe(answer: &Answer) -> String {
    match answer.status() {
        200 | 201 => answer.json["user"]["username"]
            .as_str()
            .or_else(|| answer.json["username"].as_str())
            .map_or_else(|| "done".to_owned(), |u| format!("as {u}")),
        204 => "done".into(),
        _ => answer.json["error"]
            .as_str()
            .unwrap_or("refused")
            .to_owned(),
    }
}

/// Runs one action in one pane of a board.
pub async fn act(
    state: &AppState,
    board: &str,
    pane: Pane,
    action: CompareAction,
) -> Result<PaneResult, ApiError> {
    super::require_switches(state)?;
    if board.len() < 8 || board.len() > 64 {
        return Err(ApiError::BadRequest(
            "the board id must be 8 to 64 characters".into(),
        ));
    }
    let slot = state.lab.compare.pane(state, board, pane)?;
    let mut p = slot.lock().await;
    let creds = |p: &PaneState| {
        p.account
            .as_ref()
            .map(|(u, pw)| json!({ "username": u, "password": pw }))
    };
    Ok(match action {
        CompareAction::Register => {
            let mut bytes = [0u8; 6];
            rand::rng().fill_bytes(&mut bytes);
            let suffix = URL_SAFE_NO_PAD
                .encode(bytes)
                .to_ascii_lowercase()
                .replace(['-', '_'], "x");
            let prefix = if pane == Pane::Session { "s" } else { "b" };
            let username = format!("cmp-{prefix}-{suffix}");
            let mut secret = [0u8; 18];
            rand::rng().fill_bytes(&mut secret);
            let password = URL_SAFE_NO_PAD.encode(secret);
            let res = p
                .client
                .post(
                    "/api/auth/register",
                    Some(json!({ "username": username, "password": password })),
                )
                .await?;
            p.account = Some((username, password));
            result(pane, action, describe(&res), &[&res])
        }
        CompareAction::Login => {
            let Some(body) = creds(&p) else {
                return Ok(result(pane, action, "Register first.".into(), &[]));
            };
            let res = match pane {
                Pane::Session => p.client.post("/api/session/login", Some(body)).await?,
                Pane::Bearer => {
                    let res = p.client.post("/api/token/login", Some(body)).await?;
                    if let Some(access) = res.json["access_token"].as_str() {
                        p.client.set_authorization(Some(format!("Bearer {access}")));
                    }
                    p.refresh = res.json["refresh_token"].as_str().map(str::to_owned);
                    res
                }
            };
            let summary = match pane {
                Pane::Session if res.status() == 200 => "session cookie set".into(),
                Pane::Bearer if res.status() == 200 => "access + refresh token kept".into(),
                _ => describe(&res),
            };
            result(pane, action, summary, &[&res])
        }
        CompareAction::Me => {
            let res = p.client.get("/api/me").await?;
            result(pane, action, describe(&res), &[&res])
        }
        CompareAction::Write => {
            let text = format!(
                "Written by the {} pane",
                if pane == Pane::Session {
                    "session"
                } else {
                    "bearer"
                }
            );
            let res = p
                .client
                .post("/api/notes", Some(json!({ "text": text })))
                .await?;
            result(pane, action, describe(&res), &[&res])
        }
        CompareAction::Steal => {
            p.thief.steal_from(&p.client);
            let what = match pane {
                Pane::Session => p
                    .thief
                    .cookie_header()
                    .map(|c| format!("copied Cookie ({} bytes)", c.len() + 8)),
                Pane::Bearer => p
                    .thief
                    .authorization()
                    .map(|a| format!("copied Authorization ({} bytes)", a.len() + 15)),
            };
            result(
                pane,
                action,
                what.unwrap_or_else(|| "nothing to copy".into()),
                &[],
            )
        }
        CompareAction::Replay => {
            let res = p.thief.get("/api/me").await?;
            result(pane, action, format!("thief {}", describe(&res)), &[&res])
        }
        CompareAction::Logout => {
            let res = match pane {
                Pane::Session => p.client.post("/api/session/logout", None).await?,
                Pane::Bearer => {
                    let body = json!({ "refresh_token": p.refresh.clone().unwrap_or_default() });
                    let res = p.client.post("/api/token/logout", Some(body)).await?;
                    // The app forgets its tokens; copies elsewhere live on.
                    p.client.set_authorization(None);
                    p.refresh = None;
                    res
                }
            };
            result(pane, action, describe(&res), &[&res])
        }
        CompareAction::RevokeAll => {
            let res = p.client.post("/api/devices/revoke-all", None).await?;
            let summary = if res.status() == 200 {
                format!(
                    "200, {} logins ended",
                    res.json["revoked"].as_i64().unwrap_or(0)
                )
            } else {
                describe(&res)
            };
            result(pane, action, summary, &[&res])
        }
    })
}
