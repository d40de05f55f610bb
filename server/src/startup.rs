//! Building the application: state, router, listener.

use std::{
    net::SocketAddr,
    sync::{Arc, LazyLock},
    time::Duration,
};

use anyhow::Context;
use app::{App, shell};
use axum::{
    Router,
    body::Body,
    extract::DefaultBodyLimit,
    http::{HeaderValue, Request, StatusCode, header},
    middleware,
    response::{Redirect, Response},
    routing::get,
};
use leptos::{
    config::LeptosOptions,
    prelude::{provide_context, use_context},
};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use tracing::Span;

use crate::{
    accounts::Accounts,
    api, assets,
    audit::Audit,
    auth::{
        bearer::AccessTokens,
        keys::{KeySource, StoredKeys},
        opaque::OpaqueTokens,
        refresh::RefreshTokens,
        session::Sessions,
        tokens::Tokens,
    },
    cleanup,
    clock::{Clock, SystemClock},
    cluster,
    config::Config,
    csrf,
    devices::Devices,
    headers, hosts, lab, locale,
    notes::Notes,
    oidc::Oidc,
    password::PasswordHasher,
    settings::Settings,
    state::{AppState, Shared},
    store::{Store, sessions::cache::RevocableStore},
    throttle::Throttle,
    timing, ui,
};

/// The session cookie's name. With `Secure` it takes the `__Host-` prefix, which makes the
/// browser refuse it unless it is also `Path=/` with no `Domain` — it cannot be planted by a
/// sibling subdomain.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-authlab_session"
    } else {
        "authlab_session"
    }
}

/// Builds the shared state: opens and migrates the store, starts the hashing threads, wires
/// the services to the pieces each needs.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let site = assets::Site::open(&config.site_root, &config.output_name)?;
    let store = Store::open(&config.store).await?;
    let hasher = PasswordHasher::start(config.password_hash_threads)?;
    let leptos = LeptosOptions::builder()
        .output_name(config.output_name.clone())
        .site_root(config.site_root.clone())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        // Leptos reads the hash list to name the hashed files in each page (an absolute path:
        // it is joined to the executable's folder).
        .hash_files(site.hash_file.is_some())
        .hash_file(
            site.hash_file
                .as_deref()
                .map_or_else(|| assets::HASH_FILE.into(), |p| p.to_string_lossy().into()),
        )
        .build();
    let settings = Arc::new(Settings::new(&config, store.events.clone()));
    // The counters' key salt comes from a configured secret, so servers sharing Redis meet.
    let throttle = Arc::new(Throttle::new(
        &config.throttle,
        Arc::clone(&store.counters),
        Arc::clone(&clock),
        crate::config::expose(&config.token.refresh_secret).as_bytes(),
    ));
    let audit = Audit::new(store.audit());
    let session_store = RevocableStore::new(
        store.sessions.clone(),
        config.session.cache_for,
        store.events.clone(),
    );
    let accounts = Accounts::new(
        store.users(),
        hasher,
        Arc::clone(&throttle),
        audit.clone(),
        Arc::clone(&clock),
    );
    let devices = Devices::new(
        store.session_index(),
        session_store.clone(),
        store.families(),
        store.opaque(),
        Arc::clone(&settings),
        audit.clone(),
        Arc::clone(&clock),
    );
    let sessions = Sessions::new(
        devices.clone(),
        audit.clone(),
        Arc::clone(&clock),
        config.session.clone(),
    );
    let signing_keys = Arc::new(StoredKeys::new(
        store.keys(),
        config.token.algorithm,
        config.token.jwt_secret.clone(),
        Arc::clone(&clock),
    ));
    let access_tokens = Arc::new(
        AccessTokens::new(
            (&config.token).into(),
            Arc::clone(&signing_keys) as Arc<dyn KeySource>,
        )
        .await
        .context("loading the signing keys")?,
    );
    let refresh_tokens = Arc::new(RefreshTokens::new(
        store.families(),
        audit.clone(),
        &config.token,
    ));
    let tokens = Tokens::new(
        accounts.clone(),
        devices.clone(),
        Arc::clone(&refresh_tokens),
        Arc::clone(&access_tokens),
        audit.clone(),
        Arc::clone(&clock),
        config.session.cookie_secure,
    );
    let oidc = Oidc::new(
        config.oidc.clone(),
        store.external_logins(),
        store.users(),
        audit.clone(),
        Arc::clone(&clock),
        config.session.cookie_secure,
    )?;
    let opaque = OpaqueTokens::new(
        store.opaque(),
        accounts.clone(),
        devices.clone(),
        audit,
        Arc::clone(&clock),
    );
    let notes = Notes::new(store.notes(), Arc::clone(&clock));
    Ok(AppState::new(Shared {
        store,
        session_store,
        accounts,
        sessions,
        devices,
        access_tokens,
        signing_keys,
        refresh_tokens,
        tokens,
        opaque,
        oidc,
        notes,
        throttle,
        settings,
        clock,
        hosts: hosts::AllowedHosts::default(),
        lab: Arc::new(lab::LabState::default()),
        leptos,
        site,
        config: Arc::new(config),
    }))
}

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The app's routes, listed once per process. Listing them renders the app with resource
/// loading switched off through a process-wide flag; doing it while another server in the
/// same process (the test suite runs hundreds) is rendering a page would leave that page's
/// resources unloaded, and its response waiting forever.
static ROUTES: LazyLock<Vec<leptos_axum::AxumRouteListing>> = LazyLock::new(|| {
    generate_route_list(App)
        .into_iter()
        .filter(|route| !SHORTCUTS.iter().any(|(from, _)| route.path() == *from))
        .collect()
});

/// Paths that only lead to a page of one mode. The app's router redirects them in the
/// browser; on the server they are plain 302s for every client — a `curl`, a crawler or a
/// browser without JavaScript gets somewhere instead of an empty page (leptos_axum would answer
/// a request that does not accept HTML with an empty 200).
const SHORTCUTS: [(&str, &str); 3] = [
    ("/", "/session"),
    ("/lab", "/session/lab"),
    ("/compare", "/session/compare"),
];

/// The whole app as one router: JSON API, server functions, pages, static files.
pub fn router(state: AppState) -> Router {
    let config = &state.config;
    let sessions = SessionManagerLayer::new(state.session_store.clone())
        .with_name(session_cookie_name(config.session.cookie_secure))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.session.cookie_secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(config.session.idle_timeout).unwrap_or(time::Duration::HOUR),
        ));

    let port = ui::port(state.clone());
    let routes = ROUTES.clone();
    let render_context = move || {
        provide_context(port.clone());
        // The page's scripts carry the nonce its Content-Security-Policy names.
        if let Some(nonce) = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<headers::CspNonce>().cloned())
        {
            provide_context(leptos::nonce::Nonce::from_value(nonce.0));
        }
    };
    let leptos_options = state.leptos.clone();

    let shortcuts = SHORTCUTS.iter().fold(Router::new(), |router, (from, to)| {
        router.route(from, get(move || async move { Redirect::to(to) }))
    });

    Router::new()
        .merge(api::routes())
        .merge(shortcuts)
        .merge(assets::routes(&config.site_root))
        .leptos_routes_with_context(
            &state,
            routes,
            render_context,
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), lab::gate))
        .layer(middleware::from_fn_with_state(state.clone(), locale::apply))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::protect))
        .layer(sessions)
        .layer(middleware::map_response(no_store_for_api))
        .layer(middleware::from_fn(timing::server_timing))
        // Bodies are small JSON; anything bigger is refused before it is read (413).
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), headers::secure))
        .layer(middleware::from_fn_with_state(state.clone(), hosts::check))
        .layer(
            TraceLayer::new_for_http()
                // Method and path only: a query string could carry a token.
                .make_span_with(|req: &Request<Body>| {
                    tracing::info_span!("request", method = %req.method(), path = req.uri().path())
                })
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _span: &Span| {
                    tracing::debug!(status = res.status().as_u16(), ?latency, "response");
                }),
        )
        .with_state(state)
}

/// API answers are about credentials and users: never cache them (unless the handler chose
/// otherwise: the public JWKS is meant to be cached).
async fn no_store_for_api(mut res: Response) -> Response {
    if res.headers().contains_key(header::CACHE_CONTROL) {
        return res;
    }
    if res.headers().get(header::CONTENT_TYPE).is_some_and(|ct| {
        ct.to_str()
            .is_ok_and(|ct| ct.starts_with("application/json"))
    }) || res.status() == StatusCode::NO_CONTENT
    {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// A built, bound application, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    attacker: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl Application {
    /// Builds the state and binds `LEPTOS_SITE_ADDR` (port 0 picks a free one).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with a chosen clock (tests).
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let addr = config.site_addr;
        let state = build_state(config, clock).await?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        let local = listener.local_addr().context("reading the bound address")?;
        let own_ip = if local.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            local.ip()
        };
        state
            .lab
            .set_self_url(format!("http://{}", SocketAddr::new(own_ip, local.port())));
        state.hosts.set(hosts::allowed_hosts(
            &state.config.public_url,
            &state.config.allowed_hosts,
            local.port(),
            state.config.profile == crate::config::Profile::Development,
        ));
        let attacker = if state.config.lab_switches {
            let (port, serve) = lab::attacker::bind(state.config.lab_attacker_addr).await?;
            state.lab.set_attacker_port(port);
            Some(Box::pin(serve) as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>)
        } else {
            None
        };
        let router = router(state.clone());
        Ok(Self {
            listener,
            router,
            state,
            attacker,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The shared state (tests inspect the database through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process is stopped, with background cleanup running.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        cleanup::spawn(self.state.clone());
        cluster::spawn(self.state.clone()).await?;
        if let Some(attacker) = self.attacker {
            tokio::spawn(attacker);
        }
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")
    }
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            term.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
