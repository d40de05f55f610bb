//! authlab's UI: pages, components, the auth client, wire types and server functions.
//!
//! Every page exists twice, once per auth mode, and the mode is part of the URL:
//! `/session/profile` and `/token/profile` are the same page talking to the server in the two
//! ways the lab compares.

// The lab's views nest deeply; monomorphising them needs more than the default 128 levels.
#![recursion_limit = "512"]

pub mod client;
pub mod components;
pub mod error;
pub mod fns;
pub mod format;
pub mod lab;
pub mod mode;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod port;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{Link, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    Lazy, MatchNestedRoutes, SsrMode, StaticSegment,
    components::{ParentRoute, Redirect, Route, Router, Routes},
};

use crate::{
    components::layout::ModeLayout,
    mode::AuthMode,
    pages::{
        compare::CompareRoute, devices::DevicesPage, home::HomePage, jwt::JwtRoute, lab::LabRoute,
        lab_window::LabWindowRoute, login::LoginPage, not_found::NotFound, profile::ProfilePage,
        register::RegisterPage, settings::SettingsPage,
    },
};

/// The HTML document around the app (server side only renders it).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The app: `/` goes to session mode; every page lives under `/session` and `/token`.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/authlab.css" />
        <Link rel="icon" href="/favicon.ico" />
        <Title text="authlab" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=StaticSegment("") view=|| view! { <Redirect path="/session" /> } />
                <Route path=StaticSegment("lab") view=|| view! { <Redirect path="/session/lab" /> } />
                <Route
                    path=StaticSegment("compare")
                    view=|| view! { <Redirect path="/session/compare" /> }
                />
                <Route path=StaticSegment("lab-window") view={Lazy::<LabWindowRoute>::new()} />
                <ModeRoutes mode=AuthMode::Session />
                <ModeRoutes mode=AuthMode::Token />
            </Routes>
        </Router>
    }
}

/// The pages of one mode, under `/{mode}`.
///
/// Rendered with `SsrMode::Async`: the server waits for its data before sending the page, so
/// a session-mode page arrives complete (readable without JavaScript) and an unauthenticated
/// request can still be answered with a redirect.
#[component(transparent)]
fn ModeRoutes(mode: AuthMode) -> impl MatchNestedRoutes + Clone {
    view! {
        <ParentRoute
            path=StaticSegment(mode.segment())
            view=move || view! { <ModeLayout mode /> }
            ssr=SsrMode::Async
        >
            <Route path=StaticSegment("") view=HomePage />
            <Route path=StaticSegment("login") view=LoginPage />
            <Route path=StaticSegment("register") view=RegisterPage />
            <Route path=StaticSegment("profile") view=ProfilePage />
            <Route path=StaticSegment("devices") view=DevicesPage />
            <Route path=StaticSegment("settings") view=SettingsPage />
            // Split out of the first download (see `pages`).
            <Route path=StaticSegment("lab") view={Lazy::<LabRoute>::new()} />
            <Route path=StaticSegment("compare") view={Lazy::<CompareRoute>::new()} />
            <Route path=StaticSegment("jwt") view={Lazy::<JwtRoute>::new()} />
        </ParentRoute>
    }
    .into_inner()
}
