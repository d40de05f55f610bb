//! The error every server function returns: a real HTTP status plus the API's `{error, message}`.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use crate::wire::{ErrorBody, FieldError};

/// A failed server-function call, as both ends see it.
///
/// On the server, building one also sets the response's status code and, where the status
/// calls for it, `WWW-Authenticate` or `Retry-After`. (A plain-HTML form post without
/// JavaScript keeps Leptos' redirect-back instead, with the error in the URL.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// HTTP status code.
    pub status: u16,
    /// Stable machine-readable code, as in the JSON API.
    pub error: String,
    /// Human-readable explanation.
    pub message: String,
    /// Per-field problems (validation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Seconds to wait before retrying (429).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The `WWW-Authenticate` challenge (401).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

impl AppError {
    /// An error with a status, a code and a message.
    pub fn new(status: u16, error: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            error: error.into(),
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
            challenge: None,
        }
    }

    /// Builds the error from the JSON API's body and status.
    pub fn from_body(status: u16, body: ErrorBody) -> Self {
        Self {
            fields: body.fields,
            ..Self::new(status, body.error, body.message)
        }
    }

    /// True for 401: the caller is not (or no longer) logged in.
    pub fn is_unauthenticated(&self) -> bool {
        self.status == 401
    }

    /// True when a bearer token was sent and refused (expired, tampered...): worth one refresh.
    pub fn is_invalid_token(&self) -> bool {
        self.status == 401 && self.error == "invalid_token"
    }

    /// The message for one form field, if the server flagged it.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| f.message.clone())
    }

    /// Records this error's status and headers on the current server-function response.
    #[cfg(feature = "ssr")]
    pub fn apply_to_response(&self) {
        use http::{HeaderValue, StatusCode, header};
        use leptos::prelude::use_context;
        use leptos_axum::ResponseOptions;

        let Some(parts) = use_context::<http::request::Parts>() else {
            return;
        };
        // Only a server-function call answers with the error's status. While a page is being
        // rendered, a failed call (say, "not logged in" for the header) is page content.
        if !parts.uri.path().starts_with("/api/") {
            return;
        }
        // A form posted without JavaScript must keep Leptos' 302 back to the form (the error
        // travels in the URL); overriding the status would leave the browser on a blank page.
        if crate::port::is_form_post(&parts) {
            return;
        }
        let Some(response) = use_context::<ResponseOptions>() else {
            return;
        };
        response.set_status(
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        if let Some(value) = self
            .challenge
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok())
        {
            response.insert_header(header::WWW_AUTHENTICATE, value);
        }
        if let Some(secs) = self.retry_after {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let err = match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => Self::new(
                400,
                "bad_request",
                format!("The request was malformed: {msg}"),
            ),
            ServerFnErrorErr::Request(_) => Self::new(
                0,
                "network",
                "The server could not be reached. Check your connection and try again.",
            ),
            ServerFnErrorErr::Deserialization(_) => Self::new(
                502,
                "bad_response",
                "The server's answer could not be read.",
            ),
            // Details of server-side failures stay in the server's log.
            _ => Self::new(500, "internal", "Something went wrong on the server."),
        };
        #[cfg(feature = "ssr")]
        err.apply_to_response();
        err
    }
}
