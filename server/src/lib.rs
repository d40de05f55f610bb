//! authlab's server: an axum app serving the Leptos UI and the JSON API, with cookie-session
//! and bearer-token authentication side by side.

pub mod accounts;
pub mod api;
pub mod api_server;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod cleanup;
pub mod client;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod csrf;
pub mod devices;
pub mod error;
pub mod fuzzing;
pub mod headers;
pub mod hosts;
pub mod inspect;
pub mod lab;
pub mod locale;
pub mod notes;
pub mod oidc;
pub mod password;
pub mod settings;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod timing;
pub mod ui;
