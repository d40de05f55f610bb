//! `/{mode}/jwt`: the JWT decoder — take a token apart, let the server check it, edit it and
//! watch the server refuse it.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use leptos::{prelude::*, task::spawn_local};

use crate::{
    client::AuthClient,
    error::AppError,
    fns,
    format::{duration_in, utc},
    i18n::*,
    lab::TokenCheck,
    mode::AuthMode,
};

/// What each registered claim means here.
fn explain(locale: Locale, claim: &str) -> &'static str {
    match claim {
        "iss" => td_string!(locale, tools.jwt.claims.iss),
        "aud" => td_string!(locale, tools.jwt.claims.aud),
        "sub" => td_string!(locale, tools.jwt.claims.sub),
        "exp" => td_string!(locale, tools.jwt.claims.exp),
        "iat" => td_string!(locale, tools.jwt.claims.iat),
        "nbf" => td_string!(locale, tools.jwt.claims.nbf),
        "jti" => td_string!(locale, tools.jwt.claims.jti),
        "sid" => td_string!(locale, tools.jwt.claims.sid),
        "name" => td_string!(locale, tools.jwt.claims.name),
        "scope" => td_string!(locale, tools.jwt.claims.scope),
        _ => td_string!(locale, tools.jwt.claims.unknown),
    }
}

/// A token taken apart.
#[derive(Debug, Clone, PartialEq)]
struct Decoded {
    header: serde_json::Value,
    payload: serde_json::Value,
    signature: String,
}

/// Why a token could not be taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecodeError {
    /// Not three parts separated by dots.
    Parts,
    /// The header is not base64url.
    HeaderNotBase64,
    /// The header is not JSON.
    HeaderNotJson,
    /// The payload is not base64url.
    PayloadNotBase64,
    /// The payload is not JSON.
    PayloadNotJson,
}

impl DecodeError {
    /// The reason, in words.
    fn message(self, locale: Locale) -> &'static str {
        match self {
            Self::Parts => td_string!(locale, tools.jwt.error_parts),
            Self::HeaderNotBase64 => td_string!(locale, tools.jwt.error_header_base64),
            Self::HeaderNotJson => td_string!(locale, tools.jwt.error_header_json),
            Self::PayloadNotBase64 => td_string!(locale, tools.jwt.error_payload_base64),
            Self::PayloadNotJson => td_string!(locale, tools.jwt.error_payload_json),
        }
    }
}

fn decode(token: &str) -> Result<Decoded, DecodeError> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(DecodeError::Parts);
    };
    let part = |p: &str, not_base64: DecodeError, not_json: DecodeError| {
        URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|_| not_base64)
            .and_then(|b| serde_json::from_slice(&b).map_err(|_| not_json))
    };
    Ok(Decoded {
        header: part(
            header,
            DecodeError::HeaderNotBase64,
            DecodeError::HeaderNotJson,
        )?,
        payload: part(
            payload,
            DecodeError::PayloadNotBase64,
            DecodeError::PayloadNotJson,
        )?,
        signature: (*signature).to_owned(),
    })
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn now_secs() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}

/// The decoder page.
///
/// ## Server-side rendering
/// The server renders an empty decoder; in token mode the browser fills in the current access
/// token after hydration (the server never sees it).
#[component]
pub fn JwtPage() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let input = RwSignal::new(String::new());
    let now = RwSignal::new(0i64);
    Effect::new(move || {
        now.set(now_secs());
        if input.get_untracked().is_empty()
            && let Some(token) = auth.access_token()
        {
            input.set(token);
        }
        let handle = set_interval_with_handle(
            move || now.set(now_secs()),
            std::time::Duration::from_secs(1),
        )
        .ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
    let decoded = Memo::new(move |_| {
        let token = input.get();
        (!token.trim().is_empty()).then(|| decode(&token))
    });
    let edited = RwSignal::new(String::new());
    Effect::new(move || {
        if let Some(Ok(d)) = decoded.get() {
            edited.set(pretty(&d.payload));
        }
    });
    let check = RwSignal::new(None::<Result<TokenCheck, AppError>>);
    let sent = RwSignal::new(None::<String>);
    let run_check = move |_| {
        let token = input.get_untracked();
        spawn_local(async move { check.set(Some(fns::lab::verify_token(token).await)) });
    };
    let send_edited = move |_| {
        let Some(Ok(d)) = decoded.get_untracked() else {
            return;
        };
        let payload = match serde_json::from_str::<serde_json::Value>(&edited.get_untracked()) {
            Ok(p) => p,
            Err(e) => {
                sent.set(Some(format!(
                    "{}: {e}",
                    td_string!(locale, tools.jwt.edited_not_json)
                )));
                return;
            }
        };
        let header = URL_SAFE_NO_PAD.encode(d.header.to_string());
        let body = URL_SAFE_NO_PAD.encode(payload.to_string());
        let forged = format!("{header}.{body}.{}", d.signature);
        spawn_local(async move { sent.set(Some(send_to_me(&forged, locale).await)) });
    };
    view! {
        <h1>{td!(locale, tools.jwt.title)}</h1>
        <p class="lead">{td!(locale, tools.jwt.lead)}</p>
        {(auth.mode() == AuthMode::Session)
            .then(|| view! {
                <p class="notice">{td!(locale, tools.jwt.session_notice)}</p>
            })}
        <label for="jwt-input"><strong>{td!(locale, tools.jwt.token_label)}</strong></label>
        <textarea
            id="jwt-input"
            class="token"
            rows="4"
            data-testid="jwt-input"
            prop:value=move || input.get()
            on:input=move |ev| input.set(event_target_value(&ev))
        ></textarea>
        {move || match decoded.get() {
            None => view! { <p class="muted">{td!(locale, tools.jwt.no_token)}</p> }.into_any(),
            Some(Err(why)) => view! {
                <p class="error-box" data-testid="jwt-error">{move || why.message(locale)}</p>
            }
                .into_any(),
            Some(Ok(d)) => {
                let exp = d.payload["exp"].as_i64();
                view! {
                    <div class="jwt">
                        <section>
                            <h2>{td!(locale, tools.jwt.header)}</h2>
                            <pre data-testid="jwt-header">{pretty(&d.header)}</pre>
                        </section>
                        <section>
                            <h2>{td!(locale, tools.jwt.payload)}</h2>
                            <table class="claims" data-testid="jwt-claims">
                                <tbody>
                                    {d.payload
                                        .as_object()
                                        .map(|o| {
                                            o.iter()
                                                .map(|(k, v)| {
                                                    let shown = match (k.as_str(), v.as_i64()) {
                                                        ("exp" | "iat" | "nbf", Some(t)) => format!("{t} ({})", utc(t * 1000)),
                                                        _ => v.to_string(),
                                                    };
                                                    view! {
                                                        <tr>
                                                            <th><code>{k.clone()}</code></th>
                                                            <td><code>{shown}</code></td>
                                                            <td class="muted">{explain(locale, k)}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()
                                        })}
                                </tbody>
                            </table>
                            {exp.map(|exp| view! {
                                <p data-testid="jwt-countdown">
                                    {move || {
                                        let left = exp - now.get();
                                        if now.get() == 0 {
                                            String::new().into_any()
                                        } else if left > 0 {
                                            let time = duration_in(locale, left);
                                            td!(locale, tools.jwt.expires_in, time).into_any()
                                        } else {
                                            let time = duration_in(locale, -left);
                                            td!(locale, tools.jwt.expired_ago, time).into_any()
                                        }
                                    }}
                                </p>
                            })}
                        </section>
                        <section>
                            <h2>{td!(locale, tools.jwt.signature)}</h2>
                            <p><code class="sig">{d.signature.clone()}</code></p>
                            <button type="button" data-testid="jwt-check-button" on:click=run_check>
                                {td!(locale, tools.jwt.check_button)}
                            </button>
                            {move || check.get().map(|c| match c {
                                Ok(c) => view! {
                                    <p class=if c.valid { "notice" } else { "notice warn" } data-testid="jwt-check">
                                        {format!("{} — {}", c.status, c.message)}
                                    </p>
                                }.into_any(),
                                Err(e) => view! { <p class="error-box">{e.message}</p> }.into_any(),
                            })}
                        </section>
                        <section>
                            <h2>{td!(locale, tools.jwt.edit_heading)}</h2>
                            <p class="muted">{td!(locale, tools.jwt.edit_hint)}</p>
                            <textarea
                                class="token"
                                rows="8"
                                data-testid="jwt-payload-edit"
                                prop:value=move || edited.get()
                                on:input=move |ev| edited.set(event_target_value(&ev))
                            ></textarea>
                            <button type="button" data-testid="jwt-send" on:click=send_edited>
                                {td!(locale, tools.jwt.send_button)}
                            </button>
                            {move || sent.get().map(|s| view! { <pre data-testid="jwt-send-result">{s}</pre> })}
                        </section>
                    </div>
                }
                    .into_any()
            }
        }}
    }
}

/// `GET /api/me` with `Authorization: Bearer <token>`; the answer as text (what went wrong in
/// `locale` when there is no answer).
#[cfg(feature = "hydrate")]
async fn send_to_me(token: &str, locale: Locale) -> String {
    use crate::client::transport::{PlainFailure, PlainRequest, send_plain};
    let sent = send_plain(PlainRequest {
        path: "/api/me",
        bearer: Some(token),
        json: None,
    })
    .await;
    match sent {
        Ok(res) => format!(
            "{} {}\nWWW-Authenticate: {}\n{}",
            res.status, res.status_text, res.www_authenticate, res.body
        ),
        Err(PlainFailure::NoWindow) => td_string!(locale, tools.jwt.send_errors.no_window).into(),
        Err(PlainFailure::BadRequest) => {
            td_string!(locale, tools.jwt.send_errors.bad_request).into()
        }
        Err(PlainFailure::RequestFailed) => {
            td_string!(locale, tools.jwt.send_errors.request_failed).into()
        }
        Err(PlainFailure::NoResponse) => {
            td_string!(locale, tools.jwt.send_errors.no_response).into()
        }
    }
}

#[cfg(not(feature = "hydrate"))]
async fn send_to_me(_: &str, _: Locale) -> String {
    String::new()
}

lazy_page!(JwtRoute, JwtPage);
