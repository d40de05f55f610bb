//! Sign-in with an OpenID Connect provider, over HTTP:
//!
//! * `GET /api/oidc` — the provider, or 404 `provider_not_configured`;
//! * `POST /api/oidc/start` `{mode, link}` — 200 `{authorize_url}` and the flow cookie;
//! * `GET /auth/oidc/callback` — where the provider sends the browser back: 303 to the
//!   mode's profile (session) or login page (token, to pick its tokens up), or a page that
//!   says what went wrong, with its status (400, 401, 403, 409, 502 — never a 500 for input);
//! * `POST /api/token/oidc/handoff` — token mode: the waiting sign-in's token pair;
//! * `GET /api/oidc/links` — the provider accounts linked to the caller;
//! * `GET /auth/oidc/logout?mode=` — 303 to the provider's own logout (RP-initiated logout).

use app::{
    mode::AuthMode as PageMode,
    wire::{LinkedAccount, ProviderView, TokenPair},
};
use axum::{
    Json,
    extract::{Query, State},
    http::{StatusCode, Uri, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_cookies::Cookies;
use tower_sessions::Session;

use super::{ApiJson, OptionalJson};
use crate::{
    auth::{
        MaybeAuthentication,
        tokens::{LoginOptions, RefreshDelivery},
    },
    client::ClientInfo,
    error::{ApiError, Result},
    oidc::{CallbackParams, Refusal},
    state::AppState,
    store::LoginMethod,
};

/// Longest callback query accepted; a real one is a few hundred bytes.
const MAX_CALLBACK_QUERY: usize = 4096;

/// 200 with the provider's name and issuer.
pub async fn provider(State(state): State<AppState>) -> Result<Json<ProviderView>> {
    state
        .oidc
        .info()
        .map(|p| {
            Json(ProviderView {
                name: p.name,
                issuer: p.issuer,
            })
        })
        .ok_or(ApiError::ProviderNotConfigured)
}

/// The body of `POST /api/oidc/start`.
#[derive(Debug, Deserialize)]
pub struct StartRequest {
    /// `session` or `token`: the mode the sign-in ends in.
    mode: String,
    /// Link a provider account to the caller instead of signing in.
    #[serde(default)]
    link: bool,
}

/// The mode named by `mode`, or a 422 for anything else.
pub fn page_mode(mode: &str) -> Result<PageMode> {
    PageMode::ALL
        .into_iter()
        .find(|m| m.segment() == mode)
        .ok_or_else(|| {
            ApiError::Validation(vec![app::wire::FieldError {
                field: "mode".into(),
                message: "The mode must be `session` or `token`.".into(),
            }])
        })
}

/// Starts a sign-in (or, with `link`, the linking of a provider account to the caller, who
/// must then be logged in).
pub async fn start_flow(
    state: &AppState,
    auth: MaybeAuthentication,
    cookies: &Cookies,
    mode: PageMode,
    link: bool,
) -> Result<String> {
    let link_user = if link {
        Some(auth.0.ok_or(ApiError::Unauthenticated)?.user().id)
    } else {
        None
    };
    state.oidc.start(mode, link_user, cookies).await
}

/// 200 `{authorize_url}`; the browser goes there next.
pub async fn start(
    State(state): State<AppState>,
    auth: MaybeAuthentication,
    cookies: Cookies,
    ApiJson(body): ApiJson<StartRequest>,
) -> Result<Json<serde_json::Value>> {
    let mode = page_mode(&body.mode)?;
    let url = start_flow(&state, auth, &cookies, mode, body.link).await?;
    Ok(Json(serde_json::json!({ "authorize_url": url })))
}

/// Where the provider sends the browser back.
pub async fn callback(
    State(state): State<AppState>,
    client: ClientInfo,
    session: Session,
    cookies: Cookies,
    uri: Uri,
) -> Response {
    match land(&state, &client, &session, &cookies, &uri).await {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(refusal) => refusal_page(&refusal, &state.site.stylesheet),
    }
}

async fn land(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    cookies: &Cookies,
    uri: &Uri,
) -> Result<String, Refusal> {
    let query = uri.query().unwrap_or("");
    if query.len() > MAX_CALLBACK_QUERY {
        return Err(Refusal {
            status: 400,
            code: "bad_callback",
            message: "The provider's answer is far too long to be one.".into(),
        });
    }
    let Query(params) = Query::<CallbackParams>::try_from_uri(uri).map_err(|_| Refusal {
        status: 400,
        code: "bad_callback",
        message: "The provider's answer could not be read (its parameters are malformed).".into(),
    })?;
    let landed = state.oidc.callback(&params, cookies).await?;
    let mode = landed.ending;
    if landed.linked {
        return Ok(format!("{}?linked=provider", mode.path("profile")));
    }
    match mode {
        PageMode::Session => {
            let lifetimes = state.sessions.configured();
            state
                .sessions
                .login(
                    session,
                    &landed.user,
                    client,
                    lifetimes,
                    LoginMethod::Provider,
                )
                .await?;
            Ok(mode.path("profile"))
        }
        PageMode::Token => {
            state.oidc.hand_off(&landed.user, cookies).await?;
            Ok(format!("{}?signin=provider", mode.path("login")))
        }
    }
}

/// A small page for a callback that went wrong, with the refusal's status.
fn refusal_page(refusal: &Refusal, stylesheet: &str) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign-in failed · authlab</title><link rel=\"stylesheet\" href=\"{stylesheet}\">\
         </head><body><main class=\"page\"><h1>Sign-in failed</h1>\
         <p class=\"notice warn\" data-testid=\"oidc-error\" data-code=\"{code}\">{message}</p>\
         <p><a href=\"/session/login\">Back to log in (session mode)</a> · \
         <a href=\"/token/login\">Back to log in (token mode)</a></p></main></body></html>",
        code = refusal.code,
        stylesheet = escape_html(stylesheet),
        message = escape_html(&refusal.message),
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The body of the handoff: where the refresh token should go.
#[derive(Debug, Default, Deserialize)]
pub struct HandoffRequest {
    /// `true`: set the refresh token as an HttpOnly cookie instead of returning it.
    #[serde(default)]
    refresh_in_cookie: bool,
}

/// Trades the handoff cookie for a token pair, made now, for the user the callback verified.
pub async fn hand_over(
    state: &AppState,
    client: &ClientInfo,
    cookies: &Cookies,
    refresh_in_cookie: bool,
) -> Result<TokenPair> {
    let user = state.oidc.pick_up(cookies).await?;
    let delivery = if refresh_in_cookie {
        RefreshDelivery::Cookie
    } else {
        RefreshDelivery::Body
    };
    let options = LoginOptions {
        method: LoginMethod::Provider,
        ..LoginOptions::new(delivery)
    };
    state
        .tokens
        .issue(&user, client, Some(cookies), options)
        .await
}

/// 200 with the pair; 401 `invalid_grant` when nothing is waiting (or it was picked up).
pub async fn handoff(
    State(state): State<AppState>,
    client: ClientInfo,
    cookies: Cookies,
    OptionalJson(body): OptionalJson<HandoffRequest>,
) -> Result<Json<TokenPair>> {
    Ok(Json(
        hand_over(&state, &client, &cookies, body.refresh_in_cookie).await?,
    ))
}

/// The caller's linked provider accounts.
pub async fn linked(state: &AppState, user_id: i64) -> Result<Vec<LinkedAccount>> {
    Ok(state
        .oidc
        .identities_of(user_id)
        .await?
        .into_iter()
        .map(|i| LinkedAccount {
            issuer: i.issuer,
            email: i.email,
            linked_at: i.created_at,
        })
        .collect())
}

/// 200 with the caller's linked provider accounts.
pub async fn links(
    State(state): State<AppState>,
    auth: crate::auth::Authentication,
) -> Result<Json<Vec<LinkedAccount>>> {
    Ok(Json(linked(&state, auth.user().id).await?))
}

/// The query of the logout redirect.
#[derive(Debug, Deserialize)]
pub struct LogoutQuery {
    /// The mode whose login page the provider should send the browser back to.
    mode: String,
}

/// 303 to the provider's logout page (which asks before it signs the person out there), or
/// 404 if the provider has none.
pub async fn logout(
    State(state): State<AppState>,
    Query(query): Query<LogoutQuery>,
) -> Result<Redirect> {
    let mode = page_mode(&query.mode)?;
    let back = format!(
        "{}{}",
        state.config.public_url.trim_end_matches('/'),
        mode.path("login")
    );
    state
        .oidc
        .logout_url(&back)
        .await?
        .map(|url| Redirect::to(&url))
        .ok_or(ApiError::NotFound)
}
