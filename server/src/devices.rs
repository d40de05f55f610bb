//! Devices: everywhere a user is logged in, in either mode, and ending any of them.
//!
//! Cookie sessions are indexed in `session_devices` (the session store itself cannot be
//! searched by user); token logins are their refresh-token families. Revoking a session deletes
//! its store record, so its cookie gets 401 on the very next request. Revoking a family stops
//! its refresh token at once, while access tokens already issued live until they expire
//! (unless strict checking is on).

use std::str::FromStr;

use app::wire::{Device, DeviceKind, DeviceList};
use sqlx::SqlitePool;
use tower_sessions::{SessionStore, session::Id};

use crate::{
    audit,
    auth::{Authentication, opaque, scope, session::SessionData},
    client::ClientInfo,
    clock::Millis,
    error::ApiError,
    state::AppState,
};

/// Adds a new session to the index.
pub async fn insert_session_device(
    db: &SqlitePool,
    data: &SessionData,
    session_id: &str,
    expires_at: Millis,
    client: &ClientInfo,
) -> Result<(), ApiError> {
    sqlx::query(
        "insert into session_devices
           (id, session_id, user_id, created_at, last_seen_at, expires_at, absolute_expires_at,
            user_agent, ip)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&data.device_id)
    .bind(session_id)
    .bind(data.user_id)
    .bind(data.created_at)
    .bind(data.last_seen_at)
    .bind(expires_at)
    .bind(data.absolute_expires_at)
    .bind(&client.user_agent)
    .bind(client.ip_text())
    .execute(db)
    .await?;
    Ok(())
}

/// Records activity on a session (called at most once per touch interval).
pub async fn touch_session(
    db: &SqlitePool,
    device_id: &str,
    now: Millis,
    expires_at: Millis,
) -> Result<(), ApiError> {
    sqlx::query("update session_devices set last_seen_at = ?, expires_at = ? where id = ?")
        .bind(now)
        .bind(expires_at)
        .bind(device_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Removes a session from the index (its store record is handled by the caller).
pub async fn delete_session_device(db: &SqlitePool, device_id: &str) -> Result<(), ApiError> {
    sqlx::query("delete from session_devices where id = ?")
        .bind(device_id)
        .execute(db)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: String,
    kind: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    user_agent: String,
    ip: String,
}

/// The user's live sessions and token families, newest first, the caller's marked current.
pub async fn list(state: &AppState, auth: &Authentication) -> Result<DeviceList, ApiError> {
    let now = state.clock.now_ms();
    let rows = sqlx::query_as::<_, DeviceRow>(
        "select id, 'session' as kind, created_at, last_seen_at, expires_at, user_agent, ip
           from session_devices
          where user_id = ?1 and expires_at > ?2
         union all
         select f.id, 'token' as kind, f.created_at, f.last_refresh_at as last_seen_at,
                min(f.absolute_expires_at, t.idle_expires_at) as expires_at, f.user_agent, f.ip
           from token_families f
           join refresh_tokens t on t.family_id = f.id and t.used_at is null
          where f.user_id = ?1 and f.revoked_at is null
            and f.absolute_expires_at > ?2 and t.idle_expires_at > ?2
         union all
         select handle as id, 'opaque' as kind, created_at, created_at as last_seen_at,
                9223372036854775807 as expires_at, user_agent, ip
           from opaque_tokens
          where user_id = ?1
         order by created_at desc",
    )
    .bind(auth.user().id)
    .bind(now)
    .fetch_all(&state.db)
    .await?;
    let current = auth.device_id();
    Ok(DeviceList {
        devices: rows
            .into_iter()
            .map(|r| Device {
                current: r.id == current,
                kind: match r.kind.as_str() {
                    "session" => DeviceKind::Session,
                    "token" => DeviceKind::Token,
                    _ => DeviceKind::Opaque,
                },
                id: r.id,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
                expires_at: r.expires_at,
                user_agent: r.user_agent,
                ip: r.ip,
            })
            .collect(),
    })
}

/// Ends one of the caller's devices. 404 if it is not theirs (or already gone).
pub async fn revoke(state: &AppState, auth: &Authentication, id: &str) -> Result<(), ApiError> {
    auth.require_scope(scope::WRITE)?;
    let user_id = auth.user().id;
    let ended = if let Some(session_id) = session_id_of(&state.db, user_id, id).await? {
        end_session(state, Some(auth), id, &session_id).await?;
        true
    } else {
        state
            .refresh_tokens
            .revoke_family(
                &state.db,
                Some(user_id),
                id,
                "revoked_by_user",
                state.clock.now_ms(),
            )
            .await?
            || opaque::revoke(&state.db, user_id, id).await?
    };
    if !ended {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &state.db,
        state.clock.now_ms(),
        Some(user_id),
        "revoked",
        None,
        id,
    )
    .await;
    tracing::info!(user_id, device = id, "device revoked");
    Ok(())
}

/// Ends every device of the caller except (unless `including_current`) the current one.
pub async fn revoke_all(
    state: &AppState,
    auth: &Authentication,
    including_current: bool,
) -> Result<u64, ApiError> {
    auth.require_scope(scope::WRITE)?;
    let user_id = auth.user().id;
    let keep = (!including_current).then(|| auth.device_id());
    let count = end_all(state, user_id, keep, Some(auth), "revoked_by_user").await?;
    let kind = if including_current {
        "logout_everywhere"
    } else {
        "revoked_others"
    };
    audit::record(
        &state.db,
        state.clock.now_ms(),
        Some(user_id),
        kind,
        None,
        "",
    )
    .await;
    tracing::info!(user_id, count, kind, "devices revoked");
    Ok(count)
}

/// The single-session policy: when it is on, a new login first ends every other login of the
/// user, in every mode. (Access tokens already issued live on until they expire unless strict
/// checking is on — the same stateless trade-off as logout.)
pub async fn enforce_single_session(state: &AppState, user_id: i64) -> Result<(), ApiError> {
    if !state.settings.single_session() {
        return Ok(());
    }
    let count = end_all(state, user_id, None, None, "single_session").await?;
    if count > 0 {
        audit::record(
            &state.db,
            state.clock.now_ms(),
            Some(user_id),
            "single_session",
            None,
            &count.to_string(),
        )
        .await;
        tracing::info!(user_id, count, "single-session policy ended older logins");
    }
    Ok(())
}

/// Ends all of a user's sessions, token families and opaque tokens, except `keep`.
async fn end_all(
    state: &AppState,
    user_id: i64,
    keep: Option<&str>,
    caller: Option<&Authentication>,
    reason: &str,
) -> Result<u64, ApiError> {
    let now = state.clock.now_ms();
    let mut count = 0;
    let sessions = sqlx::query_as::<_, (String, String)>(
        "select id, session_id from session_devices where user_id = ?",
    )
    .bind(user_id)
    .fetch_all(&state.db)
    .await?;
    for (device_id, session_id) in sessions {
        if keep != Some(device_id.as_str()) {
            end_session(state, caller, &device_id, &session_id).await?;
            count += 1;
        }
    }
    let families = sqlx::query_scalar::<_, String>(
        "select id from token_families where user_id = ? and revoked_at is null",
    )
    .bind(user_id)
    .fetch_all(&state.db)
    .await?;
    for family in families {
        if keep != Some(family.as_str())
            && state
                .refresh_tokens
                .revoke_family(&state.db, Some(user_id), &family, reason, now)
                .await?
        {
            count += 1;
        }
    }
    let handles =
        sqlx::query_scalar::<_, String>("select handle from opaque_tokens where user_id = ?")
            .bind(user_id)
            .fetch_all(&state.db)
            .await?;
    for handle in handles {
        if keep != Some(handle.as_str()) && opaque::revoke(&state.db, user_id, &handle).await? {
            count += 1;
        }
    }
    Ok(count)
}

async fn session_id_of(
    db: &SqlitePool,
    user_id: i64,
    device_id: &str,
) -> Result<Option<String>, ApiError> {
    Ok(sqlx::query_scalar::<_, String>(
        "select session_id from session_devices where id = ? and user_id = ?",
    )
    .bind(device_id)
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}

/// Deletes a session's store record and index entry. When it is the caller's own session,
/// the request's handle is flushed too, so the end of this request cannot write it back and
/// the response clears the cookie.
async fn end_session(
    state: &AppState,
    caller: Option<&Authentication>,
    device_id: &str,
    session_id: &str,
) -> Result<(), ApiError> {
    match caller {
        Some(Authentication::Session(own)) if own.data.device_id == device_id => {
            own.session.flush().await?;
        }
        _ => {
            if let Ok(id) = Id::from_str(session_id) {
                state
                    .session_store
                    .delete(&id)
                    .await
                    .map_err(|e| ApiError::Internal(anyhow::anyhow!("session store: {e}")))?;
            }
        }
    }
    delete_session_device(&state.db, device_id).await
}
