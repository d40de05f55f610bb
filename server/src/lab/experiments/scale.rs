//! The scale-out experiments: more than one server. Each starts real server processes of this
//! binary on loopback ports (`lab::peers`), talks to them over HTTP like any client, and stops
//! them at the end.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Result, Run, confirmed, ex, fact, median, refuted, register};
use crate::{
    auth::keys::SigningAlgorithm,
    config::generate_secret,
    lab::{
        client::{Answer, LabClient},
        peers::Peers,
    },
};
use app::lab::{Bar, Chart, Outcome, Verdict};

fn bar(label: &str, value: f64, kind: &str) -> Bar {
    Bar {
        label: label.into(),
        value,
        kind: kind.into(),
    }
}

/// How many of `n` requests to `/api/me` on `client` were accepted.
async fn accepted(client: &LabClient, n: usize) -> Result<(usize, Answer)> {
    let mut ok = 0;
    let mut last = client.get("/api/me").await?;
    for i in 0..n {
        if i > 0 {
            last = client.get("/api/me").await?;
        }
        ok += usize::from(last.status() == 200);
    }
    Ok((ok, last))
}

/// Sessions kept per server break when the next request lands on the other; a shared store
/// (or a token) survives.
pub(super) async fn shared_store(run: &mut Run<'_>) -> Result<Verdict> {
    const TRIES: usize = 5;
    let peers = Peers::new(run.state)?;
    let db = peers.database("shared.db");
    let memory = [
        ("DATABASE_URL", db.clone()),
        ("SESSION_STORE_URL", "memory:".to_owned()),
    ];
    let a = peers.app(&memory).await?;
    let b = peers.app(&memory).await?;
    let on_a = LabClient::browser(&run.http, &a.url, "browser, request on server A");
    let account = register(&on_a).await?;
    let login = on_a
        .post("/api/session/login", Some(account.creds()))
        .await?;
    let me_a = on_a.get("/api/me").await?;
    let on_b = LabClient::browser(&run.http, &b.url, "the same browser, next request on B");
    on_b.same_browser_as(&on_a);
    let (b_ok, me_b) = accepted(&on_b, TRIES).await?;
    run.step(
        format!(
            "Two servers, A and B, started as `{}`, on one SQLite database (users, signing \
             keys, refresh tokens) but each keeping session records in its own memory \
             (SESSION_STORE_URL=memory:). Log in on A, ask A, then send the next {TRIES} \
             requests to B, as a load balancer without sticky sessions would.",
            peers.how()
        ),
        ex(&[&login, &me_a, &me_b]),
        vec![
            fact("per_server_a", "Session on A", me_a.status()),
            fact("per_server_b", "Accepted on B", format!("{b_ok}/{TRIES}")),
        ],
    );

    let app_a = LabClient::app(&run.http, &a.url, "app, token from A");
    let token = app_a
        .post("/api/token/login", Some(account.creds()))
        .await?;
    let app_b = LabClient::app(&run.http, &b.url, "the same app, on B");
    if let Some(access) = token.json["access_token"].as_str() {
        app_b.set_authorization(Some(format!("Bearer {access}")));
    }
    let (token_ok, token_b) = accepted(&app_b, TRIES).await?;
    run.step(
        "A token login on A, then the same access token on B: B checks the signature with the \
         key it derives itself and needs no record of the login.",
        ex(&[&token, &token_b]),
        vec![fact(
            "token_b",
            "Token accepted on B",
            format!("{token_ok}/{TRIES}"),
        )],
    );
    drop((a, b));

    let shared = [("DATABASE_URL", db)];
    let c = peers.app(&shared).await?;
    let d = peers.app(&shared).await?;
    let on_c = LabClient::browser(&run.http, &c.url, "browser, request on server C");
    let login_c = on_c
        .post("/api/session/login", Some(account.creds()))
        .await?;
    let on_d = LabClient::browser(&run.http, &d.url, "the same browser, next request on D");
    on_d.same_browser_as(&on_c);
    let (d_ok, me_d) = accepted(&on_d, TRIES).await?;
    run.step(
        "Two more servers, C and D, on the same database with the session records in it (a \
         shared store). Log in on C and send the next requests to D.",
        ex(&[&login_c, &me_d]),
        vec![fact("shared_d", "Accepted on D", format!("{d_ok}/{TRIES}"))],
    );
    run.charts.push(Chart::Bars {
        title: format!("Requests accepted by the other server (of {TRIES})"),
        note: format!(
            "A session kept in A's memory: {b_ok} of {TRIES} on B. A session in the shared \
             store: {d_ok} of {TRIES} on D. An access token: {token_ok} of {TRIES}, no store."
        ),
        unit: "requests".into(),
        bars: vec![
            bar("Session, per-server store", b_ok as f64, "session"),
            bar("Session, shared store", d_ok as f64, "session"),
            bar("Access token", token_ok as f64, "bearer"),
        ],
    });
    Ok(
        if me_a.status() == 200 && b_ok == 0 && d_ok == TRIES && token_ok == TRIES {
            confirmed(format!(
                "B answered 401 to all {TRIES} requests with A's session cookie: the record \
                 exists only in A's memory, so a round-robin balancer logs the user out on \
                 every other request. With the records in the shared database D accepted all \
                 {TRIES}, and the access token worked on B without any store: B only needs the \
                 key."
            ))
        } else {
            refuted(format!(
                "A {}, B {b_ok}/{TRIES}, D {d_ok}/{TRIES}, token on B {token_ok}/{TRIES}.",
                me_a.status()
            ))
        },
    )
}

/// The API server verifies with the public key alone — and cannot see a logout.
pub(super) async fn api_server(run: &mut Run<'_>) -> Result<Verdict> {
    if run.state.config.token.algorithm == SigningAlgorithm::Hs256 {
        return Ok(refuted(
            "This server signs with HS256 (JWT_ALGORITHM): a symmetric key cannot be published, \
             so a separate server could only verify tokens by holding the secret that signs \
             them. Run with EdDSA (the default) to see the API server work."
                .into(),
        ));
    }
    let peers = Peers::new(run.state)?;
    let jwks_url = format!("{}/.well-known/jwks.json", run.base);
    let api = peers.api(&jwks_url).await?;
    let account = run.account().await?;
    let app = run.app("app, logged in here");
    let (login, refresh) = run.token_login(&app, &account, json!({})).await?;
    let access = app.authorization().unwrap_or_default();
    let on_api = LabClient::app(&run.http, &api.url, "the same app, on the API server");
    on_api.set_authorization(Some(access.clone()));
    let jwks = app.get("/.well-known/jwks.json").await?;
    let first = on_api.get("/api/me").await?;
    let again = on_api.get("/api/me").await?;
    let store_free = [&first, &again].iter().all(|a| {
        a.exchange
            .server_timing
            .as_deref()
            .is_some_and(|t| t.contains("jwt") && !t.contains("store"))
    });
    run.step(
        format!(
            "Start an API server (`{} --role api`) that holds no database and no secret, only \
             JWKS_URL={jwks_url}. Log in here with a token and call the API server with it.",
            peers.how()
        ),
        ex(&[&jwks, &login, &first, &again]),
        vec![
            fact("api_status", "API server", first.status()),
            fact(
                "api_store",
                "Store lookups on the API server",
                if store_free { "0" } else { "some" },
            ),
        ],
    );

    let tampered_client = LabClient::app(&run.http, &api.url, "attacker, on the API server");
    let mut tampered = access.clone();
    // Change one character of the payload: the signature no longer matches.
    if let Some(dot) = tampered.find('.') {
        let at = dot + 8;
        let replacement = if tampered.as_bytes().get(at) == Some(&b'A') {
            "B"
        } else {
            "A"
        };
        tampered.replace_range(at..=at, replacement);
    }
    tampered_client.set_authorization(Some(tampered));
    let refused = tampered_client.get("/api/me").await?;
    run.step(
        "Change one character of the token's payload and send it to the API server.",
        ex(&[&refused]),
        vec![fact("api_tampered", "Tampered token", refused.status())],
    );

    let logout = app
        .post(
            "/api/token/logout",
            Some(json!({ "refresh_token": refresh })),
        )
        .await?;
    let api_after = on_api.get("/api/me").await?;
    let here_after = app.get("/api/me").await?;
    run.switch(account.id, |s| s.strict_token_check = true);
    let strict_after = app.get("/api/me").await?;
    let strict_store_us = super::timing_micros(&strict_after.exchange, "store").unwrap_or(0.0);
    run.step(
        "Log out (the refresh-token family is revoked), then present the access token to the \
         API server, to this server, and to this server with strict checking on.",
        ex(&[&logout, &api_after, &here_after, &strict_after]),
        vec![
            fact(
                "api_after_logout",
                "API server after logout",
                api_after.status(),
            ),
            fact(
                "app_after_logout",
                "This server after logout",
                here_after.status(),
            ),
            fact(
                "strict_after_logout",
                "With strict checking",
                strict_after.status(),
            ),
        ],
    );
    let api_us = super::auth_micros(&again.exchange).unwrap_or(0.0);
    run.charts.push(Chart::Bars {
        title: "What checking the token cost (µs, from Server-Timing)".into(),
        note: format!(
            "The API server spent {api_us:.0} µs on the token and asked no store. Strict \
             checking here spent {strict_store_us:.0} µs asking the store — the one thing the \
             API server, having no store, cannot do."
        ),
        unit: "µs".into(),
        bars: vec![
            bar("API server: signature (cached)", api_us, "bearer"),
            bar("Strict check: store lookup", strict_store_us, "other"),
        ],
    });
    let ok = first.status() == 200
        && store_free
        && refused.status() == 401
        && api_after.status() == 200
        && strict_after.status() == 401;
    Ok(if ok {
        confirmed(format!(
            "The API server accepted the token with the public key alone (0 store lookups in \
             its Server-Timing) and refused a tampered one (401). After logout it still \
             accepted the token (200) — it has nowhere to look a logout up — and will until \
             `exp`; this server with strict checking refused it (401) at the price of a store \
             lookup ({strict_store_us:.0} µs) on every request."
        ))
    } else {
        refuted(format!(
            "API server {}, store-free {store_free}, tampered {}, after logout {}, strict {}.",
            first.status(),
            refused.status(),
            api_after.status(),
            strict_after.status()
        ))
    })
}

/// How long a logout on one server takes to be refused by another.
pub(super) async fn logout_everywhere(run: &mut Run<'_>) -> Result<Verdict> {
    const CACHE_SECS: u64 = 2;
    let peers = Peers::new(run.state)?;
    let mut env = vec![
        ("DATABASE_URL", peers.database("shared.db")),
        ("SESSION_CACHE_SECS", CACHE_SECS.to_string()),
    ];
    // With the lab server's own Redis (a cluster), the peers broadcast on a channel of their own.
    let redis = run.state.config.store.shared_url.clone();
    if let Some(url) = &redis {
        env.push(("REDIS_URL", url.clone()));
        env.push((
            "REDIS_KEY_PREFIX",
            format!(
                "authlab-lab-{}:",
                &generate_secret()[..10].to_ascii_lowercase()
            ),
        ));
    }
    let a = peers.app(&env).await?;
    let b = peers.app(&env).await?;
    let trials = if redis.is_some() { 10 } else { 3 };
    let on_a = LabClient::browser(&run.http, &a.url, "browser on A");
    let account = register(&on_a).await?;
    let mut delays = Vec::new();
    for trial in 0..trials {
        let on_a = LabClient::browser(&run.http, &a.url, "browser on A");
        let login = on_a
            .post("/api/session/login", Some(account.creds()))
            .await?;
        let on_b = LabClient::browser(&run.http, &b.url, "the same browser on B");
        on_b.same_browser_as(&on_a);
        let warm = on_b.get("/api/me").await?;
        let logout = on_a.post("/api/session/logout", None).await?;
        let start = Instant::now();
        let mut last = on_b.get("/api/me").await?;
        let mut polls = 1;
        while last.status() == 200 && start.elapsed() < Duration::from_secs(CACHE_SECS + 3) {
            tokio::time::sleep(Duration::from_millis(5)).await;
            last = on_b.get("/api/me").await?;
            polls += 1;
        }
        let delay = start.elapsed().as_secs_f64() * 1000.0;
        if last.status() != 401 {
            return Ok(refuted(format!(
                "B still accepted the session {delay:.0} ms after the logout on A."
            )));
        }
        delays.push(delay);
        if trial == 0 {
            run.step(
                format!(
                    "Two servers, A and B (`{}`), on one database with session records in it, \
                     each caching what it reads for SESSION_CACHE_SECS={CACHE_SECS}{}. Log in \
                     on A, ask B (B caches the record), log out on A, then ask B every 5 ms \
                     until it refuses ({polls} requests).",
                    peers.how(),
                    if redis.is_some() {
                        ", and both subscribed to the cluster events on Redis"
                    } else {
                        " — no Redis here, so no server tells the other"
                    }
                ),
                ex(&[&login, &warm, &logout, &last]),
                vec![fact(
                    "first_delay",
                    "Refused on B after",
                    format!("{delay:.1} ms"),
                )],
            );
        }
    }
    let mid = median(delays.clone());
    let max = delays.iter().copied().fold(0.0, f64::max);
    run.step(
        format!("The same {trials} times."),
        Vec::new(),
        vec![
            fact("median_delay", "Median delay", format!("{mid:.1} ms")),
            fact("max_delay", "Longest delay", format!("{max:.1} ms")),
        ],
    );
    run.charts.push(Chart::Bars {
        title: "Time until B refused the logged-out session, per trial".into(),
        note: format!("Median {mid:.1} ms, longest {max:.1} ms over {trials} trials."),
        unit: "ms".into(),
        bars: delays
            .iter()
            .enumerate()
            .map(|(i, d)| bar(&format!("Trial {}", i + 1), *d, "session"))
            .collect(),
    });
    Ok(if redis.is_some() && max <= 1000.0 {
        confirmed(format!(
            "B refused the session a median {mid:.1} ms (at most {max:.1} ms) after the logout \
             on A: A announced the deleted session on Redis and B dropped its cached copy. \
             Without that broadcast B would have trusted its copy for up to {CACHE_SECS} s."
        ))
    } else if redis.is_none() {
        Verdict {
            outcome: Outcome::Partly,
            text: format!(
                "The logout did reach B, but only when B's cached copy expired: a median \
                 {mid:.0} ms (at most {max:.0} ms) with SESSION_CACHE_SECS={CACHE_SECS}. This \
                 lab server has no Redis, so its servers cannot tell each other; in \
                 scripts/cluster.sh they broadcast over Redis and the same run measures \
                 milliseconds."
            ),
        }
    } else {
        refuted(format!(
            "With Redis the longest delay was {max:.0} ms, over the 1 s bound."
        ))
    })
}
