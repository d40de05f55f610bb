//! `/{mode}/lab`: every experiment, with its claim, a Run button, and the report.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    client::AuthClient,
    components::{forms::ErrorBox, report::ReportView},
    error::AppError,
    fns,
    i18n::*,
    lab::{ExperimentInfo, Group, LabSettings, Report, RunsIn},
};

/// The lab page.
#[component]
pub fn LabPage() -> impl IntoView {
    // The switches are the logged-in user's: loaded through the auth client, in either mode.
    let settings = AuthClient::expect().load(fns::lab::get_lab_settings);
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let locale = crate::locale::use_locale();
    // A language switch reloads the page, so the language is read once.
    view! {
        <h1>{td!(locale, lab.page.title)}</h1>
        <p class="lead">{td!(locale, lab.page.lead)}</p>
        <Suspense fallback=move || {
            view! { <p class="muted">{td!(locale, lab.page.loading_switches)}</p> }
        }>
            {move || Suspend::new(async move {
                match settings.wait().await {
                    Ok(s) => view! { <Switches initial=s /> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Suspense>
        <nav class="panel toc" aria-labelledby="lab-contents" data-testid="lab-contents">
            <h2 id="lab-contents">{td!(locale, lab.page.contents)}</h2>
            <ol>
                {Group::ALL
                    .iter()
                    .map(|group| {
                        view! {
                            <li>
                                <a href=format!("#{}", group.id())>{group.title_in(locale)}</a>
                                <ul>
                                    {group
                                        .experiments()
                                        .map(|info| {
                                            view! {
                                                <li>
                                                    <a href=format!("#{}", info.id)>
                                                        {info.title_in(locale)}
                                                    </a>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </nav>
        <div class="experiments" data-testid="experiments">
            {Group::ALL
                .iter()
                .map(|group| {
                    view! {
                        <section
                            class="experiment-group"
                            id=group.id()
                            data-testid=format!("group-{}", group.id())
                        >
                            <h2>{group.title_in(locale)}</h2>
                            <p class="muted">{group.blurb_in(locale)}</p>
                            {group
                                .experiments()
                                .map(|info| view! { <ExperimentCard info hydrated=hydrated.into() /> })
                                .collect_view()}
                        </section>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// The lab's switches (strict checking, CSRF defences, single session).
#[component]
fn Switches(initial: LabSettings) -> impl IntoView {
    let locale = crate::locale::use_locale();
    let auth = AuthClient::expect();
    let current = RwSignal::new(initial);
    let error = RwSignal::new(None::<AppError>);
    let set = move |change: fn(&mut LabSettings, bool), on: bool| {
        let mut wanted = current.get_untracked();
        change(&mut wanted, on);
        spawn_local(async move {
            match auth.call(|| fns::lab::set_lab_settings(wanted)).await {
                Ok(now) => {
                    current.set(now);
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    if !initial.available {
        return view! {
            <p class="notice warn" data-testid="lab-off">
                {td!(locale, lab.page.lab_off)}
            </p>
        }
        .into_any();
    }
    let switch = move |label: &'static str,
                       testid: &'static str,
                       get: fn(&LabSettings) -> bool,
                       change: fn(&mut LabSettings, bool)| {
        view! {
            <label class="switch">
                <input
                    type="checkbox"
                    data-testid=testid
                    prop:checked=move || get(&current.get())
                    on:change=move |ev| set(change, event_target_checked(&ev))
                />
                {label}
            </label>
        }
    };
    view! {
        <section class="panel switches" data-testid="lab-switches">
            <h2>{td!(locale, lab.page.switches_title)}</h2>
            <p class="muted">{td!(locale, lab.page.switches_blurb)}</p>
            {switch(td_string!(locale, lab.page.switch_strict), "switch-strict", |s| s.strict_token_check, |s, on| s.strict_token_check = on)}
            {switch(td_string!(locale, lab.page.switch_csrf), "switch-csrf", |s| s.csrf_protection, |s, on| s.csrf_protection = on)}
            {switch(td_string!(locale, lab.page.switch_single), "switch-single", |s| s.single_session, |s, on| s.single_session = on)}
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        </section>
    }
    .into_any()
}

/// One experiment: claim, how it is tested, Run, and the report.
#[component]
fn ExperimentCard(info: &'static ExperimentInfo, hydrated: Signal<bool>) -> impl IntoView {
    let locale = crate::locale::use_locale();
    let report = RwSignal::new(None::<Result<Report, AppError>>);
    let running = RwSignal::new(false);
    let run = move |_| {
        running.set(true);
        report.set(None);
        spawn_local(async move {
            let result = match info.runs_in {
                RunsIn::Server => fns::lab::run_experiment(info.id.to_owned()).await,
                RunsIn::Browser => run_in_browser(info.id, locale).await,
            };
            report.set(Some(result));
            running.set(false);
        });
    };
    let place = info.runs_in.label_in(locale);
    view! {
        <article class="card experiment" id=info.id data-testid=format!("experiment-{}", info.id)>
            <h3>{info.title_in(locale)}</h3>
            <p class="claim">
                <strong>{td!(locale, lab.page.claim_label)}" "</strong>
                {info.claim_in(locale)}
            </p>
            <p class="seed">
                {td!(locale, lab.page.seed_intro)}
                " "
                <q lang="ko">{info.seed}</q>
            </p>
            <p class="muted">{format!("{} {place}", info.method_in(locale))}</p>
            <button
                type="button"
                data-testid="run"
                disabled=move || running.get() || !hydrated.get()
                on:click=run
            >
                {move || {
                    if running.get() {
                        td_string!(locale, lab.page.running)
                    } else {
                        td_string!(locale, lab.page.run)
                    }
                }}
            </button>
            {move || {
                report
                    .get()
                    .map(|r| match r {
                        Ok(report) => view! { <ReportView report /> }.into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    })
            }}
        </article>
    }
}

#[cfg(feature = "hydrate")]
async fn run_in_browser(id: &str, locale: Locale) -> Result<Report, AppError> {
    crate::lab::window::run_in_lab_window(id, locale).await
}

#[cfg(not(feature = "hydrate"))]
async fn run_in_browser(_id: &str, locale: Locale) -> Result<Report, AppError> {
    Err(AppError::new(
        0,
        "browser_only",
        td_string!(locale, lab.page.browser_only),
    ))
}

lazy_page!(LabRoute, LabPage);
