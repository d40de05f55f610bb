//! OAuth 2.0 / OpenID Connect: a person proves who they are at the identity provider, and this
//! app then keeps its own session or issues its own tokens. The run signs in at the configured
//! provider (the local one, `tools/oidc`, whose test user it knows) as a browser would, in
//! both modes, then plays the attacker against each check of the flow.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use reqwest::Url;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Result, Run, confirmed, ex, fact, refuted};
use crate::{
    error::ApiError,
    lab::{
        client::{Answer, LabClient, shorten},
        provider_user::{self, BackFromProvider},
    },
    oidc::{Discovered, FLOW_COOKIE},
};
use app::lab::Verdict;

/// The local provider's test user (`tools/oidc/provider.mjs`).
const LOGIN: &str = "alice";
const PASSWORD: &str = "alice-password";
/// The provider's second client, a public one, whose ID tokens this app must refuse.
const OTHER_CLIENT: &str = "other-app";
const OTHER_REDIRECT: &str = "http://127.0.0.1:9/other-app/callback";

/// The query parameters of a URL, by name.
fn param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The path and query of an absolute URL (the lab talks to this server by its own address,
/// whatever `PUBLIC_URL` the provider redirects to).
fn path_and_query(url: &str) -> Result<String> {
    let url = Url::parse(url).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!("the provider redirected to `{url}`: {e}"))
    })?;
    Ok(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    })
}

/// The same URL with one query parameter replaced.
fn with_param(url: &str, name: &str, value: &str) -> Result<String> {
    let mut parsed = Url::parse(url)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("not a URL `{url}`: {e}")))?;
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    Ok(parsed.to_string())
}

fn code_refs(back: &BackFromProvider) -> Vec<&Answer> {
    back.answers.iter().collect()
}

/// A random PKCE verifier and its S256 challenge, for the other client's request.
fn pkce_pair() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Everything the run needs from the configured provider.
struct Setup {
    /// The person's browser at the provider (its cookie jar for that site).
    at_provider: LabClient,
    discovered: std::sync::Arc<Discovered>,
    issuer: String,
    token_path: String,
    client_id: String,
    client_secret: String,
    redirect_url: String,
}

fn setup_of(run: &Run<'_>, discovered: std::sync::Arc<Discovered>) -> Result<Setup> {
    let config = run
        .state
        .config
        .oidc
        .as_ref()
        .ok_or(ApiError::ProviderNotConfigured)?;
    let issuer = discovered.issuer().trim_end_matches('/').to_owned();
    let token_path = discovered
        .token_url()
        .strip_prefix(&issuer)
        .unwrap_or(discovered.token_url())
        .to_owned();
    Ok(Setup {
        at_provider: LabClient::browser(&run.http, &issuer, "you, at the provider"),
        issuer,
        token_path,
        client_id: config.registration.client_id.clone(),
        client_secret: secrecy::ExposeSecret::expose_secret(&config.registration.client_secret)
            .to_owned(),
        redirect_url: config.registration.redirect_url.clone(),
        discovered,
    })
}

impl Setup {
    /// Signs in at the provider as the test user from `url`; where it sends the browser back.
    async fn sign_in(&self, url: &str) -> Result<BackFromProvider> {
        provider_user::sign_in(&self.at_provider, &self.issuer, url, LOGIN, PASSWORD, false).await
    }

    /// `POST /api/oidc/start` by `browser` for `mode`, then the sign-in at the provider: the
    /// start's answer, the authorization URL, and where the provider sent the browser back.
    async fn start_and_sign_in(
        &self,
        browser: &LabClient,
        mode: &str,
    ) -> Result<(Answer, String, BackFromProvider)> {
        let start = browser
            .post("/api/oidc/start", Some(serde_json::json!({ "mode": mode })))
            .await?;
        let url = start.json["authorize_url"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let back = self.sign_in(&url).await?;
        Ok((start, url, back))
    }
}

/// The back channel's token request, sent as this app would send it (client secret in
/// `Authorization: Basic`, RFC 6749 2.3.1), by a lab client whose base is the provider.
async fn token_request(
    back_channel: &LabClient,
    setup: &Setup,
    code: &str,
    verifier: &str,
) -> Result<Answer> {
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        form_encode(&setup.client_id),
        form_encode(&setup.client_secret)
    ));
    back_channel.set_authorization(Some(format!("Basic {credentials}")));
    back_channel
        .post_form(
            &setup.token_path,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &setup.redirect_url),
                ("code_verifier", verifier),
            ],
        )
        .await
}

/// The OAuth error code of a refused token request.
fn oauth_error(answer: &Answer) -> String {
    answer.json["error"].as_str().unwrap_or("-").to_owned()
}

/// The code or error and status of a callback answer, for a fact.
fn refusal_code(answer: &Answer) -> String {
    let code = answer
        .text
        .split("data-code=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("-");
    format!("{} {code}", answer.status())
}

pub(super) async fn oauth(run: &mut Run<'_>) -> Result<Verdict> {
    let discovered = match run.state.oidc.discovered().await {
        Ok(found) => found,
        Err(ApiError::ProviderNotConfigured) => {
            return Ok(refuted(
                "No identity provider is configured (OIDC_ISSUER), so there is nothing to sign \
                 in with. `scripts/run.sh` starts the local one beside the app."
                    .into(),
            ));
        }
        Err(err) => return Err(err),
    };
    let setup = setup_of(run, discovered)?;

    // 1. Session mode, end to end.
    let you = run.browser("you");
    let (start, authorize_url, back) = setup.start_and_sign_in(&you, "session").await?;
    let captured_flow = you.cookie(FLOW_COOKIE).unwrap_or_default();
    run.step(
        "Press “Sign in with …” in session mode: this server keeps a new state, nonce and PKCE \
         code_verifier under a random key (a one-time value, only its hash stored), sets that key \
         as an HttpOnly cookie sent back only to its callback, and sends the browser to the \
         provider with the verifier's S256 hash.",
        ex(&[&start]),
        vec![
            fact("start", "Start", start.status()),
            fact(
                "code_challenge_method",
                "code_challenge_method",
                param(&authorize_url, "code_challenge_method").unwrap_or_else(|| "-".into()),
            ),
            fact(
                "code_challenge",
                "code_challenge",
                param(&authorize_url, "code_challenge").map_or("-".into(), |c| shorten(&c, 8)),
            ),
            fact(
                "state_sent",
                "state and nonce sent",
                param(&authorize_url, "state").is_some()
                    && param(&authorize_url, "nonce").is_some(),
            ),
            fact(
                "authorize",
                "Authorization request",
                shorten(&authorize_url, 60),
            ),
        ],
    );
    let callback_path = path_and_query(&back.url)?;
    let token_in_url = ["access_token", "id_token", "refresh_token"]
        .iter()
        .any(|t| back.url.contains(t));
    run.step(
        format!(
            "At the provider's own pages: its login form (as `{LOGIN}`) and its consent page. It \
             then sends the browser back to this server's callback with a short-lived code, the \
             state, and its own name (`iss`, RFC 9207) — no token travels in the URL."
        ),
        ex(&code_refs(&back)),
        vec![
            fact(
                "code",
                "code in the redirect",
                param(&back.url, "code").map_or("-".into(), |c| shorten(&c, 6)),
            ),
            fact(
                "iss_param",
                "iss in the redirect",
                param(&back.url, "iss").unwrap_or_else(|| "-".into()),
            ),
            fact("token_in_url", "Tokens in the URL", token_in_url),
        ],
    );
    let callback = you.get(&callback_path).await?;
    let me = you.get("/api/me").await?;
    let session_user = me.json["user"]["username"]
        .as_str()
        .unwrap_or("-")
        .to_owned();
    run.step(
        "The callback: this server takes the one-time value (it is gone now), checks state and \
         iss, exchanges the code on the back channel with its secret and the code_verifier, \
         verifies the ID token (signature against the provider's JWKS, iss, aud, exp, nonce, \
         azp), finds the local user linked to (issuer, sub), and starts its own session with a \
         new id. Then /api/me with that session cookie.",
        ex(&[&callback, &me]),
        vec![
            fact("callback", "Callback", callback.status()),
            fact(
                "session_landing",
                "Sent on to",
                callback.location.clone().unwrap_or_else(|| "-".into()),
            ),
            fact("session_me", "/api/me with the new session", me.status()),
            fact("session_user", "Logged in as", &session_user),
        ],
    );

    // 2. The state, replayed.
    let attacker = run.browser("attacker with the captured callback URL and flow cookie");
    attacker.set_cookie(FLOW_COOKIE, &captured_flow);
    let replay = attacker.get(&callback_path).await?;
    let stranger = run.browser("another browser, same URL, no flow cookie");
    let unbound = stranger.get(&callback_path).await?;
    run.step(
        "Replay the callback: an attacker who captured the URL (code and state) and even the flow \
         cookie sends them again; another browser sends the URL without the cookie. The state \
         was single-use and bound to the browser that started the login.",
        ex(&[&replay, &unbound]),
        vec![
            fact("state_replay", "Replayed state", refusal_code(&replay)),
            fact(
                "state_unbound",
                "Without the flow cookie",
                refusal_code(&unbound),
            ),
        ],
    );

    // 3. Token mode: the tokens go to the page in a JSON body, never in a URL.
    let app = run.browser("you, token mode");
    let (start_token, _, back_token) = setup.start_and_sign_in(&app, "token").await?;
    let callback_token = app.get(&path_and_query(&back_token.url)?).await?;
    let landing = callback_token.location.clone().unwrap_or_default();
    let handoff = app
        .post("/api/token/oidc/handoff", Some(serde_json::json!({})))
        .await?;
    let access = handoff.json["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let bearer = run.app("you, token mode, calling the API");
    bearer.set_authorization(Some(format!("Bearer {access}")));
    let token_me = bearer.get("/api/me").await?;
    let again = app
        .post("/api/token/oidc/handoff", Some(serde_json::json!({})))
        .await?;
    let landing_clean = !["access_token", "id_token", "refresh_token", "code=", "#"]
        .iter()
        .any(|t| landing.contains(t));
    run.step(
        "Token mode: the provider already knows you (its own session cookie), so it sends the \
         browser straight back. The callback sends the page on with a one-minute HttpOnly \
         handoff cookie, sent only to /api/token; the page trades it for this server's token \
         pair in a JSON body — once.",
        ex(&[&start_token, &callback_token, &handoff, &token_me, &again]),
        vec![
            fact("token_landing", "Sent on to", &landing),
            fact(
                "token_landing_clean",
                "Landing URL free of tokens and codes",
                landing_clean,
            ),
            fact("handoff", "Handoff", handoff.status()),
            fact(
                "token_me",
                "/api/me with the new access token",
                token_me.status(),
            ),
            fact("handoff_again", "Handoff again", again.status()),
        ],
    );

    // 4. Mix-up: a response that names another issuer.
    let mixed = run.browser("you, with a response from another issuer");
    let (_, _, back_mixed) = setup.start_and_sign_in(&mixed, "session").await?;
    let forged = with_param(&back_mixed.url, "iss", "https://evil.example")?;
    let mix_up = mixed.get(&path_and_query(&forged)?).await?;
    run.step(
        "Mix-up: the answer comes back naming another issuer (`iss=https://evil.example`), as it \
         would if an attacker's provider had been slipped into the login. The callback stops \
         before the code is sent anywhere.",
        ex(&[&mix_up]),
        vec![fact(
            "wrong_issuer",
            "Another issuer",
            refusal_code(&mix_up),
        )],
    );

    // 5. The back channel, done by hand with this app's own registration.
    let (url, challenge) = setup.discovered.authorize();
    let back_rp = setup.sign_in(&url).await?;
    let code = param(&back_rp.url, "code").unwrap_or_default();
    let back_channel = LabClient::app(&run.http, &setup.issuer, "this server's back channel");
    let wrong_verifier = token_request(&back_channel, &setup, &code, &pkce_pair().0).await?;
    let exchange = token_request(&back_channel, &setup, &code, &challenge.verifier).await?;
    let reused = token_request(&back_channel, &setup, &code, &challenge.verifier).await?;
    let id_token = exchange.json["id_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let provider_access = exchange.json["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let claims = super::decode_part(&id_token, 1);
    let claim = |name: &str| match &claims[name] {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let verified = setup
        .discovered
        .verify_id_token(&id_token, &challenge.nonce);
    run.step(
        "The back channel, step by step (what the callback does): send a code with a wrong \
         code_verifier, then with the right one, then the same code again. The ID token that \
         came back, and its claims:",
        ex(&[&wrong_verifier, &exchange, &reused]),
        vec![
            fact(
                "wrong_verifier",
                "Wrong code_verifier",
                format!(
                    "{} {}",
                    wrong_verifier.status(),
                    oauth_error(&wrong_verifier)
                ),
            ),
            fact("exchange", "Right code_verifier", exchange.status()),
            fact(
                "code_reused",
                "The same code again",
                format!("{} {}", reused.status(), oauth_error(&reused)),
            ),
            fact("id_iss", "iss", claim("iss")),
            fact("id_aud", "aud", claim("aud")),
            fact("id_sub", "sub", claim("sub")),
            fact(
                "id_nonce",
                "nonce",
                claim("nonce").chars().take(12).collect::<String>() + "…",
            ),
            fact("id_verified", "ID token verifies", verified.is_ok()),
        ],
    );

    // 6. ID tokens that must not be accepted, and the provider's access token.
    let wrong_nonce = setup
        .discovered
        .verify_id_token(&id_token, &pkce_pair().0)
        .err()
        .map_or("accepted".into(), |e| e.to_string());
    let other_token = other_client_id_token(&run.http, &setup).await?;
    let other_aud = setup
        .discovered
        .verify_id_token(&other_token.0, &other_token.1)
        .err()
        .map_or("accepted".into(), |e| e.to_string());
    let with_provider_token = run.app("a client with the provider's access token");
    with_provider_token.set_authorization(Some(format!("Bearer {provider_access}")));
    let provider_at_me = with_provider_token.get("/api/me").await?;
    run.step(
        format!(
            "Present ID tokens that must fail: the one above with another login's nonce, and a \
             genuine one the provider issued to `{OTHER_CLIENT}` (another app, with its own \
             nonce). Then call this server's API with the provider's access token: it is for the \
             provider's APIs, not this app's."
        ),
        ex(&[&provider_at_me]),
        vec![
            fact("wrong_nonce", "Another nonce", &wrong_nonce),
            fact("wrong_audience", "Issued to another app", &other_aud),
            fact(
                "provider_token",
                "/api/me with the provider's access token",
                provider_at_me.status(),
            ),
        ],
    );

    let refused = |a: &Answer, code: &str| a.status() == 400 && a.text.contains(code);
    let held = start.status() == 200
        && param(&authorize_url, "code_challenge_method").as_deref() == Some("S256")
        && !token_in_url
        && callback.status() == 303
        && me.status() == 200
        && refused(&replay, "login_expired_or_used")
        && refused(&unbound, "no_login_in_progress")
        && callback_token.status() == 303
        && landing_clean
        && handoff.status() == 200
        && token_me.status() == 200
        && again.status() == 401
        && refused(&mix_up, "issuer_mismatch")
        && oauth_error(&wrong_verifier) == "invalid_grant"
        && exchange.status() == 200
        && oauth_error(&reused) == "invalid_grant"
        && verified.is_ok()
        && wrong_nonce != "accepted"
        && other_aud != "accepted"
        && provider_at_me.status() == 401;
    Ok(if held {
        confirmed(format!(
            "You signed in at the provider as `{LOGIN}` and this server then kept its own \
             session ({session_user}, /api/me {}) or issued its own token pair (handoff {}, /api/me \
             {}); nothing secret travelled in a URL. Every attack failed: replayed state {}, \
             state without its cookie {}, another issuer {}, wrong code_verifier {} {}, code \
             used twice {} {}, an ID token with another nonce or for another app refused, and \
             the provider's access token got {} here.",
            me.status(),
            handoff.status(),
            token_me.status(),
            replay.status(),
            unbound.status(),
            mix_up.status(),
            wrong_verifier.status(),
            oauth_error(&wrong_verifier),
            reused.status(),
            oauth_error(&reused),
            provider_at_me.status(),
        ))
    } else {
        refuted(format!(
            "Something did not hold: start {}, tokens in the provider's redirect {token_in_url}, \
             callback {}, /api/me {}, replay {}, unbound {}, token callback {} to `{landing}`, \
             handoff {} then {}, mix-up {}, wrong verifier {}, exchange {}, reuse {}, wrong \
             nonce: {wrong_nonce}, other audience: {other_aud}, provider token {}.",
            start.status(),
            callback.status(),
            me.status(),
            refusal_code(&replay),
            refusal_code(&unbound),
            callback_token.status(),
            handoff.status(),
            again.status(),
            refusal_code(&mix_up),
            oauth_error(&wrong_verifier),
            exchange.status(),
            oauth_error(&reused),
            provider_at_me.status(),
        ))
    })
}

/// A genuine ID token the provider issued to its other, public client (PKCE, no secret), and
/// the nonce it carries.
async fn other_client_id_token(http: &reqwest::Client, setup: &Setup) -> Result<(String, String)> {
    let (verifier, challenge) = pkce_pair();
    let nonce = pkce_pair().0;
    let mut authorize = setup.discovered.authorization_endpoint();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", OTHER_CLIENT)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("redirect_uri", OTHER_REDIRECT)
        .append_pair("state", &pkce_pair().0)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let back = setup.sign_in(authorize.as_str()).await?;
    let code = param(&back.url, "code").ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "the provider gave `{OTHER_CLIENT}` no code"
        ))
    })?;
    let other = LabClient::app(http, &setup.issuer, OTHER_CLIENT);
    let answer = other
        .post_form(
            &setup.token_path,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", OTHER_REDIRECT),
                ("client_id", OTHER_CLIENT),
                ("code_verifier", &verifier),
            ],
        )
        .await?;
    let token = answer.json["id_token"].as_str().ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "the provider gave `{OTHER_CLIENT}` no ID token ({})",
            answer.status()
        ))
    })?;
    Ok((token.to_owned(), nonce))
}
