//! `GET /api/openapi.json`: the API contract (written by hand, checked against the router by a
//! test so the two cannot drift apart).

use axum::{http::header, response::IntoResponse};

/// The OpenAPI 3.1 document.
pub const DOCUMENT: &str = include_str!("../../openapi.json");

/// Serves [`DOCUMENT`].
pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
