//! `/{mode}/jwt`: the JWT decoder — take a token apart, let the server check it, edit it and
//! watch the server refuse it.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use leptos::{prelude::*, task::spawn_local};

use crate::{
    client::AuthClient,
    error::AppError,
    fns,
    format::{duration, utc},
    lab::TokenCheck,
    mode::AuthMode,
};

/// What each registered claim means here.
fn explain(claim: &str) -> &'static str {
    match claim {
        "iss" => "Issuer: who signed it (must be this server).",
        "aud" => "Audience: who it is meant for (must be this API).",
        "sub" => "Subject: the user's id.",
        "exp" => "Expires at (Unix seconds).",
        "iat" => "Issued at (Unix seconds).",
        "nbf" => "Not valid before (Unix seconds).",
        "jti" => "This token's unique id.",
        "sid" => "The login (refresh-token family) it belongs to.",
        "name" => "The username, so the server needs no lookup.",
        "scope" => "What it may do: `read write` or `read`.",
        _ => "Not a claim this server uses.",
    }
}

/// A token taken apart.
#[derive(Debug, Clone, PartialEq)]
struct Decoded {
    header: serde_json::Value,
    payload: serde_json::Value,
    signature: String,
}

fn decode(token: &str) -> Result<Decoded, String> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err("A JWT has three parts separated by dots.".into());
    };
    let part = |p: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|_| format!("The {what} is not base64url."))
            .and_then(|b| {
                serde_json::from_slice(&b).map_err(|_| format!("The {what} is not JSON."))
            })
    };
    Ok(Decoded {
        header: part(header, "header")?,
        payload: part(payload, "payload")?,
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
                sent.set(Some(format!("The edited payload is not JSON: {e}")));
                return;
            }
        };
        let header = URL_SAFE_NO_PAD.encode(d.header.to_string());
        let body = URL_SAFE_NO_PAD.encode(payload.to_string());
        let forged = format!("{header}.{body}.{}", d.signature);
        spawn_local(async move { sent.set(Some(send_to_me(&forged).await)) });
    };
    view! {
        <h1>"JWT decoder"</h1>
        <p class="lead">
            "A JWT is three base64url parts: header, payload, signature. Anyone can read the first two; "
            "only the signing key can produce the third."
        </p>
        {(auth.mode() == AuthMode::Session)
            .then(|| view! {
                <p class="notice">"Session mode has no token for this page to show (the session cookie is HttpOnly): paste one, or open this page in token mode to see your own."</p>
            })}
        <label for="jwt-input"><strong>"Token"</strong></label>
        <textarea
            id="jwt-input"
            class="token"
            rows="4"
            data-testid="jwt-input"
            prop:value=move || input.get()
            on:input=move |ev| input.set(event_target_value(&ev))
        ></textarea>
        {move || match decoded.get() {
            None => view! { <p class="muted">"No token."</p> }.into_any(),
            Some(Err(why)) => view! { <p class="error-box" data-testid="jwt-error">{why}</p> }.into_any(),
            Some(Ok(d)) => {
                let exp = d.payload["exp"].as_i64();
                view! {
                    <div class="jwt">
                        <section>
                            <h2>"Header"</h2>
                            <pre data-testid="jwt-header">{pretty(&d.header)}</pre>
                        </section>
                        <section>
                            <h2>"Payload"</h2>
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
                                                            <td class="muted">{explain(k)}</td>
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
                                            String::new()
                                        } else if left > 0 {
                                            format!("Expires in {}.", duration(left))
                                        } else {
                                            format!("Expired {} ago.", duration(-left))
                                        }
                                    }}
                                </p>
                            })}
                        </section>
                        <section>
                            <h2>"Signature"</h2>
                            <p><code class="sig">{d.signature.clone()}</code></p>
                            <button type="button" data-testid="jwt-check-button" on:click=run_check>
                                "Ask the server to check it"
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
                            <h2>"Edit a claim and send it"</h2>
                            <p class="muted">"The edited payload keeps the original signature — so the server must refuse it."</p>
                            <textarea
                                class="token"
                                rows="8"
                                data-testid="jwt-payload-edit"
                                prop:value=move || edited.get()
                                on:input=move |ev| edited.set(event_target_value(&ev))
                            ></textarea>
                            <button type="button" data-testid="jwt-send" on:click=send_edited>
                                "Send it to /api/me"
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

/// `GET /api/me` with `Authorization: Bearer <token>`; the answer as text.
#[cfg(feature = "hydrate")]
async fn send_to_me(token: &str) -> String {
    use wasm_bindgen::JsCast;
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_credentials(web_sys::RequestCredentials::Omit);
    let Ok(headers) = web_sys::Headers::new() else {
        return "no headers".into();
    };
    let _ = headers.set("Authorization", &format!("Bearer {token}"));
    init.set_headers(&headers);
    let Some(window) = web_sys::window() else {
        return "no window".into();
    };
    let Ok(request) = web_sys::Request::new_with_str_and_init("/api/me", &init) else {
        return "bad request".into();
    };
    let Ok(res) = wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&request)).await
    else {
        return "the request failed".into();
    };
    let Ok(res) = res.dyn_into::<web_sys::Response>() else {
        return "no response".into();
    };
    let challenge = res
        .headers()
        .get("www-authenticate")
        .ok()
        .flatten()
        .unwrap_or_default();
    let body = match res.text() {
        Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    format!(
        "{} {}\nWWW-Authenticate: {challenge}\n{body}",
        res.status(),
        res.status_text()
    )
}

#[cfg(not(feature = "hydrate"))]
async fn send_to_me(_: &str) -> String {
    String::new()
}

lazy_page!(JwtRoute, JwtPage);
