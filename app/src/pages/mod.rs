//! One module per page. Every page works in both modes; the auth client does the talking.
//!
//! Every page but home and login is a **lazy route**: with `cargo leptos build --split` its
//! code (and what only it uses) is cut out of the WASM a first visit downloads, and fetched
//! when it is first shown — on the server, the page's HTML names the pieces it needs so the
//! browser loads them before it hydrates.

/// Declares `$route`, a route that shows `$page` from a lazily loaded piece of the WASM.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        /// The lazily loaded route of this page.
        #[derive(Debug, Clone, Copy)]
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(this: Self) -> leptos::prelude::AnyView {
                let _ = this;
                leptos::prelude::view! { <$page /> }.into_any()
            }
        }
    };
}

pub mod compare;
pub mod devices;
pub mod home;
pub mod jwt;
pub mod lab;
pub mod lab_window;
pub mod login;
pub mod not_found;
pub mod profile;
pub mod register;
pub mod settings;
