//! The SQL backends: SQLite (the default) and PostgreSQL.
//!
//! Both speak the same SQL for nearly everything authlab does, with `$1`, `$2`, … placeholders
//! (which SQLite understands too). So the stores are written once, in [`sql_backend!`], and
//! compiled against each driver — every statement is type-checked for both. Where the two
//! databases differ, each backend says how in its [`Dialect`]:
//!
//! * how a username is matched case-insensitively (SQLite `collate nocase`, PostgreSQL
//!   `lower()`, each backed by its unique index);
//! * how a refresh-token rotation holds its rows (SQLite takes the database's write lock with
//!   `BEGIN IMMEDIATE`; PostgreSQL locks the token and family rows with `FOR UPDATE`).

pub mod postgres;
pub mod sqlite;

use super::model::*;

/// What differs between the SQL databases.
pub trait Dialect {
    /// `select id, username, password_hash from users where <name matches $1>`.
    const USER_BY_NAME: &'static str;
    /// The statement that opens a rotation's transaction.
    const BEGIN_ROTATION: &'static str;
    /// Appended to the rotation's select to hold the rows until commit.
    const LOCK_ROWS: &'static str;
}

/// The presented refresh token joined with its family.
pub const SELECT_TOKEN: &str = "select t.family_id, f.user_id, t.used_at, t.idle_expires_at,
        f.revoked_at, f.absolute_expires_at, f.scope, f.access_ttl_secs
   from refresh_tokens t join token_families f on f.id = t.family_id
  where t.token_hash = $1";

/// Deletes families that can never refresh again: past their absolute expiry, revoked more
/// than `$2` ms ago, or idle that long with no live token.
pub const DELETE_DEAD_FAMILIES: &str = "delete from token_families
  where absolute_expires_at <= $1
     or (revoked_at is not null and revoked_at <= $1 - $2)
     or (last_refresh_at <= $1 - $2
         and not exists (select 1 from refresh_tokens t
                          where t.family_id = token_families.id
                            and t.used_at is null and t.idle_expires_at > $1))";

/// Counts of every table in one query.
pub const COUNTS: &str = "select
    (select count(*) from users),
    (select count(*) from session_devices),
    (select count(*) from token_families),
    (select count(*) from token_families where revoked_at is null),
    (select count(*) from refresh_tokens),
    (select count(*) from refresh_tokens where used_at is not null),
    (select count(*) from opaque_tokens),
    (select count(*) from notes),
    (select count(*) from auth_events)";

/// Rows and stored bytes of one user's families and refresh tokens: each column's length,
/// plus 8 bytes per integer column. (`length` of a bytea is its byte count in PostgreSQL.)
pub const TOKEN_FOOTPRINT: &str = "select
    cast((select count(*) from token_families where user_id = $1)
       + (select count(*) from refresh_tokens t join token_families f on f.id = t.family_id
           where f.user_id = $1) as bigint),
    cast(coalesce((select sum(length(id) + length(user_agent) + length(ip) + length(scope) + 48)
                     from token_families where user_id = $1), 0)
       + coalesce((select sum(length(t.token_hash) + coalesce(length(t.parent_hash), 0)
                              + length(t.family_id) + 24)
                     from refresh_tokens t join token_families f on f.id = t.family_id
                    where f.user_id = $1), 0) as bigint)";

/// A `session_devices` row.
pub type EntryRow = (
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    String,
    String,
    String,
);

/// The index entry of a row.
pub fn entry(row: EntryRow) -> SessionEntry {
    let (
        device_id,
        session_id,
        user_id,
        created_at,
        last_seen_at,
        expires_at,
        absolute,
        ua,
        ip,
        method,
    ) = row;
    SessionEntry {
        device_id,
        session_id,
        user_id,
        created_at,
        last_seen_at,
        expires_at,
        absolute_expires_at: absolute,
        client: ClientMeta { user_agent: ua, ip },
        method: LoginMethod::from_stored(&method),
    }
}

/// Adds a user (`returning id`): the insert, bound, for a pool or a transaction.
pub fn insert_user<'q, DB>(
    username: &'q str,
    password_hash: &'q str,
    created_at: i64,
) -> sqlx::query::QueryScalar<'q, DB, i64, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query_scalar(
        "insert into users (username, password_hash, created_at) values ($1, $2, $3)
         returning id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(created_at)
}

/// Links a provider account to `user_id`: the insert, bound, for a pool or a transaction.
pub fn insert_identity<'q, DB>(
    identity: &'q ExternalIdentity,
    user_id: i64,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "insert into external_identities (issuer, subject, user_id, email, created_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(identity.issuer.as_str())
    .bind(identity.subject.as_str())
    .bind(user_id)
    .bind(identity.email.as_str())
    .bind(identity.created_at)
}

/// A family row for the devices list.
pub type FamilyRow = (String, i64, i64, i64, String, String, String);

/// The devices-list entry of a row.
pub fn family_entry(row: FamilyRow) -> FamilyEntry {
    let (id, created_at, last_refresh_at, expires_at, user_agent, ip, method) = row;
    FamilyEntry {
        id,
        created_at,
        last_refresh_at,
        expires_at,
        client: ClientMeta { user_agent, ip },
        method: LoginMethod::from_stored(&method),
    }
}

/// A family row for the lab's server view.
pub type SummaryRow = (
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    i64,
    String,
    i64,
);

/// The server-view summary of a row.
pub fn summary(row: SummaryRow) -> FamilySummary {
    let (id, created_at, last_refresh_at, revoked_at, reason, absolute_expires_at, scope, tokens) =
        row;
    FamilySummary {
        id,
        created_at,
        last_refresh_at,
        revoked: revoked_at.map(|at| (at, reason.unwrap_or_default())),
        absolute_expires_at,
        scope,
        tokens,
    }
}

/// An `opaque_tokens` row joined with its user.
pub type OpaqueRow = (String, i64, i64, String, String, String);

/// The entry of a row.
pub fn opaque_entry(row: OpaqueRow) -> OpaqueEntry {
    let (handle, created_at, id, username, user_agent, ip) = row;
    OpaqueEntry {
        handle,
        created_at,
        user: User { id, username },
        client: ClientMeta { user_agent, ip },
    }
}

/// A `notes` row.
pub fn note((id, text, via, created_at): (i64, String, String, i64)) -> NoteRecord {
    NoteRecord {
        id,
        text,
        via: AuthMode::from_stored(&via),
        created_at,
    }
}

/// The counts of a [`COUNTS`] row.
pub fn counts(r: (i64, i64, i64, i64, i64, i64, i64, i64, i64)) -> Counts {
    Counts {
        users: r.0,
        session_entries: r.1,
        families: r.2,
        unrevoked_families: r.3,
        refresh_tokens: r.4,
        used_refresh_tokens: r.5,
        opaque_tokens: r.6,
        notes: r.7,
        audit_events: r.8,
    }
}

/// Implements every store of [`crate::store`] for a backend type `$db` that has a `pool`
/// field and implements [`Dialect`].
macro_rules! sql_backend {
    ($db:ty) => {
        use async_trait::async_trait;
        use $crate::{
            clock::Millis,
            store::{
                AuditLog, Census, Decide, ExternalLoginStore, FamilyStore, Housekeeping,
                KeyStore, NoteStore,
                OpaqueStore, Result, SessionIndex, UserStore,
                model::*,
                sql::{self, Dialect},
            },
        };

        #[async_trait]
        impl UserStore for $db {
            async fn insert_user(&self, username: &str, hash: &str, now: Millis) -> Result<i64> {
                Ok(sql::insert_user(username, hash, now)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn user_by_name(&self, username: &str) -> Result<Option<UserWithHash>> {
                let row = sqlx::query_as::<_, (i64, String, String)>(<$db>::USER_BY_NAME)
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(id, username, password_hash)| UserWithHash {
                    user: User { id, username },
                    password_hash,
                }))
            }

            async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
                let row = sqlx::query_as::<_, (i64, String)>(
                    "select id, username from users where id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(id, username)| User { id, username }))
            }
        }

        #[async_trait]
        impl SessionIndex for $db {
            async fn add_session(&self, e: &SessionEntry) -> Result<()> {
                sqlx::query(
                    "insert into session_devices
                       (id, session_id, user_id, created_at, last_seen_at, expires_at,
                        absolute_expires_at, user_agent, ip, login_method)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&e.device_id)
                .bind(&e.session_id)
                .bind(e.user_id)
                .bind(e.created_at)
                .bind(e.last_seen_at)
                .bind(e.expires_at)
                .bind(e.absolute_expires_at)
                .bind(&e.client.user_agent)
                .bind(&e.client.ip)
                .bind(e.method.as_str())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn attach_session(&self, device_id: &str, session_id: &str) -> Result<bool> {
                let done = sqlx::query("update session_devices set session_id = $1 where id = $2")
                    .bind(session_id)
                    .bind(device_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn touch_session(&self, device: &str, now: Millis, expires: Millis) -> Result<()> {
                sqlx::query(
                    "update session_devices set last_seen_at = $1, expires_at = $2 where id = $3",
                )
                .bind(now)
                .bind(expires)
                .bind(device)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn remove_session(&self, device_id: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "delete from session_devices where id = $1 returning session_id",
                )
                .bind(device_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn session_id_of(&self, user_id: i64, device_id: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "select session_id from session_devices where id = $1 and user_id = $2",
                )
                .bind(device_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn sessions_of(&self, user_id: i64) -> Result<Vec<(String, String)>> {
                Ok(sqlx::query_as(
                    "select id, session_id from session_devices where user_id = $1",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn live_sessions(&self, user_id: i64, now: Millis) -> Result<Vec<SessionEntry>> {
                let rows = sqlx::query_as::<_, sql::EntryRow>(
                    "select id, session_id, user_id, created_at, last_seen_at, expires_at,
                            absolute_expires_at, user_agent, ip, login_method
                       from session_devices
                      where user_id = $1 and expires_at > $2 and session_id not like 'pending:%'
                      order by created_at desc",
                )
                .bind(user_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(sql::entry).collect())
            }
        }

        #[async_trait]
        impl FamilyStore for $db {
            async fn start_family(&self, f: &NewFamily, first: &TokenHash) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "insert into token_families
                       (id, user_id, created_at, last_refresh_at, absolute_expires_at,
                        user_agent, ip, scope, access_ttl_secs, login_method)
                     values ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&f.id)
                .bind(f.user_id)
                .bind(f.created_at)
                .bind(f.absolute_expires_at)
                .bind(&f.client.user_agent)
                .bind(&f.client.ip)
                .bind(&f.scope)
                .bind(f.access_ttl_secs)
                .bind(f.method.as_str())
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "insert into refresh_tokens
                       (token_hash, family_id, parent_hash, issued_at, idle_expires_at)
                     values ($1, $2, null, $3, $4)",
                )
                .bind(first.as_slice())
                .bind(&f.id)
                .bind(f.created_at)
                .bind(f.idle_expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn rotate(
                &self,
                presented: &TokenHash,
                now: Millis,
                decide: &Decide<'_>,
            ) -> Result<Option<(TokenState, Rotated)>> {
                let mut tx = self.pool.begin_with(<$db>::BEGIN_ROTATION).await?;
                let select = format!("{}{}", sql::SELECT_TOKEN, <$db>::LOCK_ROWS);
                let Some(state) = sqlx::query_as::<_, TokenState>(&select)
                    .bind(presented.as_slice())
                    .fetch_optional(&mut *tx)
                    .await?
                else {
                    return Ok(None);
                };
                let done = match decide(&state) {
                    Rotation::Rotate {
                        child,
                        idle_expires_at,
                    } => {
                        sqlx::query(
                            "update refresh_tokens set used_at = $1
                              where token_hash = $2 and used_at is null",
                        )
                        .bind(now)
                        .bind(presented.as_slice())
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query(
                            "insert into refresh_tokens
                               (token_hash, family_id, parent_hash, issued_at, idle_expires_at)
                             values ($1, $2, $3, $4, $5)",
                        )
                        .bind(child.as_slice())
                        .bind(&state.family_id)
                        .bind(presented.as_slice())
                        .bind(now)
                        .bind(idle_expires_at)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query("update token_families set last_refresh_at = $1 where id = $2")
                            .bind(now)
                            .bind(&state.family_id)
                            .execute(&mut *tx)
                            .await?;
                        Rotated::Rotated
                    }
                    Rotation::Replay => {
                        let live = sqlx::query_as::<_, (Vec<u8>, i64)>(
                            "select token_hash, idle_expires_at from refresh_tokens
                              where family_id = $1 and used_at is null",
                        )
                        .bind(&state.family_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        Rotated::Replayed(
                            live.and_then(|(hash, at)| Some((hash.try_into().ok()?, at))),
                        )
                    }
                    Rotation::Revoke(reason) => {
                        sqlx::query(
                            "update token_families set revoked_at = $1, revoked_reason = $2
                              where id = $3 and revoked_at is null",
                        )
                        .bind(now)
                        .bind(reason.as_str())
                        .bind(&state.family_id)
                        .execute(&mut *tx)
                        .await?;
                        Rotated::Revoked
                    }
                    Rotation::Refuse => Rotated::Refused,
                };
                tx.commit().await?;
                Ok(Some((state, done)))
            }

            async fn family_of_token(&self, token: &TokenHash) -> Result<Option<(String, i64)>> {
                Ok(sqlx::query_as(
                    "select f.id, f.user_id
                       from refresh_tokens t join token_families f on f.id = t.family_id
                      where t.token_hash = $1",
                )
                .bind(token.as_slice())
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn revoke_family(
                &self,
                user_id: Option<i64>,
                family_id: &str,
                reason: RevokeReason,
                now: Millis,
            ) -> Result<bool> {
                let done = sqlx::query(
                    "update token_families set revoked_at = $1, revoked_reason = $2
                      where id = $3 and revoked_at is null and absolute_expires_at > $1
                        and (cast($4 as bigint) is null or user_id = $4)",
                )
                .bind(now)
                .bind(reason.as_str())
                .bind(family_id)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn family_alive(&self, family_id: &str, now: Millis) -> Result<bool> {
                let alive: Option<i64> = sqlx::query_scalar(
                    "select cast(1 as bigint) from token_families
                      where id = $1 and revoked_at is null and absolute_expires_at > $2",
                )
                .bind(family_id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                Ok(alive.is_some())
            }

            async fn live_families(&self, user_id: i64, now: Millis) -> Result<Vec<FamilyEntry>> {
                let rows = sqlx::query_as::<_, sql::FamilyRow>(
                    "select f.id, f.created_at, f.last_refresh_at,
                            case when f.absolute_expires_at < t.idle_expires_at
                                 then f.absolute_expires_at else t.idle_expires_at end,
                            f.user_agent, f.ip, f.login_method
                       from token_families f
                       join refresh_tokens t on t.family_id = f.id and t.used_at is null
                      where f.user_id = $1 and f.revoked_at is null
                        and f.absolute_expires_at > $2 and t.idle_expires_at > $2
                      order by f.created_at desc",
                )
                .bind(user_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(sql::family_entry).collect())
            }

            async fn unrevoked_family_ids(&self, user_id: i64) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "select id from token_families where user_id = $1 and revoked_at is null",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn recent_families(&self, user_id: i64, limit: i64) -> Result<Vec<FamilySummary>> {
                let rows = sqlx::query_as::<_, sql::SummaryRow>(
                    "select f.id, f.created_at, f.last_refresh_at, f.revoked_at,
                            f.revoked_reason, f.absolute_expires_at, f.scope,
                            (select count(*) from refresh_tokens t where t.family_id = f.id)
                       from token_families f
                      where f.user_id = $1
                      order by f.created_at desc
                      limit $2",
                )
                .bind(user_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(sql::summary).collect())
            }
        }

        #[async_trait]
        impl OpaqueStore for $db {
            async fn insert_opaque(&self, t: &NewOpaque) -> Result<()> {
                sqlx::query(
                    "insert into opaque_tokens
                       (token_hash, handle, user_id, created_at, user_agent, ip)
                     values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(t.hash.as_slice())
                .bind(&t.handle)
                .bind(t.user_id)
                .bind(t.created_at)
                .bind(&t.client.user_agent)
                .bind(&t.client.ip)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn opaque_by_hash(&self, hash: &TokenHash) -> Result<Option<OpaqueEntry>> {
                let row = sqlx::query_as::<_, sql::OpaqueRow>(
                    "select t.handle, t.created_at, u.id, u.username, t.user_agent, t.ip
                       from opaque_tokens t join users u on u.id = t.user_id
                      where t.token_hash = $1",
                )
                .bind(hash.as_slice())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(sql::opaque_entry))
            }

            async fn delete_opaque(&self, user_id: i64, handle: &str) -> Result<bool> {
                let done =
                    sqlx::query("delete from opaque_tokens where handle = $1 and user_id = $2")
                        .bind(handle)
                        .bind(user_id)
                        .execute(&self.pool)
                        .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn opaque_of(&self, user_id: i64) -> Result<Vec<OpaqueEntry>> {
                let rows = sqlx::query_as::<_, sql::OpaqueRow>(
                    "select t.handle, t.created_at, u.id, u.username, t.user_agent, t.ip
                       from opaque_tokens t join users u on u.id = t.user_id
                      where t.user_id = $1
                      order by t.created_at desc",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(sql::opaque_entry).collect())
            }
        }

        #[async_trait]
        impl NoteStore for $db {
            async fn latest_notes(&self, user_id: i64, limit: i64) -> Result<Vec<NoteRecord>> {
                let rows = sqlx::query_as::<_, (i64, String, String, i64)>(
                    "select id, text, via, created_at from notes where user_id = $1
                      order by id desc limit $2",
                )
                .bind(user_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(sql::note).collect())
            }

            async fn add_note(
                &self,
                user_id: i64,
                text: &str,
                via: AuthMode,
                now: Millis,
            ) -> Result<i64> {
                Ok(sqlx::query_scalar(
                    "insert into notes (user_id, text, via, created_at) values ($1, $2, $3, $4)
                     returning id",
                )
                .bind(user_id)
                .bind(text)
                .bind(via.as_str())
                .bind(now)
                .fetch_one(&self.pool)
                .await?)
            }
        }

        #[async_trait]
        impl ExternalLoginStore for $db {
            async fn user_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<User>> {
                let row = sqlx::query_as::<_, (i64, String)>(
                    "select u.id, u.username
                       from external_identities e join users u on u.id = e.user_id
                      where e.issuer = $1 and e.subject = $2",
                )
                .bind(issuer)
                .bind(subject)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(id, username)| User { id, username }))
            }

            async fn link_identity(&self, identity: &ExternalIdentity) -> Result<()> {
                sql::insert_identity(identity, identity.user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn insert_user_with_identity(
                &self,
                username: &str,
                password_hash: &str,
                identity: &ExternalIdentity,
            ) -> Result<i64> {
                let mut tx = self.pool.begin().await?;
                let id = sql::insert_user(username, password_hash, identity.created_at)
                    .fetch_one(&mut *tx)
                    .await?;
                sql::insert_identity(identity, id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn identities_of(&self, user_id: i64) -> Result<Vec<ExternalIdentity>> {
                let rows = sqlx::query_as::<_, (String, String, i64, String, i64)>(
                    "select issuer, subject, user_id, email, created_at
                       from external_identities where user_id = $1 order by created_at",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(issuer, subject, user_id, email, created_at)| ExternalIdentity {
                        issuer,
                        subject,
                        user_id,
                        email,
                        created_at,
                    })
                    .collect())
            }

            async fn put_once(
                &self,
                key: &TokenHash,
                purpose: &str,
                payload: &str,
                expires_at: Millis,
            ) -> Result<()> {
                sqlx::query(
                    "insert into one_time_values (key_hash, purpose, payload, expires_at)
                     values ($1, $2, $3, $4)",
                )
                .bind(key.as_slice())
                .bind(purpose)
                .bind(payload)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_once(
                &self,
                key: &TokenHash,
                purpose: &str,
                now: Millis,
            ) -> Result<Option<String>> {
                // Deleted whatever it holds: a key presented for the wrong purpose, or too
                // late, is used up all the same.
                let row = sqlx::query_as::<_, (String, String, i64)>(
                    "delete from one_time_values where key_hash = $1
                     returning purpose, payload, expires_at",
                )
                .bind(key.as_slice())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.and_then(|(kept_for, payload, expires_at)| {
                    (kept_for == purpose && now < expires_at).then_some(payload)
                }))
            }
        }

        #[async_trait]
        impl KeyStore for $db {
            async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>> {
                let rows = sqlx::query_as::<_, (String, i64, Option<i64>)>(
                    "select kid, created_at, retired_at from signing_keys
                      order by created_at, kid",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(kid, created_at, retired_at)| SigningKeyRow {
                        kid,
                        created_at,
                        retired_at,
                    })
                    .collect())
            }

            async fn add_signing_key(&self, kid: &str, now: Millis) -> Result<bool> {
                let done = sqlx::query(
                    "insert into signing_keys (kid, created_at) values ($1, $2)
                     on conflict (kid) do nothing",
                )
                .bind(kid)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn retire_signing_key(&self, kid: &str, now: Millis) -> Result<bool> {
                let done = sqlx::query(
                    "update signing_keys set retired_at = $2
                      where kid = $1 and retired_at is null",
                )
                .bind(kid)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }

        #[async_trait]
        impl AuditLog for $db {
            async fn record(&self, e: &AuditEvent<'_>) -> Result<()> {
                sqlx::query(
                    "insert into auth_events (at, user_id, kind, mode, detail)
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(e.at)
                .bind(e.user_id)
                .bind(e.kind.as_str())
                .bind(e.mode.map(AuthMode::as_str))
                .bind(e.detail)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }

        #[async_trait]
        impl Housekeeping for $db {
            async fn sweep(&self, now: Millis, keep_revoked: Millis) -> Result<Swept> {
                // Expired entries, and entries of logins that never finished saving their
                // session (a crash between the two steps) a minute on.
                let entries = sqlx::query(
                    "delete from session_devices
                      where expires_at <= $1
                         or (session_id like 'pending:%' and created_at <= $1 - 60000)",
                )
                .bind(now)
                .execute(&self.pool)
                .await?;
                let families = sqlx::query(sql::DELETE_DEAD_FAMILIES)
                    .bind(now)
                    .bind(keep_revoked)
                    .execute(&self.pool)
                    .await?;
                let once = sqlx::query("delete from one_time_values where expires_at <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(Swept {
                    session_entries: entries.rows_affected(),
                    families: families.rows_affected(),
                    one_time_values: once.rows_affected(),
                })
            }

            async fn retain(&self, policy: &Retention) -> Result<Retained> {
                let events = sqlx::query("delete from auth_events where at < $1")
                    .bind(policy.events_before)
                    .execute(&self.pool)
                    .await?;
                let notes = sqlx::query(
                    "delete from notes where id in (
                        select id from (
                            select id, row_number() over
                                     (partition by user_id order by id desc) as newest
                              from notes
                        ) ranked where newest > $1
                     )",
                )
                .bind(policy.notes_per_user)
                .execute(&self.pool)
                .await?;
                let mut users = 0;
                for prefix in &policy.throwaway_prefixes {
                    // Cascades to everything the user owns; their sessions' index entries go
                    // too, so a leftover session record finds no login behind it.
                    users += sqlx::query(
                        "delete from users where username like $1 and created_at < $2",
                    )
                    .bind(format!("{prefix}%"))
                    .bind(policy.throwaway_before)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                }
                Ok(Retained {
                    events: events.rows_affected(),
                    notes: notes.rows_affected(),
                    users,
                })
            }
        }

        #[async_trait]
        impl Census for $db {
            async fn token_footprint(&self, user_ids: &[i64]) -> Result<Footprint> {
                let mut total = Footprint::default();
                for id in user_ids {
                    let (rows, bytes) = sqlx::query_as::<_, (i64, i64)>(sql::TOKEN_FOOTPRINT)
                        .bind(id)
                        .fetch_one(&self.pool)
                        .await?;
                    total.rows += rows;
                    total.bytes += bytes;
                }
                Ok(total)
            }

            async fn counts(&self) -> Result<Counts> {
                Ok(sql::counts(sqlx::query_as(sql::COUNTS).fetch_one(&self.pool).await?))
            }

            async fn password_hash_of(&self, user_id: i64) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("select password_hash from users where id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn token_hashes_of(&self, user_id: i64) -> Result<Vec<Vec<u8>>> {
                Ok(sqlx::query_scalar(
                    "select t.token_hash
                       from refresh_tokens t join token_families f on f.id = t.family_id
                      where f.user_id = $1 order by t.issued_at",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn opaque_hashes_of(&self, user_id: i64) -> Result<Vec<Vec<u8>>> {
                Ok(sqlx::query_scalar(
                    "select token_hash from opaque_tokens where user_id = $1 order by created_at",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn revoked_reasons_of(&self, user_id: i64) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "select revoked_reason from token_families
                      where user_id = $1 and revoked_reason is not null
                      order by created_at",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}
pub(crate) use sql_backend;
