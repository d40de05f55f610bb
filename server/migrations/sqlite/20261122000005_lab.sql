-- Scoped tokens, per-login access-token lifetimes, opaque database tokens, and notes (the
-- write endpoint the lab's experiments and the compare view use).

-- The scope every access token of the family carries ('read write' or 'read').
alter table token_families add column scope text not null default 'read write';
-- Access-token lifetime for this login in seconds; null means ACCESS_TOKEN_TTL_SECS.
alter table token_families add column access_ttl_secs integer;

-- Opaque database tokens (`Authorization: Token <value>`): a random value looked up on every
-- request and deleted at logout. Stored as SHA-256, like refresh tokens.
create table opaque_tokens (
    -- Also the token's public handle (hex of the first 8 bytes is shown as its device id).
    token_hash blob    primary key,
    handle     text    not null unique,
    user_id    integer not null references users (id) on delete cascade,
    created_at integer not null,
    user_agent text    not null,
    ip         text    not null
);

create index opaque_tokens_user on opaque_tokens (user_id);

-- A user's notes: something to write, so "a state-changing request" has a visible effect.
create table notes (
    id         integer primary key,
    user_id    integer not null references users (id) on delete cascade,
    text       text    not null,
    -- session, bearer or opaque: which credential wrote it.
    via        text    not null,
    created_at integer not null
);

create index notes_user on notes (user_id, id);
