//! The profile page: who you are, how the server recognised you, and a live check.

use leptos::prelude::*;

use crate::{
    client::{AuthClient, forms::LinkedAccounts},
    components::require_user::RequireUser,
    fns,
    format::{duration, utc},
    wire::{AuthInfo, Me},
};

/// The logged-in user's page (protected).
#[component]
pub fn ProfilePage() -> impl IntoView {
    view! {
        <h1>"Profile"</h1>
        <LinkedNotice />
        <RequireUser children=|me: Me| view! { <ProfileDetails me /> } />
    }
}

#[component]
fn ProfileDetails(me: Me) -> impl IntoView {
    let auth_rows = match &me.auth {
        AuthInfo::Session(s) => view! {
            <dt>"Session started"</dt>
            <dd>{utc(s.created_at)}</dd>
            <dt>"Ends if idle after"</dt>
            <dd data-testid="idle-expiry">{utc(s.idle_expires_at)}</dd>
            <dt>"Ends at the latest"</dt>
            <dd>{utc(s.absolute_expires_at)}</dd>
        }
        .into_any(),
        AuthInfo::Bearer(b) => view! {
            <dt>"Access token id"</dt>
            <dd>
                <code>{b.token_id.clone()}</code>
            </dd>
            <dt>"Login (token family)"</dt>
            <dd>
                <code>{b.family_id.clone()}</code>
            </dd>
            <dt>"Token lifetime"</dt>
            <dd>{duration(b.expires_at - b.issued_at)}</dd>
            <dt>"Scope"</dt>
            <dd>{b.scope.clone()}</dd>
            <dt>"Strict revocation check"</dt>
            <dd>{if b.strict { "on" } else { "off" }}</dd>
        }
        .into_any(),
        AuthInfo::Opaque(o) => view! {
            <dt>"Opaque token"</dt>
            <dd>
                <code>{o.handle.clone()}</code>
            </dd>
            <dt>"Issued"</dt>
            <dd>{utc(o.created_at)}</dd>
        }
        .into_any(),
    };
    view! {
        <dl class="facts">
            <dt>"Username"</dt>
            <dd data-testid="profile-username">{me.user.username.clone()}</dd>
            <dt>"User id"</dt>
            <dd>{me.user.id}</dd>
            <dt>"Recognised by"</dt>
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
    move || {
        (query.read().get("linked").as_deref() == Some("provider")).then(|| {
            view! {
                <p class="notice" data-testid="linked-notice">
                    "Your identity provider account is now linked: you can sign in with it."
                </p>
            }
        })
    }
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
    let ok = RwSignal::new(0u32);
    let failed = RwSignal::new(0u32);
    let rotations = RwSignal::new(0u32);
    let last = RwSignal::new(String::from("not started"));
    Effect::new(move || {
        let tick = move || {
            leptos::task::spawn_local(async move {
                match auth.call(fns::current_user).await {
                    Ok(me) => {
                        ok.update(|n| *n += 1);
                        last.set(format!("200 as {} ({})", me.user.username, me.auth.mode()));
                    }
                    Err(err) => {
                        failed.update(|n| *n += 1);
                        last.set(format!("{} {}", err.status, err.error));
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
            <h2>"Live check"</h2>
            <p class="muted">"This page calls the server every 2 seconds as you."</p>
            <dl class="facts">
                <dt>"Calls answered"</dt>
                <dd data-testid="calls-ok">{ok}</dd>
                <dt>"Calls failed"</dt>
                <dd data-testid="calls-failed">{failed}</dd>
                {auth
                    .rotations()
                    .is_some()
                    .then(|| {
                        view! {
                            <dt>"Token refreshes in this tab"</dt>
                            <dd data-testid="rotations">{rotations}</dd>
                        }
                    })}
                <dt>"Last answer"</dt>
                <dd data-testid="last-answer">{last}</dd>
            </dl>
        </section>
    }
}
