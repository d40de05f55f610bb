//! `/{mode}/lab`: every experiment, with its claim, a Run button, and the report.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    components::{forms::ErrorBox, report::ReportView},
    error::AppError,
    fns,
    lab::{ExperimentInfo, Group, LabSettings, Report, RunsIn},
};

/// The lab page.
#[component]
pub fn LabPage() -> impl IntoView {
    let settings = Resource::new(|| (), |()| fns::lab::get_lab_settings());
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    view! {
        <h1>"Lab"</h1>
        <p class="lead">
            "Each card tests one claim from session-vs-token study notes against this running server. "
            "Experiments create their own throwaway users and never touch your login; the ones about "
            "the browser itself run in a lab window under this machine's other name, with its own cookies."
        </p>
        <Suspense fallback=|| view! { <p class="muted">"Loading the lab's switches…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! { <Switches initial=s /> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Suspense>
        <nav class="panel toc" aria-labelledby="lab-contents" data-testid="lab-contents">
            <h2 id="lab-contents">"Contents"</h2>
            <ol>
                {Group::ALL
                    .iter()
                    .map(|group| {
                        view! {
                            <li>
                                <a href=format!("#{}", group.id())>{group.title()}</a>
                                <ul>
                                    {group
                                        .experiments()
                                        .map(|info| {
                                            view! {
                                                <li>
                                                    <a href=format!("#{}", info.id)>{info.title}</a>
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
                            <h2>{group.title()}</h2>
                            <p class="muted">{group.blurb()}</p>
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
    let current = RwSignal::new(initial);
    let error = RwSignal::new(None::<AppError>);
    let set = move |change: fn(&mut LabSettings, bool), on: bool| {
        let mut wanted = current.get_untracked();
        change(&mut wanted, on);
        spawn_local(async move {
            match fns::lab::set_lab_settings(wanted).await {
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
                "The lab is off on this server (production configuration): its switches and experiments are disabled."
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
            <h2>"Switches for your own logins (lab configuration only)"</h2>
            <p class="muted">
                "A switch changes how the server treats the logins of the user you are logged in as, "
                "for ten minutes, and nobody else's. Log in first to use them."
            </p>
            {switch("Strict token check: every bearer request looks its login up", "switch-strict", |s| s.strict_token_check, |s, on| s.strict_token_check = on)}
            {switch("CSRF defences (Origin, Sec-Fetch-Site, content type)", "switch-csrf", |s| s.csrf_protection, |s, on| s.csrf_protection = on)}
            {switch("Single session: a new login ends the others", "switch-single", |s| s.single_session, |s, on| s.single_session = on)}
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        </section>
    }
    .into_any()
}

/// One experiment: claim, how it is tested, Run, and the report.
#[component]
fn ExperimentCard(info: &'static ExperimentInfo, hydrated: Signal<bool>) -> impl IntoView {
    let report = RwSignal::new(None::<Result<Report, AppError>>);
    let running = RwSignal::new(false);
    let run = move |_| {
        running.set(true);
        report.set(None);
        spawn_local(async move {
            let result = match info.runs_in {
                RunsIn::Server => fns::lab::run_experiment(info.id.to_owned()).await,
                RunsIn::Browser => run_in_browser(info.id).await,
            };
            report.set(Some(result));
            running.set(false);
        });
    };
    let place = match info.runs_in {
        RunsIn::Server => "Runs on the server as real HTTP clients of this server.",
        RunsIn::Browser => "Runs in a lab window in your browser (allow the pop-up).",
    };
    view! {
        <article class="card experiment" id=info.id data-testid=format!("experiment-{}", info.id)>
            <h3>{info.title}</h3>
            <p class="claim">
                <strong>"Claim: "</strong>
                {info.claim}
            </p>
            <p class="seed">
                "As study notes put it: "
                <q lang="ko">{info.seed}</q>
            </p>
            <p class="muted">{format!("{} {place}", info.method)}</p>
            <button
                type="button"
                data-testid="run"
                disabled=move || running.get() || !hydrated.get()
                on:click=run
            >
                {move || if running.get() { "Running…" } else { "Run" }}
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
async fn run_in_browser(id: &str) -> Result<Report, AppError> {
    crate::client::lab_window::run_in_lab_window(id).await
}

#[cfg(not(feature = "hydrate"))]
async fn run_in_browser(_id: &str) -> Result<Report, AppError> {
    Err(AppError::new(
        0,
        "browser_only",
        "This experiment runs in the browser.",
    ))
}

lazy_page!(LabRoute, LabPage);
