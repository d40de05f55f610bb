//! The experiments the server runs: each is a short script of real HTTP requests against this
//! server's own address, made by lab clients with their own cookie jars and tokens, for
//! throwaway users — so running one never touches the visitor's own login. Each step records
//! its requests and measurements; the run ends in a verdict with the numbers.
//!
//! The two browser experiments (CSRF, injected script) run in a lab window in the browser
//! instead; see `app::pages::lab_window`.

use std::{
    str::FromStr,
    time::{Duration, Instant},
};

use app::lab::{
    Bar, Chart, Exchange, Fact, Lane, Limit, Mark, Outcome, Report, RunsIn, Step, Verdict,
    experiment,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{Rng, RngCore};
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Answer, LabClient};
use crate::{
    auth::keys::throwaway_key, error::ApiError, settings::Switches, state::AppState,
    store::Footprint,
};

mod oauth;
mod scale;

type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Runs experiment `id` and reports. One experiment at a time (they flip global switches);
/// the switches are restored afterwards whatever happens.
pub async fn run(state: &AppState, id: &str) -> Result<Report> {
    super::require_switches(state)?;
    let info = experiment(id).ok_or(ApiError::NotFound)?;
    if info.runs_in == RunsIn::Browser {
        return Err(ApiError::BadRequest(format!(
            "`{id}` runs in the browser's lab window, not on the server"
        )));
    }
    let _one_at_a_time = state.lab.run_lock.lock().await;
    let mut run = Run::new(state)?;
    let outcome = match id {
        "no-credential" => no_credential(&mut run).await,
        "credential-contents" => credential_contents(&mut run).await,
        "stolen-cookie" => stolen_cookie(&mut run).await,
        "stolen-token" => stolen_token(&mut run).await,
        "forgery" => forgery(&mut run).await,
        "refresh-reuse" => refresh_reuse(&mut run).await,
        "server-state" => server_state(&mut run).await,
        "wire-bytes" => wire_bytes(&mut run).await,
        "sliding-session" => sliding_session(&mut run).await,
        "single-session" => single_session(&mut run).await,
        "opaque-token" => opaque_token(&mut run).await,
        "scoped-token" => scoped_token(&mut run).await,
        "leaked-secret" => leaked_secret(&mut run).await,
        "shared-store" => scale::shared_store(&mut run).await,
        "api-server" => scale::api_server(&mut run).await,
        "logout-everywhere" => scale::logout_everywhere(&mut run).await,
        "oauth" => oauth::oauth(&mut run).await,
        _ => Err(ApiError::NotFound),
    };
    // Whatever happened, the run's overrides end with it (they would expire by themselves).
    for user in &run.accounts {
        state.settings.clear_for(*user);
    }
    let verdict = outcome?;
    tracing::info!(experiment = id, outcome = ?verdict.outcome, "lab experiment finished");
    Ok(Report {
        id: id.to_owned(),
        took_ms: run.elapsed_ms(),
        steps: run.steps,
        charts: run.charts,
        verdict,
    })
}

/// A run in progress: its clients, steps and charts.
struct Run<'a> {
    state: &'a AppState,
    http: reqwest::Client,
    base: String,
    started: Instant,
    steps: Vec<Step>,
    charts: Vec<Chart>,
    /// The throwaway users this run made (their switch overrides end with the run).
    accounts: Vec<i64>,
}

fn fact(key: &str, label: &str, value: impl ToString) -> Fact {
    Fact {
        key: key.into(),
        label: label.into(),
        value: value.to_string(),
    }
}

fn ex(answers: &[&Answer]) -> Vec<Exchange> {
    answers.iter().map(|a| a.exchange.clone()).collect()
}

fn confirmed(text: String) -> Verdict {
    Verdict {
        outcome: Outcome::Confirmed,
        text,
    }
}

fn refuted(text: String) -> Verdict {
    Verdict {
        outcome: Outcome::Refuted,
        text,
    }
}

/// A throwaway account.
struct Account {
    id: i64,
    username: String,
    password: String,
}

impl Account {
    fn creds(&self) -> Value {
        json!({ "username": self.username, "password": self.password })
    }
}

/// Registers a new throwaway user (`lab-xxxxxxxx`, a random password) through `client`, on
/// whichever server it talks to.
async fn register(client: &LabClient) -> Result<Account> {
    let suffix: String = (0..8)
        .map(|_| char::from(b'a' + rand::rng().random_range(0..26u8)))
        .collect();
    let mut secret = [0u8; 18];
    rand::rng().fill_bytes(&mut secret);
    let account = Account {
        id: 0,
        username: format!("lab-{suffix}"),
        password: URL_SAFE_NO_PAD.encode(secret),
    };
    let res = client
        .post("/api/auth/register", Some(account.creds()))
        .await?;
    let id = res.json["id"].as_i64().ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "registering a lab user answered {}",
            res.status()
        ))
    })?;
    Ok(Account { id, ..account })
}

/// The `dur` of the `auth` entry of a `Server-Timing` header, in microseconds.
fn auth_micros(exchange: &Exchange) -> Option<f64> {
    timing_micros(exchange, "auth")
}

/// The `dur` of the first `Server-Timing` entry named `metric`, in microseconds.
fn timing_micros(exchange: &Exchange, metric: &str) -> Option<f64> {
    let timing = exchange.server_timing.as_deref()?;
    timing
        .split(',')
        .map(str::trim)
        .find(|m| m.split(';').next() == Some(metric))?
        .split(';')
        .find_map(|p| p.trim().strip_prefix("dur="))?
        .parse::<f64>()
        .ok()
        .map(|ms| ms * 1000.0)
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn decode_part(token: &str, index: usize) -> Value {
    token
        .split('.')
        .nth(index)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

impl<'a> Run<'a> {
    fn new(state: &'a AppState) -> Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("lab client: {e}")))?;
        Ok(Self {
            base: state.lab.self_url()?.to_owned(),
            state,
            http,
            started: Instant::now(),
            steps: Vec::new(),
            charts: Vec::new(),
            accounts: Vec::new(),
        })
    }

    /// Changes the lab switches for one of this run's users (nobody else), until the run ends.
    fn switch(&self, user: i64, change: impl FnOnce(&mut Switches)) {
        let mut switches = self.state.settings.for_user(Some(user));
        change(&mut switches);
        self.state
            .settings
            .set_for(user, switches, crate::settings::OVERRIDE_LIFETIME);
    }

    fn elapsed_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }

    /// A browser: sends `Origin` on unsafe requests and keeps cookies.
    fn browser(&self, actor: &str) -> LabClient {
        LabClient::browser(&self.http, &self.base, actor)
    }

    /// An app or a script: no `Origin`.
    fn app(&self, actor: &str) -> LabClient {
        LabClient::app(&self.http, &self.base, actor)
    }

    fn step(&mut self, text: impl Into<String>, exchanges: Vec<Exchange>, facts: Vec<Fact>) {
        self.steps.push(Step {
            text: text.into(),
            exchanges,
            facts,
        });
    }

    /// Registers a new throwaway user (`lab-xxxxxxxx`) on this server.
    async fn account(&mut self) -> Result<Account> {
        let account = register(&self.app("lab")).await?;
        self.accounts.push(account.id);
        Ok(account)
    }

    async fn session_login(&self, client: &LabClient, account: &Account) -> Result<Answer> {
        client
            .post("/api/session/login", Some(account.creds()))
            .await
    }

    /// Token login; the client keeps the access token. Returns the answer and refresh token.
    async fn token_login(
        &self,
        client: &LabClient,
        account: &Account,
        extra: Value,
    ) -> Result<(Answer, String)> {
        let mut body = account.creds();
        let path = if extra
            .as_object()
            .is_some_and(|o| o.contains_key("access_ttl_secs"))
        {
            "/api/lab/token-login"
        } else {
            "/api/token/login"
        };
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let res = client.post(path, Some(body)).await?;
        let access = res.json["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let refresh = res.json["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !access.is_empty() {
            client.set_authorization(Some(format!("Bearer {access}")));
        }
        Ok((res, refresh))
    }

    /// Session records (rows or keys) and their bytes, for these users, as the session
    /// backend stores them.
    async fn session_footprint(&self, ids: &[i64]) -> Result<Footprint> {
        let mut total = Footprint::default();
        for user in ids {
            for (_, session_id) in self.state.devices.index().sessions_of(*user).await? {
                let Ok(id) = tower_sessions::session::Id::from_str(&session_id) else {
                    continue;
                };
                if let Some(bytes) = self.state.store.sessions.size_of(&id).await? {
                    total.rows += 1;
                    total.bytes += bytes;
                }
            }
        }
        Ok(total)
    }

    /// Refresh-token rows (families and tokens) and their bytes, for these users.
    async fn token_footprint(&self, ids: &[i64]) -> Result<Footprint> {
        Ok(self.state.store.census().token_footprint(ids).await?)
    }
}

// --- the experiments ----------------------------------------------------------------------

async fn no_credential(run: &mut Run<'_>) -> Result<Verdict> {
    let account = run.account().await?;
    let you = run.browser("you");
    let login = run.session_login(&you, &account).await?;
    let with = you.get("/api/me").await?;
    run.step(
        "Log in with a cookie session, then call /api/me carrying the cookie.",
        ex(&[&login, &with]),
        vec![fact(
            "with_credential",
            "/api/me with the cookie",
            with.status(),
        )],
    );
    let bare = run.app("the same request, without the cookie");
    let without = bare.get("/api/me").await?;
    let challenge = without
        .exchange
        .www_authenticate
        .clone()
        .unwrap_or_default();
    run.step(
        "Send the very same request without any credential.",
        ex(&[&without]),
        vec![
            fact("without_credential", "/api/me without it", without.status()),
            fact("challenge", "WWW-Authenticate", &challenge),
        ],
    );
    Ok(if with.status() == 200 && without.status() == 401 {
        confirmed(format!(
            "With the cookie: 200 as {}. Without it: 401 and `WWW-Authenticate: {challenge}`. \
             Nothing but the credential in the request made it \"logged in\".",
            account.username
        ))
    } else {
        refuted(format!(
            "Expected 200 then 401, got {} then {}.",
            with.status(),
            without.status()
        ))
    })
}

async fn credential_contents(run: &mut Run<'_>) -> Result<Verdict> {
    let account = run.account().await?;
    let browser = run.browser("browser");
    let login = run.session_login(&browser, &account).await?;
    let cookie = browser
        .cookie_header()
        .and_then(|c| c.split_once('=').map(|(_, v)| v.to_owned()))
        .unwrap_or_default();
    let decoded = URL_SAFE_NO_PAD
        .decode(cookie.trim_end_matches('='))
        .map(|b| b.len());
    let cookie_meaning = match decoded {
        Ok(n) => format!("{n} random bytes, no structure"),
        Err(_) => "not base64: no structure".into(),
    };
    run.step(
        "Log in with a session and look at the cookie's value.",
        ex(&[&login]),
        vec![
            fact(
                "cookie_chars",
                "Session id length",
                format!("{} characters", cookie.len()),
            ),
            fact("cookie_meaning", "What it decodes to", &cookie_meaning),
        ],
    );
    let app = run.app("app");
    let (token_login, _) = run.token_login(&app, &account, json!({})).await?;
    let access = token_login.json["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let header = decode_part(&access, 0);
    let claims = decode_part(&access, 1);
    let claim_names: Vec<String> = claims
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let payload_text = claims.to_string();
    let secret_inside = ["password", "hash", "argon2"]
        .iter()
        .any(|w| payload_text.to_ascii_lowercase().contains(w));
    run.step(
        "Log in with tokens and decode the access token's header and payload (base64url, no key needed).",
        ex(&[&token_login]),
        vec![
            fact("jwt_header", "Header", header.to_string()),
            fact("jwt_payload", "Payload", &payload_text),
            fact("jwt_claims", "Claims", claim_names.join(", ")),
            fact("secret_inside", "Password or hash inside", if secret_inside { "yes" } else { "no" }),
        ],
    );
    Ok(
        if !cookie.is_empty() && claims.is_object() && !secret_inside {
            confirmed(format!(
                "The session cookie is {} characters of randomness ({cookie_meaning}): without the \
             server's store it means nothing. The JWT's payload decodes without any key and shows \
             {} — readable by anyone holding it, and nothing secret in it.",
                cookie.len(),
                claim_names.join(", ")
            ))
        } else {
            refuted("The credentials did not look as claimed.".into())
        },
    )
}

async fn stolen_cookie(run: &mut Run<'_>) -> Result<Verdict> {
    let account = run.account().await?;
    let victim = run.browser("victim's laptop");
    let login = run.session_login(&victim, &account).await?;
    let thief = run.app("thief");
    thief.steal_from(&victim);
    let stolen = thief.get("/api/me").await?;
    run.step(
        "The victim logs in; a thief copies the session cookie and calls /api/me from another machine.",
        ex(&[&login, &stolen]),
        vec![fact("thief_before", "Thief's request with the copied cookie", stolen.status())],
    );
    let phone = run.browser("victim's phone");
    let phone_login = run.session_login(&phone, &account).await?;
    let devices = phone.get("/api/devices").await?;
    let laptop = devices.json["devices"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|d| d["current"] == false && d["kind"] == "session")
                .and_then(|d| d["id"].as_str())
        })
        .unwrap_or_default()
        .to_owned();
    let revoke = phone
        .send(Method::DELETE, &format!("/api/devices/{laptop}"), None, &[])
        .await?;
    let started = Instant::now();
    let after = thief.get("/api/me").await?;
    let latency = started.elapsed().as_secs_f64() * 1000.0;
    let victim_after = victim.get("/api/me").await?;
    run.step(
        "From the phone, the victim revokes the laptop's session; the thief tries again at once.",
        ex(&[&phone_login, &devices, &revoke, &after, &victim_after]),
        vec![
            fact("revoke", "Revoking the session", revoke.status()),
            fact("thief_after", "Thief's next request", after.status()),
            fact(
                "after_ms",
                "Time from revocation to refusal",
                format!("{latency:.1} ms"),
            ),
        ],
    );
    Ok(
        if stolen.status() == 200 && revoke.status() == 204 && after.status() == 401 {
            confirmed(
                "The copied cookie made the thief the victim (200) until the victim revoked that \
             session; the thief's very next request got 401. The server forgot the session, so \
             the cookie now names nothing."
                    .into(),
            )
        } else {
            refuted(format!(
                "Thief before: {}, revoke: {}, thief after: {}.",
                stolen.status(),
                revoke.status(),
                after.status()
            ))
        },
    )
}

/// Replays `thief`'s token every 250 ms until refused (or `limit`); returns the marks.
async fn replay_until_refused(
    run: &Run<'_>,
    thief: &LabClient,
    limit: Duration,
) -> Result<(Vec<Mark>, Option<f64>, usize, Answer)> {
    let started = Instant::now();
    let mut marks = Vec::new();
    let mut accepted = 0;
    loop {
        let res = thief.get("/api/me").await?;
        let at = run.elapsed_ms();
        let ok = res.status() == 200;
        marks.push(Mark {
            at_ms: at,
            ok,
            label: format!("{} at {:.1} s", res.status(), at / 1000.0),
        });
        if ok {
            accepted += 1;
        } else {
            return Ok((marks, Some(at), accepted, res));
        }
        if started.elapsed() > limit {
            return Ok((marks, None, accepted, res));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn stolen_token(run: &mut Run<'_>) -> Result<Verdict> {
    const TTL: u64 = 2;
    let leeway = run.state.config.token.leeway_secs;
    let account = run.account().await?;
    let victim = run.app("victim");
    let issued_at = run.elapsed_ms();
    let (login, refresh) = run
        .token_login(&victim, &account, json!({ "access_ttl_secs": TTL }))
        .await?;
    let thief = run.app("thief");
    thief.steal_from(&victim);
    let logout_at = run.elapsed_ms();
    let logout = victim
        .post(
            "/api/token/logout",
            Some(json!({ "refresh_token": refresh })),
        )
        .await?;
    let (marks, refused_at, accepted, last) =
        replay_until_refused(run, &thief, Duration::from_secs(TTL + leeway + 5)).await?;
    let window = refused_at.map_or(f64::NAN, |t| (t - logout_at) / 1000.0);
    run.step(
        format!(
            "The victim logs in with a {TTL}-second access token; a thief copies it; the victim \
             logs out; the thief replays the token every 250 ms."
        ),
        ex(&[&login, &logout, &last]),
        vec![
            fact(
                "accepted_after_logout",
                "Replays accepted after logout",
                accepted,
            ),
            fact(
                "window_s",
                "Acceptance window after logout",
                format!("{window:.1} s"),
            ),
            fact("leeway_s", "Clock-skew leeway", format!("{leeway} s")),
        ],
    );
    let default_lane = Lane {
        label: "Stateless (default)".into(),
        marks,
        limits: vec![
            Limit {
                at_ms: logout_at,
                label: "logout".into(),
            },
            Limit {
                at_ms: issued_at + (TTL * 1000) as f64,
                label: "exp".into(),
            },
            Limit {
                at_ms: issued_at + ((TTL + leeway) * 1000) as f64,
                label: "exp + leeway".into(),
            },
        ],
    };

    run.switch(account.id, |s| s.strict_token_check = true);
    let victim2 = run.app("victim (strict)");
    let (login2, refresh2) = run
        .token_login(&victim2, &account, json!({ "access_ttl_secs": TTL }))
        .await?;
    let thief2 = run.app("thief (strict)");
    thief2.steal_from(&victim2);
    let before2 = thief2.get("/api/me").await?;
    let logout2_at = run.elapsed_ms();
    let logout2 = victim2
        .post(
            "/api/token/logout",
            Some(json!({ "refresh_token": refresh2 })),
        )
        .await?;
    let after2 = thief2.get("/api/me").await?;
    let after2_at = run.elapsed_ms();
    run.switch(account.id, |s| s.strict_token_check = false);
    run.step(
        "The same with strict checking on: every bearer request looks its login up in the store.",
        ex(&[&login2, &before2, &logout2, &after2]),
        vec![
            fact(
                "strict_after_logout",
                "First replay after logout (strict)",
                after2.status(),
            ),
            fact(
                "strict_store",
                "Server-Timing of the replay before logout",
                before2.exchange.server_timing.clone().unwrap_or_default(),
            ),
        ],
    );
    let end = run.elapsed_ms();
    run.charts.push(Chart::Timeline {
        title: "A stolen access token replayed after logout".into(),
        note: if window.is_nan() {
            "The stolen token was never refused while the thief kept trying.".into()
        } else {
            format!(
                "Every green dot after the logout line is the thief getting in: {window:.1} s of \
                 access after logout. With strict checking the first replay after logout got {}.",
                after2.status()
            )
        },
        end_ms: end,
        lanes: vec![
            default_lane,
            Lane {
                label: "Strict checking".into(),
                marks: vec![
                    Mark {
                        at_ms: logout2_at - 1.0,
                        ok: before2.status() == 200,
                        label: format!("{} before logout", before2.status()),
                    },
                    Mark {
                        at_ms: after2_at,
                        ok: after2.status() == 200,
                        label: format!("{} after logout", after2.status()),
                    },
                ],
                limits: vec![Limit {
                    at_ms: logout2_at,
                    label: "logout".into(),
                }],
            },
        ],
    });
    Ok(
        if accepted > 0 && refused_at.is_some() && after2.status() == 401 {
            confirmed(format!(
                "After logout the stolen token still worked for {window:.1} s ({accepted} accepted \
             replays): the rest of its {TTL} s lifetime plus the server's {leeway} s clock-skew \
             leeway. Nothing on the server remembered the logout. With strict checking the first \
             replay after logout got 401 — because every request then looks the login up in the \
             store, as a session does."
            ))
        } else {
            refuted(format!(
                "Accepted after logout: {accepted}; refused: {}; strict replay: {}.",
                refused_at.is_some(),
                after2.status()
            ))
        },
    )
}

async fn forgery(run: &mut Run<'_>) -> Result<Verdict> {
    let account = run.account().await?;
    let app = run.app("you");
    let (login, _) = run.token_login(&app, &account, json!({})).await?;
    let token = login.json["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = decode_part(&token, 1);
    let attacker = run.app("attacker");

    claims["name"] = json!("admin");
    claims["exp"] = json!(claims["exp"].as_i64().unwrap_or(0) + 86_400);
    let edited = URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = format!(
        "{}.{edited}.{}",
        parts.first().unwrap_or(&""),
        parts.get(2).unwrap_or(&"")
    );
    attacker.set_authorization(Some(format!("Bearer {tampered}")));
    let r_tampered = attacker.get("/api/me").await?;

    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    attacker.set_authorization(Some(format!("Bearer {none_header}.{edited}.")));
    let r_none = attacker.get("/api/me").await?;

    // The real header (algorithm, type, key id), signed with a key of the right kind that the
    // server never issued.
    let header = jsonwebtoken::decode_header(&token)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading the header: {e}")))?;
    let wrong_key = throwaway_key(run.state.config.token.algorithm);
    let forged = jsonwebtoken::encode(&header, &claims, &wrong_key)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing: {e}")))?;
    attacker.set_authorization(Some(format!("Bearer {forged}")));
    let r_wrong = attacker.get("/api/me").await?;

    let original = app.get("/api/me").await?;
    run.step(
        "Make three altered tokens from a real one: payload edited (name admin, a day more), alg \
         none without a signature, and signed with a key the server does not know. Then send the \
         untouched original.",
        ex(&[&login, &r_tampered, &r_none, &r_wrong, &original]),
        vec![
            fact("tampered", "Edited payload", r_tampered.status()),
            fact("alg_none", "alg none", r_none.status()),
            fact("wrong_key", "Wrong key", r_wrong.status()),
            fact("original", "The original", original.status()),
        ],
    );
    let all_refused = [&r_tampered, &r_none, &r_wrong]
        .iter()
        .all(|r| r.status() == 401);
    Ok(if all_refused && original.status() == 200 {
        confirmed(
            "All three altered tokens got 401 `invalid_token` (signature mismatch, algorithm not \
             allowed, signature mismatch); the original still got 200. The signature covers the \
             header and payload, and the server decides the algorithm, not the token."
                .into(),
        )
    } else {
        refuted(format!(
            "Edited {}, none {}, wrong key {}, original {}.",
            r_tampered.status(),
            r_none.status(),
            r_wrong.status(),
            original.status()
        ))
    })
}

async fn refresh_reuse(run: &mut Run<'_>) -> Result<Verdict> {
    let grace = run.state.config.token.refresh_grace;
    let account = run.account().await?;
    let you = run.app("you");
    let (login, first) = run.token_login(&you, &account, json!({})).await?;
    let before = you.get("/api/devices").await?;
    let rotated = you
        .post(
            "/api/token/refresh",
            Some(json!({ "refresh_token": first })),
        )
        .await?;
    let newest = rotated.json["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if let Some(access) = rotated.json["access_token"].as_str() {
        you.set_authorization(Some(format!("Bearer {access}")));
    }
    let thief = run.app("thief");
    let inside = thief
        .post(
            "/api/token/refresh",
            Some(json!({ "refresh_token": first })),
        )
        .await?;
    let same_pair = inside.json["refresh_token"].as_str() == Some(newest.as_str());
    run.step(
        "Log in, rotate the refresh token, and present the spent one again inside the grace window.",
        ex(&[&login, &before, &rotated, &inside]),
        vec![
            fact("inside_grace", "Spent token inside the grace window", inside.status()),
            fact("same_pair", "It got the current pair", if same_pair { "yes" } else { "no" }),
        ],
    );
    tokio::time::sleep(grace + Duration::from_millis(300)).await;
    let after = thief
        .post(
            "/api/token/refresh",
            Some(json!({ "refresh_token": first })),
        )
        .await?;
    let newest_after = you
        .post(
            "/api/token/refresh",
            Some(json!({ "refresh_token": newest })),
        )
        .await?;
    let devices_after = you.get("/api/devices").await?;
    let count = |a: &Answer| {
        a.json["devices"]
            .as_array()
            .map_or(0, |d| d.iter().filter(|d| d["kind"] == "token").count())
    };
    run.step(
        format!(
            "Wait out the {} s grace window and present the spent token again; then the newest one; \
             then list the devices.",
            grace.as_secs()
        ),
        ex(&[&after, &newest_after, &devices_after]),
        vec![
            fact("after_grace", "Spent token after the grace window", after.status()),
            fact("newest_after", "The newest token after that", newest_after.status()),
            fact("devices_before", "Token logins listed before", count(&before)),
            fact("devices_after", "Token logins listed after", count(&devices_after)),
        ],
    );
    Ok(
        if inside.status() == 200
            && same_pair
            && after.status() == 401
            && newest_after.status() == 401
            && count(&devices_after) == 0
        {
            confirmed(format!(
                "Inside the {} s grace window the spent token got the current pair (a lost \
                 response or a second tab is not theft). After it, the same replay revoked the \
                 whole login: the newest refresh token was refused too, and the login left the \
                 devices list ({} → {}).",
                grace.as_secs(),
                count(&before),
                count(&devices_after)
            ))
        } else {
            refuted(format!(
                "Inside grace {}, after grace {}, newest {}, devices {} → {}.",
                inside.status(),
                after.status(),
                newest_after.status(),
                count(&before),
                count(&devices_after)
            ))
        },
    )
}

async fn server_state(run: &mut Run<'_>) -> Result<Verdict> {
    const USERS: usize = 8;
    let mut accounts = Vec::new();
    for _ in 0..USERS {
        accounts.push(run.account().await?);
    }
    let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();

    let mut exchanges = Vec::new();
    for account in &accounts {
        let browser = run.browser(&account.username);
        let res = run.session_login(&browser, account).await?;
        exchanges.push(res.exchange);
    }
    let Footprint {
        rows: session_rows,
        bytes: session_bytes,
    } = run.session_footprint(&ids).await?;
    exchanges.truncate(2);
    run.step(
        format!("Log {USERS} new users in with cookie sessions and count what the server now stores for them."),
        exchanges,
        vec![
            fact("session_rows", "Session records (rows or keys)", session_rows),
            fact("session_bytes", "Session store bytes", session_bytes),
            fact("storage", "Where this server keeps them", super::storage_description(run.state)),
        ],
    );
    let mut exchanges = Vec::new();
    for account in &accounts {
        let app = run.app(&account.username);
        let (res, _) = run.token_login(&app, account, json!({})).await?;
        exchanges.push(res.exchange);
    }
    exchanges.truncate(2);
    let session_rows_after = run.session_footprint(&ids).await?.rows;
    let Footprint {
        rows: token_rows,
        bytes: token_bytes,
    } = run.token_footprint(&ids).await?;
    run.step(
        format!("Log the same {USERS} users in with tokens and count again."),
        exchanges,
        vec![
            fact("access_token_rows", "Rows for access tokens", 0),
            fact(
                "session_rows_after",
                "Session store rows (unchanged)",
                session_rows_after,
            ),
            fact(
                "token_rows",
                "Refresh-token rows (families + tokens)",
                token_rows,
            ),
            fact("token_bytes", "Refresh-token bytes", token_bytes),
        ],
    );
    run.charts.push(Chart::Bars {
        title: format!("Rows stored for {USERS} logged-in users"),
        note: format!(
            "Access tokens need no row; the refresh tokens that make a token login revocable \
             need {token_rows}, against {session_rows} for the sessions."
        ),
        unit: "rows".into(),
        bars: vec![
            Bar {
                label: "Session store".into(),
                value: session_rows as f64,
                kind: "session".into(),
            },
            Bar {
                label: "Access tokens".into(),
                value: 0.0,
                kind: "bearer".into(),
            },
            Bar {
                label: "Refresh tokens".into(),
                value: token_rows as f64,
                kind: "bearer".into(),
            },
        ],
    });
    run.charts.push(Chart::Bars {
        title: format!("Bytes stored for {USERS} logged-in users"),
        note: format!(
            "{session_bytes} bytes of session records against {token_bytes} bytes of \
             refresh-token rows: both modes keep state for a login that can be revoked."
        ),
        unit: "bytes".into(),
        bars: vec![
            Bar {
                label: "Session store".into(),
                value: session_bytes as f64,
                kind: "session".into(),
            },
            Bar {
                label: "Access tokens".into(),
                value: 0.0,
                kind: "bearer".into(),
            },
            Bar {
                label: "Refresh tokens".into(),
                value: token_bytes as f64,
                kind: "bearer".into(),
            },
        ],
    });
    let expected = i64::try_from(USERS).unwrap_or(0);
    Ok(if session_rows == expected && token_rows == 2 * expected {
        Verdict {
            outcome: Outcome::Partly,
            text: format!(
                "{USERS} session logins stored {session_rows} records ({session_bytes} bytes). \
                 {USERS} token logins stored nothing for their access tokens — but {token_rows} \
                 rows ({token_bytes} bytes) for their refresh tokens: a login you can revoke is \
                 server state in either mode. Only a bare access token is stateless, and it \
                 cannot be revoked."
            ),
        }
    } else {
        refuted(format!(
            "Expected {expected} session rows and {} token rows, found {session_rows} and {token_rows}.",
            2 * expected
        ))
    })
}

async fn wire_bytes(run: &mut Run<'_>) -> Result<Verdict> {
    let account = run.account().await?;
    let browser = run.browser("session");
    let login = run.session_login(&browser, &account).await?;
    let session_me = browser.get("/api/me").await?;
    let app = run.app("bearer");
    let (_, _) = run.token_login(&app, &account, json!({})).await?;
    let bearer_me = app.get("/api/me").await?;
    let opaque = run.app("opaque");
    let opaque_login = opaque
        .post("/api/opaque/login", Some(account.creds()))
        .await?;
    let opaque_token = opaque_login.json["token"].as_str().unwrap_or_default();
    opaque.set_authorization(Some(format!("Token {opaque_token}")));
    let opaque_me = opaque.get("/api/me").await?;
    let bytes = |a: &Answer| a.exchange.credential.as_ref().map_or(0, |c| c.bytes);
    let (cookie, jwt, token) = (bytes(&session_me), bytes(&bearer_me), bytes(&opaque_me));
    let set_cookie_bytes = login.exchange.set_cookie.first().map_or(0, |c| c.len());
    run.step(
        "Call /api/me once with each credential and measure the header that carries it.",
        ex(&[&session_me, &bearer_me, &opaque_me]),
        vec![
            fact("cookie_bytes", "Cookie (session id)", format!("{cookie} B")),
            fact(
                "jwt_bytes",
                "Authorization: Bearer (JWT)",
                format!("{jwt} B"),
            ),
            fact(
                "opaque_bytes",
                "Authorization: Token (opaque)",
                format!("{token} B"),
            ),
            fact(
                "set_cookie_bytes",
                "Set-Cookie at login (once)",
                format!("~{set_cookie_bytes} B"),
            ),
        ],
    );
    let ratio = jwt as f64 / cookie.max(1) as f64;
    run.charts.push(Chart::Bars {
        title: "Credential bytes on every request".into(),
        note: format!(
            "The JWT header is {ratio:.1}× the session cookie, and it travels with every request."
        ),
        unit: "bytes".into(),
        bars: vec![
            Bar {
                label: "Cookie: session id".into(),
                value: cookie as f64,
                kind: "session".into(),
            },
            Bar {
                label: "Authorization: Bearer JWT".into(),
                value: jwt as f64,
                kind: "bearer".into(),
            },
            Bar {
                label: "Authorization: Token (opaque)".into(),
                value: token as f64,
                kind: "opaque".into(),
            },
        ],
    });
    let per_million = (jwt.saturating_sub(cookie)) as f64; // bytes per request = MB per million
    Ok(if jwt > cookie && cookie > 0 {
        confirmed(format!(
            "The JWT's header is {jwt} bytes, {ratio:.1}× the {cookie}-byte session cookie, on \
             every request: {per_million:.0} MB more per million requests (before compression, \
             which HTTP/1.1 never applies to headers). An opaque token costs {token} bytes."
        ))
    } else {
        refuted(format!("Cookie {cookie} B, JWT {jwt} B."))
    })
}

async fn sliding_session(run: &mut Run<'_>) -> Result<Verdict> {
    const IDLE: u64 = 2;
    const CAP: u64 = 6;
    let account = run.account().await?;
    let body = json!({
        "username": account.username, "password": account.password,
        "idle_secs": IDLE, "absolute_secs": CAP,
    });
    let active = run.browser("active");
    let idle = run.browser("idle");
    let t0 = run.elapsed_ms();
    let login_active = active
        .post("/api/lab/session-login", Some(body.clone()))
        .await?;
    let login_idle = idle.post("/api/lab/session-login", Some(body)).await?;
    let (mut active_marks, mut idle_marks) = (Vec::new(), Vec::new());
    let mut idle_last_ok = t0;
    let mut idle_done = false;
    let mut active_first_refused = None;
    let mut active_last_ok = t0;
    let mut last = None;
    let stop_at = Instant::now() + Duration::from_secs(CAP + 1);
    while Instant::now() < stop_at {
        let res = active.get("/api/me").await?;
        let at = run.elapsed_ms();
        let ok = res.status() == 200;
        if ok {
            active_last_ok = at;
        } else if active_first_refused.is_none() {
            active_first_refused = Some(at);
        }
        active_marks.push(Mark {
            at_ms: at,
            ok,
            label: format!("{} at {:.1} s", res.status(), (at - t0) / 1000.0),
        });
        let since_start = at - t0;
        if idle_marks.is_empty() || (!idle_done && since_start >= (IDLE as f64 + 1.0) * 1000.0) {
            let r = idle.get("/api/me").await?;
            let at = run.elapsed_ms();
            if r.status() == 200 {
                idle_last_ok = at;
            }
            idle_done = !idle_marks.is_empty();
            idle_marks.push(Mark {
                at_ms: at,
                ok: r.status() == 200,
                label: format!("{} at {:.1} s", r.status(), (at - t0) / 1000.0),
            });
            if idle_done {
                last = Some(r);
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let idle_after = last.as_ref().map_or(0, Answer::status);
    let lived = (active_last_ok - t0) / 1000.0;
    let refused = active_first_refused.map_or(f64::NAN, |t| (t - t0) / 1000.0);
    run.step(
        format!(
            "Two sessions with a {IDLE} s idle timeout and a {CAP} s absolute cap. One calls /api/me \
             every 500 ms; the other calls once, pauses {} s, and calls again.",
            IDLE + 1
        ),
        ex(&[&login_active, &login_idle]).into_iter().chain(last.iter().map(|a| a.exchange.clone())).collect(),
        vec![
            fact("active_last_ok_s", "Active session: last accepted call", format!("{lived:.1} s")),
            fact("active_refused_s", "Active session: first refusal", format!("{refused:.1} s")),
            fact("idle_after_pause", "Paused session after the pause", idle_after),
        ],
    );
    let cap_at = t0 + (CAP * 1000) as f64;
    run.charts.push(Chart::Timeline {
        title: "Sliding idle timeout vs absolute cap".into(),
        note: format!(
            "The active session was accepted for {lived:.1} s, past its {IDLE} s idle timeout \
             because every call slid it, and refused at {refused:.1} s by the {CAP} s cap; the \
             paused one answered {idle_after} when it came back."
        ),
        end_ms: run.elapsed_ms(),
        lanes: vec![
            Lane {
                label: "Active (every 0.5 s)".into(),
                marks: active_marks,
                limits: vec![Limit {
                    at_ms: cap_at,
                    label: format!("absolute cap ({CAP} s)"),
                }],
            },
            Lane {
                label: format!("Paused {} s", IDLE + 1),
                marks: idle_marks,
                limits: vec![Limit {
                    at_ms: idle_last_ok + (IDLE * 1000) as f64,
                    label: format!("idle timeout ({IDLE} s)"),
                }],
            },
        ],
    });
    Ok(
        if lived > IDLE as f64 + 1.0 && (refused - CAP as f64).abs() < 1.5 && idle_after == 401 {
            confirmed(format!(
                "The active session outlived its {IDLE} s idle timeout {:.0} times over — each call \
                 slid the expiry — until the {CAP} s absolute cap ended it at {refused:.1} s. The \
                 session that paused for {} s was dead when it came back (401).",
                (lived / IDLE as f64).floor(),
                IDLE + 1
            ))
        } else {
            refuted(format!(
                "Active lived {lived:.1} s, refused at {refused:.1} s; paused session: {idle_after}."
            ))
        },
    )
}

async fn single_session(run: &mut Run<'_>) -> Result<Verdict> {
    let account = run.account().await?;
    run.switch(account.id, |s| s.single_session = true);
    let laptop = run.browser("laptop (session)");
    let l1 = run.session_login(&laptop, &account).await?;
    let phone = run.app("phone app (token)");
    let (l2, phone_refresh) = run.token_login(&phone, &account, json!({})).await?;
    let laptop_after = laptop.get("/api/me").await?;
    run.step(
        "With the single-session policy on: log in on a laptop (session), then in a phone app (token).",
        ex(&[&l1, &l2, &laptop_after]),
        vec![fact("session_after_token_login", "Laptop session after the phone's login", laptop_after.status())],
    );
    let tablet = run.browser("tablet (session)");
    let l3 = run.session_login(&tablet, &account).await?;
    let refresh = phone
        .post(
            "/api/token/refresh",
            Some(json!({ "refresh_token": phone_refresh })),
        )
        .await?;
    let phone_access = phone.get("/api/me").await?;
    let devices = tablet.get("/api/devices").await?;
    let listed = devices.json["devices"].as_array().map_or(0, Vec::len);
    run.step(
        "Log in on a tablet (session); the phone tries to refresh, and to use its current access token.",
        ex(&[&l3, &refresh, &phone_access, &devices]),
        vec![
            fact("token_refresh_after", "Phone's refresh after the tablet's login", refresh.status()),
            fact("token_access_after", "Phone's current access token", phone_access.status()),
            fact("devices", "Devices listed", listed),
        ],
    );
    run.switch(account.id, |s| s.single_session = false);
    Ok(
        if laptop_after.status() == 401 && refresh.status() == 401 && listed == 1 {
            Verdict {
                outcome: if phone_access.status() == 200 {
                    Outcome::Partly
                } else {
                    Outcome::Confirmed
                },
                text: format!(
                    "Each new login ended the older ones in both modes: the laptop's cookie died at \
                 once (401) and the phone could no longer refresh (401); one device remained. But \
                 the phone's current access token still answered {} — a token login can only be \
                 stopped at its next refresh, unless strict checking is on. Easy for sessions; \
                 for tokens, only as fast as the access-token lifetime.",
                    phone_access.status()
                ),
            }
        } else {
            refuted(format!(
                "Laptop after: {}, phone refresh: {}, devices: {listed}.",
                laptop_after.status(),
                refresh.status()
            ))
        },
    )
}

async fn opaque_token(run: &mut Run<'_>) -> Result<Verdict> {
    const CALLS: usize = 20;
    let account = run.account().await?;
    let session = run.browser("session");
    run.session_login(&session, &account).await?;
    let bearer = run.app("JWT");
    run.token_login(&bearer, &account, json!({})).await?;
    let opaque = run.app("opaque token");
    let login = opaque
        .post("/api/opaque/login", Some(account.creds()))
        .await?;
    let token = login.json["token"].as_str().unwrap_or_default().to_owned();
    opaque.set_authorization(Some(format!("Token {token}")));

    let (session_t, session_last) = sample(&session, CALLS).await?;
    let (jwt_t, jwt_last) = sample(&bearer, CALLS).await?;
    let (opaque_t, opaque_last) = sample(&opaque, CALLS).await?;
    run.switch(account.id, |s| s.strict_token_check = true);
    let (strict_t, strict_last) = sample(&bearer, CALLS).await?;
    run.switch(account.id, |s| s.strict_token_check = false);
    let medians = [
        ("Session (from the cache)", median(session_t), "session"),
        ("JWT (verified once, then cached)", median(jwt_t), "bearer"),
        ("JWT, strict (family lookup)", median(strict_t), "bearer"),
        ("Opaque token (database lookup)", median(opaque_t), "opaque"),
    ];
    let lasts: Vec<Exchange> = [session_last, jwt_last, strict_last, opaque_last]
        .into_iter()
        .flatten()
        .map(|a| a.exchange)
        .collect();
    run.step(
        format!("Call /api/me {CALLS} times with each credential and read the server's own auth time (Server-Timing)."),
        lasts,
        medians
            .iter()
            .enumerate()
            .map(|(i, (label, us, _))| fact(&format!("median_{i}"), label, format!("{us:.0} µs")))
            .collect(),
    );
    let (jwt_us, opaque_us) = (medians[1].1, medians[3].1);
    run.charts.push(Chart::Bars {
        title: "Server auth time per request (median)".into(),
        note: format!(
            "A database lookup on every request: the opaque token takes {opaque_us:.0} µs of \
             server auth time, a JWT already verified {jwt_us:.0} µs."
        ),
        unit: "µs".into(),
        bars: medians
            .iter()
            .map(|(label, us, kind)| Bar {
                label: (*label).into(),
                value: *us,
                kind: (*kind).into(),
            })
            .collect(),
    });
    let logout = opaque.post("/api/opaque/logout", None).await?;
    let after = opaque.get("/api/me").await?;
    run.step(
        "Log the opaque token out, and use it again.",
        ex(&[&logout, &after]),
        vec![fact(
            "opaque_after_logout",
            "The token after logout",
            after.status(),
        )],
    );
    Ok(
        if logout.status() == 204 && after.status() == 401 && opaque_us > jwt_us {
            confirmed(format!(
                "The opaque token cost a database lookup on every request (median {opaque_us:.0} µs of \
             server auth time against {jwt_us:.0} µs for a cached JWT check) and died the moment it \
             was logged out (401). It is a session carried in a header: revocable because it is \
             looked up, and immune to CSRF because the browser never sends it by itself."
            ))
        } else {
            refuted(format!(
                "Opaque {opaque_us:.0} µs vs JWT {jwt_us:.0} µs; after logout: {}.",
                after.status()
            ))
        },
    )
}

/// Calls /api/me `calls` times; returns the server's auth times (µs) and the last answer.
async fn sample(client: &LabClient, calls: usize) -> Result<(Vec<f64>, Option<Answer>)> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..calls {
        let res = client.get("/api/me").await?;
        times.extend(auth_micros(&res.exchange));
        last = Some(res);
    }
    Ok((times, last))
}

async fn scoped_token(run: &mut Run<'_>) -> Result<Verdict> {
    let account = run.account().await?;
    let reader = run.app("read-only token");
    let (login, _) = run
        .token_login(&reader, &account, json!({ "scope": "read" }))
        .await?;
    let scope =
        decode_part(login.json["access_token"].as_str().unwrap_or_default(), 1)["scope"].clone();
    let read = reader.get("/api/notes").await?;
    let write = reader
        .post(
            "/api/notes",
            Some(json!({ "text": "written with a read-only token" })),
        )
        .await?;
    run.step(
        "Log in for a token with scope `read`; read the notes, then try to write one.",
        ex(&[&login, &read, &write]),
        vec![
            fact(
                "scope",
                "The token's scope claim",
                scope.as_str().unwrap_or_default(),
            ),
            fact("read", "Reading notes", read.status()),
            fact("write", "Writing a note", write.status()),
        ],
    );
    let full = run.app("full token");
    let (login2, _) = run.token_login(&full, &account, json!({})).await?;
    let write2 = full
        .post(
            "/api/notes",
            Some(json!({ "text": "written with a full token" })),
        )
        .await?;
    run.step(
        "The same write with a full (`read write`) token.",
        ex(&[&login2, &write2]),
        vec![fact(
            "full_write",
            "Writing with a full token",
            write2.status(),
        )],
    );
    let challenge = write.exchange.www_authenticate.clone().unwrap_or_default();
    Ok(
        if read.status() == 200 && write.status() == 403 && write2.status() == 201 {
            confirmed(format!(
                "The read-only token read (200) but was refused the write with 403 and `{challenge}`; a \
             full token wrote (201). The permission travels inside the signed token, so the server \
             checks it without a lookup."
            ))
        } else {
            refuted(format!(
                "Read {}, read-only write {}, full write {}.",
                read.status(),
                write.status(),
                write2.status()
            ))
        },
    )
}

async fn leaked_secret(run: &mut Run<'_>) -> Result<Verdict> {
    let account = run.account().await?;
    let honest = run.app("honest app");
    let (login, refresh) = run.token_login(&honest, &account, json!({})).await?;
    let honest_me = honest.get("/api/me").await?;
    let now = run.state.clock.now_secs();
    let claims = json!({
        "iss": run.state.config.token.issuer, "aud": run.state.config.token.audience,
        "sub": account.id.to_string(), "exp": now + 3600, "iat": now, "nbf": now,
        "jti": "forged", "sid": "forged-login", "name": account.username, "scope": "read write",
    });
    let (header, key) = run
        .state
        .access_tokens
        .signing_kit()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no signing key")))?;
    let forged = jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing: {e}")))?;
    let attacker = run.app("attacker with the key");
    attacker.set_authorization(Some(format!("Bearer {forged}")));
    let forged_before = attacker.get("/api/me").await?;
    run.step(
        "An attacker who learned JWT_SECRET signs a token for the user, valid for an hour, with no login at all.",
        ex(&[&login, &honest_me, &forged_before]),
        vec![fact("forged_before", "The forged token", forged_before.status())],
    );
    super::rotate_secret(run.state).await?;
    let forged_after = attacker.get("/api/me").await?;
    let honest_after = honest.get("/api/me").await?;
    let refreshed = honest
        .post(
            "/api/token/refresh",
            Some(json!({ "refresh_token": refresh })),
        )
        .await?;
    if let Some(access) = refreshed.json["access_token"].as_str() {
        honest.set_authorization(Some(format!("Bearer {access}")));
    }
    let honest_again = honest.get("/api/me").await?;
    run.step(
        "The operator rotates the signing key. The forged token, the honest app's access token, \
         then the honest app's refresh and its new access token.",
        ex(&[&forged_after, &honest_after, &refreshed, &honest_again]),
        vec![
            fact(
                "forged_after",
                "The forged token after rotation",
                forged_after.status(),
            ),
            fact(
                "honest_after",
                "The honest access token after rotation",
                honest_after.status(),
            ),
            fact(
                "refresh_after",
                "The honest refresh after rotation",
                refreshed.status(),
            ),
            fact(
                "honest_again",
                "The new access token",
                honest_again.status(),
            ),
        ],
    );
    Ok(
        if forged_before.status() == 200
            && forged_after.status() == 401
            && honest_after.status() == 401
            && refreshed.status() == 200
            && honest_again.status() == 200
        {
            confirmed(
                "With the key, the attacker's self-made token was accepted (200) — the signature \
                 was genuine. Rotating the key stopped it (401), and with it every access token \
                 issued so far, including honest ones; the honest app's refresh token, which is \
                 checked against the database rather than the key, got a new pair at once (200)."
                    .into(),
            )
        } else {
            refuted(format!(
                "Forged before {}, after {}; honest after {}, refresh {}.",
                forged_before.status(),
                forged_after.status(),
                honest_after.status(),
                refreshed.status()
            ))
        },
    )
}
