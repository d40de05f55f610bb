//! The browser half of the lab: experiments about the browser itself (CSRF, injected script)
//! run in a *lab window* — a popup on this same server under the other host name (`localhost`
//! if you browse `127.0.0.1`, and the reverse). Browsers keep cookies and storage per host, so
//! the lab's throwaway users never touch your own login. The window reports back to the lab
//! page with `postMessage` and closes.
//!
//! Only compiled into the browser build.
//!
//! What the reader sees while it runs (the window's log lines, the errors) is in the lab page's
//! language; the reports themselves (steps, facts, verdicts) stay in English like the server's,
//! and the facts' values are what the lab's tests compare.

use std::{cell::RefCell, rc::Rc};

use futures::{
    channel::oneshot,
    future::{Either, select},
};
use gloo_timers::future::TimeoutFuture;
use js_sys::{JSON, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{HtmlIFrameElement, MessageEvent};

use crate::{
    client::{
        ModeClient, SessionClient, TokenClient,
        token_store::{self, StoragePolicy},
        transport::{PlainRequest, send_plain},
    },
    error::AppError,
    fns,
    i18n::{I18nLocaleTrait, Locale, td_string},
    lab::{Fact, LabSettings, Outcome, Report, Step, Verdict, fill_placeholders},
};

fn window() -> Result<web_sys::Window, AppError> {
    web_sys::window().ok_or_else(|| AppError::new(0, "no_window", "No browser window."))
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// `localhost` ⇄ `127.0.0.1`: the other name of this machine, hence a separate cookie jar.
pub fn lab_origin() -> Result<String, AppError> {
    let location = window()?.location();
    let host = location.hostname().unwrap_or_default();
    let other = if host == "localhost" {
        "127.0.0.1"
    } else {
        "localhost"
    };
    let port = location.port().unwrap_or_default();
    let protocol = location.protocol().unwrap_or_else(|_| "http:".into());
    Ok(if port.is_empty() {
        format!("{protocol}//{other}")
    } else {
        format!("{protocol}//{other}:{port}")
    })
}

/// A listener for one kind of `postMessage`, registered before the sender exists.
pub struct MessageWaiter {
    receiver: Option<oneshot::Receiver<JsValue>>,
    closure: Closure<dyn FnMut(MessageEvent)>,
}

impl MessageWaiter {
    /// Listens for a message whose `authlab` field is `kind`, from `origin` (any if `None`).
    pub fn listen(kind: &'static str, origin: Option<String>) -> Result<Self, AppError> {
        let (tx, rx) = oneshot::channel();
        let tx = Rc::new(RefCell::new(Some(tx)));
        let closure = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if origin.as_ref().is_some_and(|o| *o != event.origin()) {
                return;
            }
            let data = event.data();
            let matches = Reflect::get(&data, &JsValue::from_str("authlab"))
                .ok()
                .and_then(|v| v.as_string())
                .is_some_and(|v| v == kind);
            if matches && let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(data);
            }
        });
        window()?
            .add_event_listener_with_callback("message", closure.as_ref().unchecked_ref())
            .map_err(|_| AppError::new(0, "listen", "Could not listen for messages."))?;
        Ok(Self {
            receiver: Some(rx),
            closure,
        })
    }

    /// The message's data, or `None` after `timeout_ms`.
    pub async fn wait(mut self, timeout_ms: u32) -> Option<JsValue> {
        let rx = self.receiver.take()?;
        match select(rx, TimeoutFuture::new(timeout_ms)).await {
            Either::Left((Ok(data), _)) => Some(data),
            _ => None,
        }
    }
}

impl Drop for MessageWaiter {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            let _ = w.remove_event_listener_with_callback(
                "message",
                self.closure.as_ref().unchecked_ref(),
            );
        }
    }
}

/// Opens the lab window for experiment `id` and waits for its report. The window is shown in
/// `locale` (`?lang=`: its origin has its own language cookie).
pub async fn run_in_lab_window(id: &str, locale: Locale) -> Result<Report, AppError> {
    let window = window()?;
    let origin = lab_origin()?;
    let own = window.location().origin().unwrap_or_default();
    let url = format!(
        "{origin}/lab-window?experiment={id}&opener={}&{}={}",
        js_sys::encode_uri_component(&own),
        crate::locale::QUERY,
        locale.as_str()
    );
    let waiter = MessageWaiter::listen("report", Some(origin.clone()))?;
    let popup = window
        .open_with_url_and_target(&url, "authlab-lab-window")
        .ok()
        .flatten()
        .ok_or_else(|| {
            AppError::new(
                0,
                "popup_blocked",
                td_string!(locale, lab.window.popup_blocked),
            )
        })?;
    let data = waiter.wait(120_000).await;
    let _ = popup.close();
    let data =
        data.ok_or_else(|| AppError::new(0, "timeout", td_string!(locale, lab.window.no_report)))?;
    let json = Reflect::get(&data, &JsValue::from_str("report"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    match serde_json::from_str::<Result<Report, AppError>>(&json) {
        Ok(result) => result,
        Err(e) => Err(AppError::new(
            0,
            "bad_report",
            fill_placeholders(td_string!(locale, lab.window.bad_report), &[("error", &e)]),
        )),
    }
}

/// Refuses to run a browser experiment unless it is safe to: the server's lab is on, the
/// window was opened by this app's own page on the paired origin (`opener` must be exactly
/// [`lab_origin`]: `localhost` ⇄ `127.0.0.1`, same port), and this origin holds no login the
/// lab did not make — a page elsewhere that opens `/lab-window` must not be able to log its
/// visitor out, wipe their tokens or receive a report.
pub async fn check_window(opener: &str, locale: Locale) -> Result<(), AppError> {
    let refuse = |message: &str| Err(AppError::new(403, "forbidden", message));
    let expected = lab_origin()?;
    let given = web_sys::Url::new(opener).ok().map(|u| u.origin());
    if given.as_deref() != Some(expected.as_str()) || opener.trim_end_matches('/') != expected {
        return refuse(td_string!(locale, lab.window.wrong_opener));
    }
    if !fns::lab::get_lab_settings().await?.available {
        return refuse(td_string!(locale, lab.window.lab_off));
    }
    SessionClient.activate();
    if let Ok(me) = fns::current_user().await
        && !me.user.username.starts_with(LAB_USER_PREFIX)
    {
        return refuse(td_string!(locale, lab.window.foreign_login));
    }
    if token_store::load().is_some() {
        return refuse(td_string!(locale, lab.window.foreign_tokens));
    }
    Ok(())
}

/// Sends the result to the window that opened this one.
pub fn report_to_opener(result: &Result<Report, AppError>, opener: &str) {
    let Ok(window) = window() else { return };
    // A window on another origin fails an `instanceof Window` check, so no checked cast;
    // postMessage is exactly what cross-origin windows are allowed to call.
    let Ok(parent) = window.opener() else { return };
    if parent.is_null() || parent.is_undefined() {
        return;
    }
    let parent: web_sys::Window = parent.unchecked_into();
    let message = js_sys::Object::new();
    let _ = Reflect::set(&message, &"authlab".into(), &"report".into());
    let json = serde_json::to_string(result).unwrap_or_default();
    let _ = Reflect::set(&message, &"report".into(), &json.into());
    let _ = parent.post_message(&message, opener);
}

fn iframe(
    src: Option<&str>,
    srcdoc: Option<&str>,
    sandbox: Option<&str>,
    locale: Locale,
) -> Result<HtmlIFrameElement, AppError> {
    let document = window()?.document().ok_or_else(|| {
        AppError::new(0, "no_document", td_string!(locale, lab.window.no_document))
    })?;
    let frame = document
        .create_element("iframe")
        .ok()
        .and_then(|e| e.dyn_into::<HtmlIFrameElement>().ok())
        .ok_or_else(|| AppError::new(0, "iframe", td_string!(locale, lab.window.no_frame)))?;
    if let Some(sandbox) = sandbox {
        let _ = frame.set_attribute("sandbox", sandbox);
    }
    if let Some(srcdoc) = srcdoc {
        frame.set_srcdoc(srcdoc);
    }
    if let Some(src) = src {
        frame.set_src(src);
    }
    let _ = frame.set_attribute("class", "lab-frame");
    if let Some(body) = document.body() {
        let _ = body.append_child(&frame);
    }
    Ok(frame)
}

fn fact(key: &str, label: &str, value: impl ToString) -> Fact {
    Fact {
        key: key.into(),
        label: label.into(),
        value: value.to_string(),
    }
}

/// The prefix of the throwaway users a lab window registers.
const LAB_USER_PREFIX: &str = "labw-";

fn random_name() -> String {
    let n = (js_sys::Math::random() * 1e10) as u64;
    format!("{LAB_USER_PREFIX}{n:010}")
}

fn random_password() -> String {
    let a = (js_sys::Math::random() * 1e15) as u64;
    let b = (js_sys::Math::random() * 1e15) as u64;
    format!("pw-{a:x}-{b:x}")
}

const ATTACK_NOTE: &str = "Written by the attacker's page";

async fn attacker_notes() -> Result<usize, AppError> {
    Ok(fns::list_notes()
        .await?
        .notes
        .iter()
        .filter(|n| n.text == ATTACK_NOTE)
        .count())
}

/// Loads the attacker's page in a frame and waits until its form has been answered.
async fn attack(attacker: &str, target: &str, locale: Locale) -> Result<(), AppError> {
    let waiter = MessageWaiter::listen("csrf-sent", Some(attacker.to_owned()))?;
    let frame = iframe(
        Some(&format!(
            "{attacker}/attack?target={}",
            js_sys::encode_uri_component(target)
        )),
        None,
        None,
        locale,
    )?;
    let sent = waiter.wait(15_000).await;
    frame.remove();
    sent.map(|_| ()).ok_or_else(|| {
        AppError::new(
            0,
            "attacker_silent",
            td_string!(locale, lab.window.attacker_silent),
        )
    })
}

/// CSRF: a page on another origin (another port, same site) submits a note-writing form.
pub async fn run_csrf(log: impl Fn(String), locale: Locale) -> Result<Report, AppError> {
    let started = now();
    let settings = fns::lab::get_lab_settings().await?;
    if !settings.available {
        return Err(AppError::new(
            403,
            "lab_off",
            td_string!(locale, lab.window.switches_off),
        ));
    }
    let location = window()?.location();
    let target = location.origin().unwrap_or_default();
    let attacker = format!(
        "{}//{}:{}",
        location.protocol().unwrap_or_default(),
        location.hostname().unwrap_or_default(),
        settings.attacker_port
    );
    let (user, pass) = (random_name(), random_password());
    let mut steps = Vec::new();
    SessionClient.activate();

    log(fill_placeholders(
        td_string!(locale, lab.window.log_register),
        &[("user", &user)],
    ));
    fns::register(user.clone(), pass.clone(), None).await?;
    fns::session_login(user.clone(), pass.clone(), None).await?;

    log(fill_placeholders(
        td_string!(locale, lab.window.log_attack),
        &[("attacker", &attacker), ("target", &target)],
    ));
    let since = now() as i64 - 1000;
    attack(&attacker, &target, locale).await?;
    let defended = attacker_notes().await?;
    let refusal = fns::lab::csrf_events(since)
        .await?
        .into_iter()
        .find(|e| e.path.ends_with("/add_note"))
        .map_or_else(
            || "no refusal recorded".to_owned(),
            |e| {
                format!(
                    "{} (Origin: {}, Sec-Fetch-Site: {})",
                    e.reason, e.origin, e.fetch_site
                )
            },
        );
    steps.push(Step {
        text: format!(
            "Logged in by cookie session, the victim opens a page from {attacker} — another origin, \
             same site — that auto-submits a form writing a note to {target}. The CSRF defences are on."
        ),
        exchanges: Vec::new(),
        facts: vec![
            fact("session_defended", "Notes written by the attacker", defended),
            fact("refusal", "What the server said", &refusal),
        ],
    });

    log(td_string!(locale, lab.window.log_undefended).into());
    let off = LabSettings {
        csrf_protection: false,
        ..settings
    };
    fns::lab::set_lab_settings(off).await?;
    let undefended = attack(&attacker, &target, locale).await;
    fns::lab::set_lab_settings(LabSettings {
        csrf_protection: true,
        ..settings
    })
    .await?;
    undefended?;
    let written = attacker_notes().await? - defended;
    steps.push(Step {
        text:
            "The same page with the CSRF defences switched off (lab switch): the browser attaches \
               the SameSite=Lax cookie, because the attacker's origin is on the same site."
                .into(),
        exchanges: Vec::new(),
        facts: vec![fact(
            "session_undefended",
            "Notes written by the attacker",
            written,
        )],
    });

    log(td_string!(locale, lab.window.log_bearer).into());
    fns::session_logout().await?;
    let token = TokenClient;
    token_store::set_policy(StoragePolicy::Memory);
    token.login(user.clone(), pass.clone()).await?;
    token.activate();
    let before = token.call(attacker_notes).await?;
    token.call(|| fns::lab::set_lab_settings(off)).await?;
    let bearer_attack = attack(&attacker, &target, locale).await;
    token
        .call(|| {
            fns::lab::set_lab_settings(LabSettings {
                csrf_protection: true,
                ..settings
            })
        })
        .await?;
    bearer_attack?;
    let bearer_written = token.call(attacker_notes).await? - before;
    steps.push(Step {
        text: "Logged in with a bearer token (kept in memory), no session cookie: the same page, \
               defences still off."
            .into(),
        exchanges: Vec::new(),
        facts: vec![fact(
            "bearer_undefended",
            "Notes written by the attacker",
            bearer_written,
        )],
    });
    let _ = token.logout().await;

    let verdict = if defended == 0 && written == 1 && bearer_written == 0 {
        Verdict {
            outcome: Outcome::Confirmed,
            text: format!(
                "Without defences the attacker's page wrote a note as the victim: the browser \
                 attached the session cookie by itself. With them on, the server refused it — \
                 {refusal}. In bearer mode the same page changed nothing even with the defences \
                 off: no browser attaches a bearer token on its own, so the forged request arrived \
                 anonymous (401)."
            ),
        }
    } else {
        Verdict {
            outcome: Outcome::Refuted,
            text: format!(
                "Notes written: defended {defended}, undefended {written}, bearer {bearer_written}."
            ),
        }
    };
    Ok(Report {
        id: "csrf".into(),
        steps,
        charts: Vec::new(),
        verdict,
        took_ms: now() - started,
    })
}

/// The script "injected" into the page (run in a sandboxed same-origin frame): it reads what
/// page JavaScript can read, wraps `fetch` to catch the next `Authorization` header the app
/// sends, and tries to act as the user.
const INJECTED: &str = r#"<script>
(function () {
  const p = window.parent;
  const dump = (s) => { const o = {}; for (let i = 0; i < s.length; i++) { const k = s.key(i); o[k] = s.getItem(k); } return o; };
  const found = { cookie: p.document.cookie, local: dump(p.localStorage), session: dump(p.sessionStorage), intercepted: null, acted: 0 };
  const realFetch = p.fetch;
  p.fetch = function (input, init) {
    try {
      let h = null;
      if (input && input.headers && input.headers.get) h = input.headers.get('Authorization');
      if (!h && init && init.headers) h = init.headers.get ? init.headers.get('Authorization') : init.headers['Authorization'];
      if (h && !found.intercepted) found.intercepted = h;
    } catch (e) {}
    return realFetch.apply(p, arguments);
  };
  realFetch.call(p, '/api/fn/me', { credentials: 'include' })
    .then((r) => { found.acted = r.status; })
    .catch(() => {})
    .finally(() => {
      p.postMessage({ authlab: 'xss-ready' }, '*');
      setTimeout(() => {
        p.fetch = realFetch;
        p.postMessage({ authlab: 'xss-report', found: JSON.stringify(found) }, '*');
      }, 1500);
    });
})();
</script>"#;

/// `script` with the nonce of this page's own scripts, so the page's Content-Security-Policy
/// (which a `srcdoc` frame inherits) lets it run.
fn signed_with_page_nonce(script: &str, locale: Locale) -> Result<String, AppError> {
    let nonce = window()?
        .document()
        .and_then(|d| d.query_selector("script[nonce]").ok().flatten())
        .and_then(|el| Reflect::get(&el, &JsValue::from_str("nonce")).ok())
        .and_then(|n| n.as_string())
        .filter(|n| {
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c))
        })
        .ok_or_else(|| AppError::new(0, "no_nonce", td_string!(locale, lab.window.no_nonce)))?;
    Ok(script.replacen("<script>", &format!("<script nonce=\"{nonce}\">"), 1))
}

/// What the injected script reported.
#[derive(Debug, Default, serde::Deserialize)]
struct Found {
    cookie: String,
    local: std::collections::HashMap<String, String>,
    session: std::collections::HashMap<String, String>,
    intercepted: Option<String>,
    acted: u16,
}

/// A request from "another machine": no cookies, optional bearer token and JSON body; the
/// status, or 0 when nothing came back.
async fn from_elsewhere(path: &str, bearer: Option<&str>, body: Option<String>) -> u16 {
    let request = PlainRequest {
        path,
        bearer,
        json: body.as_deref(),
    };
    send_plain(request).await.map_or(0, |res| res.status)
}

fn token_in(values: &std::collections::HashMap<String, String>, key: &str) -> Option<String> {
    values.values().find_map(|v| {
        JSON::parse(v)
            .ok()
            .and_then(|j| Reflect::get(&j, &JsValue::from_str(key)).ok())
            .and_then(|t| t.as_string())
            .filter(|t| !t.is_empty())
    })
}

/// Injected script: logs in under each storage policy and in session mode, injects the
/// script, and sees what it could read, intercept and replay from elsewhere.
pub async fn run_xss(log: impl Fn(String), locale: Locale) -> Result<Report, AppError> {
    let started = now();
    let (user, pass) = (random_name(), random_password());
    fns::register(user.clone(), pass.clone(), None).await?;
    let scenarios: [(&str, Option<StoragePolicy>); 5] = [
        ("session", None),
        ("memory", Some(StoragePolicy::Memory)),
        ("session_storage", Some(StoragePolicy::SessionStorage)),
        ("local_storage", Some(StoragePolicy::LocalStorage)),
        ("hardened", Some(StoragePolicy::Hardened)),
    ];
    let mut steps = Vec::new();
    let mut kept_access = Vec::new();
    log(td_string!(locale, lab.window.log_csp).into());
    let injected = signed_with_page_nonce(INJECTED, locale)?;
    for (key, policy) in scenarios {
        log(fill_placeholders(
            td_string!(locale, lab.window.log_scenario),
            &[("key", &key)],
        ));
        match policy {
            None => {
                SessionClient.login(user.clone(), pass.clone()).await?;
                SessionClient.activate();
            }
            Some(policy) => {
                token_store::set_policy(policy);
                TokenClient.login(user.clone(), pass.clone()).await?;
                TokenClient.activate();
            }
        }
        let ready = MessageWaiter::listen("xss-ready", None)?;
        let report = MessageWaiter::listen("xss-report", None)?;
        let frame = iframe(
            None,
            Some(&injected),
            Some("allow-scripts allow-same-origin"),
            locale,
        )?;
        ready.wait(10_000).await;
        // The app goes on with its work; the script watches.
        let _ = match policy {
            None => SessionClient.call(fns::current_user).await,
            Some(_) => TokenClient.call(fns::current_user).await,
        };
        let data = report.wait(10_000).await;
        frame.remove();
        let found: Found = data
            .and_then(|d| Reflect::get(&d, &JsValue::from_str("found")).ok())
            .and_then(|f| f.as_string())
            .and_then(|f| serde_json::from_str(&f).ok())
            .unwrap_or_default();
        let stored_access = token_in(&found.local, "access_token")
            .or_else(|| token_in(&found.session, "access_token"));
        let stored_refresh = token_in(&found.local, "refresh_token")
            .or_else(|| token_in(&found.session, "refresh_token"));
        let intercepted = found
            .intercepted
            .as_deref()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::to_owned);
        let read = match (&stored_access, &stored_refresh) {
            (Some(_), Some(_)) => "access and refresh token".to_owned(),
            (Some(_), None) => "access token".to_owned(),
            _ if found.cookie.contains("authlab_session") => "the session cookie".to_owned(),
            _ => "nothing".to_owned(),
        };
        let access = stored_access.clone().or_else(|| intercepted.clone());
        let replay = match &access {
            Some(token) => from_elsewhere("/api/fn/me", Some(token), None).await,
            None => 0,
        };
        let refresh_replay = match &stored_refresh {
            Some(token) => {
                from_elsewhere(
                    "/api/token/fn/refresh",
                    None,
                    Some(serde_json::json!({ "refresh_token": token }).to_string()),
                )
                .await
            }
            None => 0,
        };
        if replay == 200 {
            kept_access.push(key);
        }
        let describe = |status: u16, none: &str| {
            if status == 0 {
                none.to_owned()
            } else {
                status.to_string()
            }
        };
        steps.push(Step {
            text: match policy {
                None => "Session mode: the HttpOnly session cookie.".into(),
                Some(p) => format!("Token mode, policy {}: {}", p.label(), p.summary()),
            },
            exchanges: Vec::new(),
            facts: vec![
                fact(
                    &format!("{key}_read"),
                    "Read from cookies and storage",
                    &read,
                ),
                fact(
                    &format!("{key}_intercepted"),
                    "Caught from the app's own request",
                    if intercepted.is_some() {
                        "the access token"
                    } else {
                        "nothing"
                    },
                ),
                fact(
                    &format!("{key}_acted"),
                    "Calling /api/me as the user, from the page",
                    found.acted,
                ),
                fact(
                    &format!("{key}_replay"),
                    "Access token replayed from another machine",
                    describe(replay, "nothing to replay"),
                ),
                fact(
                    &format!("{key}_refresh_replay"),
                    "Refresh token replayed from another machine",
                    describe(refresh_replay, "nothing to replay"),
                ),
            ],
        });
        let _ = match policy {
            None => SessionClient.logout().await,
            Some(_) => TokenClient.logout().await,
        };
    }
    token_store::set_policy(StoragePolicy::Hardened);
    let fact_of = |key: &str| {
        steps
            .iter()
            .flat_map(|s| s.facts.iter())
            .find(|f| f.key == key)
            .map(|f| f.value.clone())
            .unwrap_or_default()
    };
    let storage_stolen = fact_of("local_storage_refresh_replay") == "200"
        && fact_of("session_storage_refresh_replay") == "200";
    let hardened_safe = fact_of("hardened_read") == "nothing"
        && fact_of("hardened_refresh_replay") == "nothing to replay";
    let session_safe = fact_of("session_read") == "nothing" && fact_of("session_acted") == "200";
    let verdict = if storage_stolen && hardened_safe && session_safe {
        Verdict {
            outcome: Outcome::Partly,
            text: format!(
                "From web storage the script took both tokens, and the refresh token kept it logged \
                 in from another machine. It could not read the HttpOnly session cookie nor the \
                 hardened policy's refresh cookie — but it did not need to: it called the server \
                 as the user from inside the page (200 in session mode), and it caught the access \
                 token from the app's own request ({}). HttpOnly protects the credential, not the \
                 account while the page is open.",
                if kept_access.is_empty() {
                    "none".to_owned()
                } else {
                    format!("usable from elsewhere under: {}", kept_access.join(", "))
                }
            ),
        }
    } else {
        Verdict {
            outcome: Outcome::Refuted,
            text: format!(
                "Unexpected: storage stolen {storage_stolen}, hardened safe {hardened_safe}, session safe {session_safe}."
            ),
        }
    };
    Ok(Report {
        id: "xss".into(),
        steps,
        charts: Vec::new(),
        verdict,
        took_ms: now() - started,
    })
}
