//! `/lab-window`: the popup where browser experiments run, on this machine's other host name.

use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::use_query_map;

use crate::i18n::*;

/// Runs the experiment named in `?experiment=` and reports to `?opener=`.
///
/// ## Server-side rendering
/// The server renders the heading; everything happens in the browser.
///
/// The lab page opens it with its own `?lang=`: this window is on another origin, with its
/// own language cookie.
#[component]
pub fn LabWindowPage() -> impl IntoView {
    let locale = crate::locale::use_locale();
    let query = use_query_map();
    let lines = RwSignal::new(Vec::<String>::new());
    let done = RwSignal::new(None::<String>);
    Effect::new(move || {
        let experiment = query.read_untracked().get("experiment").unwrap_or_default();
        let opener = query.read_untracked().get("opener").unwrap_or_default();
        let log = move |line: String| lines.update(|l| l.push(line));
        spawn_local(async move {
            // Only the app's own lab page may open a lab window and receive its report; see
            // `check_window` for what else must hold.
            let checked = check(&opener, locale).await;
            let allowed = checked.is_ok();
            let result = match checked {
                Ok(()) => run(&experiment, log, locale).await,
                Err(err) => Err(err),
            };
            done.set(Some(match &result {
                Ok(r) => format!("{}: {}", r.verdict.outcome.label_in(locale), r.verdict.text),
                Err(e) => format!("{}: {}", td_string!(locale, lab.window.failed), e.message),
            }));
            if allowed {
                report(&result, &opener);
            }
        });
    });
    view! {
        <main class="page lab-window">
            <h1>{td!(locale, lab.window.title)}</h1>
            <p class="muted">{td!(locale, lab.window.intro)}</p>
            <ol data-testid="lab-window-log">
                {move || lines.get().into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
            </ol>
            {move || done.get().map(|d| view! { <p class="notice" data-testid="lab-window-done">{d}</p> })}
        </main>
    }
}

#[cfg(feature = "hydrate")]
async fn check(opener: &str, locale: Locale) -> Result<(), crate::error::AppError> {
    crate::lab::window::check_window(opener, locale).await
}

#[cfg(not(feature = "hydrate"))]
async fn check(_: &str, locale: Locale) -> Result<(), crate::error::AppError> {
    Err(crate::error::AppError::new(
        0,
        "browser_only",
        td_string!(locale, lab.window.browser_only),
    ))
}

#[cfg(feature = "hydrate")]
async fn run(
    experiment: &str,
    log: impl Fn(String),
    locale: Locale,
) -> Result<crate::lab::Report, crate::error::AppError> {
    use crate::lab::window::{run_csrf, run_xss};
    match experiment {
        "csrf" => run_csrf(log, locale).await,
        "xss" => run_xss(log, locale).await,
        other => Err(crate::error::AppError::new(
            404,
            "not_found",
            crate::lab::fill_placeholders(
                td_string!(locale, lab.window.unknown_experiment),
                &[("name", &other)],
            ),
        )),
    }
}

#[cfg(not(feature = "hydrate"))]
async fn run(
    _: &str,
    _: impl Fn(String),
    locale: Locale,
) -> Result<crate::lab::Report, crate::error::AppError> {
    Err(crate::error::AppError::new(
        0,
        "browser_only",
        td_string!(locale, lab.window.browser_only),
    ))
}

#[cfg(feature = "hydrate")]
fn report(result: &Result<crate::lab::Report, crate::error::AppError>, opener: &str) {
    crate::lab::window::report_to_opener(result, opener);
}

#[cfg(not(feature = "hydrate"))]
fn report(_: &Result<crate::lab::Report, crate::error::AppError>, _: &str) {}

lazy_page!(LabWindowRoute, LabWindowPage);
