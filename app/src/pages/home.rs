//! The start page: what the two modes are, and how they differ.

use leptos::prelude::*;

use crate::{client::AuthClient, mode::AuthMode};

/// The comparison, row by row: (question, cookie session, bearer token).
const COMPARISON: [(&str, &str, &str); 9] = [
    (
        "Where the login lives",
        "On the server, in the session store. The browser holds only a random id.",
        "In the token itself, signed by the server and held by the client.",
    ),
    (
        "What travels with each request",
        "Cookie: authlab_session=<opaque id> — the browser adds it by itself.",
        "Authorization: Bearer <JWT> — the app's own code adds it.",
    ),
    (
        "How the server checks it",
        "One store lookup per request.",
        "A signature check; no lookup needed.",
    ),
    (
        "Logout and revocation",
        "Immediate: delete the record and the cookie is worthless.",
        "The access token works until it expires; only the refresh token can be revoked.",
    ),
    (
        "State on the server",
        "Grows with every logged-in browser.",
        "None for access tokens (refresh tokens are kept, one row per login).",
    ),
    (
        "Cross-site request forgery",
        "Exposed: another site can make the browser send the cookie. Needs SameSite and Origin checks.",
        "Not exposed: no browser attaches the header by itself.",
    ),
    (
        "Injected script (XSS)",
        "Cannot read an HttpOnly cookie, but can act while the page is open.",
        "Can read and carry off any token kept in web storage.",
    ),
    (
        "Several servers",
        "They must share the session store.",
        "Any server with the key can verify.",
    ),
    (
        "Bytes on the wire",
        "Tens of bytes.",
        "Hundreds of bytes, on every request.",
    ),
];

/// What the two modes are, with links to try the current one.
#[component]
pub fn HomePage() -> impl IntoView {
    let mode = AuthClient::expect().mode();
    let intro = match mode {
        AuthMode::Session => {
            "You are in session mode: after login the server keeps your session and your browser keeps only an HttpOnly cookie naming it."
        }
        AuthMode::Token => {
            "You are in token mode: after login this page keeps a signed access token and a refresh token, and attaches the access token to every call."
        }
    };
    view! {
        <section class="hero">
            <h1>"Sessions and tokens, side by side"</h1>
            <p class="lead">
                "Two ways a server remembers who you are. Every page of authlab runs in either; "
                "switch with Session | Token at the top and watch what changes."
            </p>
            <p data-testid="mode-intro">{intro}</p>
            <p class="actions">
                <a class="button" href=mode.path("register")>
                    "Register"
                </a>
                <a class="button secondary" href=mode.path("login")>
                    "Log in"
                </a>
                <a class="button secondary" href=mode.path("profile")>
                    "Profile"
                </a>
            </p>
        </section>
        <section class="panel" data-testid="home-lab">
            <h2>"See it happen"</h2>
            <p>
                <a href=mode.path("lab")>"The lab"</a>
                " runs each claim below against this server — stolen cookies and tokens, CSRF, injected script, refresh-token reuse — and shows the evidence. "
                <a href=mode.path("compare")>"Compare"</a>
                " puts a session client and a token client side by side; "
                <a href=mode.path("jwt")>"the JWT decoder"</a>
                " takes a token apart. The inspector at the bottom of every page shows what each request carried."
            </p>
        </section>
        <table class="compare">
            <thead>
                <tr>
                    <th></th>
                    <th class:current=mode == AuthMode::Session>"Cookie session"</th>
                    <th class:current=mode == AuthMode::Token>"Bearer token (JWT)"</th>
                </tr>
            </thead>
            <tbody>
                {COMPARISON
                    .iter()
                    .map(|(q, s, t)| {
                        view! {
                            <tr>
                                <th scope="row">{*q}</th>
                                <td>{*s}</td>
                                <td>{*t}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
