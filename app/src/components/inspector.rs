//! The request inspector: a drawer on every page showing the last requests this page made,
//! what page JavaScript can read, and what the server keeps for you.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    client::{AuthClient, inspector::records},
    error::AppError,
    fns,
    format::utc,
    lab::ServerView,
};

/// What page scripts can read, as a list of (where, name, value shortened).
fn storage_snapshot() -> Vec<(String, String, String)> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let mut out = Vec::new();
        let shorten = |v: String| {
            if v.chars().count() > 48 {
                format!(
                    "{}… ({} chars)",
                    v.chars().take(24).collect::<String>(),
                    v.chars().count()
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
                    "(empty)".into()
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
                    out.push((place.into(), String::new(), "(empty)".into()));
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
        Vec::new()
    }
}

/// The drawer.
///
/// ## Server-side rendering
/// Renders closed with no requests; it fills as the page makes calls in the browser.
#[component]
pub fn Inspector() -> impl IntoView {
    let auth = AuthClient::expect();
    let open = RwSignal::new(false);
    let storage = RwSignal::new(Vec::<(String, String, String)>::new());
    let server = RwSignal::new(None::<Result<ServerView, AppError>>);
    let refresh = move || {
        storage.set(storage_snapshot());
        spawn_local(async move {
            server.set(Some(auth.call(fns::lab::server_state).await));
        });
    };
    let toggle = move |_| {
        open.update(|o| *o = !*o);
        if open.get_untracked() {
            refresh();
        }
    };
    view! {
        <aside class="inspector" data-testid="inspector">
            <button type="button" class="inspector-toggle" data-testid="inspector-toggle" on:click=toggle>
                {move || {
                    let n = records().len();
                    format!("{} Inspector · {n} request{}", if open.get() { "▾" } else { "▸" }, if n == 1 { "" } else { "s" })
                }}
            </button>
            <Show when=move || open.get()>
                <div class="inspector-body">
                    <h3>"Requests this page made"</h3>
                    <table class="inspector-requests" data-testid="inspector-requests">
                        <thead>
                            <tr>
                                <th>"#"</th>
                                <th>"Request"</th>
                                <th>"Status"</th>
                                <th>"Credential that travelled"</th>
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
                                                    <span data-testid="inspector-credential">{r.credential.clone()}</span>
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
                    <h3>"What this page's JavaScript can read"</h3>
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
                    <h3>"What the server keeps for you"</h3>
                    <div data-testid="inspector-server">
                        {move || match server.get() {
                            None => view! { <p class="muted">"Asking the server…"</p> }.into_any(),
                            Some(Err(e)) => view! { <p class="muted">{format!("Nothing: {}", e.message)}</p> }.into_any(),
                            Some(Ok(v)) => view! { <ServerViewTable view=v /> }.into_any(),
                        }}
                    </div>
                    <button type="button" class="small secondary" on:click=move |_| refresh()>
                        "Refresh"
                    </button>
                </div>
            </Show>
        </aside>
    }
}

#[component]
fn ServerViewTable(view: ServerView) -> impl IntoView {
    view! {
        <p>{format!("For {}: {} session record(s), {} token login(s), {} opaque token(s).", view.username, view.sessions.len(), view.families.len(), view.opaque_tokens)}</p>
        <p class="inspector-storage">{view.storage}</p>
        <table class="inspector-server">
            <thead>
                <tr>
                    <th>"Kind"</th>
                    <th>"Id"</th>
                    <th>"Since"</th>
                    <th>"Status"</th>
                    <th>"Stored"</th>
                </tr>
            </thead>
            <tbody>
                {view
                    .sessions
                    .into_iter()
                    .map(|s| {
                        view! {
                            <tr class:current=s.current>
                                <td>"session"</td>
                                <td><code>{s.device}</code></td>
                                <td>{utc(s.created_at)}</td>
                                <td>{format!("idle expiry {}", utc(s.expires_at))}</td>
                                <td>{format!("{} B", s.bytes)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
                {view
                    .families
                    .into_iter()
                    .map(|f| {
                        view! {
                            <tr class:current=f.current>
                                <td>"token login"</td>
                                <td><code>{f.id}</code></td>
                                <td>{utc(f.created_at)}</td>
                                <td>{format!("{} · scope {}", f.status, f.scope)}</td>
                                <td>{format!("{} refresh token row(s)", f.tokens)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
