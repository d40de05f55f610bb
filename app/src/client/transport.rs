//! The one way the browser sends requests.
//!
//! * [`AuthedClient`] — the server-function client for calls that need the user. Inside a
//!   token-mode call ([`with_bearer`], which only [`TokenClient`](super::token::TokenClient)
//!   uses) it attaches `Authorization: Bearer`: before each call it asks the refresher for a
//!   token that will not expire in flight (which may refresh first), and the request leaves
//!   this origin's cookies behind, so a session cookie never logs a token-mode call in.
//!   Elsewhere it adds nothing — the browser sends the HttpOnly session cookie by itself and
//!   script never sees it.
//! * [`InspectedClient`] attaches nothing (logins, refreshes, logouts).
//! * [`send_plain`] — a hand-made request (a forged token, a stolen one replayed "from
//!   another machine").
//!
//! All of them record each exchange for the request inspector. On the server (SSR) server
//! functions run in-process and no client is involved, so the plain browser client stands in.

#[cfg(not(feature = "hydrate"))]
pub use leptos::server_fn::client::browser::BrowserClient as AuthedClient;
#[cfg(not(feature = "hydrate"))]
pub use leptos::server_fn::client::browser::BrowserClient as InspectedClient;

#[cfg(feature = "hydrate")]
pub use browser::{AuthedClient, InspectedClient, send_plain, with_bearer};

/// A request that is not a server-function call — what the JWT decoder and the lab send on
/// purpose, such as a forged token or a stolen one replayed "from another machine". It travels
/// without this origin's cookies.
#[derive(Debug, Clone, Copy)]
pub struct PlainRequest<'a> {
    /// `GET` without a body, `POST` with one.
    pub path: &'a str,
    /// Sent as `Authorization: Bearer <token>`.
    pub bearer: Option<&'a str>,
    /// Sent as `application/json`.
    pub json: Option<&'a str>,
}

/// What came back from a [`PlainRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainResponse {
    /// HTTP status.
    pub status: u16,
    /// HTTP status text.
    pub status_text: String,
    /// The `WWW-Authenticate` challenge, empty when there is none.
    pub www_authenticate: String,
    /// The body as text.
    pub body: String,
}

/// Why a [`PlainRequest`] got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainFailure {
    /// Not in a browser window.
    NoWindow,
    /// The browser refused to build the request.
    BadRequest,
    /// The request was sent and failed (network, CORS).
    RequestFailed,
    /// What came back was not a response.
    NoResponse,
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::server_fn::{
        Bytes,
        client::{Client, browser::BrowserClient},
        error::FromServerFnError,
        request::browser::BrowserRequest,
        response::{ClientRes, browser::BrowserResponse},
    };
    use send_wrapper::SendWrapper;

    use std::{
        cell::Cell,
        pin::Pin,
        task::{Context, Poll},
    };

    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::{PlainFailure, PlainRequest, PlainResponse};
    use crate::client::{
        inspector::{self, Record},
        refresher,
    };

    thread_local! {
        /// How many token-mode calls are being polled right now (see [`with_bearer`]).
        static BEARER_SCOPE: Cell<u32> = const { Cell::new(0) };
    }

    /// Runs `call` as a token-mode call: every [`AuthedClient`] request it makes carries the
    /// bearer token and no cookies. The scope holds only while `call` itself is being polled,
    /// so calls of the other mode running at the same time are not affected.
    pub async fn with_bearer<F: Future>(call: F) -> F::Output {
        BearerScope(Box::pin(call)).await
    }

    struct BearerScope<F>(Pin<Box<F>>);

    impl<F: Future> Future for BearerScope<F> {
        type Output = F::Output;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            BEARER_SCOPE.with(|depth| depth.set(depth.get() + 1));
            let polled = self.0.as_mut().poll(cx);
            BEARER_SCOPE.with(|depth| depth.set(depth.get() - 1));
            polled
        }
    }

    fn in_bearer_scope() -> bool {
        BEARER_SCOPE.with(Cell::get) > 0
    }

    /// A server-function client that records each call for the inspector; with `AUTH` it also
    /// attaches the bearer token inside [`with_bearer`].
    #[derive(Debug)]
    pub struct RecordingClient<const AUTH: bool>;

    /// Sends server-function requests with the bearer token attached in token-mode calls.
    pub type AuthedClient = RecordingClient<true>;

    /// Sends server-function requests as they are, recording them for the inspector.
    pub type InspectedClient = RecordingClient<false>;

    fn path_of(url: &str) -> String {
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        after_scheme
            .find('/')
            .map_or_else(|| "/".to_owned(), |i| after_scheme[i..].to_owned())
    }

    /// Makes the request travel without cookies (`credentials: "omit"`): a copy of it with that
    /// one setting changed takes its place (a `Request`'s credentials mode is fixed once made).
    fn omit_cookies(req: &mut BrowserRequest) {
        let init = web_sys::RequestInit::new();
        init.set_credentials(web_sys::RequestCredentials::Omit);
        let Ok(placeholder) = web_sys::Request::new_with_str("/") else {
            return;
        };
        let original: web_sys::Request = std::mem::replace(&mut **req, placeholder.into()).into();
        **req = match web_sys::Request::new_with_request_and_init(&original, &init) {
            Ok(without_cookies) => without_cookies.into(),
            Err(_) => original.into(),
        };
    }

    async fn send_recorded<E, IS, OS>(
        mut req: BrowserRequest,
        token_mode: bool,
        token: Option<String>,
    ) -> Result<BrowserResponse, E>
    where
        E: FromServerFnError,
        IS: FromServerFnError,
        OS: FromServerFnError,
    {
        if token_mode {
            omit_cookies(&mut req);
        }
        if let Some(token) = &token {
            req.headers()
                .set("Authorization", &format!("Bearer {token}"));
        }
        let method = req.method().to_string();
        let path = path_of(&req.url());
        let res = <BrowserClient as Client<E, IS, OS>>::send(req).await?;
        let status = <BrowserResponse as ClientRes<E>>::status(&res);
        let headers = res.generate_headers();
        record(method, path, status, token.as_deref(), |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        Ok(res)
    }

    /// Sends a [`PlainRequest`] (recorded for the inspector like every call).
    pub async fn send_plain(plain: PlainRequest<'_>) -> Result<PlainResponse, PlainFailure> {
        let init = web_sys::RequestInit::new();
        init.set_method(if plain.json.is_some() { "POST" } else { "GET" });
        init.set_credentials(web_sys::RequestCredentials::Omit);
        let headers = web_sys::Headers::new().map_err(|_| PlainFailure::BadRequest)?;
        if let Some(token) = plain.bearer {
            let _ = headers.set("Authorization", &format!("Bearer {token}"));
        }
        if let Some(json) = plain.json {
            let _ = headers.set("Content-Type", "application/json");
            init.set_body(&JsValue::from_str(json));
        }
        init.set_headers(&headers);
        let window = web_sys::window().ok_or(PlainFailure::NoWindow)?;
        let request = web_sys::Request::new_with_str_and_init(plain.path, &init)
            .map_err(|_| PlainFailure::BadRequest)?;
        let res: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(|_| PlainFailure::RequestFailed)?
            .dyn_into()
            .map_err(|_| PlainFailure::NoResponse)?;
        let header = |name: &str| res.headers().get(name).ok().flatten();
        record(
            request.method(),
            path_of(&request.url()),
            res.status(),
            plain.bearer,
            header,
        );
        let body = match res.text() {
            Ok(text) => JsFuture::from(text)
                .await
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        Ok(PlainResponse {
            status: res.status(),
            status_text: res.status_text(),
            www_authenticate: header("www-authenticate").unwrap_or_default(),
            body,
        })
    }

    /// Records one exchange for the inspector; the token, if any, shown only by its start.
    fn record(
        method: String,
        path: String,
        status: u16,
        token: Option<&str>,
        header: impl Fn(&str) -> Option<String>,
    ) {
        let (credential, credential_bytes, readable) = match token {
            Some(token) => {
                let shown: String = token.chars().take(16).collect();
                let bytes = "Authorization: Bearer ".len() + token.len();
                (
                    format!("Authorization: Bearer {shown}… ({bytes} B)"),
                    bytes,
                    true,
                )
            }
            None => {
                let (text, bytes) = inspector::parse_credential_echo(
                    &header("x-authlab-credential").unwrap_or_default(),
                );
                (text, bytes, false)
            }
        };
        inspector::push(Record {
            seq: 0,
            method,
            path,
            status,
            credential,
            credential_bytes,
            readable,
            set_cookie: header("x-authlab-set-cookie"),
            www_authenticate: header("www-authenticate"),
            timing: inspector::parse_timing(&header("server-timing").unwrap_or_default()),
        });
    }

    impl<const AUTH: bool, E, IS, OS> Client<E, IS, OS> for RecordingClient<AUTH>
    where
        E: FromServerFnError,
        IS: FromServerFnError,
        OS: FromServerFnError,
    {
        type Request = BrowserRequest;
        type Response = BrowserResponse;

        fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
            SendWrapper::new(async move {
                let token_mode = AUTH && in_bearer_scope();
                let token = if token_mode {
                    // Boxed: getting a token may refresh, and the refresh call goes through
                    // this same (generic) client, so its future type would contain itself.
                    let fetch: Pin<Box<dyn Future<Output = Option<String>>>> =
                        Box::pin(refresher::access_token());
                    fetch.await
                } else {
                    None
                };
                send_recorded::<E, IS, OS>(req, token_mode, token).await
            })
        }

        fn open_websocket(
            path: &str,
        ) -> impl Future<
            Output = Result<
                (
                    impl futures::Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                    impl futures::Sink<Bytes> + Send + 'static,
                ),
                E,
            >,
        > + Send {
            <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
        }

        fn spawn(future: impl Future<Output = ()> + Send + 'static) {
            <BrowserClient as Client<E, IS, OS>>::spawn(future);
        }
    }
}
