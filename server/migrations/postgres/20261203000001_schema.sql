-- authlab's PostgreSQL schema: the same tables as the SQLite migrations, in PostgreSQL's
-- types. Times are Unix milliseconds (bigint), token hashes SHA-256 (bytea).

-- Accounts. One row per registered user.
create table users (
    id            bigint generated always as identity primary key,
    -- As typed at registration; ASCII letters, digits, '_', '-', '.' only.
    username      text   not null,
    -- Argon2id PHC string. Never leaves the server.
    password_hash text   not null,
    created_at    bigint not null
);

-- "Alice" and "alice" are the same account (usernames are ASCII, so lower() is exact).
create unique index users_username_lower on users (lower(username));

-- Cookie sessions by user, beside the session store, so a user can list and end them.
create table session_devices (
    -- Public handle shown in the devices list; the session id never leaves the server.
    id                  text   primary key,
    -- The tower-sessions record id: server-side only.
    session_id          text   not null unique,
    user_id             bigint not null references users (id) on delete cascade,
    created_at          bigint not null,
    last_seen_at        bigint not null,
    -- Slides with activity, never past absolute_expires_at.
    expires_at          bigint not null,
    absolute_expires_at bigint not null,
    user_agent          text   not null,
    ip                  text   not null
);

create index session_devices_user on session_devices (user_id);
create index session_devices_expiry on session_devices (expires_at);

-- Refresh-token families: one per token login.
create table token_families (
    -- Also the access token's `sid` claim and the public device handle.
    id                  text   primary key,
    user_id             bigint not null references users (id) on delete cascade,
    created_at          bigint not null,
    last_refresh_at     bigint not null,
    -- Login + REFRESH_TOKEN_ABSOLUTE_SECS; rotation never moves this.
    absolute_expires_at bigint not null,
    revoked_at          bigint,
    -- logout, reuse_detected, revoked_by_user, single_session
    revoked_reason      text,
    user_agent          text   not null,
    ip                  text   not null,
    -- 'read write' or 'read': the scope of every access token of the family.
    scope               text   not null default 'read write',
    -- Access-token lifetime for this login in seconds; null means ACCESS_TOKEN_TTL_SECS.
    access_ttl_secs     bigint
);

create index token_families_user on token_families (user_id);

-- One row per refresh token (one per rotation).
create table refresh_tokens (
    -- SHA-256 of the token: 256 random bits need no salt or slow hash.
    token_hash      bytea  primary key,
    family_id       text   not null references token_families (id) on delete cascade,
    parent_hash     bytea,
    issued_at       bigint not null,
    idle_expires_at bigint not null,
    -- Set when rotated; a second use after this is reuse.
    used_at         bigint
);

create index refresh_tokens_family on refresh_tokens (family_id);

-- The audit trail of auth events. Never holds a secret.
create table auth_events (
    id      bigint generated always as identity primary key,
    at      bigint not null,
    user_id bigint references users (id) on delete cascade,
    kind    text   not null,
    mode    text,
    detail  text   not null default ''
);

create index auth_events_user on auth_events (user_id, at);

-- Opaque database tokens (`Authorization: Token <value>`), stored as SHA-256.
create table opaque_tokens (
    token_hash bytea  primary key,
    handle     text   not null unique,
    user_id    bigint not null references users (id) on delete cascade,
    created_at bigint not null,
    user_agent text   not null,
    ip         text   not null
);

create index opaque_tokens_user on opaque_tokens (user_id);

-- Notes: something to write, so "a state-changing request" has a visible effect.
create table notes (
    id         bigint generated always as identity primary key,
    user_id    bigint not null references users (id) on delete cascade,
    text       text   not null,
    -- session, bearer or opaque: which credential wrote it.
    via        text   not null,
    created_at bigint not null
);

create index notes_user on notes (user_id, id);

-- Session records, when sessions live in PostgreSQL: the table tower-sessions' PostgresStore
-- reads and writes (created here, under the migration lock, so that several servers starting
-- at once cannot race to create it), plus an index for the expiry sweep.
create table tower_sessions (
    id          text        primary key not null,
    -- The MessagePack-encoded record.
    data        bytea       not null,
    expiry_date timestamptz not null
);

create index tower_sessions_expiry on tower_sessions (expiry_date);
