//! Sign-in with OpenID Connect against the real local provider (`tools/oidc`, panva's
//! oidc-provider under Node): each test starts one on a loopback port, registered with the
//! test app's callback, and signs in on its own login and consent pages as a browser would.
//!
//! The provider needs `npm ci` in `tools/oidc` (`scripts/setup.sh` does it); without it these
//! tests fail, saying so.

use std::{net::TcpListener, process::Stdio, time::Duration};

use app::lab::Outcome;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::{
    config::generate_secret,
    lab::{
        client::{Answer, LabClient},
        provider_user::{self, BackFromProvider},
    },
    oidc::{FLOW_COOKIE, HANDOFF_COOKIE},
};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{PASSWORD, Settings, TestApp, spawn_app_with};

on_every_backend!(
    session_mode_ends_in_a_new_authlab_session,
    token_mode_hands_the_pair_over_in_a_body_once,
    a_replayed_or_unbound_state_is_refused,
    linking_adds_a_login_and_never_takes_another_persons,
);

/// The provider's test users (`tools/oidc/provider.mjs`).
const ALICE: (&str, &str) = ("alice", "alice-password");
const BOB: (&str, &str) = ("bob", "bob-password");
const ALICE_SUB: &str = "7c1d6a52-0e7f-4f55-9a51-5d8f0c6b1a01";

/// The local provider, stopped when dropped.
struct LocalProvider {
    issuer: String,
    _child: tokio::process::Child,
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl LocalProvider {
    /// Starts `tools/oidc/provider.mjs` on `port`, with authlab registered as `client_secret`
    /// and `redirect`.
    async fn start(port: u16, client_secret: &str, app_url: &str) -> Self {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tools/oidc");
        assert!(
            std::path::Path::new(&format!("{dir}/node_modules/oidc-provider")).exists(),
            "the local OpenID provider is not installed: run scripts/setup.sh (npm ci in tools/oidc)"
        );
        let mut child = tokio::process::Command::new("node")
            .arg("provider.mjs")
            .current_dir(dir)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CLIENT_SECRET", client_secret)
            .env(
                "OIDC_REDIRECT_URIS",
                format!("{app_url}/auth/oidc/callback"),
            )
            .env(
                "OIDC_POST_LOGOUT_URIS",
                format!("{app_url}/session/login,{app_url}/token/login"),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (Node 20 is installed by the machine's set-up)");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        // Node loads the provider in about a second, but far slower while the rest of the
        // suite hashes passwords on every core: a generous limit, still a bounded wait.
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("reading the provider") {
                if let Some(issuer) = line.strip_prefix("OIDC_PROVIDER_READY issuer=") {
                    return Some(issuer.to_owned());
                }
            }
            None
        })
        .await
        .expect("the provider starts within 60 s")
        .expect("the provider says it is ready");
        // Keep reading its stdout so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            issuer: ready,
            _child: child,
        }
    }
}

/// An app configured for the local provider, and the provider, both on loopback ports.
struct World {
    app: TestApp,
    provider: LocalProvider,
    http: reqwest::Client,
}

async fn world() -> World {
    world_with(Settings::default()).await
}

async fn world_with(settings: Settings) -> World {
    let (app_port, provider_port) = (free_port(), free_port());
    let app_url = format!("http://127.0.0.1:{app_port}");
    let secret = generate_secret();
    let provider = LocalProvider::start(provider_port, &secret, &app_url).await;
    let app = spawn_app_with(
        settings
            .with("LEPTOS_SITE_ADDR", format!("127.0.0.1:{app_port}"))
            .with("PUBLIC_URL", &app_url)
            .with("OIDC_ISSUER", &provider.issuer)
            .with("OIDC_CLIENT_SECRET", &secret)
            .with("OIDC_PROVIDER_NAME", "Test Provider"),
    )
    .await;
    assert_eq!(app.address, app_url);
    World {
        app,
        provider,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
    }
}

impl World {
    /// A browser at the app.
    fn browser(&self, who: &str) -> LabClient {
        LabClient::browser(&self.http, &self.app.address, who)
    }

    /// The same person's browser at the provider (its own cookie jar for that site).
    fn at_provider(&self, who: &str) -> LabClient {
        LabClient::browser(&self.http, &self.provider.issuer, who)
    }

    /// `POST /api/oidc/start`; the authorization URL.
    async fn start(&self, browser: &LabClient, body: Value) -> String {
        let res = browser
            .post("/api/oidc/start", Some(body))
            .await
            .expect("start");
        assert_eq!(res.status(), 200, "start: {}", res.text);
        res.json["authorize_url"]
            .as_str()
            .expect("an authorize_url")
            .to_owned()
    }

    /// Signs in at the provider as `who`; where it sends the browser back.
    async fn sign_in(&self, at: &LabClient, url: &str, who: (&str, &str)) -> BackFromProvider {
        provider_user::sign_in(at, &self.provider.issuer, url, who.0, who.1, false)
            .await
            .expect("signing in at the provider")
    }

    /// Starts a login in `mode` and signs in at the provider: the callback URL (path and
    /// query), not yet visited.
    async fn callback_for(
        &self,
        browser: &LabClient,
        at: &LabClient,
        mode: &str,
        who: (&str, &str),
    ) -> String {
        let url = self.start(browser, json!({ "mode": mode })).await;
        let back = self.sign_in(at, &url, who).await;
        path_of(&back.url, &self.app.address)
    }

    /// A whole session-mode login as `who`: the browser then holds an authlab session.
    async fn session_login(&self, who: (&str, &str)) -> LabClient {
        let browser = self.browser("browser");
        let at = self.at_provider("browser at the provider");
        let callback = self.callback_for(&browser, &at, "session", who).await;
        let landed = browser.get(&callback).await.expect("callback");
        assert_eq!(landed.status(), 303, "callback: {}", landed.text);
        browser
    }

    /// Registers `name` with a password, logs in (session mode), and links the provider account
    /// `who` from the profile: the browser and the callback's answer.
    async fn password_user_links(&self, name: &str, who: (&str, &str)) -> (LabClient, Answer) {
        self.app.register(name).await;
        let browser = self.browser(name);
        let login = browser
            .post(
                "/api/session/login",
                Some(json!({ "username": name, "password": PASSWORD })),
            )
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let url = self
            .start(&browser, json!({ "mode": "session", "link": true }))
            .await;
        let back = self
            .sign_in(
                &self.at_provider(&format!("{name} at the provider")),
                &url,
                who,
            )
            .await;
        let answer = browser
            .get(&path_of(&back.url, &self.app.address))
            .await
            .unwrap();
        (browser, answer)
    }

    /// An attacker starts a login of their own (as bob) and presents the code of `callback`
    /// (someone else's) with their own state and flow: refused, and no login.
    async fn inject_code(&self, callback: &str) {
        let attacker = self.browser("attacker");
        let own = self
            .callback_for(
                &attacker,
                &self.at_provider("attacker at the provider"),
                "session",
                BOB,
            )
            .await;
        let code = param(&format!("http://x{callback}"), "code").expect("a code");
        let injected = with_param(&own, "code", &code);
        assert_eq!(
            refusal(&attacker.get(&injected).await.unwrap()),
            (400, "code_refused".to_owned())
        );
        assert_eq!(me(&attacker).await.0, 401);
    }

    /// The provider's tokens for one login made directly with the app's own registration
    /// (what the callback does), for tests of the back channel.
    async fn direct_code(&self) -> (String, server::oidc::provider::Challenge) {
        let discovered = self.app.state.oidc.discovered().await.expect("discovery");
        let (url, challenge) = discovered.authorize();
        let back = self.sign_in(&self.at_provider("direct"), &url, ALICE).await;
        (param(&back.url, "code").expect("a code"), challenge)
    }
}

fn path_of(url: &str, base: &str) -> String {
    url.strip_prefix(base)
        .unwrap_or_else(|| panic!("the provider sent the browser to {url}, not to {base}"))
        .to_owned()
}

fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn with_param(path: &str, name: &str, value: &str) -> String {
    let mut url = url::Url::parse(&format!("http://x{path}")).expect("a path");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

fn without_param(path: &str, name: &str) -> String {
    let mut url = url::Url::parse(&format!("http://x{path}")).expect("a path");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

/// The refusal page's status and stable code.
fn refusal(answer: &Answer) -> (u16, String) {
    let code = answer
        .text
        .split("data-code=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("(no refusal page)")
        .to_owned();
    (answer.status(), code)
}

/// The `Set-Cookie` (value hidden, attributes kept) an answer sent for `name`.
fn set_cookie<'a>(answer: &'a Answer, name: &str) -> &'a str {
    answer
        .exchange
        .set_cookie
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no Set-Cookie for {name}: {:?}", answer.exchange.set_cookie))
}

async fn me(client: &LabClient) -> (u16, String) {
    let res = client.get("/api/me").await.expect("/api/me");
    (
        res.status(),
        res.json["user"]["username"]
            .as_str()
            .unwrap_or("-")
            .to_owned(),
    )
}

async fn logins_of(client: &LabClient) -> Vec<String> {
    let res = client.get("/api/devices").await.expect("/api/devices");
    assert_eq!(res.status(), 200, "devices: {}", res.text);
    res.json["devices"]
        .as_array()
        .expect("a device list")
        .iter()
        .map(|d| d["login"].as_str().unwrap_or("-").to_owned())
        .collect()
}

// --- both modes, end to end ---------------------------------------------------------------

async fn session_mode_ends_in_a_new_authlab_session() {
    let w = world().await;
    // A browser that already has a session (logged in by password as someone else).
    w.app.register("before").await;
    let browser = w.browser("browser");
    let login = browser
        .post(
            "/api/session/login",
            Some(json!({ "username": "before", "password": PASSWORD })),
        )
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let old_session = browser.cookie("authlab_session").expect("a session cookie");

    let url = w.start(&browser, json!({ "mode": "session" })).await;
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert!(param(&url, "code_challenge").is_some_and(|c| c.len() == 43));
    assert!(param(&url, "state").is_some_and(|s| s.len() >= 16));
    assert!(param(&url, "nonce").is_some_and(|s| s.len() >= 16));
    assert!(url.starts_with(&w.provider.issuer));
    let flow = browser.cookie(FLOW_COOKIE).expect("a flow cookie");
    assert!(flow.len() >= 43, "the flow key is 256 random bits");

    let back = w
        .sign_in(&w.at_provider("browser at the provider"), &url, ALICE)
        .await;
    assert!(
        back.url
            .starts_with(&format!("{}/auth/oidc/callback?", w.app.address))
    );
    assert_eq!(
        param(&back.url, "iss").as_deref(),
        Some(w.provider.issuer.as_str())
    );
    for secret in ["access_token", "id_token", "refresh_token"] {
        assert!(!back.url.contains(secret), "{secret} in {}", back.url);
    }
    let landed = browser
        .get(&path_of(&back.url, &w.app.address))
        .await
        .expect("callback");
    assert_eq!(landed.status(), 303, "{}", landed.text);
    assert_eq!(landed.location.as_deref(), Some("/session/profile"));
    let session_cookie = set_cookie(&landed, "authlab_session");
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
    assert!(
        set_cookie(&landed, FLOW_COOKIE).contains("Max-Age=0"),
        "the flow cookie is cleared"
    );
    let new_session = browser.cookie("authlab_session").expect("a session cookie");
    assert_ne!(
        new_session, old_session,
        "the session id is cycled at login"
    );

    assert_eq!(me(&browser).await, (200, "alice".to_owned()));
    assert_eq!(logins_of(&browser).await, ["provider"]);
    // The old session id is dead.
    let stale = w.browser("the old cookie");
    stale.set_cookie("authlab_session", &old_session);
    assert_eq!(me(&stale).await.0, 401);

    // What authlab keeps: the link, and no flow left behind.
    let linked = w
        .app
        .state
        .oidc
        .identities_of(
            w.app
                .state
                .store
                .users()
                .user_by_name("alice")
                .await
                .unwrap()
                .unwrap()
                .user
                .id,
        )
        .await
        .expect("identities");
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].issuer, w.provider.issuer);
    assert_eq!(linked[0].subject, ALICE_SUB);
    assert_eq!(linked[0].email, "alice@example.test");
    // The account has no password: a password login as `alice` fails like an unknown user.
    let by_password = w
        .browser("password")
        .post(
            "/api/session/login",
            Some(json!({ "username": "alice", "password": "!provider-login-only" })),
        )
        .await
        .unwrap();
    assert_eq!(by_password.status(), 401);
}

async fn token_mode_hands_the_pair_over_in_a_body_once() {
    let w = world().await;
    let page = w.browser("token-mode page");
    let at = w.at_provider("browser at the provider");
    let callback = w.callback_for(&page, &at, "token", ALICE).await;
    let landed = page.get(&callback).await.expect("callback");
    assert_eq!(landed.status(), 303, "{}", landed.text);
    assert_eq!(
        landed.location.as_deref(),
        Some("/token/login?signin=provider")
    );
    let handoff_cookie = set_cookie(&landed, HANDOFF_COOKIE);
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/token",
        "Max-Age=60",
    ] {
        assert!(
            handoff_cookie.contains(attribute),
            "{attribute} in {handoff_cookie}"
        );
    }
    assert!(
        landed
            .exchange
            .set_cookie
            .iter()
            .all(|c| !c.starts_with("authlab_session=")),
        "token mode makes no session"
    );

    let pair = page
        .post("/api/token/oidc/handoff", Some(json!({})))
        .await
        .expect("handoff");
    assert_eq!(pair.status(), 200, "{}", pair.text);
    let access = pair.json["access_token"].as_str().expect("an access token");
    assert!(
        pair.json["refresh_token"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert_eq!(pair.json["token_type"], "Bearer");
    let api = LabClient::app(&w.http, &w.app.address, "api");
    api.set_authorization(Some(format!("Bearer {access}")));
    assert_eq!(me(&api).await, (200, "alice".to_owned()));
    assert_eq!(logins_of(&api).await, ["provider"]);

    let again = page
        .post("/api/token/oidc/handoff", Some(json!({})))
        .await
        .expect("handoff");
    assert_eq!(again.status(), 401);
    assert_eq!(again.json["error"], "invalid_grant");

    // A handoff left for longer than a minute is gone.
    let late = w.browser("late page");
    let callback = w.callback_for(&late, &at, "token", ALICE).await;
    assert_eq!(late.get(&callback).await.unwrap().status(), 303);
    w.app.advance(Duration::from_secs(61));
    let expired = late
        .post("/api/token/oidc/handoff", Some(json!({})))
        .await
        .unwrap();
    assert_eq!(expired.status(), 401);
}

// --- the attacks --------------------------------------------------------------------------

async fn a_replayed_or_unbound_state_is_refused() {
    let w = world().await;
    let browser = w.browser("victim");
    let at = w.at_provider("victim at the provider");
    let callback = w.callback_for(&browser, &at, "session", ALICE).await;
    let captured = browser.cookie(FLOW_COOKIE).expect("flow cookie");
    // Someone else's browser with the URL alone: the state is bound to the victim's browser.
    let stranger = w.browser("stranger");
    assert_eq!(
        refusal(&stranger.get(&callback).await.unwrap()),
        (400, "no_login_in_progress".to_owned())
    );
    assert_eq!(browser.get(&callback).await.unwrap().status(), 303);
    // The URL and the flow cookie again, after the login finished: single use.
    let attacker = w.browser("attacker");
    attacker.set_cookie(FLOW_COOKIE, &captured);
    assert_eq!(
        refusal(&attacker.get(&callback).await.unwrap()),
        (400, "login_expired_or_used".to_owned())
    );
    assert_eq!(me(&attacker).await.0, 401);

    // A state that is not the one this browser's flow sent.
    let other = w.browser("other");
    let callback = w.callback_for(&other, &at, "session", ALICE).await;
    let tampered = with_param(&callback, "state", "not-the-state");
    assert_eq!(
        refusal(&other.get(&tampered).await.unwrap()),
        (400, "state_mismatch".to_owned())
    );
    // ...and that flow is used up too: the genuine answer now fails.
    assert_eq!(
        refusal(&other.get(&callback).await.unwrap()),
        (400, "no_login_in_progress".to_owned())
    );

    // A flow older than ten minutes has expired.
    let slow = w.browser("slow");
    let callback = w.callback_for(&slow, &at, "session", ALICE).await;
    w.app.advance(Duration::from_secs(601));
    assert_eq!(
        refusal(&slow.get(&callback).await.unwrap()),
        (400, "login_expired_or_used".to_owned())
    );
}

#[tokio::test]
async fn a_code_used_twice_is_refused() {
    let w = world().await;
    let victim = w.browser("victim");
    let at = w.at_provider("victim at the provider");
    let callback = w.callback_for(&victim, &at, "session", ALICE).await;
    assert_eq!(victim.get(&callback).await.unwrap().status(), 303);
    // The attacker starts a login of their own and feeds it the victim's spent code.
    w.inject_code(&callback).await;

    // On the back channel itself: the provider answers invalid_grant the second time.
    let discovered = w.app.state.oidc.discovered().await.unwrap();
    let http = w.app.state.oidc.http().unwrap();
    let (code, challenge) = w.direct_code().await;
    discovered
        .exchange(http, &code, &challenge.verifier, &challenge.nonce)
        .await
        .expect("the first exchange works");
    let second = discovered
        .exchange(http, &code, &challenge.verifier, &challenge.nonce)
        .await
        .expect_err("the second exchange is refused");
    assert!(second.to_string().contains("invalid_grant"), "{second}");
}

#[tokio::test]
async fn a_wrong_code_verifier_is_refused() {
    let w = world().await;
    // A code intercepted before its browser used it, injected into the attacker's own login:
    // the app sends the attacker's verifier, which does not hash to the victim's challenge.
    let victim = w.browser("victim");
    let victim_callback = w
        .callback_for(
            &victim,
            &w.at_provider("victim at the provider"),
            "session",
            ALICE,
        )
        .await;
    w.inject_code(&victim_callback).await;
    // The victim's own login still completes.
    assert_eq!(victim.get(&victim_callback).await.unwrap().status(), 303);
    assert_eq!(me(&victim).await, (200, "alice".to_owned()));

    // Directly: a verifier that is not the one the challenge was made from.
    let discovered = w.app.state.oidc.discovered().await.unwrap();
    let (code, challenge) = w.direct_code().await;
    let refused = discovered
        .exchange(
            w.app.state.oidc.http().unwrap(),
            &code,
            "x".repeat(43).as_str(),
            &challenge.nonce,
        )
        .await
        .expect_err("a wrong verifier is refused");
    assert!(refused.to_string().contains("invalid_grant"), "{refused}");
}

#[tokio::test]
async fn an_id_token_with_another_nonce_or_audience_is_refused() {
    let w = world().await;
    let discovered = w.app.state.oidc.discovered().await.unwrap();
    let http = w.app.state.oidc.http().unwrap();
    // The exchange itself checks the nonce of the login it belongs to.
    let (code, challenge) = w.direct_code().await;
    let refused = discovered
        .exchange(http, &code, &challenge.verifier, "another-login's-nonce")
        .await
        .expect_err("another nonce is refused");
    assert!(refused.to_string().contains("nonce"), "{refused}");

    // A genuine ID token, then checked against another nonce.
    let (code, challenge) = w.direct_code().await;
    let exchanged = discovered
        .exchange(http, &code, &challenge.verifier, &challenge.nonce)
        .await
        .unwrap();
    assert_eq!(exchanged.claims["aud"], "authlab");
    assert_eq!(exchanged.claims["sub"], ALICE_SUB);
    assert!(
        discovered
            .verify_id_token(&exchanged.id_token, &challenge.nonce)
            .is_ok()
    );
    let other = discovered
        .verify_id_token(&exchanged.id_token, "not-this-one")
        .expect_err("refused");
    assert!(other.to_string().contains("nonce"), "{other}");
    // Its signature breaks if one character of its payload changes.
    let mut parts: Vec<String> = exchanged.id_token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].replacen('e', "f", 1);
    let tampered = discovered
        .verify_id_token(&parts.join("."), &challenge.nonce)
        .expect_err("a tampered token is refused");
    assert!(
        tampered.to_string().contains("signature") || tampered.to_string().contains("JWT"),
        "{tampered}"
    );

    // The provider's access token is not an authlab credential.
    let api = LabClient::app(&w.http, &w.app.address, "api with the provider's token");
    api.set_authorization(Some(format!("Bearer {}", exchanged.access_token)));
    assert_eq!(me(&api).await.0, 401);
}

#[tokio::test]
async fn the_lab_experiment_reaches_its_verdict() {
    let w = world().await;
    let report = server::lab::experiments::run(&w.app.state, "oauth")
        .await
        .expect("the experiment runs");
    assert_eq!(
        report.verdict.outcome,
        Outcome::Confirmed,
        "{}",
        report.verdict.text
    );
    let fact = |key: &str| {
        report
            .steps
            .iter()
            .flat_map(|s| s.facts.iter())
            .find(|f| f.key == key)
            .map(|f| f.value.clone())
            .unwrap_or_else(|| panic!("no fact {key}"))
    };
    assert_eq!(fact("code_challenge_method"), "S256");
    assert_eq!(fact("session_me"), "200");
    assert_eq!(fact("session_user"), "alice");
    assert_eq!(fact("state_replay"), "400 login_expired_or_used");
    assert_eq!(fact("state_unbound"), "400 no_login_in_progress");
    assert_eq!(fact("handoff"), "200");
    assert_eq!(fact("handoff_again"), "401");
    assert_eq!(fact("wrong_issuer"), "400 issuer_mismatch");
    assert_eq!(fact("wrong_verifier"), "400 invalid_grant");
    assert_eq!(fact("code_reused"), "400 invalid_grant");
    assert_eq!(fact("id_aud"), "authlab");
    assert!(
        fact("wrong_nonce").contains("nonce"),
        "{}",
        fact("wrong_nonce")
    );
    assert!(
        fact("wrong_audience").contains("audience"),
        "{}",
        fact("wrong_audience")
    );
    assert_eq!(fact("provider_token"), "401");
    assert!(
        report.steps.iter().all(|s| !s.exchanges.is_empty()),
        "every step made real requests"
    );
}

#[tokio::test]
async fn a_response_from_another_issuer_is_refused() {
    let w = world().await;
    let at = w.at_provider("browser at the provider");
    let browser = w.browser("browser");
    let callback = w.callback_for(&browser, &at, "session", ALICE).await;
    let forged = with_param(&callback, "iss", "https://evil.example");
    assert_eq!(
        refusal(&browser.get(&forged).await.unwrap()),
        (400, "issuer_mismatch".to_owned())
    );
    assert_eq!(me(&browser).await.0, 401);
    // This provider always sends `iss`; an answer without it is refused too.
    let browser = w.browser("browser 2");
    let callback = w.callback_for(&browser, &at, "session", ALICE).await;
    let stripped = without_param(&callback, "iss");
    assert_eq!(
        refusal(&browser.get(&stripped).await.unwrap()),
        (400, "issuer_mismatch".to_owned())
    );
}

// --- bad input ----------------------------------------------------------------------------

#[tokio::test]
async fn a_cancelled_sign_in_is_a_403_page() {
    let w = world().await;
    let browser = w.browser("browser");
    let url = w.start(&browser, json!({ "mode": "session" })).await;
    let back = provider_user::sign_in(
        &w.at_provider("at the provider"),
        &w.provider.issuer,
        &url,
        ALICE.0,
        ALICE.1,
        true,
    )
    .await
    .unwrap();
    assert_eq!(param(&back.url, "error").as_deref(), Some("access_denied"));
    let page = browser
        .get(&path_of(&back.url, &w.app.address))
        .await
        .unwrap();
    assert_eq!(refusal(&page), (403, "access_denied".to_owned()));
    assert!(page.text.contains("cancelled at the identity provider"));
    assert_eq!(me(&browser).await.0, 401);
}

#[tokio::test]
async fn garbage_callbacks_get_a_clear_page_never_a_500() {
    let w = world().await;
    let nobody = w.browser("nobody");
    for path in [
        "/auth/oidc/callback",
        "/auth/oidc/callback?code=x&state=y",
        "/auth/oidc/callback?error=access_denied",
    ] {
        assert_eq!(
            refusal(&nobody.get(path).await.unwrap()),
            (400, "no_login_in_progress".to_owned()),
            "{path}"
        );
    }
    let huge = format!("/auth/oidc/callback?code={}", "a".repeat(5000));
    assert_eq!(
        refusal(&nobody.get(&huge).await.unwrap()),
        (400, "bad_callback".to_owned())
    );
    let repeated = "/auth/oidc/callback?state=a&state=b";
    assert_eq!(
        refusal(&nobody.get(repeated).await.unwrap()),
        (400, "bad_callback".to_owned())
    );

    // With a login in progress: an answer with no code, and one with a made-up code.
    let browser = w.browser("browser");
    let at = w.at_provider("at the provider");
    let callback = w.callback_for(&browser, &at, "session", ALICE).await;
    let no_code = without_param(&callback, "code");
    assert_eq!(
        refusal(&browser.get(&no_code).await.unwrap()),
        (400, "no_code".to_owned())
    );
    let callback = w.callback_for(&browser, &at, "session", ALICE).await;
    let made_up = with_param(&callback, "code", "made-up");
    assert_eq!(
        refusal(&browser.get(&made_up).await.unwrap()),
        (400, "code_refused".to_owned())
    );
    let callback = w.callback_for(&browser, &at, "session", ALICE).await;
    let unknown_error = with_param(&without_param(&callback, "code"), "error", "<script>");
    let page = browser.get(&unknown_error).await.unwrap();
    assert_eq!(refusal(&page), (400, "provider_error".to_owned()));
    assert!(!page.text.contains("<script>"));

    // A bad start.
    let bad = browser
        .post("/api/oidc/start", Some(json!({ "mode": "cookie" })))
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let link = browser
        .post(
            "/api/oidc/start",
            Some(json!({ "mode": "session", "link": true })),
        )
        .await
        .unwrap();
    assert_eq!(link.status(), 401, "linking needs a login");
}

#[tokio::test]
async fn an_unreachable_provider_is_a_502_and_none_is_a_404() {
    let closed = free_port();
    let app = spawn_app_with(
        Settings::default()
            .with("OIDC_ISSUER", format!("http://127.0.0.1:{closed}"))
            .with("OIDC_CLIENT_SECRET", generate_secret()),
    )
    .await;
    let http = app.anonymous();
    let info = http.get(app.url("/api/oidc")).send().await.unwrap();
    assert_eq!(info.status(), StatusCode::OK);
    let start = http
        .post(app.url("/api/oidc/start"))
        .header("origin", &app.address)
        .json(&json!({ "mode": "session" }))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::BAD_GATEWAY);
    let body: Value = start.json().await.unwrap();
    assert_eq!(body["error"], "provider_unavailable");

    let plain = spawn_app_with(Settings::default()).await;
    let http = plain.anonymous();
    let info = http.get(plain.url("/api/oidc")).send().await.unwrap();
    assert_eq!(info.status(), StatusCode::NOT_FOUND);
    let body: Value = info.json().await.unwrap();
    assert_eq!(body["error"], "provider_not_configured");
    let start = http
        .post(plain.url("/api/oidc/start"))
        .header("origin", &plain.address)
        .json(&json!({ "mode": "token" }))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::NOT_FOUND);
    let callback = http
        .get(plain.url("/auth/oidc/callback?code=a&state=b"))
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), StatusCode::NOT_FOUND);
}

// --- accounts -----------------------------------------------------------------------------

async fn linking_adds_a_login_and_never_takes_another_persons() {
    let w = world().await;
    // carol (a password user) links bob's provider account from her profile.
    let (carol, linked) = w.password_user_links("carol", BOB).await;
    assert_eq!(linked.status(), 303, "{}", linked.text);
    assert_eq!(
        linked.location.as_deref(),
        Some("/session/profile?linked=provider")
    );
    let links = carol.get("/api/oidc/links").await.unwrap();
    assert_eq!(links.status(), 200);
    assert_eq!(links.json.as_array().unwrap().len(), 1);
    assert_eq!(links.json[0]["email"], "bob@example.test");
    assert_eq!(links.json[0]["issuer"], w.provider.issuer.as_str());

    // Signing in with bob's provider account now logs in as carol — no new user.
    let elsewhere = w.session_login(BOB).await;
    assert_eq!(me(&elsewhere).await, (200, "carol".to_owned()));
    assert!(
        w.app
            .state
            .store
            .users()
            .user_by_name("bob")
            .await
            .unwrap()
            .is_none()
    );

    // dave cannot link the same provider account: 409, and it stays carol's.
    let (dave, taken) = w.password_user_links("dave", BOB).await;
    assert_eq!(refusal(&taken), (409, "conflict".to_owned()));
    assert_eq!(
        me(&dave).await,
        (200, "dave".to_owned()),
        "dave stays logged in as himself"
    );
    let again = w.session_login(BOB).await;
    assert_eq!(me(&again).await, (200, "carol".to_owned()));

    // A local `alice` exists (by password): the provider's alice becomes `alice-2`, not her.
    let local_alice = w.app.register("alice").await;
    let provider_alice = w.session_login(ALICE).await;
    assert_eq!(me(&provider_alice).await, (200, "alice-2".to_owned()));
    let by_password = w.browser("the local alice");
    let res = by_password
        .post(
            "/api/session/login",
            Some(json!({ "username": "alice", "password": PASSWORD })),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me = by_password.get("/api/me").await.unwrap();
    assert_eq!(me.json["user"]["username"], "alice");
    assert_eq!(me.json["user"]["id"], local_alice["id"]);
}

/// Without JavaScript the button is a form post answered by a redirect to the provider; the
/// page's `form-action` allows that origin and no other.
#[tokio::test]
async fn pages_let_forms_lead_to_the_provider_and_nowhere_else() {
    let w = world().await;
    let page = w.browser("page").get("/session/login").await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = w
        .http
        .get(w.app.url("/session/login"))
        .send()
        .await
        .unwrap()
        .headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!("form-action 'self' {};", w.provider.issuer))
            || csp.ends_with(&format!("form-action 'self' {}", w.provider.issuer)),
        "{csp}"
    );
    assert!(
        page.text.contains("Sign in with Test Provider"),
        "the button is rendered on the server"
    );

    let plain = spawn_app_with(Settings::default()).await;
    let csp = plain
        .anonymous()
        .get(plain.url("/session/login"))
        .send()
        .await
        .unwrap()
        .headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.ends_with("form-action 'self'"), "{csp}");
}
