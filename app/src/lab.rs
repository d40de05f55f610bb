//! The lab's catalogue of experiments and the types its reports travel in.
//!
//! Each experiment tests one claim that session-vs-token study notes make. The notes are
//! quoted the way they usually put it (in Korean, as the notes are written), followed by what
//! the experiment does. Most experiments run on the server as real HTTP clients of this very
//! server (each with its own cookie jar or token store, talking over the network like any
//! browser or app); the two that are about the browser itself (CSRF, injected script) run in a
//! lab window in your browser.
//!
//! The English texts stay in the catalogue (the server and its tests read them); the pages show
//! them in the reader's language through the `*_in(locale)` lookups, from the `lab` namespace
//! of `app/locales` (`lab.experiments.<id>`, ids with `_` for `-`).

use std::fmt::Display;

use serde::{Deserialize, Serialize};

use crate::i18n::{Locale, td_string};

#[cfg(feature = "hydrate")]
pub mod window;

/// Where an experiment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunsIn {
    /// As HTTP clients driven by the server, against its own public address.
    Server,
    /// In a lab window of your browser, on a separate origin (its own cookies and storage).
    Browser,
}

impl RunsIn {
    /// Where it runs, in one sentence, in `locale`.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            Self::Server => td_string!(locale, lab.runs_in.server),
            Self::Browser => td_string!(locale, lab.runs_in.browser),
        }
    }
}

/// One experiment, as the catalogue lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExperimentInfo {
    /// Stable id (URLs, tests).
    pub id: &'static str,
    /// Short title.
    pub title: &'static str,
    /// The claim, in plain English.
    pub claim: &'static str,
    /// How study notes usually put it.
    pub seed: &'static str,
    /// What the experiment does, in one or two sentences.
    pub method: &'static str,
    /// Which of the lab's three questions it answers.
    pub group: Group,
    /// Where it runs.
    pub runs_in: RunsIn,
}

/// The lab's three questions; the page shows one section for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// What travels: on the wire, in the browser.
    Travels,
    /// What the server keeps, and what that costs.
    ServerKeeps,
    /// What an attacker can do with it.
    Attacker,
}

impl Group {
    /// In the order the page shows them.
    pub const ALL: [Group; 3] = [Group::Travels, Group::ServerKeeps, Group::Attacker];

    /// The section's anchor.
    pub fn id(self) -> &'static str {
        match self {
            Self::Travels => "what-travels",
            Self::ServerKeeps => "what-the-server-keeps",
            Self::Attacker => "what-an-attacker-can-do",
        }
    }

    /// The section's heading.
    pub fn title(self) -> &'static str {
        match self {
            Self::Travels => "What travels",
            Self::ServerKeeps => "What the server keeps",
            Self::Attacker => "What an attacker can do",
        }
    }

    /// One line under the heading.
    pub fn blurb(self) -> &'static str {
        match self {
            Self::Travels => {
                "The credential itself: what is in it, how big it is, what it allows, and what \
                 happens without it."
            }
            Self::ServerKeeps => {
                "State on the server: rows and keys per login, lifetimes, single session, and \
                 what changes with more than one server."
            }
            Self::Attacker => {
                "Stolen, forged, replayed or leaked: what each mode lets an attacker do, and what \
                 stops them."
            }
        }
    }

    /// [`Self::title`] in `locale`.
    pub fn title_in(self, locale: Locale) -> &'static str {
        match self {
            Self::Travels => td_string!(locale, lab.groups.travels.title),
            Self::ServerKeeps => td_string!(locale, lab.groups.server_keeps.title),
            Self::Attacker => td_string!(locale, lab.groups.attacker.title),
        }
    }

    /// [`Self::blurb`] in `locale`.
    pub fn blurb_in(self, locale: Locale) -> &'static str {
        match self {
            Self::Travels => td_string!(locale, lab.groups.travels.blurb),
            Self::ServerKeeps => td_string!(locale, lab.groups.server_keeps.blurb),
            Self::Attacker => td_string!(locale, lab.groups.attacker.blurb),
        }
    }

    /// The experiments in this group, in catalogue order.
    pub fn experiments(self) -> impl Iterator<Item = &'static ExperimentInfo> {
        EXPERIMENTS.iter().filter(move |e| e.group == self)
    }
}

/// Every experiment, in the order the lab page shows them.
pub const EXPERIMENTS: &[ExperimentInfo] = &[
    ExperimentInfo {
        id: "no-credential",
        title: "No credential, no user",
        claim: "HTTP remembers nothing by itself: a request without a credential is anonymous.",
        seed: "HTTP는 무상태(stateless)라서 서버는 이전 요청을 기억하지 못한다.",
        method: "Log in, then call /api/me once with the credential and once without it.",
        group: Group::Travels,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "credential-contents",
        title: "What the credential is",
        claim: "A session id is an opaque random value; a JWT's payload is readable by anyone who holds it, so it must hold nothing secret.",
        seed: "세션 ID는 의미 없는 랜덤 값이고, JWT의 payload는 누구나 디코딩할 수 있으니 민감한 정보를 넣으면 안 된다.",
        method: "Log in both ways and take the two credentials apart.",
        group: Group::Travels,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "stolen-cookie",
        title: "A stolen session cookie",
        claim: "A stolen session cookie works for the thief until the session is revoked, then dies at once.",
        seed: "세션은 서버에서 지우면 바로 무효화할 수 있어서, 탈취되더라도 강제로 로그아웃시킬 수 있다.",
        method: "A second client replays the victim's cookie; the victim revokes that session from another device; the thief tries again.",
        group: Group::Attacker,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "stolen-token",
        title: "A stolen access token after logout",
        claim: "A stolen JWT keeps working after logout until it expires; only a per-request check can stop it sooner.",
        seed: "JWT는 한번 발급되면 만료되기 전까지 서버가 강제로 무효화할 수 없다.",
        method: "Log in with a 2-second token, copy it, log out, and replay it every 250 ms until refused; then again with strict checking on.",
        group: Group::Attacker,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "forgery",
        title: "Tampering, alg none, wrong key",
        claim: "A JWT cannot be altered or forged without the signing key.",
        seed: "JWT는 서명이 있어서 내용을 조작하면 서버가 알아챈다.",
        method: "Send a token with an edited payload, one with alg none, and one signed with another key; then the original.",
        group: Group::Attacker,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "csrf",
        title: "Cross-site request forgery",
        claim: "Cookies are sent automatically, so cookie sessions are exposed to CSRF; bearer tokens are not.",
        seed: "쿠키는 요청마다 자동으로 전송되기 때문에 CSRF에 취약하고, 토큰은 헤더에 직접 넣으니 CSRF에 안전하다.",
        method: "A page on another origin auto-submits a form that writes a note, with the victim logged in: by cookie session (defences on, then off) and by bearer token.",
        group: Group::Attacker,
        runs_in: RunsIn::Browser,
    },
    ExperimentInfo {
        id: "xss",
        title: "What an injected script can take",
        claim: "A script injected into the page can steal tokens kept in web storage, but not an HttpOnly cookie.",
        seed: "localStorage에 토큰을 저장하면 XSS로 탈취될 수 있고, HttpOnly 쿠키는 자바스크립트로 읽을 수 없다.",
        method: "Log in under each storage policy and in session mode, inject a script in a sandboxed frame, and see what it can read, intercept and replay from elsewhere.",
        group: Group::Attacker,
        runs_in: RunsIn::Browser,
    },
    ExperimentInfo {
        id: "refresh-reuse",
        title: "Refresh-token reuse",
        claim: "With rotation, reusing a spent refresh token revokes the whole login.",
        seed: "Refresh Token Rotation을 쓰면 재사용이 감지될 때 해당 토큰 계열을 전부 폐기한다.",
        method: "Rotate a refresh token, replay the old one inside and then after the grace window, and look at the devices list.",
        group: Group::Attacker,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "server-state",
        title: "State on the server",
        claim: "Sessions take space on the server for every logged-in user; tokens take none.",
        seed: "세션은 로그인한 사용자마다 서버 저장소를 차지하지만, JWT는 서버에 아무것도 저장하지 않는다.",
        method: "Log 8 new users in each way and count rows and bytes in the session store and the token tables.",
        group: Group::ServerKeeps,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "wire-bytes",
        title: "Bytes on the wire",
        claim: "A JWT is much bigger than a session id, and travels with every request.",
        seed: "JWT는 세션 ID보다 길어서 매 요청마다 전송되는 데이터가 늘어난다.",
        method: "Measure the credential header of one /api/me call for each credential.",
        group: Group::Travels,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "sliding-session",
        title: "Sliding session, absolute cap",
        claim: "A session's expiry slides with activity, but an absolute lifetime still ends it.",
        seed: "세션은 사용자가 활동할 때마다 만료 시간이 연장된다.",
        method: "Two sessions with a 2 s idle timeout and a 6 s cap: one calls every 500 ms, the other pauses for 3 s.",
        group: Group::ServerKeeps,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "single-session",
        title: "One login at a time",
        claim: "Sessions make it easy to allow one login per user; tokens make it hard.",
        seed: "세션 방식은 중복 로그인을 막기 쉽지만, 토큰 방식은 어렵다.",
        method: "With the single-session policy on, log in by session, then by token, then by session again, and check the older logins.",
        group: Group::ServerKeeps,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "opaque-token",
        title: "An opaque database token",
        claim: "A random token stored in a table (Django REST framework's TokenAuthentication) is looked up on every request and dies at logout; a JWT needs no lookup.",
        seed: "DRF의 TokenAuthentication은 토큰을 DB에 저장하고 요청마다 조회한다. JWT는 조회 없이 검증한다.",
        method: "Call /api/me 20 times with each credential and compare the server's own auth timings; then log the opaque token out.",
        group: Group::ServerKeeps,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "scoped-token",
        title: "A read-only token",
        claim: "A token can carry limited permissions: a read-only token is refused on a write.",
        seed: "토큰에 권한(scope)을 담아서 접근 범위를 제한할 수 있다.",
        method: "Get a token with scope `read`, read and write notes with it, then with a full token.",
        group: Group::Travels,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "leaked-secret",
        title: "A leaked signing secret",
        claim: "Whoever has the signing secret can mint valid tokens; rotating it stops them and ends every access token, while refresh tokens still work.",
        seed: "서명 키가 유출되면 누구나 유효한 토큰을 만들 수 있다.",
        method: "Forge a token with the current key, rotate the key, and try the forged token, an honest token and an honest refresh.",
        group: Group::Attacker,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "oauth",
        title: "OAuth 2.0: log in at a provider, then keep your own session or token",
        claim: "After the provider proves who you are, the app keeps its own session or issues its own tokens; a replayed state, a code used twice, a wrong code_verifier and an ID token with another nonce or audience are all refused.",
        seed: "OAuth는 사용자가 다른 서비스(구글, 카카오 등)에서 인증을 받고, 우리 서비스는 그 결과로 자체 세션을 만들거나 자체 토큰을 발급하는 방식이다.",
        method: "Sign in at the local OpenID provider in each mode and follow every redirect; then replay the state, use a code twice, send a wrong code_verifier, and present ID tokens with a wrong nonce or audience.",
        group: Group::Attacker,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "shared-store",
        title: "Sessions across servers",
        claim: "Sessions break across servers unless the session store is shared; a token works on any server that has the key.",
        seed: "세션은 서버에 상태를 저장하기 때문에 서버를 여러 대로 늘리면(scale-out) 다른 서버는 그 세션을 모른다. 세션 저장소를 Redis처럼 공유하거나 sticky session을 써야 한다.",
        method: "Start two extra servers that keep sessions in their own memory, log in on one and ask the other; then two that share the store; then a token.",
        group: Group::ServerKeeps,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "api-server",
        title: "A separate API server",
        claim: "A separate API server verifies a token with the public key alone, with no store — and so cannot see a logout until the token expires.",
        seed: "JWT는 서버가 상태를 저장하지 않아도 되니 확장성이 좋다. 공개키만 있으면 어느 서버에서든 토큰을 검증할 수 있다.",
        method: "Start an API server that knows only the JWKS URL; call it with a token, a tampered token, and the token after logout.",
        group: Group::ServerKeeps,
        runs_in: RunsIn::Server,
    },
    ExperimentInfo {
        id: "logout-everywhere",
        title: "Logout on every server",
        claim: "A logout on one server is refused by the others within a second.",
        seed: "세션 방식은 서버에서 세션을 삭제하면 바로 로그아웃시킬 수 있다. 서버가 여러 대여도 마찬가지일까?",
        method: "Start two servers on one store, log in on A, ask B, log out on A, and time how long B keeps accepting the session.",
        group: Group::ServerKeeps,
        runs_in: RunsIn::Server,
    },
];

/// The catalogue entry for `id`.
pub fn experiment(id: &str) -> Option<&'static ExperimentInfo> {
    EXPERIMENTS.iter().find(|e| e.id == id)
}

impl ExperimentInfo {
    /// [`Self::title`] in `locale`.
    pub fn title_in(&self, locale: Locale) -> &'static str {
        self.texts_in(locale)
            .map_or(self.title, |(title, _, _)| title)
    }

    /// [`Self::claim`] in `locale`.
    pub fn claim_in(&self, locale: Locale) -> &'static str {
        self.texts_in(locale)
            .map_or(self.claim, |(_, claim, _)| claim)
    }

    /// [`Self::method`] in `locale`.
    pub fn method_in(&self, locale: Locale) -> &'static str {
        self.texts_in(locale)
            .map_or(self.method, |(_, _, method)| method)
    }

    /// Title, claim and method in `locale` (`None` for an id the translations do not know,
    /// which then shows in English).
    fn texts_in(&self, locale: Locale) -> Option<(&'static str, &'static str, &'static str)> {
        Some(match self.id {
            "no-credential" => (
                td_string!(locale, lab.experiments.no_credential.title),
                td_string!(locale, lab.experiments.no_credential.claim),
                td_string!(locale, lab.experiments.no_credential.method),
            ),
            "credential-contents" => (
                td_string!(locale, lab.experiments.credential_contents.title),
                td_string!(locale, lab.experiments.credential_contents.claim),
                td_string!(locale, lab.experiments.credential_contents.method),
            ),
            "stolen-cookie" => (
                td_string!(locale, lab.experiments.stolen_cookie.title),
                td_string!(locale, lab.experiments.stolen_cookie.claim),
                td_string!(locale, lab.experiments.stolen_cookie.method),
            ),
            "stolen-token" => (
                td_string!(locale, lab.experiments.stolen_token.title),
                td_string!(locale, lab.experiments.stolen_token.claim),
                td_string!(locale, lab.experiments.stolen_token.method),
            ),
            "forgery" => (
                td_string!(locale, lab.experiments.forgery.title),
                td_string!(locale, lab.experiments.forgery.claim),
                td_string!(locale, lab.experiments.forgery.method),
            ),
            "csrf" => (
                td_string!(locale, lab.experiments.csrf.title),
                td_string!(locale, lab.experiments.csrf.claim),
                td_string!(locale, lab.experiments.csrf.method),
            ),
            "xss" => (
                td_string!(locale, lab.experiments.xss.title),
                td_string!(locale, lab.experiments.xss.claim),
                td_string!(locale, lab.experiments.xss.method),
            ),
            "refresh-reuse" => (
                td_string!(locale, lab.experiments.refresh_reuse.title),
                td_string!(locale, lab.experiments.refresh_reuse.claim),
                td_string!(locale, lab.experiments.refresh_reuse.method),
            ),
            "server-state" => (
                td_string!(locale, lab.experiments.server_state.title),
                td_string!(locale, lab.experiments.server_state.claim),
                td_string!(locale, lab.experiments.server_state.method),
            ),
            "wire-bytes" => (
                td_string!(locale, lab.experiments.wire_bytes.title),
                td_string!(locale, lab.experiments.wire_bytes.claim),
                td_string!(locale, lab.experiments.wire_bytes.method),
            ),
            "sliding-session" => (
                td_string!(locale, lab.experiments.sliding_session.title),
                td_string!(locale, lab.experiments.sliding_session.claim),
                td_string!(locale, lab.experiments.sliding_session.method),
            ),
            "single-session" => (
                td_string!(locale, lab.experiments.single_session.title),
                td_string!(locale, lab.experiments.single_session.claim),
                td_string!(locale, lab.experiments.single_session.method),
            ),
            "opaque-token" => (
                td_string!(locale, lab.experiments.opaque_token.title),
                td_string!(locale, lab.experiments.opaque_token.claim),
                td_string!(locale, lab.experiments.opaque_token.method),
            ),
            "scoped-token" => (
                td_string!(locale, lab.experiments.scoped_token.title),
                td_string!(locale, lab.experiments.scoped_token.claim),
                td_string!(locale, lab.experiments.scoped_token.method),
            ),
            "leaked-secret" => (
                td_string!(locale, lab.experiments.leaked_secret.title),
                td_string!(locale, lab.experiments.leaked_secret.claim),
                td_string!(locale, lab.experiments.leaked_secret.method),
            ),
            "oauth" => (
                td_string!(locale, lab.experiments.oauth.title),
                td_string!(locale, lab.experiments.oauth.claim),
                td_string!(locale, lab.experiments.oauth.method),
            ),
            "shared-store" => (
                td_string!(locale, lab.experiments.shared_store.title),
                td_string!(locale, lab.experiments.shared_store.claim),
                td_string!(locale, lab.experiments.shared_store.method),
            ),
            "api-server" => (
                td_string!(locale, lab.experiments.api_server.title),
                td_string!(locale, lab.experiments.api_server.claim),
                td_string!(locale, lab.experiments.api_server.method),
            ),
            "logout-everywhere" => (
                td_string!(locale, lab.experiments.logout_everywhere.title),
                td_string!(locale, lab.experiments.logout_everywhere.claim),
                td_string!(locale, lab.experiments.logout_everywhere.method),
            ),
            _ => return None,
        })
    }
}

/// How the claim held up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The claim held.
    Confirmed,
    /// True in part; the verdict says which part.
    Partly,
    /// The claim did not hold.
    Refuted,
}

impl Outcome {
    /// The badge text.
    pub fn label(self) -> &'static str {
        match self {
            Self::Confirmed => "Confirmed",
            Self::Partly => "Partly true",
            Self::Refuted => "Refuted",
        }
    }

    /// [`Self::label`] in `locale`.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            Self::Confirmed => td_string!(locale, lab.outcome.confirmed),
            Self::Partly => td_string!(locale, lab.outcome.partly),
            Self::Refuted => td_string!(locale, lab.outcome.refuted),
        }
    }
}

/// `template` with each `{name}` replaced by the value `values` gives it, in one pass (a value
/// is not searched for placeholders itself); braces around any other name stay as they are.
///
/// The lab's translations that take run-time values (`lab.chart.lane_summary`,
/// `lab.window.log_attack`, ...) are filled this way: they are needed as strings (labels, log
/// lines, error messages), and leptos_i18n's own `{{ name }}` interpolation builds views (it
/// builds strings only with its `interpolate_display` option, which `build.rs` does not set).
pub fn fill_placeholders(template: &str, values: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let found = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (close, value))
        });
        match found {
            Some((close, value)) => {
                out.push_str(&value.to_string());
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The conclusion of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// How the claim held up.
    pub outcome: Outcome,
    /// One or two sentences, with the numbers.
    pub text: String,
}

/// The credential one request carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentCredential {
    /// `Cookie` or `Authorization`.
    pub header: String,
    /// The header as sent (a long value is shortened in the middle).
    pub shown: String,
    /// Its size in bytes, name and `: ` included.
    pub bytes: usize,
}

/// One HTTP request and its answer, as an experiment saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// Who sent it ("victim", "thief", ...).
    pub actor: String,
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The credential it carried, if any.
    pub credential: Option<SentCredential>,
    /// Response status.
    pub status: u16,
    /// `Set-Cookie` headers with values hidden.
    pub set_cookie: Vec<String>,
    /// `WWW-Authenticate`, if any.
    pub www_authenticate: Option<String>,
    /// `Server-Timing`, if any.
    pub server_timing: Option<String>,
    /// The body, shortened.
    pub body: String,
    /// Round trip in milliseconds.
    pub ms: f64,
}

/// A labelled value an experiment measured (tests look them up by `key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// Stable key.
    pub key: String,
    /// What it is.
    pub label: String,
    /// The value, formatted.
    pub value: String,
}

/// One step of a run: what was done, the requests, what was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// What this step does.
    pub text: String,
    /// The requests it made.
    pub exchanges: Vec<Exchange>,
    /// What it measured.
    pub facts: Vec<Fact>,
}

/// A bar of a bar chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    /// The bar's label.
    pub label: String,
    /// Its value.
    pub value: f64,
    /// `session`, `bearer`, `opaque` or `other`: picks the colour.
    pub kind: String,
}

/// A point in time on a timeline lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// Milliseconds since the experiment's start.
    pub at_ms: f64,
    /// Accepted (green) or refused (red).
    pub ok: bool,
    /// Tooltip.
    pub label: String,
}

/// A vertical line on a timeline lane (an expiry, a logout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    /// Milliseconds since the experiment's start.
    pub at_ms: f64,
    /// What happens there.
    pub label: String,
}

/// One row of a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lane {
    /// The row's label.
    pub label: String,
    /// Requests over time.
    pub marks: Vec<Mark>,
    /// Events over time.
    pub limits: Vec<Limit>,
}

/// A chart the app draws as SVG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Chart {
    /// Horizontal bars.
    Bars {
        /// Title.
        title: String,
        /// What to look at, in one sentence with the measured figures.
        note: String,
        /// Unit of the values.
        unit: String,
        /// The bars.
        bars: Vec<Bar>,
    },
    /// Requests and events over time.
    Timeline {
        /// Title.
        title: String,
        /// What to look at, in one sentence with the measured figures.
        note: String,
        /// Length of the time axis, ms.
        end_ms: f64,
        /// Rows.
        lanes: Vec<Lane>,
    },
}

/// A finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The experiment.
    pub id: String,
    /// What happened, in order.
    pub steps: Vec<Step>,
    /// Charts of the measurements.
    pub charts: Vec<Chart>,
    /// The conclusion.
    pub verdict: Verdict,
    /// How long the run took.
    pub took_ms: f64,
}

impl Report {
    /// A measured fact by key, for tests and summaries.
    pub fn fact(&self, key: &str) -> Option<&str> {
        self.steps
            .iter()
            .flat_map(|s| s.facts.iter())
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }
}

/// The lab's switches, as the server has them now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabSettings {
    /// Whether switches can be changed (and experiments run) on this server.
    pub available: bool,
    /// Every bearer request confirms its login is alive (one store lookup).
    pub strict_token_check: bool,
    /// The CSRF defences (Origin / Sec-Fetch-Site / content type checks).
    pub csrf_protection: bool,
    /// A new login ends the user's other logins.
    pub single_session: bool,
    /// The port of the lab's attacker origin (CSRF experiment).
    pub attacker_port: u16,
}

/// One cookie session of the caller, as the server stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    /// Device handle.
    pub device: String,
    /// Login time, Unix ms.
    pub created_at: i64,
    /// Idle expiry, Unix ms.
    pub expires_at: i64,
    /// Size of the stored record.
    pub bytes: i64,
    /// Whether it is the caller's own.
    pub current: bool,
}

/// One token login (refresh-token family) of the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyRow {
    /// Family id.
    pub id: String,
    /// Login time, Unix ms.
    pub created_at: i64,
    /// Last rotation, Unix ms.
    pub last_refresh_at: i64,
    /// `live`, `revoked: <reason>` or `expired`.
    pub status: String,
    /// Refresh tokens issued in the family (one per rotation).
    pub tokens: i64,
    /// Scope of its access tokens.
    pub scope: String,
    /// Whether it is the caller's own.
    pub current: bool,
}

/// What the server keeps about the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerView {
    /// Username.
    pub username: String,
    /// Where this server keeps each kind of state (which backend, which table or keys).
    pub storage: String,
    /// Cookie sessions.
    pub sessions: Vec<SessionRow>,
    /// Token logins, recent revoked ones included.
    pub families: Vec<FamilyRow>,
    /// Opaque tokens.
    pub opaque_tokens: i64,
}

/// The server's opinion of a token (the JWT decoder's signature check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCheck {
    /// Whether `/api/me` would accept it now.
    pub valid: bool,
    /// The status `/api/me` would answer.
    pub status: u16,
    /// Why, in words.
    pub message: String,
}

/// A CSRF attempt the server refused (the CSRF experiment's evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsrfEvent {
    /// Unix ms.
    pub at: i64,
    /// The path that was targeted.
    pub path: String,
    /// The request's `Origin`, if any.
    pub origin: String,
    /// Its `Sec-Fetch-Site`, if any.
    pub fetch_site: String,
    /// Why it was refused.
    pub reason: String,
}

/// The two panes of the compare view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pane {
    /// A client with a cookie jar.
    Session,
    /// A client with a token store.
    Bearer,
}

/// What a pane can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareAction {
    /// Create this pane's account (a new throwaway user).
    Register,
    /// Log in.
    Login,
    /// `GET /api/me`.
    Me,
    /// `POST /api/notes`.
    Write,
    /// A thief copies the credential.
    Steal,
    /// The thief replays it.
    Replay,
    /// Log out.
    Logout,
    /// Log out everywhere (`POST /api/devices/revoke-all`).
    RevokeAll,
}

impl CompareAction {
    /// Every action, in the order the compare view lists them.
    pub const ALL: [Self; 8] = [
        Self::Register,
        Self::Login,
        Self::Me,
        Self::Write,
        Self::Steal,
        Self::Replay,
        Self::Logout,
        Self::RevokeAll,
    ];

    /// Stable key (URLs, tests).
    pub fn key(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::Me => "me",
            Self::Write => "write",
            Self::Steal => "steal",
            Self::Replay => "replay",
            Self::Logout => "logout",
            Self::RevokeAll => "revoke_all",
        }
    }

    /// The row's label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Register => "Register a new user",
            Self::Login => "Log in",
            Self::Me => "Call /api/me",
            Self::Write => "Write a note",
            Self::Steal => "A thief copies the credential",
            Self::Replay => "The thief replays it",
            Self::Logout => "Log out",
            Self::RevokeAll => "Log out everywhere",
        }
    }
}

/// The result of one action in one pane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaneResult {
    /// Which pane.
    pub pane: Pane,
    /// Which action.
    pub action: CompareAction,
    /// One line: what happened.
    pub summary: String,
    /// The main status code (0 when no request was made).
    pub status: u16,
    /// The requests.
    pub exchanges: Vec<Exchange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experiment_ids_are_unique_and_found() {
        for e in EXPERIMENTS {
            assert_eq!(experiment(e.id).map(|x| x.title), Some(e.title));
        }
        let mut ids: Vec<_> = EXPERIMENTS.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), EXPERIMENTS.len());
    }

    #[test]
    fn the_english_translations_are_the_catalogue_and_korean_has_its_own() {
        for e in EXPERIMENTS {
            assert_eq!(e.title_in(Locale::en), e.title, "{}", e.id);
            assert_eq!(e.claim_in(Locale::en), e.claim, "{}", e.id);
            assert_eq!(e.method_in(Locale::en), e.method, "{}", e.id);
            assert_ne!(e.title_in(Locale::ko), e.title, "{}", e.id);
            assert_ne!(e.claim_in(Locale::ko), e.claim, "{}", e.id);
            assert_ne!(e.method_in(Locale::ko), e.method, "{}", e.id);
        }
        for g in Group::ALL {
            assert_eq!(g.title_in(Locale::en), g.title());
            assert_eq!(g.blurb_in(Locale::en), g.blurb());
        }
        for o in [Outcome::Confirmed, Outcome::Partly, Outcome::Refuted] {
            assert_eq!(o.label_in(Locale::en), o.label());
        }
    }

    #[test]
    fn fill_puts_values_in_their_places_once() {
        assert_eq!(
            fill_placeholders("{a} and {b}", &[("a", &1), ("b", &"two")]),
            "1 and two"
        );
        assert_eq!(
            fill_placeholders("{a}: {x} {", &[("a", &"{x}")]),
            "{x}: {x} {"
        );
        assert_eq!(fill_placeholders("no placeholders", &[]), "no placeholders");
    }
}
