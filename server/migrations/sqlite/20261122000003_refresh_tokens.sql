-- Refresh tokens, grouped in families: one family per token login, one row per rotation.
-- Times are Unix milliseconds.
create table token_families (
    -- The family id, also the access token's `sid` claim and the public device handle.
    id                  text    primary key,
    user_id             integer not null references users (id) on delete cascade,
    created_at          integer not null,
    last_refresh_at     integer not null,
    -- The family dies at login + REFRESH_TOKEN_ABSOLUTE_SECS; rotation never moves this.
    absolute_expires_at integer not null,
    revoked_at          integer,
    -- logout, reuse_detected, revoked_by_user, ...
    revoked_reason      text,
    user_agent          text    not null,
    ip                  text    not null
);

create index token_families_user on token_families (user_id);

create table refresh_tokens (
    -- SHA-256 of the token. The token is 256 random bits, so a plain hash is enough to make a
    -- stolen copy of this table useless (no salt or slow hash needed, unlike passwords).
    token_hash      blob    primary key,
    family_id       text    not null references token_families (id) on delete cascade,
    -- The token this one replaced (null for the family's first token).
    parent_hash     blob,
    issued_at       integer not null,
    -- Dies if not used by then (REFRESH_TOKEN_IDLE_SECS after issue, capped by the family).
    idle_expires_at integer not null,
    -- Set when rotated; a second use after this is reuse.
    used_at         integer
);

create index refresh_tokens_family on refresh_tokens (family_id);
