//! The profile page: who you are, how the server recognised you, and a live check.

use leptos::prelude::*;

use crate::{
    client::{AuthClient, forms::LinkedAccounts},
    components::require_user::RequireUser,
    fns,
    format::{duration_in, utc},
    i18n::*,
    wire::{AuthInfo, Me},
};

/// The logged-in user's page (protected).
#[component]
pub fn ProfilePage() -> impl IntoView {
    let locale = crate::locale::use_locale();
    view! {
        <h1>{td!(locale, account.profile.title)}</h1>
        <LinkedNotice />
        <RequireUser children=|me: Me| view! { <ProfileDetails me /> } />
    }
}

#[component]
fn ProfileDetails(me: Me) -> impl IntoView {
    let locale = crate::locale::use_locale();
    let auth_rows = match &me.auth {
        AuthInfo::Session(s) => view! {
            <dt>{td!(locale, account.profile.session_started)}</dt>
            <dd>{utc(s.created_at)}</dd>
            <dt>{td!(locale, account.profile.idle_expires)}</dt>
            <dd data-testid="idle-expiry">{utc(s.idle_expires_at)}</dd>
            <dt>{td!(locale, account.profile.absolute_expires)}</dt>
            <dd>{utc(s.absolute_expires_at)}</dd>
        }
        .into_any(),
        AuthInfo::Bearer(b) => {
            let lifetime = b.expires_at - b.issued_at;
            view! {
                <dt>{td!(locale, account.profile.access_token_id)}</dt>
                <dd>
                    <code>{b.token_id.clone()}</code>
                </dd>
                <dt>{td!(locale, account.profile.token_family)}</dt>
                <dd>
                    <code>{b.family_id.clone()}</code>
                </dd>
                <dt>{td!(locale, account.profile.token_lifetime)}</dt>
                <dd>{move || duration_in(locale, lifetime)}</dd>
                <dt>{td!(locale, account.profile.scope)}</dt>
                <dd>{b.scope.clone()}</dd>
                <dt>{td!(locale, account.profile.strict_check)}</dt>
                <dd>
                    {if b.strict {
                        td_string!(locale, account.profile.strict_on)
                    } else {
                        td_string!(locale, account.profile.strict_off)
                    }}
                </dd>
            }
            .into_any()
        }
        AuthInfo::Opaque(o) => view! {
            <dt>{td!(locale, account.profile.opaque_token)}</dt>
            <dd>
                <code>{o.handle.clone()}</code>
            </dd>
            <dt>{td!(locale, account.profile.issued)}</dt>
            <dd>{utc(o.created_at)}</dd>
        }
        .into_any(),
    };
    view! {
        <dl class="facts">
            <dt>{td!(locale, account.profile.username)}</dt>
            <dd data-testid="profile-username">{me.user.username.clone()}</dd>
            <dt>{td!(locale, account.profile.user_id)}</dt>
            <dd>{me.user.id}</dd>
            <dt>{td!(locale, account.profile.recognised_by)}</dt>
            <dd data-testid="auth-mode">{me.auth.mode()}</dd>
            {auth_rows}
        </dl>
        <Heartbeat />
        <LinkedAccounts />
    }
}

/// After linking a provider account (`?linked=provider`), says so.
#[component]
fn LinkedNotice() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let locale = crate::locale::use_locale();
    move || {
        (query.read().get("linked").as_deref() == Some("provider")).then(|| {
            view! {
                <p class="notice" data-testid="linked-notice">
                    {td!(locale, account.profile.linked_notice)}
                </p>
            }
        })
    }
}

/// The live check's last answer, rendered in the page's language.
#[derive(Debug, Clone)]
enum LastAnswer {
    /// No call has answered yet (also what the server renders).
    NotStarted,
    /// `200`, for this user, recognised this way (`AuthInfo::mode`).
    Answered { user: String, mode: &'static str },
    /// The error's status and code, as the server sent them.
    Failed(String),
}

/// Calls `/me` every two seconds and counts the answers: in token mode this shows silent
/// refresh at work (the rotation count grows, failures stay at zero); in session mode it
/// keeps the session's idle timer sliding.
///
/// ## Server-side rendering
/// Renders zeros on the server; the timer starts in the browser.
#[component]
fn Heartbeat() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let ok = RwSignal::new(0u32);
    let failed = RwSignal::new(0u32);
    let rotations = RwSignal::new(0u32);
    let last = RwSignal::new(LastAnswer::NotStarted);
    Effect::new(move || {
        let tick = move || {
            leptos::task::spawn_local(async move {
                match auth.call(fns::current_user).await {
                    Ok(me) => {
                        ok.update(|n| *n += 1);
                        last.set(LastAnswer::Answered {
                            user: me.user.username,
                            mode: me.auth.mode(),
                        });
                    }
                    Err(err) => {
                        failed.update(|n| *n += 1);
                        last.set(LastAnswer::Failed(format!("{} {}", err.status, err.error)));
                    }
                }
                rotations.set(auth.rotations().unwrap_or(0));
            });
        };
        tick();
        let handle = set_interval_with_handle(tick, std::time::Duration::from_secs(2)).ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    });
    view! {
        <section class="panel" data-testid="heartbeat">
            <h2>{td!(locale, account.heartbeat.title)}</h2>
            <p class="muted">{td!(locale, account.heartbeat.intro)}</p>
            <dl class="facts">
                <dt>{td!(locale, account.heartbeat.calls_ok)}</dt>
                <dd data-testid="calls-ok">{ok}</dd>
                <dt>{td!(locale, account.heartbeat.calls_failed)}</dt>
                <dd data-testid="calls-failed">{failed}</dd>
                {auth
                    .rotations()
                    .is_some()
                    .then(|| {
                        view! {
                            <dt>{td!(locale, account.heartbeat.rotations)}</dt>
                            <dd data-testid="rotations">{rotations}</dd>
                        }
                    })}
                <dt>{td!(locale, account.heartbeat.last_answer)}</dt>
                <dd data-testid="last-answer">
                    {move || match last.get() {
                        LastAnswer::NotStarted => {
                            td_string!(locale, account.heartbeat.not_started).into_any()
                        }
                        LastAnswer::Answered { user, mode } => {
                            td!(locale, account.heartbeat.answered_as, user, mode).into_any()
                        }
                        LastAnswer::Failed(text) => text.into_any(),
                    }}
                </dd>
            </dl>
        </section>
    }
}

lazy_page!(ProfileRoute, ProfilePage);
