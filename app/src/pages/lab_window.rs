//! `/lab-window`: the popup where browser experiments run, on this machine's other host name.

use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::use_query_map;

/// Runs the experiment named in `?experiment=` and reports to `?opener=`.
///
/// ## Server-side rendering
/// The server renders the heading; everything happens in the browser.
#[component]
pub fn LabWindowPage() -> impl IntoView {
    let query = use_query_map();
    let lines = RwSignal::new(Vec::<String>::new());
    let done = RwSignal::new(None::<String>);
    Effect::new(move || {
        let experiment = query.read_untracked().get("experiment").unwrap_or_default();
        let opener = query.read_untracked().get("opener").unwrap_or_default();
        let log = move |line: String| lines.update(|l| l.push(line));
        spawn_local(async move {
            // Only this machine's own app may open a lab window and receive its report.
            let local = ["http://localhost:", "http://127.0.0.1:"]
                .iter()
                .any(|p| opener.starts_with(p));
            let result = if local {
                run(&experiment, log).await
            } else {
                Err(crate::error::AppError::new(
                    403,
                    "forbidden",
                    "A lab window reports only to this machine's own app.",
                ))
            };
            done.set(Some(match &result {
                Ok(r) => format!("{}: {}", r.verdict.outcome.label(), r.verdict.text),
                Err(e) => format!("Failed: {}", e.message),
            }));
            report(&result, &opener);
        });
    });
    view! {
        <main class="page lab-window">
            <h1>"authlab lab window"</h1>
            <p class="muted">
                "This window runs a browser experiment on its own origin, with its own cookies and storage, then reports to the lab and closes."
            </p>
            <ol data-testid="lab-window-log">
                {move || lines.get().into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
            </ol>
            {move || done.get().map(|d| view! { <p class="notice" data-testid="lab-window-done">{d}</p> })}
        </main>
    }
}

#[cfg(feature = "hydrate")]
async fn run(
    experiment: &str,
    log: impl Fn(String),
) -> Result<crate::lab::Report, crate::error::AppError> {
    use crate::client::lab_window::{run_csrf, run_xss};
    match experiment {
        "csrf" => run_csrf(log).await,
        "xss" => run_xss(log).await,
        other => Err(crate::error::AppError::new(
            404,
            "not_found",
            format!("No browser experiment `{other}`."),
        )),
    }
}

#[cfg(not(feature = "hydrate"))]
async fn run(_: &str, _: impl Fn(String)) -> Result<crate::lab::Report, crate::error::AppError> {
    Err(crate::error::AppError::new(
        0,
        "browser_only",
        "Runs in the browser.",
    ))
}

#[cfg(feature = "hydrate")]
fn report(result: &Result<crate::lab::Report, crate::error::AppError>, opener: &str) {
    crate::client::lab_window::report_to_opener(result, opener);
}

#[cfg(not(feature = "hydrate"))]
fn report(_: &Result<crate::lab::Report, crate::error::AppError>, _: &str) {}
