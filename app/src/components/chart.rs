//! Charts drawn as SVG by the app itself (no chart library, nothing fetched).

use leptos::prelude::*;

use crate::{
    i18n::*,
    lab::{Bar, Chart, Lane, fill_placeholders},
};

const WIDTH: f64 = 640.0;

fn colour(kind: &str) -> &'static str {
    match kind {
        "session" => "#1f7a5a",
        "bearer" => "#2b59c3",
        "opaque" => "#b26a00",
        _ => "#5d6678",
    }
}

fn number(value: f64) -> String {
    if value >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Any chart of a report.
#[component]
pub fn ChartView(
    /// The chart to draw.
    chart: Chart,
) -> impl IntoView {
    match chart {
        Chart::Bars {
            title,
            note,
            unit,
            bars,
        } => view! { <BarChart title note unit bars /> }.into_any(),
        Chart::Timeline {
            title,
            note,
            end_ms,
            lanes,
        } => view! { <Timeline title note end_ms lanes /> }.into_any(),
    }
}

/// Horizontal bars with their values.
#[component]
pub fn BarChart(
    /// Caption.
    title: String,
    /// What to look at, shown under the chart.
    note: String,
    /// Unit shown after each value.
    unit: String,
    /// The bars.
    bars: Vec<Bar>,
) -> impl IntoView {
    let label_w = 230.0;
    let bar_h = 24.0;
    let gap = 10.0;
    let max = bars
        .iter()
        .map(|b| b.value)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let height = bars.len() as f64 * (bar_h + gap) + gap;
    let plot_w = WIDTH - label_w - 90.0;
    // What a screen reader reads instead of the drawing: every bar's value.
    let text = bars
        .iter()
        .map(|b| format!("{}: {} {unit}", b.label, number(b.value)))
        .collect::<Vec<_>>()
        .join("; ");
    view! {
        <Figure title note height text>
            {bars
                .into_iter()
                .enumerate()
                .map(|(i, b)| {
                    let y = gap + i as f64 * (bar_h + gap);
                    let w = (b.value / max * plot_w).max(1.0);
                    view! {
                        <g>
                            <text x=label_w - 8.0 y=y + bar_h * 0.7 text-anchor="end" class="chart-label">
                                {b.label.clone()}
                            </text>
                            <rect x=label_w y=y width=w height=bar_h rx="3" fill=colour(&b.kind)>
                                <title>{format!("{}: {} {unit}", b.label, number(b.value))}</title>
                            </rect>
                            <text x=label_w + w + 6.0 y=y + bar_h * 0.7 class="chart-value">
                                {format!("{} {unit}", number(b.value))}
                            </text>
                        </g>
                    }
                })
                .collect_view()}
        </Figure>
    }
}

/// Requests (dots: green accepted, red refused) and events (dashed lines) over time.
#[component]
pub fn Timeline(
    /// Caption.
    title: String,
    /// What to look at, shown under the chart.
    note: String,
    /// Length of the time axis, ms.
    end_ms: f64,
    /// Rows.
    lanes: Vec<Lane>,
) -> impl IntoView {
    let locale = crate::locale::use_locale();
    let label_w = 150.0;
    let lane_h = 54.0;
    let axis_h = 22.0;
    let times = || {
        lanes.iter().flat_map(|l| {
            l.marks
                .iter()
                .map(|m| m.at_ms)
                .chain(l.limits.iter().map(|x| x.at_ms))
        })
    };
    let start = times().fold(end_ms, f64::min);
    // Events after the last request (an expiry still ahead) stay on the chart.
    let end_ms = times().fold(end_ms, f64::max) + 200.0;
    let span = (end_ms - start).max(1.0);
    let plot_w = WIDTH - label_w - 20.0;
    // The text alternative: per lane, what was accepted and refused, and the events, in time.
    let text = lanes
        .iter()
        .map(|lane| {
            let ok = lane.marks.iter().filter(|m| m.ok).count();
            let refused = lane.marks.len() - ok;
            let events: Vec<String> = lane
                .limits
                .iter()
                .map(|l| {
                    fill_placeholders(
                        td_string!(locale, lab.chart.event_at),
                        &[
                            ("label", &l.label),
                            ("at", &format!("{:.1}", (l.at_ms - start) / 1000.0)),
                        ],
                    )
                })
                .collect();
            let events = if events.is_empty() {
                String::new()
            } else {
                format!(" ({})", events.join(", "))
            };
            fill_placeholders(
                td_string!(locale, lab.chart.lane_summary),
                &[
                    ("label", &lane.label),
                    ("ok", &ok),
                    ("refused", &refused),
                    ("events", &events),
                ],
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let x = move |at: f64| label_w + (at - start) / span * plot_w;
    let height = lanes.len() as f64 * lane_h + axis_h;
    let seconds = (span / 1000.0).ceil() as usize;
    let legend = view! {
        <p class="chart-legend" aria-hidden="true">
            <span class="legend-dot accepted"></span>
            {td!(locale, lab.chart.accepted)}
            " "
            <span class="legend-dot refused"></span>
            {td!(locale, lab.chart.refused)}
            " "
            <span class="legend-line"></span>
            {td!(locale, lab.chart.event_hint)}
        </p>
    };
    view! {
        <Figure title note height text legend=legend.into_any()>
            {(0..=seconds)
                .map(|s| {
                    let at = start + s as f64 * 1000.0;
                    view! {
                        <g>
                            <line x1=x(at) x2=x(at) y1="0" y2=height - axis_h class="chart-grid" />
                            <text x=x(at) y=height - 6.0 text-anchor="middle" class="chart-axis">
                                {fill_placeholders(
                                    td_string!(locale, lab.chart.axis_seconds),
                                    &[("s", &s)],
                                )}
                            </text>
                        </g>
                    }
                })
                .collect_view()}
            {lanes
                .into_iter()
                .enumerate()
                .map(|(i, lane)| {
                    let mid = i as f64 * lane_h + lane_h / 2.0;
                    view! {
                        <g>
                            <text x=label_w - 8.0 y=mid + 4.0 text-anchor="end" class="chart-label">
                                {lane.label.clone()}
                            </text>
                            <line x1=label_w x2=WIDTH - 20.0 y1=mid y2=mid class="chart-lane" />
                            {lane
                                .limits
                                .iter()
                                .map(|l| {
                                    // Labels near the right edge grow leftwards.
                                    let near_end = x(l.at_ms) > WIDTH - 110.0;
                                    let (lx, anchor) = if near_end {
                                        (x(l.at_ms) - 3.0, "end")
                                    } else {
                                        (x(l.at_ms) + 3.0, "start")
                                    };
                                    view! {
                                        <line x1=x(l.at_ms) x2=x(l.at_ms) y1=mid - 20.0 y2=mid + 20.0 class="chart-limit" />
                                        <text x=lx y=mid - 12.0 text-anchor=anchor class="chart-note">{l.label.clone()}</text>
                                    }
                                })
                                .collect_view()}
                            {lane
                                .marks
                                .iter()
                                .map(|m| {
                                    view! {
                                        <circle
                                            cx=x(m.at_ms)
                                            cy=mid
                                            r="5"
                                            fill=if m.ok { "#1f7a5a" } else { "#b3261e" }
                                        >
                                            <title>{m.label.clone()}</title>
                                        </circle>
                                    }
                                })
                                .collect_view()}
                        </g>
                    }
                })
                .collect_view()}
        </Figure>
    }
}

/// The frame every chart shares: its caption, the drawing, a legend if any, and the note.
#[component]
fn Figure(
    /// Caption, also the drawing's accessible name.
    title: String,
    /// What to look at, in one sentence.
    note: String,
    /// Height of the drawing in user units (its width is [`WIDTH`]).
    height: f64,
    /// The drawing's content in words (its text alternative).
    text: String,
    /// What the marks mean, shown under the drawing.
    #[prop(optional)]
    legend: Option<AnyView>,
    /// The SVG elements.
    children: Children,
) -> impl IntoView {
    view! {
        <figure class="chart" data-testid="chart">
            <figcaption>{title.clone()}</figcaption>
            <svg
                viewBox=format!("0 0 {WIDTH} {height}")
                width="100%"
                role="img"
                aria-label=format!("{title}. {text}")
            >
                {children()}
            </svg>
            {legend}
            <p class="chart-takeaway" data-testid="chart-note">{note}</p>
        </figure>
    }
}
