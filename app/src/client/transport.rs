//! The custom server-function clients.
//!
//! * [`AuthedClient`] attaches `Authorization: Bearer` in token mode: before each call it asks
//!   the refresher for a token that will not expire in flight (which may refresh first), and the
//!   request leaves this origin's cookies behind, so a session cookie from session mode never
//!   logs a token-mode page in. In session mode it adds nothing — the browser sends the HttpOnly
//!   cookie by itself and script never sees it.
//! * [`InspectedClient`] attaches nothing (logins, refreshes, logouts).
//!
//! Both record each call for the request inspector. On the server (SSR) server functions run
//! in-process and no client is involved, so the plain browser client stands in.

#[cfg(not(feature = "hydrate"))]
pub use leptos::server_fn::client::browser::BrowserClient as AuthedClient;
#[cfg(not(feature = "hydrate"))]
pub use leptos::server_fn::client::browser::BrowserClient as InspectedClient;

#[cfg(feature = "hydrate")]
pub use browser::{AuthedClient, InspectedClient};

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

    use crate::client::{
        inspector::{self, Record},
        refresher,
    };

    /// A server-function client that records each call for the inspector; with `AUTH` it also
    /// attaches the bearer token in token mode.
    #[derive(Debug)]
    pub struct RecordingClient<const AUTH: bool>;

    /// Sends server-function requests with the bearer token attached in token mode.
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
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (credential, credential_bytes, readable) = match &token {
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
        Ok(res)
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
                let token_mode = AUTH && refresher::in_token_mode();
                let token = if token_mode {
                    // Boxed: getting a token may refresh, and the refresh call goes through
                    // this same (generic) client, so its future type would contain itself.
                    let fetch: std::pin::Pin<Box<dyn Future<Output = Option<String>>>> =
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
