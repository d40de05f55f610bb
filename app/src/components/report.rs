//! How an experiment's report is shown: verdict, steps with their requests and measurements,
//! and charts.

use leptos::prelude::*;

use crate::{
    components::chart::ChartView,
    format::duration_in,
    i18n::*,
    lab::{Exchange, Outcome, Report, fill_placeholders},
};

/// A finished run.
///
/// The badge, the run time and the request counts are in the reader's language; the report's
/// own texts (steps, facts, verdict) are the experiment's, in English.
#[component]
pub fn ReportView(
    /// The report.
    report: Report,
) -> impl IntoView {
    let locale = crate::locale::use_locale();
    let outcome = report.verdict.outcome;
    let class = match outcome {
        Outcome::Confirmed => "verdict confirmed",
        Outcome::Partly => "verdict partly",
        Outcome::Refuted => "verdict refuted",
    };
    let took = duration_in(locale, (report.took_ms / 1000.0).round() as i64);
    let ran_in = fill_placeholders(td_string!(locale, lab.report.ran_in), &[("took", &took)]);
    view! {
        <div class="report" data-testid="report">
            <div class=class data-testid="verdict" data-outcome=format!("{outcome:?}").to_lowercase()>
                <strong>{outcome.label_in(locale)}</strong>
                " "
                <span data-testid="verdict-text">{report.verdict.text.clone()}</span>
                <span class="muted">{format!(" {ran_in}")}</span>
            </div>
            <ol class="steps">
                {report
                    .steps
                    .into_iter()
                    .map(|step| {
                        view! {
                            <li>
                                <p>{step.text}</p>
                                {(!step.facts.is_empty())
                                    .then(|| {
                                        view! {
                                            <dl class="facts">
                                                {step
                                                    .facts
                                                    .into_iter()
                                                    .map(|f| {
                                                        view! {
                                                            <dt>{f.label}</dt>
                                                            <dd data-testid=format!("fact-{}", f.key)>{f.value}</dd>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </dl>
                                        }
                                    })}
                                {(!step.exchanges.is_empty())
                                    .then(|| {
                                        let n = step.exchanges.len();
                                        view! {
                                            <details class="exchanges">
                                                <summary>
                                                    {if n == 1 {
                                                        td_string!(locale, lab.report.request_single)
                                                            .to_owned()
                                                    } else {
                                                        fill_placeholders(
                                                            td_string!(locale, lab.report.requests),
                                                            &[("n", &n)],
                                                        )
                                                    }}
                                                </summary>
                                                {step
                                                    .exchanges
                                                    .into_iter()
                                                    .map(|e| view! { <ExchangeView exchange=e /> })
                                                    .collect_view()}
                                            </details>
                                        }
                                    })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            {report
                .charts
                .into_iter()
                .map(|chart| view! { <ChartView chart /> })
                .collect_view()}
        </div>
    }
}

/// One request and its answer.
#[component]
pub fn ExchangeView(
    /// The request.
    exchange: Exchange,
) -> impl IntoView {
    let status_class = if exchange.status < 300 {
        "status ok"
    } else {
        "status bad"
    };
    view! {
        <div class="exchange">
            <div>
                <span class="actor">{exchange.actor.clone()}</span>
                <code>{format!("{} {}", exchange.method, exchange.path)}</code>
                " → "
                <span class=status_class>{exchange.status}</span>
                <span class="muted">{format!(" {:.1} ms", exchange.ms)}</span>
            </div>
            {exchange
                .credential
                .map(|c| {
                    view! {
                        <div class="wire">
                            <code>{c.shown}</code>
                            <span class="muted">{format!(" ({} B)", c.bytes)}</span>
                        </div>
                    }
                })}
            {exchange
                .set_cookie
                .into_iter()
                .map(|c| view! { <div class="wire"><code>{format!("Set-Cookie: {c}")}</code></div> })
                .collect_view()}
            {exchange
                .www_authenticate
                .map(|w| view! { <div class="wire"><code>{format!("WWW-Authenticate: {w}")}</code></div> })}
            {exchange
                .server_timing
                .map(|t| view! { <div class="wire"><code>{format!("Server-Timing: {t}")}</code></div> })}
            <div class="wire body">
                <code>{exchange.body}</code>
            </div>
        </div>
    }
}
