//! `/{mode}/compare`: a session client and a bearer client side by side, doing the same things.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    components::{forms::ErrorBox, report::ExchangeView},
    error::AppError,
    fns,
    lab::{CompareAction, Pane, PaneResult},
};

/// Two real clients of this server — one with a cookie jar, one with a token store — each
/// with a thief who can copy its credential. Rows are the same actions for both, so results
/// line up.
///
/// ## Server-side rendering
/// The server renders the empty board; the buttons work once the page is hydrated.
#[component]
pub fn ComparePage() -> impl IntoView {
    // The board id is made up in the browser, so each open page has its own two clients.
    let board = RwSignal::new(String::new());
    Effect::new(move || {
        #[cfg(feature = "hydrate")]
        {
            let n = (js_sys::Math::random() * 1e15) as u64;
            let m = (js_sys::Math::random() * 1e15) as u64;
            board.set(format!("b{n:x}{m:x}"));
        }
    });
    let results =
        RwSignal::new(Vec::<((Pane, CompareAction), Result<PaneResult, AppError>)>::new());
    let busy = RwSignal::new(false);
    let act = move |panes: Vec<Pane>, action: CompareAction| {
        busy.set(true);
        spawn_local(async move {
            for pane in panes {
                let result = fns::lab::compare(board.get_untracked(), pane, action).await;
                results.update(|r| {
                    r.retain(|(k, _)| *k != (pane, action));
                    r.push(((pane, action), result));
                });
            }
            busy.set(false);
        });
    };
    let cell = move |pane: Pane, action: CompareAction| {
        let key = format!("cmp-{}-{}", pane_key(pane), action.key());
        view! {
            <td class="cmp-cell">
                <button
                    type="button"
                    class="small secondary"
                    data-testid=key.clone()
                    disabled=move || busy.get() || board.get().is_empty()
                    on:click=move |_| act(vec![pane], action)
                >
                    "Run"
                </button>
                {move || {
                    results
                        .get()
                        .into_iter()
                        .find(|(k, _)| *k == (pane, action))
                        .map(|(_, r)| match r {
                            Ok(r) => {
                                let class = if r.status == 0 {
                                    "status"
                                } else if r.status < 300 {
                                    "status ok"
                                } else {
                                    "status bad"
                                };
                                view! {
                                    {(r.status != 0)
                                        .then(|| view! {
                                            <span class=class data-testid=format!("{key}-status")>{r.status}</span>
                                            " "
                                        })}
                                    <span data-testid=format!("{key}-summary")>{r.summary.clone()}</span>
                                    {(!r.exchanges.is_empty())
                                        .then(|| {
                                            view! {
                                                <details class="exchanges">
                                                    <summary>"on the wire"</summary>
                                                    {r
                                                        .exchanges
                                                        .into_iter()
                                                        .map(|e| view! { <ExchangeView exchange=e /> })
                                                        .collect_view()}
                                                </details>
                                            }
                                        })}
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                        })
                }}
            </td>
        }
    };
    view! {
        <h1>"Compare"</h1>
        <p class="lead">
            "Two independent clients of this server, run by the lab: on the left a browser-like client "
            "with a cookie jar, on the right an app with a token store. Do the same thing on both and compare "
            "what travels and what the server answers. Each has a thief who can copy its credential."
        </p>
        <table class="compare-board" data-testid="compare-board">
            <thead>
                <tr>
                    <th>"Action"</th>
                    <th>"Cookie session"</th>
                    <th>"Bearer token"</th>
                </tr>
            </thead>
            <tbody>
                {CompareAction::ALL
                    .into_iter()
                    .map(|action| {
                        view! {
                            <tr data-testid=format!("cmp-row-{}", action.key())>
                                <th scope="row">
                                    {action.label()}
                                    <button
                                        type="button"
                                        class="small"
                                        data-testid=format!("cmp-both-{}", action.key())
                                        disabled=move || busy.get() || board.get().is_empty()
                                        on:click=move |_| act(vec![Pane::Session, Pane::Bearer], action)
                                    >
                                        "Both"
                                    </button>
                                </th>
                                {cell(Pane::Session, action)}
                                {cell(Pane::Bearer, action)}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

fn pane_key(pane: Pane) -> &'static str {
    match pane {
        Pane::Session => "session",
        Pane::Bearer => "bearer",
    }
}

lazy_page!(CompareRoute, ComparePage);
