//! The custom server-function client: in token mode it attaches `Authorization: Bearer`.
//!
//! Before each call it asks the refresher for a token that will not expire in flight (which
//! may refresh first). In session mode it adds nothing: the browser sends the HttpOnly cookie by
//! itself and script never sees it. On the server (SSR) server functions run in-process and no
//! client is involved, so the plain browser client stands in.

#[cfg(not(feature = "hydrate"))]
pub use leptos::server_fn::client::browser::BrowserClient as AuthedClient;

#[cfg(feature = "hydrate")]
pub use browser::AuthedClient;

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::server_fn::{
        Bytes,
        client::{Client, browser::BrowserClient},
        error::FromServerFnError,
        request::browser::BrowserRequest,
        response::browser::BrowserResponse,
    };
    use send_wrapper::SendWrapper;

    use crate::client::refresher;

    /// Sends server-function requests with the bearer token attached in token mode.
    #[derive(Debug)]
    pub struct AuthedClient;

    impl<E, IS, OS> Client<E, IS, OS> for AuthedClient
    where
        E: FromServerFnError,
        IS: FromServerFnError,
        OS: FromServerFnError,
    {
        type Request = BrowserRequest;
        type Response = BrowserResponse;

        fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
            SendWrapper::new(async move {
                if let Some(token) = refresher::access_token().await {
                    req.headers()
                        .set("Authorization", &format!("Bearer {token}"));
                }
                <BrowserClient as Client<E, IS, OS>>::send(req).await
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
