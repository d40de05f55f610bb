//! The devices page: every session and token login of the user, and revocation.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    client::AuthClient,
    components::{forms::ErrorBox, require_user::RequireUser},
    error::AppError,
    fns,
    format::utc,
    i18n::*,
    wire::{Device, DeviceKind, Me},
};

/// Lists where the user is logged in; revoke one, all others, or everything (protected).
#[component]
pub fn DevicesPage() -> impl IntoView {
    let locale = crate::locale::use_locale();
    view! {
        <h1>{td!(locale, account.devices.title)}</h1>
        <p class="muted">{td!(locale, account.devices.intro)}</p>
        <RequireUser children=|_me: Me| view! { <DeviceTable /> } />
    }
}

#[component]
fn DeviceTable() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let list = auth.load(fns::devices);
    let error = RwSignal::new(None::<AppError>);
    let navigate = use_navigate();
    let to_login = auth.mode().path("login");

    let revoke = Action::new_local(move |device: &Device| {
        let id = device.id.clone();
        let current = device.current;
        async move {
            let result = auth.call(|| fns::revoke_device(id.clone())).await;
            (current, result.map(|()| 1))
        }
    });
    let revoke_others = Action::new_local(move |(): &()| async move {
        (
            false,
            auth.call(fns::revoke_other_devices)
                .await
                .map(|r| r.revoked),
        )
    });
    let everywhere = Action::new_local(move |(): &()| async move {
        (
            true,
            auth.call(fns::logout_everywhere).await.map(|r| r.revoked),
        )
    });
    for action in [revoke_others, everywhere] {
        let value = move || action.value().get();
        watch_result(value, list, error, auth, navigate.clone(), to_login.clone());
    }
    watch_result(
        move || revoke.value().get(),
        list,
        error,
        auth,
        navigate,
        to_login,
    );

    view! {
        <Transition fallback=move || view! { <p class="muted">{td!(locale, common.loading)}</p> }>
            {move || {
                list.get()
                    .map(|result| match result {
                        Ok(devices) => {
                            view! {
                                <table class="devices" data-testid="devices">
                                    <thead>
                                        <tr>
                                            <th>{td!(locale, account.devices.col_kind)}</th>
                                            <th>{td!(locale, account.devices.col_logged_in)}</th>
                                            <th>{td!(locale, account.devices.col_signed_in_with)}</th>
                                            <th>{td!(locale, account.devices.col_last_active)}</th>
                                            <th>{td!(locale, account.devices.col_expires)}</th>
                                            <th>{td!(locale, account.devices.col_browser)}</th>
                                            <th>{td!(locale, account.devices.col_address)}</th>
                                            <th></th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {devices
                                            .devices
                                            .into_iter()
                                            .map(|d| view! { <DeviceRow device=d revoke /> })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                        Err(err) => view! { <ErrorBox error=err /> }.into_any(),
                    })
            }}
        </Transition>
        {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
        <p class="actions">
            <button
                type="button"
                data-testid="revoke-others"
                on:click=move |_| {
                    revoke_others.dispatch(());
                }
            >
                {td!(locale, account.devices.revoke_others)}
            </button>
            <button
                type="button"
                class="danger"
                data-testid="logout-everywhere"
                on:click=move |_| {
                    everywhere.dispatch(());
                }
            >
                {td!(locale, account.devices.logout_everywhere)}
            </button>
        </p>
    }
}

/// After a revocation: reload the list, or go to the login page if this device was ended.
fn watch_result(
    value: impl Fn() -> Option<(bool, Result<u64, AppError>)> + 'static,
    list: crate::client::Loaded<crate::wire::DeviceList>,
    error: RwSignal<Option<AppError>>,
    auth: AuthClient,
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + Clone + 'static,
    to_login: String,
) {
    Effect::new(move || match value() {
        Some((ended_self, Ok(_))) => {
            error.set(None);
            if ended_self {
                auth.changed();
                navigate(&to_login, Default::default());
            } else {
                list.refetch();
            }
        }
        Some((_, Err(err))) => error.set(Some(err)),
        None => {}
    });
}

#[component]
fn DeviceRow(
    device: Device,
    revoke: Action<Device, (bool, Result<u64, AppError>)>,
) -> impl IntoView {
    let locale = crate::locale::use_locale();
    let kind = match device.kind {
        DeviceKind::Session => td_string!(locale, account.devices.kind_session),
        DeviceKind::Token => td_string!(locale, account.devices.kind_token),
        DeviceKind::Opaque => td_string!(locale, account.devices.kind_opaque),
    };
    let current = device.current;
    let browser = short_agent(
        &device.user_agent,
        td_string!(locale, account.devices.unknown_browser),
    );
    let testid = if current {
        "device-current"
    } else {
        "device-other"
    };
    view! {
        <tr class:current=current data-testid=testid>
            <td>
                {kind}
                {current
                    .then(|| {
                        view! {
                            <span class="badge">{td!(locale, account.devices.this_device)}</span>
                        }
                    })}
            </td>
            <td>{utc(device.created_at)}</td>
            <td data-testid="device-login">
                {if device.login == "provider" {
                    td_string!(locale, account.devices.login_provider)
                } else {
                    td_string!(locale, account.devices.login_password)
                }}
            </td>
            <td>{utc(device.last_seen_at)}</td>
            <td>
                {if device.expires_at >= i64::MAX / 2 {
                    td_string!(locale, account.devices.never_expires).to_owned()
                } else {
                    utc(device.expires_at)
                }}
            </td>
            <td title=device.user_agent.clone()>{browser}</td>
            <td>{device.ip.clone()}</td>
            <td>
                <button
                    type="button"
                    class="small"
                    data-testid="revoke"
                    on:click=move |_| {
                        revoke.dispatch(device.clone());
                    }
                >
                    {if current {
                        td_string!(locale, account.devices.log_out)
                    } else {
                        td_string!(locale, account.devices.revoke)
                    }}
                </button>
            </td>
        </tr>
    }
}

/// A readable browser name from a `User-Agent`; `unknown` when it is empty.
fn short_agent(agent: &str, unknown: &str) -> String {
    let known = [
        "Firefox",
        "Edg",
        "Chrome",
        "Safari",
        "curl",
        "HeadlessChrome",
    ];
    let found = known.iter().rev().find(|k| agent.contains(*k));
    match found {
        Some(&"Edg") => "Edge".into(),
        Some(name) => (*name).into(),
        None if agent.is_empty() => unknown.into(),
        None => agent.chars().take(24).collect(),
    }
}

lazy_page!(DevicesRoute, DevicesPage);
