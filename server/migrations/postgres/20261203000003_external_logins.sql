-- Sign-in with an OpenID Connect provider.

-- An account at a provider, named by (issuer, subject) as its ID tokens name it, linked to
-- one local user. The primary key means one provider account can never belong to two users.
create table external_identities (
    issuer     text   not null,
    subject    text   not null,
    user_id    bigint not null references users (id) on delete cascade,
    -- The provider's email claim at linking time, for the profile page (may be empty).
    email      text   not null,
    created_at bigint not null,
    primary key (issuer, subject)
);

create index external_identities_user on external_identities (user_id);

-- Short-lived values that may be used once: a provider login in progress (its state, nonce
-- and PKCE verifier) and a token handoff to the browser. Keyed by the SHA-256 of the random
-- id the browser holds in a cookie; taking one deletes it.
create table one_time_values (
    key_hash   bytea  primary key,
    purpose    text   not null,
    payload    text   not null,
    expires_at bigint not null
);

-- How each login was made: 'password' or 'provider'.
alter table session_devices add column login_method text not null default 'password';
alter table token_families add column login_method text not null default 'password';
