//! The request inspector: a drawer on every page showing the last requests this page made,
//! what page JavaScript can read, and what the server keeps for you.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    client::{
        AuthClient,
        inspector::{credential_text, records},
    },
    error::AppError,
    fns,
    format::utc,
    i18n::*,
    lab::ServerView,
};

/// What page scripts can read, as a list of (where, name, value shortened), the notes in
/// `locale`.
fn storage_snapshot(locale: Locale) -> Vec<(String, String, String)> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let mut out = Vec::new();
        let empty = td_string!(locale, tools.inspector.empty);
        let shorten = |v: String| {
            if v.chars().count() > 48 {
                format!(
                    "{}… ({}{})",
                    v.chars().take(24).collect::<String>(),
                    v.chars().count(),
                    td_string!(locale, tools.inspector.chars_suffix)
                )
            } else {
                v
            }
        };
        if let Some(window) = web_sys::window() {
            let cookie = window
                .document()
                .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
                .and_then(|d| d.cookie().ok())
                .unwrap_or_default();
            out.push((
                "document.cookie".into(),
                String::new(),
                if cookie.is_empty() {
                    empty.into()
                } else {
                    shorten(cookie)
                },
            ));
            for (place, storage) in [
                ("localStorage", window.local_storage().ok().flatten()),
                ("sessionStorage", window.session_storage().ok().flatten()),
            ] {
                let Some(storage) = storage else { continue };
                let len = storage.length().unwrap_or(0);
                if len == 0 {
                    out.push((place.into(), String::new(), empty.into()));
                }
                for i in 0..len {
                    if let Ok(Some(key)) = storage.key(i) {
                        let value = storage.get_item(&key).ok().flatten().unwrap_or_default();
                        out.push((place.into(), key, shorten(value)));
                    }
                }
            }
        }
        out
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = locale;
        Vec::new()
    }
}

/// The drawer: a button with the number of requests this page made; opening it shows them.
///
/// ## Server-side rendering
/// Renders closed with no requests; it fills as the page makes calls in the browser. What the
/// open drawer shows is [`inspector_body`], a separate piece of the WASM loaded on first open.
#[component]
pub fn Inspector() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let open = RwSignal::new(false);
    view! {
        <aside class="inspector" data-testid="inspector">
            <button
                type="button"
                class="inspector-toggle"
                data-testid="inspector-toggle"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || {
                    let n = records().len();
                    let arrow = if open.get() { "▾" } else { "▸" };
                    if n == 1 {
                        td!(locale, tools.inspector.toggle_singular, arrow, n).into_any()
                    } else {
                        td!(locale, tools.inspector.toggle_plural, arrow, n).into_any()
                    }
                }}
            </button>
            <Show when=move || open.get()>
                {move || Suspend::new(inspector_body(auth, locale))}
            </Show>
        </aside>
    }
    .into_any()
}

/// The open drawer: the requests, what page scripts can read and what the server keeps —
/// read afresh each time it opens. Lazily loaded: a first visit does not download it.
#[lazy]
fn inspector_body(auth: AuthClient, locale: Locale) -> AnyView {
    let storage = RwSignal::new(Vec::<(String, String, String)>::new());
    let server = RwSignal::new(None::<Result<ServerView, AppError>>);
    let refresh = move || {
        storage.set(storage_snapshot(locale));
        spawn_local(async move {
            server.set(Some(auth.call(fns::lab::server_state).await));
        });
    };
    refresh();
    view! {
        <div class="inspector-body">
            <h3>{td!(locale, tools.inspector.requests_heading)}</h3>
            <table class="inspector-requests" data-testid="inspector-requests">
                <thead>
                    <tr>
                        <th>"#"</th>
                        <th>{td!(locale, tools.inspector.col_request)}</th>
                        <th>{td!(locale, tools.inspector.col_status)}</th>
                        <th>{td!(locale, tools.inspector.col_credential)}</th>
                        <th>"Server-Timing"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        records()
                            .into_iter()
                            .take(12)
                            .map(|r| {
                                let timing = r
                                    .timing
                                    .iter()
                                    .map(|t| format!("{} {} {:.3} ms", t.name, t.desc, t.dur))
                                    .collect::<Vec<_>>()
                                    .join(" · ");
                                view! {
                                    <tr data-testid="inspector-row">
                                        <td>{r.seq}</td>
                                        <td><code>{format!("{} {}", r.method, r.path)}</code></td>
                                        <td data-testid="inspector-status">{r.status}</td>
                                        <td>
                                            <span data-testid="inspector-credential">{credential_text(locale, &r)}</span>
                                            {r.set_cookie.clone().map(|c| view! { <div class="wire"><code>{format!("Set-Cookie: {c}")}</code></div> })}
                                            {r.www_authenticate.clone().map(|w| view! { <div class="wire"><code>{format!("WWW-Authenticate: {w}")}</code></div> })}
                                        </td>
                                        <td data-testid="inspector-timing">{timing}</td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
            <h3>{td!(locale, tools.inspector.storage_heading)}</h3>
            <table class="inspector-storage" data-testid="inspector-storage">
                <tbody>
                    {move || {
                        storage
                            .get()
                            .into_iter()
                            .map(|(place, key, value)| {
                                view! {
                                    <tr>
                                        <th>{place}</th>
                                        <td><code>{key}</code></td>
                                        <td><code>{value}</code></td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
            <h3>{td!(locale, tools.inspector.server_heading)}</h3>
            <div data-testid="inspector-server">
                {move || match server.get() {
                    None => view! { <p class="muted">{td!(locale, tools.inspector.asking_server)}</p> }.into_any(),
                    Some(Err(e)) => {
                        let reason = e.message;
                        view! { <p class="muted">{td!(locale, tools.inspector.server_nothing, reason)}</p> }.into_any()
                    }
                    Some(Ok(v)) => view! { <ServerViewTable view=v /> }.into_any(),
                }}
            </div>
            <button type="button" class="small secondary" on:click=move |_| refresh()>
                {td!(locale, tools.inspector.refresh)}
            </button>
        </div>
    }
    .into_any()
}

#[component]
fn ServerViewTable(view: ServerView) -> impl IntoView {
    let locale = crate::locale::use_locale();
    let user = view.username;
    let sessions = view.sessions.len();
    let logins = view.families.len();
    let opaque = view.opaque_tokens;
    view! {
        <p>{td!(locale, tools.inspector.server_summary, user, sessions, logins, opaque)}</p>
        <p class="inspector-storage">{view.storage}</p>
        <table class="inspector-server">
            <thead>
                <tr>
                    <th>{td!(locale, tools.inspector.col_kind)}</th>
                    <th>{td!(locale, tools.inspector.col_id)}</th>
                    <th>{td!(locale, tools.inspector.col_since)}</th>
                    <th>{td!(locale, tools.inspector.col_status)}</th>
                    <th>{td!(locale, tools.inspector.col_stored)}</th>
                </tr>
            </thead>
            <tbody>
                {view
                    .sessions
                    .into_iter()
                    .map(|s| {
                        let at = utc(s.expires_at);
                        view! {
                            <tr class:current=s.current>
                                <td>{td!(locale, tools.inspector.kind_session)}</td>
                                <td><code>{s.device}</code></td>
                                <td>{utc(s.created_at)}</td>
                                <td>{td!(locale, tools.inspector.idle_expiry, at)}</td>
                                <td>{format!("{} B", s.bytes)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
                {view
                    .families
                    .into_iter()
                    .map(|f| {
                        let (status, scope, n) = (f.status, f.scope, f.tokens);
                        view! {
                            <tr class:current=f.current>
                                <td>{td!(locale, tools.inspector.kind_token_login)}</td>
                                <td><code>{f.id}</code></td>
                                <td>{utc(f.created_at)}</td>
                                <td>{td!(locale, tools.inspector.family_status, status, scope)}</td>
                                <td>{td!(locale, tools.inspector.refresh_rows, n)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
