//! One module per page. Every page works in both modes; the auth client does the talking.

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
