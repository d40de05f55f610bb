-- An audit trail of authentication events, for the lab's timelines. Never holds a secret.
create table auth_events (
    id      integer primary key,
    -- Unix milliseconds.
    at      integer not null,
    user_id integer references users (id) on delete cascade,
    -- login_succeeded, login_failed, logout, refresh, reuse_detected, revoked, ...
    kind    text    not null,
    -- session or bearer, when it applies.
    mode    text,
    -- Short, non-secret context (device handle, reason).
    detail  text    not null default ''
);

create index auth_events_user on auth_events (user_id, at);
