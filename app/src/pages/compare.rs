//! `/{mode}/compare`: a session client and a bearer client side by side, doing the same things.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    components::{forms::ErrorBox, report::ExchangeView},
    error::AppError,
    fns,
    i18n::*,
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
    let locale = crate::locale::use_locale();
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
                    {td!(locale, tools.compare.run)}
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
                                                    <summary>{td!(locale, tools.compare.on_the_wire)}</summary>
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
        <h1>{td!(locale, tools.compare.title)}</h1>
        <p class="lead">{td!(locale, tools.compare.lead)}</p>
        <table class="compare-board" data-testid="compare-board">
            <thead>
                <tr>
                    <th>{td!(locale, tools.compare.col_action)}</th>
                    <th>{td!(locale, tools.compare.col_session)}</th>
                    <th>{td!(locale, tools.compare.col_bearer)}</th>
                </tr>
            </thead>
            <tbody>
                {CompareAction::ALL
                    .into_iter()
                    .map(|action| {
                        view! {
                            <tr data-testid=format!("cmp-row-{}", action.key())>
                                <th scope="row">
                                    {move || action_label(locale, action)}
                                    <button
                                        type="button"
                                        class="small"
                                        data-testid=format!("cmp-both-{}", action.key())
                                        disabled=move || busy.get() || board.get().is_empty()
                                        on:click=move |_| act(vec![Pane::Session, Pane::Bearer], action)
                                    >
                                        {td!(locale, tools.compare.both)}
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

/// The row's label in the page's language (the English one is [`CompareAction::label`]).
fn action_label(locale: Locale, action: CompareAction) -> &'static str {
    match action {
        CompareAction::Register => td_string!(locale, tools.compare.actions.register),
        CompareAction::Login => td_string!(locale, tools.compare.actions.login),
        CompareAction::Me => td_string!(locale, tools.compare.actions.call_me),
        CompareAction::Write => td_string!(locale, tools.compare.actions.write_note),
        CompareAction::Steal => td_string!(locale, tools.compare.actions.steal),
        CompareAction::Replay => td_string!(locale, tools.compare.actions.replay),
        CompareAction::Logout => td_string!(locale, tools.compare.actions.logout),
        CompareAction::RevokeAll => td_string!(locale, tools.compare.actions.revoke_all),
    }
}

fn pane_key(pane: Pane) -> &'static str {
    match pane {
        Pane::Session => "session",
        Pane::Bearer => "bearer",
    }
}

lazy_page!(CompareRoute, ComparePage);
