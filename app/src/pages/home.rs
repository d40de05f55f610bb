//! The start page: what the two modes are, and how they differ.

use leptos::prelude::*;

use crate::{client::AuthClient, i18n::*, mode::AuthMode};

/// The comparison, row by row: (question, cookie session, bearer token), in `locale`.
fn comparison(locale: Locale) -> [(&'static str, &'static str, &'static str); 9] {
    [
        (
            td_string!(locale, auth.home.rows.login_location.question),
            td_string!(locale, auth.home.rows.login_location.session),
            td_string!(locale, auth.home.rows.login_location.token),
        ),
        (
            td_string!(locale, auth.home.rows.per_request.question),
            td_string!(locale, auth.home.rows.per_request.session),
            td_string!(locale, auth.home.rows.per_request.token),
        ),
        (
            td_string!(locale, auth.home.rows.verification.question),
            td_string!(locale, auth.home.rows.verification.session),
            td_string!(locale, auth.home.rows.verification.token),
        ),
        (
            td_string!(locale, auth.home.rows.revocation.question),
            td_string!(locale, auth.home.rows.revocation.session),
            td_string!(locale, auth.home.rows.revocation.token),
        ),
        (
            td_string!(locale, auth.home.rows.server_state.question),
            td_string!(locale, auth.home.rows.server_state.session),
            td_string!(locale, auth.home.rows.server_state.token),
        ),
        (
            td_string!(locale, auth.home.rows.csrf.question),
            td_string!(locale, auth.home.rows.csrf.session),
            td_string!(locale, auth.home.rows.csrf.token),
        ),
        (
            td_string!(locale, auth.home.rows.xss.question),
            td_string!(locale, auth.home.rows.xss.session),
            td_string!(locale, auth.home.rows.xss.token),
        ),
        (
            td_string!(locale, auth.home.rows.several_servers.question),
            td_string!(locale, auth.home.rows.several_servers.session),
            td_string!(locale, auth.home.rows.several_servers.token),
        ),
        (
            td_string!(locale, auth.home.rows.wire_size.question),
            td_string!(locale, auth.home.rows.wire_size.session),
            td_string!(locale, auth.home.rows.wire_size.token),
        ),
    ]
}

/// What the two modes are, with links to try the current one.
#[component]
pub fn HomePage() -> impl IntoView {
    let mode = AuthClient::expect().mode();
    let locale = crate::locale::use_locale();
    let intro = match mode {
        AuthMode::Session => td_string!(locale, auth.home.intro_session),
        AuthMode::Token => td_string!(locale, auth.home.intro_token),
    };
    view! {
        <section class="hero">
            <h1>{td!(locale, auth.home.title)}</h1>
            <p class="lead">{td!(locale, auth.home.lead)}</p>
            <p data-testid="mode-intro">{intro}</p>
            <p class="actions">
                <a class="button" href=mode.path("register")>
                    {td!(locale, common.register)}
                </a>
                <a class="button secondary" href=mode.path("login")>
                    {td!(locale, common.log_in)}
                </a>
                <a class="button secondary" href=mode.path("profile")>
                    {td!(locale, common.nav_profile)}
                </a>
            </p>
        </section>
        <section class="panel" data-testid="home-lab">
            <h2>{td!(locale, auth.home.see_it_title)}</h2>
            // Each link is followed by its own sentence part, so a translation can put the
            // words around the links in its own order.
            <p>
                <a href=mode.path("lab")>{td!(locale, auth.home.see_it_lab_link)}</a>
                {td!(locale, auth.home.see_it_lab_text)}
                <a href=mode.path("compare")>{td!(locale, auth.home.see_it_compare_link)}</a>
                {td!(locale, auth.home.see_it_compare_text)}
                <a href=mode.path("jwt")>{td!(locale, auth.home.see_it_jwt_link)}</a>
                {td!(locale, auth.home.see_it_jwt_text)}
            </p>
        </section>
        <table class="compare">
            <thead>
                <tr>
                    <th></th>
                    <th class:current=mode == AuthMode::Session>
                        {td!(locale, auth.home.column_session)}
                    </th>
                    <th class:current=mode == AuthMode::Token>{td!(locale, auth.home.column_token)}</th>
                </tr>
            </thead>
            <tbody>
                {comparison(locale)
                    .into_iter()
                    .map(|(q, s, t)| {
                        view! {
                            <tr>
                                <th scope="row">{q}</th>
                                <td>{s}</td>
                                <td>{t}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
