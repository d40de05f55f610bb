//! Integration tests: the real app on port 0, a fresh SQLite database per test, real HTTP.
//!
//! `TEST_LOG=1` shows the server's logs.

mod accounts;
mod bearer;
mod csrf;
mod helpers;
mod lab;
mod pages;
mod session;
mod shared;
